"""What the book reproduces: every panel of the paper's figures, checked on its numbers.

Each :class:`Panel` names a figure panel of the paper (arXiv v3 numbering, the one the
chapters use), the claim the paper makes with it, and the conditions that test the claim
on the book's key numbers (``figures/manifest.json``) at the CI scale and on the
committed paper-scale records (``results/paper/``). A panel's verdict at a scale follows
from its conditions (:func:`verdict`): *reproduced* when all hold, *partly* when some
do, *not* when none does, *not run* when the numbers are missing. :func:`status_table`
renders the table the book opens with and :func:`chapter_status` the short one atop each
chapter; the build writes both after the chapters ran (:func:`write_status_pages`), so
they always describe the figures of the same build.

The conditions are the paper's claims, not the chapters' statements: where a chapter
reports a departure (and its claim tests assert it), the panel here says *partly* or
*not*.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPRODUCED, PARTLY, NOT, NOT_RUN, SAME = (
    "reproduced",
    "partly",
    "not reproduced",
    "not run",
    "same at both scales",
)
VERDICTS = (REPRODUCED, PARTLY, NOT, NOT_RUN, SAME)

Numbers = Mapping[str, Mapping[str, object]]
"""Key numbers by figure id, as :func:`key_numbers` reads them from a manifest."""


@dataclass(frozen=True)
class Condition:
    """One checkable part of a claim: what is checked, with the measured numbers, and
    whether it holds (``None``: not computable from the numbers at hand)."""

    text: str
    holds: bool | None

    def __post_init__(self):
        if self.holds is not None:  # numpy booleans are not ``True``
            object.__setattr__(self, "holds", bool(self.holds))


@dataclass(frozen=True)
class Panel:
    """A panel of the paper's figures and how the book checks it.

    ``ci`` and ``paper`` map the key numbers (and, for ``paper``, the committed records)
    to conditions; ``None`` for ``paper`` means the panel does not depend on scale (no
    training), a ``paper_command`` without ``paper`` that it has not been run.
    """

    figure: str
    chapter: str
    claim: str
    ci: Callable[[Numbers], list[Condition]]
    paper: Callable[[Numbers], list[Condition]] | None = None
    paper_command: str | None = None
    figures: tuple[str, ...] = field(default=())


def verdict(conditions: list[Condition] | None) -> str:
    """``REPRODUCED`` when every condition holds, ``PARTLY`` when some hold or
    some are not yet computable, ``NOT`` when none holds, ``NOT_RUN`` for
    ``None`` (no numbers)."""
    if conditions is None:
        return NOT_RUN
    known = [c.holds for c in conditions if c.holds is not None]
    if known and all(known) and len(known) == len(conditions):
        return REPRODUCED
    if any(known):
        return PARTLY
    return NOT if known else NOT_RUN


def combined(ci: str, paper: str) -> str:
    """The verdict of a panel over both scales: the paper scale's where it was run (a
    result that holds only at the reduced scale is ``PARTLY``), else the CI scale's
    with the paper scale outstanding."""
    if paper == SAME:
        return ci
    if paper == NOT_RUN:
        return PARTLY if ci in (REPRODUCED, PARTLY) else ci
    return paper


# --------------------------------------------------------------------------- numbers


def key_numbers(manifest: Mapping[str, Mapping]) -> dict[str, dict]:
    """``{fig_id: {name: value}}`` of a manifest (values without their tolerances)."""
    return {
        fig: {k: v["value"] if isinstance(v, dict) else v for k, v in entry["key_numbers"].items()}
        for fig, entry in manifest.items()
        if entry and entry.get("key_numbers")
    }


def _by(numbers: Mapping[str, object], stem: str, kind: type = float) -> dict:
    """``{x: value}`` of the key numbers named ``<stem><x>`` (``x`` a number)."""
    pattern = re.compile(rf"^{re.escape(stem)}(\d+(?:\.\d+)?)$")
    return {kind(m.group(1)): v for k, v in numbers.items() if (m := pattern.match(k))}


def _f(value: float) -> str:
    return f"{value:.3g}"


def _within(ratio: float, limit: float) -> bool:
    return abs(ratio - 1.0) <= limit


# --------------------------------------------------------------------------- the panels


def _fig1a(n: Numbers) -> list[Condition]:
    k = n["fig1a"]
    return [
        Condition(
            f"read-out loss {_f(100 * k['relative_loss'])} % of the silent loss (< 5 %)",
            k["relative_loss"] < 0.05,
        ),
        Condition(f"balance index {_f(k['balance_index'])} (< 0.2)", k["balance_index"] < 0.2),
    ]


def _fig2e(n: Numbers) -> list[Condition]:
    k = n["fig2e"]
    return [
        Condition(
            f"SB and DB windows differ by {_f(k['sb_db_difference'])} (< 1e-6)",
            k["sb_db_difference"] < 1e-6,
        ),
        Condition(
            f"asymmetry {_f(max(k['symmetry_sb'], k['symmetry_db']))} (< 1e-6)",
            max(k["symmetry_sb"], k["symmetry_db"]) < 1e-6,
        ),
    ]


def _fig2h(n: Numbers) -> list[Condition]:
    e, h = n["fig2e"], n["fig2h"]
    return [
        Condition(f"SB window changes by {_f(h['sb_change'])} (< 1e-6)", h["sb_change"] < 1e-6),
        Condition(
            f"DB window depressed by {_f(-h['db_change_mean'])} on average, peak "
            f"{_f(h['db_peak'])} against {_f(e['peak'])}",
            h["db_change_mean"] < -0.05 and h["db_peak"] < 0.8 * e["peak"],
        ),
    ]


def _same_loss(sb: float, db: float, limit: float = 0.2) -> Condition:
    ratio = sb / db
    return Condition(
        f"final loss SB / DB = {ratio:.2f} (within {limit:.0%})", _within(ratio, limit)
    )


def _fig3_ci(n: Numbers) -> list[Condition]:
    k, d, b = n["fig3c"], n["fig3d"], n["fig3b"]
    return [
        _same_loss(k["last_loss_sb"], k["last_loss_db"]),
        Condition(
            "every neuron resembles one digit class (lowest best correlation "
            f"SB {_f(d['best_r_min_sb'])}, DB {_f(d['best_r_min_db'])}; >= 0.5)",
            min(d["best_r_min_sb"], d["best_r_min_db"]) >= 0.5,
        ),
        Condition(
            f"median active neurons per image SB {b['median_active_sb']:g}, "
            f"DB {b['median_active_db']:g} (<= 2)",
            max(b["median_active_sb"], b["median_active_db"]) <= 2,
        ),
    ]


def _fig3_paper(n: Numbers) -> list[Condition] | None:
    k = n.get("fig3c_paper")
    if k is None:
        return None
    return [
        _same_loss(k["last_loss_sb"], k["last_loss_db"]),
        Condition(f"{k['n_networks']} networks, {k['n_diverged']} diverged", k["n_diverged"] == 0),
    ]


def _figs2(n: Numbers) -> list[Condition]:
    k = n["figS2"]
    return [
        Condition(
            f"{variant} / DB analytic = {k[f'ratio_{variant}_db']:.3f} (within 25 %)",
            _within(k[f"ratio_{variant}_db"], 0.25),
        )
        for variant in ("db-slow", "db-simultaneous")
    ]


def _db_below_sb(sb: Mapping[float, float], db: Mapping[float, float]) -> Condition:
    middle = [c for c in sorted(sb) if 0.2 - 1e-9 <= c <= 0.8 + 1e-9]
    above = [c for c in middle if not db[c] < sb[c]]
    return Condition(
        f"DB below SB at {len(middle) - len(above)} of {len(middle)} c in [0.2, 0.8]",
        bool(middle) and not above,
    )


def _sb_worst_inside(sb: Mapping[float, float]) -> Condition:
    worst = max(sb, key=sb.get)
    return Condition(
        f"SB worst at c = {worst:g}, above its loss at c = 0 and 1",
        0 < worst < 1 and sb[worst] > sb[0.0] and sb[worst] > sb[1.0],
    )


def _db_below_sb_at_the_ends(sb: Mapping[float, float], db: Mapping[float, float]):
    ends = [c for c in (0.0, 1.0) if c in sb]
    text = ", ".join(f"c = {c:g}: SB {_f(sb[c])}, DB {_f(db[c])}" for c in ends)
    return Condition(f"DB below SB at the ends too ({text})", all(db[c] < sb[c] for c in ends))


def _fig4b(k: Mapping[str, object]) -> list[Condition]:
    sb, db = _by(k, "loss_sb_mean_c"), _by(k, "loss_db_mean_c")
    return [_db_below_sb(sb, db), _sb_worst_inside(sb), _db_below_sb_at_the_ends(sb, db)]


def _fig4b_ci(n: Numbers) -> list[Condition]:
    return _fig4b(n["fig4b"])


def _fig4b_paper(n: Numbers) -> list[Condition] | None:
    k = n.get("fig4b_paper")
    return None if k is None else _fig4b(k)


def _fig4c(n: Numbers) -> list[Condition]:
    k, d = n["fig4b"], n["fig4c"]
    worst = k["worst_c_sb"]
    sb, db = _by(d, "distinct_sb_mean_c")[worst], _by(d, "distinct_db_mean_c")[worst]
    return [
        Condition(f"at c = {worst:g} DB codes {db:.3g} distinct bars, SB {sb:.3g}", db > sb),
    ]


def _figs3(n: Numbers) -> list[Condition]:
    k = n["figS3"]
    db = _by(k, "loss_db_c")
    out = []
    for variant in ("db-slow", "db-simultaneous"):
        loss = _by(k, f"loss_{variant}_c")
        worst = max(loss[c] / db[c] for c in loss)
        out.append(Condition(f"{variant} at most {worst:.2f} x DB's loss (< 1.25)", worst < 1.25))
    return out


def _c6(n_zs, sb, db, ratio) -> list[Condition]:
    below = [n for n, a, b in zip(n_zs, sb, db) if b < a]
    gap = [(a - b) / b for a, b in zip(sb, db)]
    out = [
        Condition(f"DB below SB at {len(below)} of {len(n_zs)} $N_z$", len(below) == len(n_zs)),
        Condition(
            f"gap {100 * gap[0]:.0f} % at $N_z$ = {n_zs[0]}, {100 * gap[-1]:.0f} % at {n_zs[-1]}",
            len(n_zs) > 1 and gap[0] > gap[-1],
        ),
    ]
    if ratio is not None:
        value = ratio["lower_bound"] or ratio["ratio"]
        word = "more than " if ratio["lower_bound"] else ""
        out.append(
            Condition(
                f"SB needs {word}{value:.1f} x DB's neurons at $N_z$ = {ratio['n_z']} (> 1)",
                value > 1,
            )
        )
    return out


def _fig5b_ci(n: Numbers) -> list[Condition]:
    from dbcode.chapters.scenes import neuron_ratio

    k = n["fig5b"]
    n_zs = [int(v) for v in str(k["n_z_values"]).split(",")]
    sb = [k[f"loss_sb_n{v}"] for v in n_zs]
    db = [k[f"loss_db_n{v}"] for v in n_zs]
    return _c6(n_zs, sb, db, neuron_ratio(n_zs, sb, db, n_zs[(len(n_zs) - 1) // 2]))


def _grid(name: str, summary: dict) -> Condition:
    from dbcode.run.registry import named_jobs

    total = len(named_jobs(name, "paper"))
    done = len(summary["networks"])
    return Condition(f"{done} of {total} networks of the paper's grid run", done >= total)


def _fig5b_paper(n: Numbers) -> list[Condition] | None:
    from dbcode.chapters import scenes_paper as sp
    from dbcode.run.records import load_summary

    summary = load_summary(sp.PAPER_SWEEP, "paper")
    if summary is None or not sp.paper_conditions(summary):
        return None
    c6 = sp.paper_c6(summary, "lowest")
    return [*_c6(c6["n_zs"], c6["sb"], c6["db"], c6["ratio"]), _grid(sp.PAPER_SWEEP, summary)]


def _fields(k: Mapping[str, object], n_inputs: int = 128) -> list[Condition]:
    """Fig 5C on field fractions ``frac_<class>_<rule>_n<N_z>``: the class the paper
    names is the most common one (more than the other class and than the unclassified
    fields) below and above ``n_inputs`` neurons, and the shares move with ``N_z``
    accordingly (centre-surround falls, Gabor-like rises, smallest to largest N_z)."""
    out = []
    for rule, label in (("sb", "SB"), ("db", "DB")):
        share = {
            kind: _by(k, f"frac_{kind}_{rule}_n", int)
            for kind in ("centre_surround", "gabor", "other")
        }
        sizes = sorted(share["gabor"])
        for kind, others, side in (
            ("centre_surround", ("gabor", "other"), [v for v in sizes if v < n_inputs]),
            ("gabor", ("centre_surround", "other"), [v for v in sizes if v > n_inputs]),
        ):
            name = "centre-surround" if kind == "centre_surround" else "Gabor-like"
            where = "below" if kind == "centre_surround" else "above"
            shown = ", ".join(f"{100 * share[kind][v]:.0f} % at {v}" for v in side) or "no network"
            out.append(
                Condition(
                    f"{label} {where} {n_inputs} neurons {name} the most common class ({shown})",
                    all(share[kind][v] > max(share[o][v] for o in others) for v in side)
                    if side
                    else None,
                )
            )
        if len(sizes) > 1:
            small, large = sizes[0], sizes[-1]
            cs, gabor = share["centre_surround"], share["gabor"]
            out.append(
                Condition(
                    f"{label} from $N_z$ = {small} to {large}: centre-surround "
                    f"{100 * cs[small]:.0f} -> {100 * cs[large]:.0f} %, Gabor-like "
                    f"{100 * gabor[small]:.0f} -> {100 * gabor[large]:.0f} %",
                    cs[small] > cs[large] and gabor[small] < gabor[large],
                )
            )
    return out


def _fig5c_ci(n: Numbers) -> list[Condition]:
    return _fields(n["fig5c_classes"])


def _fig5c_paper(n: Numbers) -> list[Condition] | None:
    k = n.get("fig5c_classes_paper")
    return None if k is None else _fields(k)


def _fig6a_ci(n: Numbers) -> list[Condition]:
    k = n["fig6a"]
    short, long = k["shortest_delay"], k["longest_delay"]

    def loss(rule, delay):
        return float(k[f"loss_{rule}_dt{float(delay):g}"])

    sb0, db0, sb1, db1 = loss("sb", short), loss("db", short), loss("sb", long), loss("db", long)
    return [
        Condition(
            f"at {short:g} ms SB / DB = {sb0 / db0:.2f} (within 15 %)", _within(sb0 / db0, 0.15)
        ),
        Condition(
            f"at {long:g} ms SB {_f(sb1)} at or above the mean-input baseline {_f(k['baseline'])}",
            sb1 >= k["baseline"],
        ),
        Condition(
            f"DB's loss grows by {100 * (db1 / db0 - 1):.0f} % up to {long:g} ms (< 50 %)",
            db1 / db0 - 1 < 0.5,
        ),
    ]


def _fig6a_paper(n: Numbers) -> list[Condition] | None:
    k = n.get("fig6a_paper")
    if not k or not k.get("done"):
        return None

    def loss(rule, delay, which="loss"):
        return float(k[f"{which}_{rule}_dt{float(delay):g}"])

    grid = Condition(
        f"{k['done']} of {k['total']} networks of the paper's scan run", k["done"] >= k["total"]
    )
    if "shortest_delay" not in k:
        return [Condition("SB and DB at a common delay", None), grid]
    short, long = k["shortest_delay"], k["longest_delay"]
    grid_short = k["grid_shortest_delay"]
    # the scan runs from the longest delay down: SB and DB are compared at the grid's
    # shortest delay once it has run, and SB's collapse at the longest delay run
    if short == grid_short:
        # by the lowest loss, the paper's measure (DB's loss may rise late in training)
        sb0, db0 = loss("sb", short, "lowest"), loss("db", short, "lowest")
        last = loss("sb", short) / loss("db", short)
        out = [
            Condition(
                f"at {short:g} ms SB / DB = {sb0 / db0:.2f} by the lowest test loss "
                f"(within 15 %; by the last loss {last:.2f})",
                _within(sb0 / db0, 0.15),
            )
        ]
    else:
        out = [Condition(f"SB and DB at the shortest delay, {grid_short:g} ms", None)]
    if long > grid_short:
        sb1 = loss("sb", long)
        out.append(
            Condition(
                f"at {long:g} ms SB {_f(sb1)} at or above the mean-input baseline "
                f"{_f(k['baseline'])}",
                not math.isfinite(sb1) or sb1 >= k["baseline"],
            )
        )
    else:
        out.append(Condition("SB at a long delay", None))
    growth = k.get("db_growth")
    out.append(
        Condition(
            f"DB's loss grows by {100 * growth:.0f} % over the delays run (< 50 %)", growth < 0.5
        )
        if growth is not None
        else Condition("DB at two delays", None)
    )
    return [*out, grid]


def _fig6bd_paper(n: Numbers) -> list[Condition] | None:
    k = n.get("fig6bd_paper")
    if not k or "coincidence_sb" not in k or "coincidence_db" not in k:
        return None
    return _synchrony(k, k)


def _synchrony(b: Mapping[str, object], c: Mapping[str, object]) -> list[Condition]:
    return [
        Condition(
            f"coincident spikes SB {b['coincidence_sb']:.2f}, DB {b['coincidence_db']:.2f}; "
            f"Fano factor SB {b['fano_sb']:.1f}, DB {b['fano_db']:.1f}",
            b["coincidence_sb"] > b["coincidence_db"] and b["fano_sb"] > b["fano_db"],
        ),
        Condition(
            f"weight similarity SB {c['similarity_sb']:.2f}, DB {c['similarity_db']:.2f}",
            c["similarity_sb"] > c["similarity_db"],
        ),
    ]


def _fig6bd_ci(n: Numbers) -> list[Condition]:
    return _synchrony(n["fig6b"], n["fig6c"])


PANELS: tuple[Panel, ...] = (
    Panel(
        "Fig 1A",
        "derivation",
        "Tight balance of excitation and inhibition encodes a low-dimensional input.",
        _fig1a,
        figures=("fig1a",),
    ),
    Panel(
        "Fig 2E",
        "derivation",
        "For one input and one coding neuron the SB and DB spike-timing windows are the "
        "same symmetric window.",
        _fig2e,
        figures=("fig2e",),
    ),
    Panel(
        "Fig 2H",
        "derivation",
        "A spike of a neuron that inhibits the dendrite depresses the DB window; the SB "
        "window does not change.",
        _fig2h,
        figures=("fig2e", "fig2h"),
    ),
    Panel(
        "Fig 3A-E",
        "mnist",
        "On simple stimuli (MNIST 0-2) SB and DB learn equally well: prototypical digits, "
        "few active neurons per image.",
        _fig3_ci,
        _fig3_paper,
        "python -m dbcode sweep fig3c --scale paper",
        ("fig3a", "fig3b", "fig3c", "fig3c_paper", "fig3d", "fig3e"),
    ),
    Panel(
        "Fig S2",
        "mnist",
        "DB with slow and with simultaneous adaptation learn like analytic DB.",
        _figs2,
        None,
        "python -m dbcode build --chapters mnist --scale paper",
        ("figS2",),
    ),
    Panel(
        "Fig 4B",
        "bars",
        "With correlated bars DB codes better than SB at every correlation strength; SB's "
        "loss is largest at an intermediate one.",
        _fig4b_ci,
        _fig4b_paper,
        "python -m dbcode sweep fig4b --scale paper",
        ("fig4a", "fig4b", "fig4b_paper"),
    ),
    Panel(
        "Fig 4C",
        "bars",
        "Where SB is worst, DB represents more distinct bars than SB.",
        _fig4c,
        None,
        "python -m dbcode build --chapters bars --scale paper",
        ("fig4b", "fig4c"),
    ),
    Panel(
        "Fig S3",
        "bars",
        "The explicit dendritic implementations learn the bars like analytic DB.",
        _figs3,
        None,
        "python -m dbcode build --chapters bars --scale paper",
        ("figS3",),
    ),
    Panel(
        "Fig 5B",
        "scenes",
        "On natural images DB codes better than SB at every $N_z$, most under strong "
        "compression; SB needs more neurons for DB's loss.",
        _fig5b_ci,
        _fig5b_paper,
        "python -m dbcode sweep fig5b --scale paper",
        ("fig5a", "fig5b", "fig5b_paper"),
    ),
    Panel(
        "Fig 5C",
        "scenes",
        "Receptive fields are centre-surround with fewer neurons than inputs ($N_z$ < 128) "
        "and Gabor-like with more.",
        _fig5c_ci,
        _fig5c_paper,
        "python -m dbcode sweep fig5b --scale paper",
        ("fig5c", "fig5c_classes", "fig5c_paper", "fig5c_classes_paper"),
    ),
    Panel(
        "Fig 6A, S7",
        "delays",
        "With delayed inhibition SB's loss rises to the mean-input baseline and its neurons "
        "collapse; DB's loss grows gently.",
        _fig6a_ci,
        _fig6a_paper,
        "python -m dbcode sweep fig6a --scale paper",
        ("fig6a", "figS7", "fig6a_paper"),
    ),
    Panel(
        "Fig 6B-D",
        "delays",
        "On MNIST with a long delay SB fires synchronously with near-identical weights, DB "
        "does not.",
        _fig6bd_ci,
        _fig6bd_paper,
        "python -m dbcode sweep fig6bd --scale paper",
        ("fig6b", "fig6c", "fig6d", "fig6bd_paper"),
    ),
)
"""Every panel of the paper's figures the book reproduces, in the paper's order (the
circuit schematics of Fig 2A/B are drawn, not computed, and Fig 1B is a sketch)."""


@dataclass(frozen=True)
class Row:
    """One panel's status: its conditions and verdict at each scale."""

    panel: Panel
    ci: list[Condition] | None
    paper: list[Condition] | None
    ci_verdict: str
    paper_verdict: str

    @property
    def verdict(self) -> str:
        return combined(self.ci_verdict, self.paper_verdict)


def evaluate(numbers: Numbers, panels: Iterable[Panel] = PANELS) -> list[Row]:
    """The status of every panel on ``numbers`` (:func:`key_numbers` of a manifest)."""
    rows = []
    for panel in panels:
        ci = panel.ci(numbers) if all(f in numbers for f in _ci_figures(panel)) else None
        if panel.paper is None:
            paper = None
            paper_verdict = SAME if panel.paper_command is None else NOT_RUN
        else:
            paper = panel.paper(numbers)
            paper_verdict = verdict(paper)
        rows.append(Row(panel, ci, paper, verdict(ci), paper_verdict))
    return rows


def _ci_figures(panel: Panel) -> list[str]:
    return [f for f in panel.figures if not f.endswith("_paper")]


# --------------------------------------------------------------------------- rendering


def _marks(conditions: list[Condition]) -> str:
    return "; ".join(
        ("✓ " if c.holds else "✗ " if c.holds is False else "… ") + c.text for c in conditions
    )


def _link(row: Row, chapters: Mapping[str, str] | None, suffix: str = "") -> str:
    text = row.panel.figure + suffix
    if chapters and row.panel.chapter in chapters:
        return f"{{doc}}`{text} <{chapters[row.panel.chapter]}>`"
    return text


def status_table(rows: list[Row], chapters: Mapping[str, str] | None = None) -> str:
    """The table to read at a glance, in MyST Markdown: for each of ``rows`` the panel,
    the paper's claim, the verdict at the reduced (CI) scale and at the paper's scale,
    and the panel's verdict; then, in a dropdown, the conditions and numbers behind
    every verdict (:func:`status_conditions`). ``chapters`` maps a chapter to a link
    target for the panel's name (a document name for ``{doc}``)."""
    lines = [
        "| The paper's figure | The paper's claim | Reduced scale | Paper scale | Verdict |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [_link(row, chapters), row.panel.claim, row.ci_verdict, row.paper_verdict]
        lines.append("| " + " | ".join([*cells, f"**{row.verdict}**"]).replace("\n", " ") + " |")
    return "\n".join(lines) + "\n\n" + status_conditions(rows, chapters)


def status_conditions(rows: list[Row], chapters: Mapping[str, str] | None = None) -> str:
    """The conditions behind each verdict of :func:`status_table`, as a dropdown
    admonition: ✓ marks a condition that holds, ✗ one that fails, … one that has no
    numbers yet; a panel not run at the paper's scale names the command that runs it."""
    items = []
    for row in rows:
        ci = _marks(row.ci) if row.ci else row.ci_verdict
        if row.paper is not None:
            paper = _marks(row.paper)
        elif row.paper_verdict == NOT_RUN and row.panel.paper_command:
            paper = f"not run: `{row.panel.paper_command}`"
        else:
            paper = row.paper_verdict
        paper_part = (
            "It does not depend on the scale."
            if row.paper_verdict == SAME
            else f"Paper scale ({row.paper_verdict}): {paper}."
        )
        items.append(
            f"- **{_link(row, chapters, ' of the paper')}: {row.verdict}.** Reduced scale "
            f"({row.ci_verdict}): {ci}. {paper_part}"
        )
    return (
        ":::{admonition} The conditions and numbers behind each verdict\n"
        ":class: dropdown\n\n" + "\n".join(items) + "\n:::\n"
    )


def chapter_status(rows: list[Row], chapter: str) -> str:
    """The short status atop a chapter: one line per panel of ``chapter``, as a MyST
    admonition."""
    mine = [r for r in rows if r.panel.chapter == chapter]
    if not mine:
        return ""
    items = "\n".join(
        f"- **{r.panel.figure}: {r.verdict}** (reduced scale: {r.ci_verdict}; paper "
        f"scale: {r.paper_verdict}). {r.panel.claim}"
        for r in mine
    )
    return (
        ":::{admonition} What this chapter reproduces\n:class: tip\n\n"
        f"{items}\n\nThe conditions and numbers behind each verdict are in the "
        "{ref}`reproduction status <reproduction-status>` table.\n:::\n"
    )


def paper_records() -> list[dict]:
    """Each committed paper-scale record against the paper's grid of that sweep: networks
    and seeds done of the paper's (``name``, ``done``, ``total``, ``seeds``,
    ``paper_seeds``)."""
    import dbcode.chapters  # noqa: F401  (registers the named sweeps)
    from dbcode.run.records import load_summary
    from dbcode.run.registry import SWEEPS, named_jobs

    out = []
    for name in sorted(SWEEPS):
        summary = load_summary(name, "paper")
        if not summary:
            continue
        jobs = named_jobs(name, "paper")
        out.append(
            {
                "name": name,
                "done": len(summary["networks"]),
                "total": len(jobs),
                "seeds": len({row["seed"] for row in summary["networks"]}),
                "paper_seeds": len({job.seed for job in jobs}),
            }
        )
    return out


def limits(rows: list[Row], records: list[dict]) -> str:
    """The departures from the paper, as a Markdown list: every condition that fails or
    has no numbers yet, every panel not run at the paper's scale (with the command that
    runs it), and how much of each paper-scale grid is committed."""
    items = []
    for row in rows:
        for scale, conditions in (("reduced scale", row.ci), ("paper scale", row.paper)):
            for c in conditions or []:
                if c.holds is not True:
                    word = "fails" if c.holds is False else "not yet computable"
                    items.append(f"{row.panel.figure} of the paper, {scale} ({word}): {c.text}.")
    not_run = [r for r in rows if r.paper_verdict == NOT_RUN]
    if not_run:
        items.append(
            "Not run at the paper's scale: "
            + "; ".join(f"{r.panel.figure} (`{r.panel.paper_command}`)" for r in not_run)
            + "."
        )
    for r in records:
        if r["done"] < r["total"] or r["seeds"] < r["paper_seeds"]:
            items.append(
                f"Paper-scale record `{r['name']}`: {r['done']} of the paper's {r['total']} "
                f"networks, {r['seeds']} of its {r['paper_seeds']} seeds."
            )
    return "".join(f"- {item}\n" for item in items)


def write_status_pages(manifest: Mapping[str, Mapping], folder: Path | str) -> list[Path]:
    """Write ``status.md`` (the whole table), ``status_limits.md`` (:func:`limits`, for
    the discussion) and ``status_<chapter>.md`` (each chapter's box) into ``folder`` from
    ``manifest``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = evaluate(key_numbers(manifest))
    links = {p.chapter: p.chapter for p in PANELS}
    written = [folder / "status.md"]
    written[0].write_text(status_table(rows, links), encoding="utf-8")
    written.append(folder / "status_limits.md")
    written[-1].write_text(limits(rows, paper_records()), encoding="utf-8")
    for chapter in sorted({p.chapter for p in PANELS}):
        path = folder / f"status_{chapter}.md"
        path.write_text(chapter_status(rows, chapter), encoding="utf-8")
        written.append(path)
    return written
