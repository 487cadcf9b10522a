"""Natural images at the paper's scale (paper Fig 5B-C): the committed record.

Reads the committed paper-scale networks of the Fig 5B grid (``results/paper/``),
checks claim C6 on them by both measures (the lowest test loss during training, the
paper's, and the final loss), describes their late rises and receptive fields, runs the
noise control, and writes the chapter's Important box from all of it. The networks are
those of :mod:`dbcode.chapters.scenes`, the controls those of
:mod:`dbcode.chapters.scenes_controls`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from dbcode.analysis.losses import (
    MEASURES,
    RISE,
    instability_onset,
    measured_loss,
)
from dbcode.analysis.orientation import (
    orientation_indices,
    orientation_summary,
    receptive_fields,
)
from dbcode.chapters.scenes import (
    N_INPUTS,
    N_Z_GRID,
    PAPER_SWEEP,
    RULES,
    Sweep,
    describe_network,
    flat_jobs,
    network_job,
    neuron_ratio,
    paper_field_pattern,
)
from dbcode.chapters.scenes_controls import control_finding
from dbcode.model.params import Params, preset
from dbcode.run import registry
from dbcode.run.jobs import Job
from dbcode.run.records import BEST_SUFFIX
from dbcode.viz.images import show_mosaic
from dbcode.viz.legibility import place_legend
from dbcode.viz.style import COLORS, FAINT, FIGURE_WIDTH, GUIDE, LABELS, SMALL

PHOTO_RECORD = "fig5b-photographs"
"""The committed paper-scale networks trained, before the inputs were settled, on the
scikit-image photographs with a fixed pool of patches (``results/paper/``); the noise
control pairs with them."""


def paper_record() -> tuple[str, dict | None, dict[str, np.ndarray]]:
    """The paper-scale record the chapter shows: the Fig 5B grid on the current inputs
    once it has networks of both rules at some ``N_z``, else :data:`PHOTO_RECORD`, as
    ``(name, summary, fields)``."""
    from dbcode.run.records import load_fields, load_summary

    for name in (PAPER_SWEEP, PHOTO_RECORD):
        summary = load_summary(name, "paper")
        if summary and paper_conditions(summary):
            return name, summary, load_fields(name, "paper")
    return PAPER_SWEEP, None, {}


PAPER_SIGMA2 = preset("scenes", "paper").sigma2_final
"""The paper's final ``sigma^2`` for natural images."""
NOISE_SWEEP = "fig5b-noise"
"""Control sweep (``python -m dbcode sweep fig5b-noise --scale paper``): the paper-scale
networks with the spiking noise annealed to :data:`NOISE_SIGMA2` instead of
:data:`PAPER_SIGMA2`."""
NOISE_SIGMA2 = 0.18
"""Final ``sigma^2`` of the control: the value the paper's schedule passes after
200 000 presentations, before DB's loss rises."""
NOISE_N_ZS = (40, 60)


def noise_jobs(scale: str, seeds: Sequence[int]) -> dict[tuple[str, int], list[Job]]:
    """SB and DB at the ``NOISE_N_ZS`` with ``sigma2_final =`` :data:`NOISE_SIGMA2`."""
    return {
        (rule, n): [network_job(rule, n, scale, s, sigma2_final=NOISE_SIGMA2) for s in seeds]
        for n in NOISE_N_ZS
        for rule in RULES
    }


def sigma2_schedule(params: Params, presentations) -> np.ndarray:
    """``sigma^2`` after that many training presentations under the annealing rule
    ``dsigma = eta_sigma dt (sigma_f^2 - sigma^2) / sigma`` (Methods), i.e.
    ``d sigma^2 / dt = 2 eta_sigma (sigma_f^2 - sigma^2)``, solved in continuous time
    (``t`` in ms); per step the rule differs from it by terms of order ``eta_sigma dt``."""
    t_ms = np.asarray(presentations, dtype=float) * params.t_present
    final = params.sigma2_final
    return final + (params.sigma_init**2 - final) * np.exp(-2.0 * params.eta_sigma * t_ms)


def noise_control(summary: dict, control: dict) -> dict[tuple[str, int], dict]:
    """For every rule and ``N_z`` of the control sweep (seed 0) that has a network in
    both summaries: ``{sigma2_final: row}`` of the paper-scale run and of its control."""
    rows: dict[tuple[str, int], dict] = {}
    for source in (summary, control):
        for row in source["networks"]:
            if row["seed"] == 0 and row["n_z"] in NOISE_N_ZS and "test_loss" in row:
                rows.setdefault((row["variant"], row["n_z"]), {})[row["sigma2_final"]] = row
    return {key: by_sigma for key, by_sigma in sorted(rows.items()) if len(by_sigma) == 2}


def noise_control_numbers(pairs: dict[tuple[str, int], dict]) -> dict:
    """Lowest and final test loss of every network of :func:`noise_control` and the
    onset of its rise (:func:`~dbcode.analysis.losses.instability_onset`, 0 for none), as
    ``{f"{kind}_{rule}_n{N_z}_s{sigma2}": value}`` with ``kind`` in lowest/final/onset."""
    out = {}
    for (rule, n), by_sigma in pairs.items():
        for sigma2, row in by_sigma.items():
            tag = f"{rule}_n{n}_s{sigma2:g}"
            for measure in MEASURES:
                out[f"{measure}_{tag}"] = measured_loss(row["test_loss"], measure)
            out[f"onset_{tag}"] = instability_onset(row["test_loss"], row["eval_at"]) or 0
    return out


def noise_control_table(pairs: dict[tuple[str, int], dict]) -> str:
    """Markdown table of :func:`noise_control`: lowest and final test loss of each
    network at the paper's and at the control's final ``sigma^2``."""
    sigmas = sorted({s for by_sigma in pairs.values() for s in by_sigma})
    head = " | ".join(
        f"{kind}, $\\sigma^2 \\to$ {s:g}" for s in sigmas for kind in ("lowest", "final")
    )
    lines = [f"| network | {head} |", "|---" * (1 + 2 * len(sigmas)) + "|"]
    for (rule, n), by_sigma in sorted(pairs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cells = [
            " | ".join(
                f"{measured_loss(by_sigma[s]['test_loss'], m):.4f}" for m in ("lowest", "final")
            )
            for s in sigmas
        ]
        lines.append(f"| {LABELS[rule]}, $N_z$ = {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def noise_onset(pairs: dict[tuple[str, int], dict]) -> str:
    """A sentence on when DB's test loss first rose by :data:`dbcode.analysis.losses.RISE` over its lowest, at
    each ``N_z`` and final noise of :func:`noise_control`."""
    parts = []
    for (rule, n), by_sigma in sorted(pairs.items(), key=lambda kv: kv[0][1]):
        if rule != "db":
            continue
        times = []
        for sigma2, row in sorted(by_sigma.items()):
            onset = instability_onset(row["test_loss"], row["eval_at"])
            when = (
                "not before the end"
                if onset is None
                else f"after {onset / 1e6:.1f} million presentations"
            )
            times.append(f"{when} with $\\sigma^2 \\to$ {sigma2:g}")
        parts.append(f"with {n} neurons " + ", ".join(times))
    if not parts:
        return ""
    return (
        f"DB's test loss first rose {100 * (RISE - 1):.0f} % above its lowest "
        + "; ".join(parts)
        + "."
    )


def plot_noise_control(pairs: dict[tuple[str, int], dict]) -> plt.Figure:
    """Test loss during training of SB and DB with the paper's final noise (solid) and
    with less annealing (dashed), one panel per ``N_z``, with the two ``sigma^2``
    schedules (grey, right axis)."""
    n_zs = sorted({n for _, n in pairs})
    fig, axes = plt.subplots(
        1, len(n_zs), figsize=(min(FIGURE_WIDTH, 5.2 * len(n_zs)), 3.6), squeeze=False
    )
    for ax, n in zip(axes[0], n_zs):
        right = ax.twinx()
        for (rule, m), by_sigma in pairs.items():
            if m != n:
                continue
            for sigma2, row in sorted(by_sigma.items()):
                style = "-" if sigma2 == min(by_sigma) else "--"
                at = np.array(row["eval_at"])
                ax.plot(
                    at / 1e6,
                    row["test_loss"],
                    style,
                    marker="o",
                    ms=3,
                    color=COLORS[rule],
                    label=f"{LABELS[rule]}, $\\sigma^2 \\to$ {sigma2:g}",
                )
                job = network_job(rule, n, "paper", sigma2_final=sigma2)
                grid = np.linspace(0, at[-1], 200)
                right.plot(
                    grid / 1e6,
                    sigma2_schedule(job.params, grid),
                    style,
                    color=FAINT,
                    lw=1,
                    zorder=0,
                )
        right.set_ylabel("$\\sigma^2$ (grey)", color=GUIDE)
        right.set_ylim(0, 0.4)
        ax.set_zorder(right.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_yscale("log")
        ax.set_xlabel("training presentations (millions)")
        ax.set_ylabel("test loss $L$ (log scale)")
        ax.set_title(f"$N_z$ = {n}, paper scale", fontsize=9)
        ax.legend(fontsize=SMALL, frameon=False)
    fig.tight_layout()
    return fig


def paper_losses(summary: dict, measure: str = "final") -> dict[str, dict[int, np.ndarray]]:
    """Losses by one of :data:`~dbcode.analysis.losses.MEASURES` of a committed paper-scale summary (see
    :func:`dbcode.run.records.export_summary`) as ``{rule: {N_z: array over seeds}}``."""
    from dbcode.run.records import losses_by_condition

    return losses_by_condition(
        summary,
        lambda row: int(row["n_z"]),
        RULES,
        lambda row: measured_loss(row["test_loss"], measure),
    )


def paper_conditions(summary: dict) -> list[int]:
    """The ``N_z`` at which both rules have a paper-scale network."""
    table = paper_losses(summary)
    return sorted(set(table["sb"]) & set(table["db"]))


def paper_key_numbers(summary: dict, fields: dict[str, np.ndarray]) -> dict:
    """Key numbers of the paper-scale figure: mean loss per rule and ``N_z`` and the
    orientation summary of the fields at the smallest ``N_z`` both rules reached."""
    numbers: dict = {}
    for measure, prefix in (("final", "loss"), ("lowest", "lowest")):
        for rule, by_n in paper_losses(summary, measure).items():
            for n, losses in by_n.items():
                numbers[f"{prefix}_{rule}_n{n}"] = float(losses.mean())
    both = paper_conditions(summary)
    if both:
        for rule in RULES:
            F = fields.get(f"{rule}_n{both[0]}_s0")
            if F is not None:
                for what, value in orientation_summary(F).items():
                    numbers[f"{what}_{rule}_n{both[0]}"] = value
    return numbers


def paper_table(summary: dict) -> str:
    """Markdown table of the paper-scale networks of both rules (seed 0): lowest and
    final loss of each rule, SB's gap to DB by both measures, median orientation index
    and run time, followed by a sentence on where DB is below SB by each measure."""
    both = paper_conditions(summary)
    tables = {m: paper_losses(summary, m) for m in MEASURES}
    rows = {(r["variant"], r["n_z"]): r for r in summary["networks"] if r["seed"] == 0}

    def line(n: int) -> str:
        mean = {(m, rule): tables[m][rule][n].mean() for m in MEASURES for rule in RULES}
        cells = (
            [str(n)]
            + [f"{mean[m, rule]:.4f}" for m in ("lowest", "final") for rule in RULES]
            + [f"{100 * (mean[m, 'sb'] / mean[m, 'db'] - 1):+.1f} %" for m in ("lowest", "final")]
            + [
                " / ".join(f"{rows[rule, n]['orientation_median']:.2f}" for rule in RULES),
                " / ".join(f"{rows[rule, n]['runtime_s'] / 60:.0f}" for rule in RULES) + " min",
            ]
        )
        return "| " + " | ".join(cells) + " |"

    def where(measure: str) -> str:
        table = tables[measure]
        below = [n for n in both if table["db"][n].mean() < table["sb"][n].mean()]
        if below == both:
            return "every $N_z$ computed so far"
        return (
            "none of the $N_z$ computed so far"
            if not below
            else ("$N_z$ = " + ", ".join(map(str, below)) + " only")
        )

    return (
        "| $N_z$ | lowest $L_{SB}$ | lowest $L_{DB}$ | final $L_{SB}$ | final $L_{DB}$ "
        "| gap, lowest | gap, final | median $A$ (SB / DB) | run time (SB / DB) |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        + "\n".join(line(n) for n in both)
        + f"\n\nPaper scale, {summary['done']} of {summary['total']} networks of the sweep, "
        "one core each; gap = $L_{SB} / L_{DB} - 1$. By the paper's measure, the lowest "
        f"test loss during training, DB is below SB at {where('lowest')}; at the end of "
        f"training at {where('final')}."
    )


def paper_trajectories(summary: dict, n_z: int) -> dict[str, dict]:
    """For each rule's paper-scale network (seed 0) at ``n_z``: its lowest test loss and
    when it was reached (presentations), its final loss, and its mean rate in the last
    tenth of training and at the final test (Hz) with the number of neurons that fired
    below 1 Hz at that test."""
    out = {}
    for row in summary["networks"]:
        if row["n_z"] == n_z and row["seed"] == 0 and "test_loss" in row:
            k = int(np.argmin(row["test_loss"]))
            out[row["variant"]] = {
                "best": row["test_loss"][k],
                "best_at": row["eval_at"][k],
                "final": measured_loss(row["test_loss"]),
                "train_rate_hz": row["train_rate_hz"],
                "test_rate_hz": row["rate_hz"],
                "below_1hz": row["below_1hz_at_test"],
            }
    return out


def paper_c6(summary: dict, measure: str = "lowest") -> dict:
    """Claim C6 on a committed paper-scale record by one of
    :data:`~dbcode.analysis.losses.MEASURES`: at every ``N_z`` with networks of both
    rules the seed-mean losses ``sb`` and ``db``, the relative ``gap`` ``(L_SB - L_DB) /
    L_DB``, the ``N_z`` where DB is ``below`` SB, and :func:`~dbcode.chapters.scenes.neuron_ratio` at the middle
    of those ``N_z`` (``None`` with fewer than two)."""
    n_zs = paper_conditions(summary)
    table = paper_losses(summary, measure)
    sb = np.array([table["sb"][n].mean() for n in n_zs])
    db = np.array([table["db"][n].mean() for n in n_zs])
    return {
        "n_zs": n_zs,
        "sb": sb,
        "db": db,
        "gap": (sb - db) / db,
        "below": [n for n, a, b in zip(n_zs, sb, db) if b < a],
        "ratio": (
            neuron_ratio(n_zs, sb, db, n_zs[(len(n_zs) - 1) // 2]) if len(n_zs) > 1 else None
        ),
    }


def paper_onsets(summary: dict, seed: int = 0) -> dict[tuple[str, int], int | None]:
    """For every paper-scale network of ``seed``: after how many presentations its test
    loss first rose :data:`~dbcode.analysis.losses.RISE` times above its lowest value
    (:func:`~dbcode.analysis.losses.instability_onset`), ``None`` for no rise."""
    return {
        (row["variant"], int(row["n_z"])): instability_onset(row["test_loss"], row["eval_at"])
        for row in summary["networks"]
        if row["seed"] == seed and "test_loss" in row
    }


def _ratio_words(ratio: dict | None) -> str:
    if ratio is None:
        return ""
    if ratio["lower_bound"]:
        return (
            f"SB needs more than {ratio['lower_bound']:.1f} times DB's neurons for DB's loss "
            f"at $N_z$ = {ratio['n_z']} (SB's loss at the largest $N_z$ computed is still "
            "above it)"
        )
    how = "extrapolated" if ratio["extrapolated"] else "interpolated in $\\log N_z$"
    return (
        f"SB needs {ratio['ratio']:.1f} times DB's neurons for DB's loss at $N_z$ = "
        f"{ratio['n_z']} ({how})"
    )


def _c6_words(c6: dict) -> str:
    n_zs, below, gap = c6["n_zs"], c6["below"], c6["gap"]
    where = (
        "every $N_z$ computed"
        if below == n_zs
        else (f"$N_z$ = {_listing(below)} of {_listing(n_zs)}" if below else "no $N_z$ computed")
    )
    text = f"DB is below SB at {where}"
    if len(n_zs) > 1:
        text += (
            f"; the gap is {100 * gap[0]:.0f} % at $N_z$ = {n_zs[0]} and {100 * gap[-1]:.0f} % "
            f"at {n_zs[-1]}"
            + (" (largest under the strongest compression)" if gap[0] > gap[-1] else "")
        )
    return text


def paper_findings(summary: dict, classes: dict, best_classes: dict) -> str:
    """The paragraph on what the committed paper-scale networks show, every statement
    from the record: C6 by the paper's measure and by the final loss, which networks'
    test loss rose late in training, and the field classes at the end and where each
    network coded best."""
    sources = sorted({row["data_source"].split(" (")[0] for row in summary["networks"]})
    lowest, final = paper_c6(summary, "lowest"), paper_c6(summary, "final")
    onsets = paper_onsets(summary)
    risen = {key: at for key, at in onsets.items() if at is not None}
    parts = [
        f"**What the paper-scale networks show** ({summary['done']} of {summary['total']} "
        f"networks, inputs: {', '.join(sources)}). By the paper's measure, the lowest test "
        f"loss during training, {_c6_words(lowest)}; by the loss at the end of training, "
        f"{_c6_words(final)}."
    ]
    words = _ratio_words(lowest["ratio"])
    if words:
        parts.append(f"By the paper's measure {words}.")
    if risen:
        parts.append(
            f"The test loss rose more than {100 * (RISE - 1):.0f} % above its lowest later in "
            "training in "
            + "; ".join(
                f"{LABELS[rule]} at $N_z$ = {n} (from {at / 1e6:.2f} M presentations)"
                for (rule, n), at in sorted(risen.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            )
            + f", and in none of the other {len(onsets) - len(risen)} networks."
        )
    else:
        parts.append(
            f"No network's test loss rose more than {100 * (RISE - 1):.0f} % above its "
            "lowest later in training: both rules stay stable on these inputs."
        )
    for label, cls in (
        ("at the end of training", classes),
        ("where each network coded best", best_classes),
    ):
        if not cls:
            continue
        parts.append(
            f"Receptive fields {label}: "
            + "; ".join(
                f"{LABELS[rule]} {n}: {100 * c['Gabor-like']:.0f} % Gabor-like, "
                f"{100 * c['centre-surround']:.0f} % centre-surround"
                for (rule, n), c in sorted(cls.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            )
            + "."
        )
    if classes:
        patterns = {rule: paper_field_pattern(classes, rule) for rule in RULES}
        if all(p["matches"] for p in patterns.values()):
            parts.append("This is the paper's pattern of centre-surround and Gabor-like fields.")
        else:
            parts.append(
                "This is **not yet** the paper's pattern (centre-surround fields "
                "outnumbering Gabor-like ones at every $N_z$ below 128 and Gabor-like "
                "ones dominating above)"
                + (
                    "; no network above 128 neurons has finished yet"
                    if max(n for _, n in classes) <= N_INPUTS
                    else ""
                )
                + "."
            )
    return " ".join(parts)


def _listing(values: Sequence[int]) -> str:
    values = [str(v) for v in values]
    if not values:
        return "none"
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def summary_box(
    sweep: Sweep,
    classes: dict[tuple[str, int], dict[str, float]],
    data_source: str,
    paper_summary: dict | None = None,
    paper_classes: dict | None = None,
    controls: dict | None = None,
) -> str:
    """The chapter's Important box: what of Fig 5 holds at each scale, with which inputs,
    every statement from the numbers computed (MyST admonition)."""
    n_zs = list(sweep.n_zs)
    sb, db = sweep.mean_loss("sb"), sweep.mean_loss("db")
    below = [n for n, a, b in zip(n_zs, sb, db) if b < a]
    gap = sweep.relative_gap()
    ratio = sweep.neuron_ratio()
    neurons = ratio["lower_bound"] or ratio["ratio"]
    first = (
        f"**CI scale** ({data_source.split(';')[0]}; {len(sweep.results[('db', n_zs[0])])} "
        f"seeds): DB's final test loss is below SB's at "
        + ("every $N_z$" if below == n_zs else f"$N_z$ = {_listing(below)} of {_listing(n_zs)}")
        + f"; the gap is {100 * gap[0]:.0f} % at $N_z$ = {n_zs[0]} and "
        f"{100 * gap[-1]:.0f} % at {n_zs[-1]}"
        + (" (largest under the strongest compression)" if gap[0] > gap[-1] else "")
        + f"; SB needs {'at least ' if ratio['lower_bound'] else ''}{neurons:.1f} times DB's "
        f"neurons for DB's loss at {ratio['n_z']}."
    )
    lines = [first]
    patterns = {rule: paper_field_pattern(classes, rule) for rule in RULES}
    lines.append(
        "Receptive fields at CI scale: "
        + (
            "centre-surround below 128 neurons and Gabor-like above, as the paper states."
            if all(p["matches"] for p in patterns.values())
            else "**not** the paper's centre-surround fields below 128 neurons and "
            "Gabor-like fields above (section on receptive fields)."
        )
    )
    if paper_summary:
        both = paper_conditions(paper_summary)
        sources = sorted({row["data_source"].split(" (")[0] for row in paper_summary["networks"]})
        risen = sorted(
            n for (rule, n), at in paper_onsets(paper_summary).items() if rule == "db" and at
        )
        words = _ratio_words(paper_c6(paper_summary, "lowest")["ratio"])
        text = (
            f"**Paper scale** (committed networks at $N_z$ = {_listing(both)} of the paper's "
            f"{_listing(N_Z_GRID['paper'])}; inputs: {', '.join(sources)}): by the paper's "
            f"measure, the lowest test loss during training, "
            f"{_c6_words(paper_c6(paper_summary, 'lowest'))}; by the final loss, "
            f"{_c6_words(paper_c6(paper_summary, 'final'))}"
            + (f"; {words}" if words else "")
            + ". "
            + (
                f"DB's test loss rises late in training at $N_z$ = {_listing(risen)} "
                "(section on the paper's scale)."
                if risen
                else "DB's test loss does not rise late in training in any of them."
            )
        )
        if paper_classes:
            ok = all(paper_field_pattern(paper_classes, r)["matches"] for r in RULES)
            text += (
                " Its fields "
                + ("follow" if ok else "do not yet follow")
                + (" the paper's centre-surround / Gabor pattern.")
            )
        lines.append(text)
    else:
        lines.append("**Paper scale:** no committed networks in this copy of the book.")
    if controls:
        lines.append("**Controlled experiments** (paper rates): " + control_finding(controls))
    return "```{important}\n" + "\n\n".join(lines) + "\n```"


def plot_paper_scale(summary: dict, sweep: Sweep) -> plt.Figure:
    """Fig 5B at the paper's run length: the lowest test loss during training (the
    paper's measure, :func:`~dbcode.analysis.losses.lowest_loss`) against ``N_z`` from the committed summary,
    with the final loss (open markers) and the CI-scale means of the lowest loss
    (dashed) beside it, and the test loss over training of the paper-scale networks
    (the first four ``N_z``); :func:`plot_paper_fields` shows their receptive fields."""
    both = paper_conditions(summary)
    fig = plt.figure(figsize=(FIGURE_WIDTH, 3.6))
    grid = fig.add_gridspec(1, 2, wspace=0.25, left=0.07, right=0.98, bottom=0.13, top=0.9)
    ax = fig.add_subplot(grid[0, 0])
    final = paper_losses(summary, "final")
    for rule, by_n in paper_losses(summary, "lowest").items():
        if by_n:
            ax.plot(
                list(by_n),
                [v.mean() for v in by_n.values()],
                "-o",
                color=COLORS[rule],
                ms=5,
                label=f"{LABELS[rule]}, paper scale, lowest",
            )
            ax.plot(
                list(final[rule]),
                [v.mean() for v in final[rule].values()],
                ":o",
                color=COLORS[rule],
                mfc="none",
                ms=5,
                lw=1,
                label=f"{LABELS[rule]}, paper scale, final",
            )
        ax.plot(
            sweep.n_zs,
            sweep.mean_loss(rule, "lowest"),
            "--",
            color=COLORS[rule],
            alpha=0.6,
            label=f"{LABELS[rule]}, CI scale, lowest",
        )
    ax.set_xscale("log")
    ticks = sorted(set(sweep.n_zs) | set(both))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(v) for v in ticks])
    ax.minorticks_off()
    ax.set_xlabel("coding neurons $N_z$")
    ax.set_ylabel("test loss $L$ (lowest during training; final)")
    ax.set_title(f"{summary['done']} of {summary['total']} paper-scale networks", fontsize=9)
    place_legend(ax, fontsize=SMALL, frameon=False, ncol=2)
    if not both:
        return fig
    ax = fig.add_subplot(grid[0, 1])
    styles = ("-o", "--s", ":^", "-.v")
    for row in summary["networks"]:
        if row["n_z"] in both[: len(styles)] and row["seed"] == 0 and "test_loss" in row:
            ax.plot(
                np.array(row["eval_at"]) / 1e6,
                row["test_loss"],
                styles[both.index(row["n_z"])],
                ms=3,
                color=COLORS[row["variant"]],
                label=f"{LABELS[row['variant']]}, $N_z$ = {row['n_z']}",
            )
    ax.set_xlabel("training presentations (millions)")
    ax.set_ylabel("test loss $L$ (log scale)")
    ax.set_yscale("log")
    ax.set_title("during training, paper scale", fontsize=9)
    ax.legend(fontsize=SMALL, frameon=False, ncol=2, loc="upper right")
    return fig


def paper_runtimes(summary: dict) -> str:
    """A sentence on the measured run time of the committed paper-scale networks, per
    rule at the smallest and the largest ``N_z`` finished (one core each)."""
    times: dict[str, dict[int, list[float]]] = {}
    for row in summary["networks"]:
        times.setdefault(row["variant"], {}).setdefault(int(row["n_z"]), []).append(
            row["runtime_s"] / 60
        )
    parts = []
    for rule in RULES:
        by_n = times.get(rule, {})
        if by_n:
            ends = sorted({min(by_n), max(by_n)})
            parts.append(
                f"{LABELS[rule]} "
                + " and ".join(f"{np.mean(by_n[n]):.0f} min at $N_z$ = {n}" for n in ends)
            )
    return "Measured, one core per network: " + "; ".join(parts) + "." if parts else ""


def best_presentations(row: dict) -> int:
    """Presentations after which a committed network's test loss was lowest, the point
    at which its ``F`` was kept with :data:`~dbcode.run.records.BEST_SUFFIX`."""
    return int(row["eval_at"][int(np.argmin(row["test_loss"]))])


def plot_paper_fields(
    summary: dict, fields: dict[str, np.ndarray], max_fields: int = 100
) -> plt.Figure:
    """Fig 5C at the paper's scale: the receptive fields of each rule (seed 0) at the
    smallest and the largest ``N_z`` with networks of both rules, where the network
    coded best (lowest test loss) and at the end of training, each network on one grey
    scale, sorted by orientation index."""
    both = paper_conditions(summary)
    sizes = sorted({both[0], both[-1]})
    rows = {(r["variant"], r["n_z"]): r for r in summary["networks"] if r["seed"] == 0}
    panels = [
        (rule, n, best)
        for n in sizes
        for rule in RULES
        for best in (True, False)
        if f"{rule}_n{n}_s0{BEST_SUFFIX if best else ''}" in fields
    ]
    cols = 2
    fig, axes = plt.subplots(
        math.ceil(len(panels) / cols),
        cols,
        figsize=(FIGURE_WIDTH, 2.7 * math.ceil(len(panels) / cols)),
        squeeze=False,
    )
    for ax in axes.flat[len(panels) :]:
        ax.set_axis_off()
    for ax, (rule, n, best) in zip(axes.flat, panels):
        F = np.asarray(fields[f"{rule}_n{n}_s0{BEST_SUFFIX if best else ''}"])[:max_fields]
        a = orientation_indices(F)
        row = rows[(rule, n)]
        when = (
            f"best, {best_presentations(row) / 1e6:.2f} M presentations"
            if best
            else f"end, {row['eval_at'][-1] / 1e6:.2f} M"
        )
        show_mosaic(
            ax,
            receptive_fields(F)[np.argsort(a)],
            cols=10,
            title=f"{LABELS[rule]}, $N_z$ = {n} ({when}): median A = {np.median(a):.2f}",
            common_scale=True,
        )
    fig.tight_layout()
    return fig


registry.register(
    NOISE_SWEEP,
    lambda scale, n: flat_jobs(noise_jobs(scale, range(1 if n is None else n))),
    describe=describe_network,
    keep_fields=True,
)
