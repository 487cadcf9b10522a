"""Transmission delays at the paper's scale (paper Fig 6A-D, S7): the committed records.

Reads the committed paper-scale networks of the delay scan (named sweep ``fig6a``,
``results/paper/fig6a.json``) and of the MNIST comparison with a long delay (``fig6bd``),
shapes them like the CI scan of :mod:`dbcode.chapters.delays` (so that the same figure
draws both), and writes the chapter's paper-scale table and text: where SB breaks down
at the paper's learning rates, how DB's loss grows with the delay, and which networks of
the paper's scan have not run yet, with the command that runs them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from dbcode.chapters.delays import (
    BETAS,
    CONDITION_LABELS,
    CONDITIONS,
    DELAYS,
    collapse_delay,
    collapsed,
    mean_input_baseline,
    mnist_jobs,
    scan_job,
    similarity_text,
    sweep_jobs,
)
from dbcode.run.jobs import load_data
from dbcode.run.records import job_identity, load_summary
from dbcode.viz.style import COLORS, FIGURE_WIDTH, GUIDE, LABELS

SCAN_SWEEP = "fig6a"
"""The named sweep of the paper's delay scan."""
MNIST_SWEEP = "fig6bd"
"""The named sweep of the MNIST networks with a long delay (Fig 6B-D)."""
SCALE = "paper"


def paper_baseline(seed: int = 0) -> float:
    """The mean-input baseline of the paper-scale scan: its test patches decoded by the
    mean training patch (the data do not depend on the delay or ``beta``)."""
    job = scan_job("db", DELAYS[SCALE][0], SCALE, seed)
    return mean_input_baseline(job, load_data(job).test[: job.params.n_test_eval])


def scan_from_record(record: Mapping | None, baseline: float, seed: int = 0) -> dict:
    """The committed scan shaped like :func:`dbcode.chapters.delays.summarize_scan`.

    Per ``beta`` and condition, lists over the paper's delays: ``ran`` (the network is in
    the record), ``loss`` (the last test loss; ``nan`` where it diverged or has not run),
    ``lowest`` (lowest test loss during training), ``similarity``, ``rate_hz``,
    ``diverged`` and ``runtime_s``. ``done`` and ``total`` count the networks.
    """
    jobs = sweep_jobs(SCALE, seed)
    by_identity = {job_identity(job): key for key, job in jobs.items()}
    rows = {}
    for row in (record or {}).get("networks", []):
        key = by_identity.get(row.get("job_id"))
        if key is not None:
            rows[key] = row
    delays = list(DELAYS[SCALE])
    out = {"delays": delays, "baseline": baseline, "done": len(rows), "total": len(jobs)}
    for beta in BETAS[SCALE]:
        for c in CONDITIONS:
            found = [rows.get((c, beta, dt)) for dt in delays]

            def column(name, found=found):
                return [math.nan if r is None or r["diverged"] else float(r[name]) for r in found]

            out[(beta, c)] = {
                "ran": [r is not None for r in found],
                "diverged": [r is not None and bool(r["diverged"]) for r in found],
                "loss": column("last_loss"),
                "lowest": column("lowest_loss"),
                "similarity": column("similarity"),
                "rate_hz": column("rate_hz"),
                "runtime_s": [math.nan if r is None else float(r["runtime_s"]) for r in found],
            }
    return out


def load_scan(seed: int = 0) -> dict:
    """:func:`scan_from_record` of the committed record (empty where there is none)."""
    return scan_from_record(load_summary(SCAN_SWEEP, SCALE), paper_baseline(seed), seed)


def betas_run(scan: Mapping) -> list[float]:
    """The values of ``beta`` with at least one finished network."""
    return [b for b in BETAS[SCALE] if any(any(scan[(b, c)]["ran"]) for c in CONDITIONS)]


def _ran(scan: Mapping, beta: float, condition: str) -> list[tuple[float, float]]:
    """``(delay, loss)`` of the networks of a condition that ran (``nan``: diverged)."""
    v = scan[(beta, condition)]
    return [(dt, loss) for dt, loss, ran in zip(scan["delays"], v["loss"], v["ran"]) if ran]


def onset_of_collapse(scan: Mapping, beta: float, condition: str) -> float | None:
    """Shortest delay from which on every network of the condition that ran has
    :func:`~dbcode.chapters.delays.collapsed` (``None``: none has, or none ran)."""
    ran = _ran(scan, beta, condition)
    if not ran:
        return None
    partial = {"delays": [dt for dt, _ in ran], "baseline": scan["baseline"]}
    partial[(beta, condition)] = {"loss": [loss for _, loss in ran]}
    return collapse_delay(partial, beta, condition)


def paper_scan_numbers(scan: Mapping, beta: float) -> dict:
    """Key numbers of the paper-scale scan at ``beta`` for the manifest: every finished
    network's last and lowest test loss and similarity, and what the claims test, where
    it can be computed."""
    out = {"beta": beta, "baseline": scan["baseline"], "done": scan["done"]}
    out["total"] = scan["total"]
    for c in CONDITIONS:
        v = scan[(beta, c)]
        for dt, ran, loss, low, sim in zip(
            scan["delays"], v["ran"], v["loss"], v["lowest"], v["similarity"]
        ):
            if ran:
                out[f"loss_{c}_dt{dt:g}"] = loss
                out[f"lowest_{c}_dt{dt:g}"] = low
                out[f"similarity_{c}_dt{dt:g}"] = sim
        out[f"n_run_{c}"] = sum(v["ran"])
        out[f"n_diverged_{c}"] = sum(v["diverged"])
        onset = onset_of_collapse(scan, beta, c)
        out[f"collapse_delay_{c}"] = "none" if onset is None else onset
    both = [
        dt
        for dt, sb, db in zip(scan["delays"], scan[(beta, "sb")]["ran"], scan[(beta, "db")]["ran"])
        if sb and db
    ]
    out["grid_shortest_delay"] = min(scan["delays"])
    if both:
        out["shortest_delay"], out["longest_delay"] = both[0], both[-1]
    db = dict(_ran(scan, beta, "db"))
    if len(db) > 1 and all(math.isfinite(x) for x in db.values()):
        first, last = min(db), max(db)
        out["db_growth"] = db[last] / db[first] - 1
    return out


LATE_RISE = 1.2
"""A network whose last test loss exceeds its lowest by this factor rose late."""


def _delays_text(delays) -> str:
    delays = [f"{d:g}" for d in delays]
    if len(delays) < 3:
        return " and ".join(delays)
    return ", ".join(delays[:-1]) + " and " + delays[-1]


def scan_findings(scan: Mapping, beta: float) -> str:
    """What the paper-scale scan at ``beta`` shows so far, in words computed from the
    record: where SB breaks down at the paper's rates, how DB's loss grows, what
    diverged."""
    baseline = scan["baseline"]
    parts = []
    for c in ("sb", "sb-slow"):
        ran = _ran(scan, beta, c)
        if not ran:
            parts.append(f"{CONDITION_LABELS[c]}: not run yet.")
            continue
        onset = onset_of_collapse(scan, beta, c)
        diverged = [dt for dt, loss in ran if not math.isfinite(loss)]
        longest = ran[-1][0]
        if onset is None:
            text = (
                f"{CONDITION_LABELS[c]} stays below the mean-input baseline at every delay "
                f"run so far (up to {longest:g} ms)"
            )
        else:
            text = (
                f"{CONDITION_LABELS[c]} reaches the mean-input baseline from "
                f"{onset:g} ms on (the delays run: {_delays_text(d for d, _ in ran)} ms)"
            )
        if diverged:
            text += f"; its weights diverged at {_delays_text(diverged)} ms"
        parts.append(text + ".")
    parts += _shortest_delay_text(scan, beta)
    db = _ran(scan, beta, "db")
    if db:
        finite = [(dt, loss) for dt, loss in db if math.isfinite(loss)]
        if len(finite) > 1:
            (d0, l0), (d1, l1) = finite[0], finite[-1]
            worst = max(loss for _, loss in finite)
            parts.append(
                f"DB's test loss goes from {l0:.4f} at {d0:g} ms to {l1:.4f} at {d1:g} ms "
                f"({100 * (l1 / l0 - 1):+.0f} %), at most {worst / baseline:.2f} times the "
                f"baseline {baseline:.4f}."
            )
        elif finite:
            parts.append(f"DB has run at {finite[0][0]:g} ms only (loss {finite[0][1]:.4f}).")
        v = scan[(beta, "db")]
        risen = [
            (dt, low, last)
            for dt, ran, low, last in zip(scan["delays"], v["ran"], v["lowest"], v["loss"])
            if ran and math.isfinite(last) and last > LATE_RISE * low
        ]
        if risen:
            parts.append(
                "DB's loss rose late in training at "
                + _delays_text(dt for dt, _, _ in risen)
                + " ms ("
                + "; ".join(f"lowest {low:.4f}, last {last:.4f}" for _, low, last in risen)
                + "): the late instability of DB at the paper's scale that the "
                "natural-images chapter describes, which the paper's analysis (lowest loss "
                "per network) would not show."
            )
        collapsed_db = [dt for dt, loss in db if collapsed(loss, baseline)]
        if collapsed_db:
            parts.append(
                f"DB reaches the baseline (or diverged) at {_delays_text(collapsed_db)} ms."
            )
    else:
        parts.append("DB: not run yet.")
    return " ".join(parts)


def _shortest_delay_text(scan: Mapping, beta: float) -> list[str]:
    """SB against DB at the grid's shortest delay, by the lowest test loss during
    training (the paper's measure) and by the last, once both have run there."""
    k = int(np.argmin(scan["delays"]))
    sb, db = scan[(beta, "sb")], scan[(beta, "db")]
    if not (sb["ran"][k] and db["ran"][k]):
        return []
    low, last = sb["lowest"][k] / db["lowest"][k], sb["loss"][k] / db["loss"][k]
    if not (math.isfinite(low) and math.isfinite(last)):
        return []
    return [
        f"At the shortest delay, {scan['delays'][k]:g} ms, SB's lowest test loss during "
        f"training is {sb['lowest'][k]:.4f} against DB's {db['lowest'][k]:.4f} (SB / DB = "
        f"{low:.2f}, the paper's measure); their last losses are {sb['loss'][k]:.4f} and "
        f"{db['loss'][k]:.4f} (SB / DB = {last:.2f})."
    ]


def not_run_note(scan: Mapping, command: str = "python -m dbcode sweep fig6a --scale paper") -> str:
    """Which networks of the paper's scan are missing, the measured time per network so
    far and the projected time of the rest on one core, with the command that runs them
    (empty when the scan is complete)."""
    missing = scan["total"] - scan["done"]
    if missing == 0:
        return ""
    runtimes = [t for b in BETAS[SCALE] for c in CONDITIONS for t in scan[(b, c)]["runtime_s"]]
    measured = [t for t in runtimes if math.isfinite(t)]
    by_beta = ", ".join(
        rf"$\beta$ = {b:g}: {sum(sum(scan[(b, c)]['ran']) for c in CONDITIONS)} of "
        f"{len(CONDITIONS) * len(scan['delays'])}"
        for b in BETAS[SCALE]
    )
    text = (
        f"Of the paper's scan, {scan['done']} of {scan['total']} networks are in the committed "
        f"record ({by_beta}); the others have not run yet."
    )
    if measured:
        mean = float(np.mean(measured))
        text += (
            f" A finished network took {min(measured) / 60:.0f}-{max(measured) / 60:.0f} min "
            f"on one core (mean {mean / 60:.0f} min), so the rest needs about "
            f"{missing * mean / 3600:.0f} h on one core."
        )
    return text + f" `{command}` runs them and resumes where it stopped."


def scan_table(scan: Mapping, beta: float) -> str:
    """Markdown table of the paper-scale scan at ``beta``: per delay and condition the
    last and the lowest test loss, the field similarity and the run time (— where the
    network has not run, "diverged" where its weights did)."""
    head = "| delay (ms) | " + " | ".join(CONDITION_LABELS[c] for c in CONDITIONS) + " |"
    lines = [head, "| ---: | " + " | ".join("---" for _ in CONDITIONS) + " |"]
    for k, dt in enumerate(scan["delays"]):
        cells = []
        for c in CONDITIONS:
            v = scan[(beta, c)]
            if not v["ran"][k]:
                cells.append("—")
            elif v["diverged"][k]:
                cells.append(f"diverged ({v['runtime_s'][k] / 60:.0f} min)")
            else:
                cells.append(
                    f"{v['loss'][k]:.4f} (lowest {v['lowest'][k]:.4f}), similarity "
                    f"{similarity_text(v['similarity'][k])}, {v['runtime_s'][k] / 60:.0f} min"
                )
        lines.append(f"| {dt:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- MNIST
def mnist_from_record(record: Mapping | None, seed: int = 0) -> dict:
    """``{rule: row}`` of the committed MNIST networks with a long delay (Fig 6B-D)."""
    jobs = mnist_jobs(SCALE, seed)
    by_identity = {job_identity(job): rule for rule, job in jobs.items()}
    return {
        by_identity[row["job_id"]]: row
        for row in (record or {}).get("networks", [])
        if row.get("job_id") in by_identity
    }


def load_mnist(seed: int = 0) -> dict:
    return mnist_from_record(load_summary(MNIST_SWEEP, SCALE), seed)


def mnist_table(ci: Mapping, paper: Mapping) -> str:
    """Markdown table of Fig 6B-D's measures at both scales (CI from the chapter's
    networks, paper from the committed record; — where not run)."""
    lines = [
        "| measure | scale | SB | DB |",
        "| --- | --- | ---: | ---: |",
    ]
    measures = (
        ("coincident spikes (fraction)", "coincidence", "{:.2f}"),
        ("  chance level", "coincidence_chance", "{:.2f}"),
        ("population Fano factor", "fano", "{:.2f}"),
        ("weight similarity", "similarity", "{:.2f}"),
        ("test loss", "loss", "{:.4f}"),
    )
    for label, name, fmt in measures:
        for scale, values in (("CI", ci), ("paper", paper)):
            cells = []
            for rule in ("sb", "db"):
                row = values.get(rule)
                key = "last_loss" if name == "loss" and scale == "paper" else name
                if row is None or key not in row:
                    cells.append("—")
                else:
                    cells.append(fmt.format(row[key]))
            lines.append(f"| {label.strip()} | {scale} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mnist_numbers(paper: Mapping) -> dict:
    """Key numbers of the paper-scale MNIST networks for the manifest."""
    out = {}
    for rule, row in paper.items():
        for name in ("coincidence", "coincidence_chance", "fano", "similarity", "last_loss"):
            if name in row:
                out[f"{name}_{rule}"] = row[name]
    return out


def mnist_findings(paper: Mapping) -> str:
    """Fig 6B-D at the paper's scale in words, or what is missing."""
    if set(paper) != {"sb", "db"}:
        return (
            "The paper-scale MNIST networks with the long delay have not run yet: "
            "`python -m dbcode sweep fig6bd --scale paper` runs them (minutes on one core)."
        )
    sb, db = paper["sb"], paper["db"]
    if sb["diverged"] or db["diverged"]:
        which = " and ".join(LABELS[r] for r in ("sb", "db") if paper[r]["diverged"])
        return f"At the paper's scale the weights of {which} diverged."
    more = sb["coincidence"] > db["coincidence"] and sb["fano"] > db["fano"]
    alike = sb["similarity"] > db["similarity"]
    return (
        f"At the paper's scale SB's spikes are {'more' if more else 'not more'} synchronous "
        f"than DB's ({100 * sb['coincidence']:.0f} % against {100 * db['coincidence']:.0f} % "
        f"coincident spikes, Fano factor {sb['fano']:.2f} against {db['fano']:.2f}) and its "
        f"weights are {'more' if alike else 'not more'} alike ({sb['similarity']:.2f} against "
        f"{db['similarity']:.2f})."
    )


def plot_mnist_scales(ci: Mapping, paper: Mapping) -> plt.Figure:
    """Fig 6B-D's measures at both scales: coincident spikes (with the level expected for
    independent neurons), population Fano factor and weight similarity of SB and DB on
    MNIST with the long delay. ``ci`` is :func:`dbcode.chapters.delays.summarize_mnist`
    of this build, ``paper`` :func:`mnist_from_record` (a scale without a network is left
    empty)."""
    measures = (
        ("coincidence", "coincident spikes (fraction)"),
        ("fano", "population Fano factor"),
        ("similarity", "weight similarity"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(FIGURE_WIDTH, 3.0))
    scales = (("CI scale", ci), ("paper scale", paper))
    width = 0.35
    labelled = set()

    def label(name):
        if name in labelled:
            return None
        labelled.add(name)
        return name

    for ax, (name, title) in zip(axes, measures):
        for i, (_, values) in enumerate(scales):
            for k, rule in enumerate(("sb", "db")):
                row = values.get(rule)
                if row is None or name not in row:
                    continue
                x = i + (k - 0.5) * width
                ax.bar(x, row[name], width, color=COLORS[rule], label=label(LABELS[rule]))
                if name == "coincidence":
                    ax.plot(
                        [x - width / 2, x + width / 2],
                        [row["coincidence_chance"]] * 2,
                        color=GUIDE,
                        lw=2.5,
                        label=label("independent neurons"),
                    )
        if name == "fano":
            ax.axhline(1.0, color=GUIDE, ls=":", lw=1)
        ax.set_xticks(range(len(scales)))
        ax.set_xticklabels([s for s, _ in scales])
        ax.set_xlim(-0.6, len(scales) - 0.4)
        ax.set_title(title, fontsize=10)
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles, labels = handles + h, labels + lab
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.1 if handles else 0, 1, 1))
    return fig
