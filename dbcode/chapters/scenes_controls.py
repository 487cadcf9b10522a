"""Natural images, controlled experiments (paper Fig 5, DB's stability).

At the paper's rates, DB at ``N_z = 60`` is trained with one factor changed at a time
against a baseline (the inputs, a fixed pool of patches against fresh draws, the
authors' test protocol), and its final states are examined at frozen weights with and
without the excitatory part of the learned inhibition ``W = -F D`` (a diagnostic, not
a rule). The networks, inputs and measures are those of :mod:`dbcode.chapters.scenes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np

from dbcode.analysis.losses import (
    RISE,
    instability_onset,
    measured_loss,
)
from dbcode.chapters.scenes import (
    POPULATION_RATE,
    describe_network,
    flat_jobs,
    network_job,
)
from dbcode.model.params import Params
from dbcode.model.rules import NetworkState
from dbcode.model.simulate import evaluate
from dbcode.run import registry
from dbcode.run.jobs import Job, load_data
from dbcode.run.store import Result
from dbcode.viz.legibility import place_legend
from dbcode.viz.style import CONDITIONS, LABELS, SMALL

CONTROL_SWEEP = "fig5b-controls"
"""Named sweep of the controlled experiments on DB's late instability: one factor of
the inputs or the protocol changed at a time, at :data:`~dbcode.chapters.scenes_controls.CONTROL_N_Z` neurons."""
CONTROL_N_Z = 60
"""Coding neurons of every control network."""
CONTROL_PRESENTATIONS = 900_000
"""Run length of a paper-scale control (DB's loss rose from 0.3-0.7 M presentations in
earlier runs at this N_z)."""
CONTROLS = {
    "baseline": ({}, {}),
    "photographs": ({"source": "skimage"}, {}),
    "fixed pool": ({"patches": "fixed"}, {"n_train": 20_000}),
    "authors' test": ({}, {"test_protocol": "authors"}),
}
"""The conditions: data options and parameter overrides against the baseline (the
default images, fresh patches, tests of a silent copy on separate patches). "fixed
pool": 20 000 patches drawn once, the protocol of the earlier paper-scale runs;
"authors' test": the authors' tests on the first training inputs (500 at paper scale),
run on the live network."""
CONTROL_RULES = {"db": tuple(CONTROLS), "sb": ("baseline", "photographs")}
"""Which conditions each rule runs: every one for DB, whose stability is in question;
the two image sets for SB as the reference."""


def control_job(rule: str, condition: str, scale: str = "ci", seed: int = 0) -> Job:
    """One network of the controls: ``rule`` at :data:`~dbcode.chapters.scenes_controls.CONTROL_N_Z` under ``condition``.

    At paper scale the run is :data:`CONTROL_PRESENTATIONS` long, tested every 15 000
    presentations as the authors do, with the learning rates lowered after 200 000
    presentations as in the full-length runs."""
    data, overrides = CONTROLS[condition]
    if scale == "paper":
        total = CONTROL_PRESENTATIONS
        overrides = {
            "n_presentations": total,
            "late_after": 200_000 / total,
            "n_evals": total // 15_000,
            **overrides,
        }
        if overrides.get("test_protocol") == "authors":
            overrides["n_test_eval"] = 500  # the authors' 500 test inputs
    job = network_job(rule, CONTROL_N_Z, scale, seed, **overrides)
    return Job("scenes", scale=scale, seed=seed, overrides=job.overrides, data=dict(data))


def control_jobs(scale: str, seeds: Sequence[int]) -> dict[tuple[str, str], list[Job]]:
    """Every (rule, condition) of :data:`CONTROL_RULES` with its jobs over ``seeds``."""
    return {
        (rule, condition): [control_job(rule, condition, scale, s) for s in seeds]
        for rule, conditions in CONTROL_RULES.items()
        for condition in conditions
    }


def control_condition(job: Job) -> str:
    """The name of the condition of :data:`CONTROLS` a control job runs (the baseline
    when no other condition's changes are all in the job)."""
    for name, (data, overrides) in CONTROLS.items():
        if (data or overrides) and dict(job.data) == data:
            if all(job.overrides.get(k) == v for k, v in overrides.items()):
                return name
    return "baseline"


def control_rows(summary: dict) -> dict[tuple[str, str], dict]:
    """The seed-0 networks of a committed controls record by ``(rule, condition)``."""
    return {
        (row["variant"], row["condition"]): row
        for row in summary.get("networks", [])
        if row["seed"] == 0 and "test_loss" in row and "condition" in row
    }


def control_table(rows: dict[tuple[str, str], dict]) -> str:
    """Markdown table of the controls: lowest test loss and when, final loss, when the
    loss first rose :data:`~dbcode.analysis.losses.RISE` times above its lowest, the
    rates in training and at the final test, and the run time."""
    head = (
        "| rule | condition | lowest loss | at (M presentations) | final loss | "
        "rise from (M) | rate in training / at test (Hz) | run time |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for (rule, condition), row in sorted(rows.items()):
        loss, at = np.asarray(row["test_loss"], dtype=float), row["eval_at"]
        k = int(np.nanargmin(loss))
        onset = instability_onset(loss, at)
        lines.append(
            f"| {LABELS[rule]} | {condition} | {loss[k]:.4f} | {at[k] / 1e6:.2f} | "
            f"{measured_loss(loss):.4f} | "
            + ("none" if onset is None else f"{onset / 1e6:.2f}")
            + f" | {row['train_rate_hz']:.1f} / {row['rate_hz']:.1f} | "
            f"{row['runtime_s'] / 60:.0f} min |"
        )
    return "\n".join(lines)


def control_finding(rows: dict[tuple[str, str], dict]) -> str:
    """A sentence per DB condition on whether and when its test loss rose."""
    parts = []
    for (rule, condition), row in sorted(rows.items()):
        if rule != "db":
            continue
        onset = instability_onset(row["test_loss"], row["eval_at"])
        parts.append(
            f"{condition}: "
            + ("no rise" if onset is None else f"rise from {onset / 1e6:.2f} M presentations")
        )
    if not parts:
        return ""
    total = max(row["eval_at"][-1] for row in rows.values())
    risen = [
        c
        for (r, c), row in sorted(rows.items())
        if r == "db" and instability_onset(row["test_loss"], row["eval_at"]) is not None
    ]
    stable = [c for (r, c) in sorted(rows) if r == "db" and c not in risen]
    if risen and stable:
        verdict = (
            f" So DB's loss rose under {', '.join(risen)} and stayed at its lowest under "
            f"{', '.join(stable)}: of the factors tested, "
            + ("the inputs decide" if risen == ["photographs"] else "these decide")
            + f" whether DB becomes unstable at $N_z$ = {CONTROL_N_Z} and this run length "
            "(one seed each)."
        )
    elif risen:
        verdict = " DB's loss rose under every condition."
    else:
        verdict = " DB's loss rose under none of them within this run length."
    return (
        f"DB at $N_z$ = {CONTROL_N_Z} over {total / 1e6:.1f} M presentations "
        f"(a rise: a test loss {100 * (RISE - 1):.0f} % above the lowest before it): "
        + "; ".join(parts)
        + "."
        + verdict
    )


EXCITATION_TEST = 500
"""Test patches of the diagnostic :func:`excitation_diagnostic`."""
EXCITATION_RECORD = 50
"""Of them, the patches whose spikes are recorded step by step for the synchrony measure."""


def without_excitation(W: np.ndarray) -> np.ndarray:
    """``W`` with its excitatory part removed: every positive off-diagonal entry set to
    0 (the diagonal, each neuron's reset, is kept)."""
    out = np.array(W, dtype=float)
    off = ~np.eye(len(out), dtype=bool)
    out[off & (out > 0)] = 0.0
    return out


def independent_coincidence(n_z: int, params: Params | None = None) -> float:
    """Share of spikes that fall in a time step together with another spike when the
    ``n_z`` neurons fire independently (Poisson) at the population rate
    :data:`~dbcode.chapters.scenes.POPULATION_RATE`: ``1 - exp(-lambda)`` with ``lambda`` the expected spikes of
    the others per step."""
    params = control_job("db", "baseline", "paper").params if params is None else params
    lam = POPULATION_RATE * (n_z - 1) / n_z * params.dt / 1000.0
    return float(1.0 - np.exp(-lam))


def excitation_diagnostic(
    states: dict[str, dict[str, np.ndarray]], n_test: int = EXCITATION_TEST, seed: int = 0
) -> dict[str, dict]:
    """A diagnostic of DB's instability at frozen weights, not a learning rule: each
    committed final state of a DB control network (:func:`~dbcode.run.records.load_states`)
    is tested on ``n_test`` patches of its own test set with the learned inhibition and
    again with :func:`without_excitation` of it.

    Returns
    -------
    dict
        By condition: the share of positive off-diagonal entries of ``W`` and their
        largest value over ``sigma^2``, and for ``"learned"`` and ``"no excitation"``
        the test loss (Eq 1), the mean rate (Hz), the neurons below 1 Hz, and the share
        of spikes that fall in a time step together with another spike (in the first
        :data:`EXCITATION_RECORD` patches; for independent neurons
        :func:`independent_coincidence`).
    """
    out = {}
    for condition in CONTROL_RULES["db"]:
        state = states.get(
            f"db_n{CONTROL_N_Z}_s0_{condition.replace(' ', '-').replace(chr(39), '')}"
        )
        if state is None:
            continue
        job = control_job("db", condition, "paper")
        # at frozen weights the SB kernel's potential (F x + W z + c + b) with W = -F D
        # is DB's; unlike the DB kernel, which forms -F D itself, it takes W as given
        params = replace(job.params, variant="sb")
        test = load_data(job).test[:n_test]
        W = state["W"]
        off = ~np.eye(len(W), dtype=bool)
        row = {
            "positive_share": float((W[off] > 0).mean()),
            "max_positive_over_sigma2": float(W[off].max() / float(state["sigma"]) ** 2),
        }
        n_rec = min(EXCITATION_RECORD, n_test) * params.steps_per_presentation
        for label, inhibition in (("learned", W), ("no excitation", without_excitation(W))):
            network = NetworkState(
                F=state["F"],
                D=state["D"],
                W=inhibition,
                W3=np.zeros((0, 0, 0)),
                Fbar=np.zeros((0, 0)),
                b=state["b"],
                z=np.zeros(len(W)),
                sigma=float(state["sigma"]),
            )
            seg = evaluate(network, params, test, np.random.default_rng(seed), n_record=n_rec)
            rates = seg.counts.sum(axis=0) / (len(test) * params.t_present / 1000.0)
            per_step = seg.record["s"].sum(axis=1)
            spikes = per_step.sum()
            row[label] = {
                "loss": float(np.mean(seg.loss)),
                "rate_hz": float(rates.mean()),
                "below_1hz": int((rates < 1.0).sum()),
                "coincident_share": float(per_step[per_step > 1].sum() / spikes) if spikes else 0.0,
            }
        out[condition] = row
    return out


def excitation_table(diagnostic: dict[str, dict]) -> str:
    """Markdown table of :func:`excitation_diagnostic`."""
    lines = [
        "| DB network | positive $W_{jk}$ | max $W_{jk}/\\sigma^2$ | inhibition | test loss "
        "| rate (Hz) | below 1 Hz | coincident spikes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for condition, row in diagnostic.items():
        for label in ("learned", "no excitation"):
            r = row[label]
            lines.append(
                f"| {condition} | {100 * row['positive_share']:.0f} % | "
                f"{row['max_positive_over_sigma2']:.0f} | {label} | {r['loss']:.4f} | "
                f"{r['rate_hz']:.1f} | {r['below_1hz']} | {100 * r['coincident_share']:.1f} % |"
            )
    return "\n".join(lines)


def excitation_numbers(diagnostic: dict[str, dict]) -> dict:
    """Key numbers of :func:`excitation_diagnostic` as ``{name: value}``."""
    out = {}
    for condition, row in diagnostic.items():
        tag = condition.replace(" ", "_").replace("'", "")
        out[f"positive_share_{tag}"] = row["positive_share"]
        out[f"max_positive_over_sigma2_{tag}"] = row["max_positive_over_sigma2"]
        for label in ("learned", "no excitation"):
            for key, value in row[label].items():
                out[f"{key}_{tag}_{label.replace(' ', '_')}"] = value
    return out


def excitation_finding(diagnostic: dict[str, dict]) -> str:
    """What :func:`excitation_diagnostic` shows for the photographs against the
    baseline, in words computed from it."""
    if "photographs" not in diagnostic or "baseline" not in diagnostic:
        return ""
    photo, base = diagnostic["photographs"], diagnostic["baseline"]
    change = {
        name: row["no excitation"]["loss"] / row["learned"]["loss"] - 1
        for name, row in (("photographs", photo), ("baseline", base))
    }
    helps = change["photographs"] < -0.1
    return (
        f"In the final state of DB on the photographs {100 * photo['positive_share']:.0f} % "
        f"of the off-diagonal inhibitory weights are excitatory (baseline "
        f"{100 * base['positive_share']:.0f} %), and the largest $W_{{jk}}/\\sigma^2$ is "
        f"{photo['max_positive_over_sigma2']:.0f} (baseline "
        f"{base['max_positive_over_sigma2']:.0f}). Independent neurons at the population "
        f"rate would share a step with another spike in "
        f"{100 * independent_coincidence(CONTROL_N_Z):.1f} % of their spikes. Removing them at frozen weights changes "
        f"its test loss by {100 * change['photographs']:+.0f} % (baseline "
        f"{100 * change['baseline']:+.0f} %); "
        f"{photo['learned']['below_1hz']} of its {CONTROL_N_Z} neurons fire below 1 Hz with "
        f"the learned inhibition and {photo['no excitation']['below_1hz']} without the "
        "excitatory part. "
        + (
            "So the mutual excitation is what spoils the final code."
            if helps
            else "So the mutual excitation is not what spoils the final code at frozen "
            "weights: the network has learned a state in which most neurons are nearly "
            "silent at test, and that state stays without the excitatory weights."
        )
    )


def plot_controls(rows: dict[tuple[str, str], dict]) -> plt.Figure:
    """Test loss during training of every control network (DB solid, SB dashed; one
    colour per condition, log scale)."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for (rule, condition), row in sorted(rows.items()):
        ax.plot(
            np.asarray(row["eval_at"]) / 1e6,
            row["test_loss"],
            ls="-" if rule == "db" else "--",
            color=CONDITIONS[condition],
            label=f"{LABELS[rule]}, {condition}",
        )
    ax.set_yscale("log")
    ax.set_xlabel("presentations (millions)")
    ax.set_ylabel("test loss")
    place_legend(ax, frameon=False, fontsize=SMALL, ncol=2)
    fig.tight_layout()
    return fig


def _describe_control(job: Job, result: Result) -> dict:
    return {**describe_network(job, result), "condition": control_condition(job)}


registry.register(
    CONTROL_SWEEP,
    lambda scale, n: flat_jobs(control_jobs(scale, range(1 if n is None else n))),
    describe=_describe_control,
    keep_fields=True,
    keep_states=True,
)
