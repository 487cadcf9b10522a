"""Correlated bars (Fig 4 and Fig S3): the sweep over the correlation strength ``c``,
its summary over seeds, and the figures and explorer of the chapter ``bars``.

Mikulasch, Rudelt & Priesemann (2020), Fig 4: 16 neurons learn 8 x 8 images of two
bars each (:mod:`dbcode.data.bars`), where the horizontal and the vertical bar with the
same index co-occur with probability ``c``. Somatic balance (SB; input weights by the
Hebbian-like rule, Eq 6/15) and dendritic balance (DB; input weights by the local
gradient, Eq 5/9) are trained at every ``c`` for several seeds; the test decoder loss
(Eq 1) and the number of bars represented by exactly one neuron measure the result.
Fig S3 repeats a few ``c`` with the two explicit dendritic implementations of the SI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from dbcode.analysis.features import best_matches, distinct_features
from dbcode.analysis.losses import final_loss
from dbcode.data.bars import N_BARS, SIDE, bar_templates, partner, render_bars, sample_bar_ids
from dbcode.model.params import VARIANTS, check_count, check_scale, preset
from dbcode.run import registry
from dbcode.run.jobs import Job
from dbcode.run.store import Result
from dbcode.run.sweep import run as run_networks
from dbcode.viz.images import show_image, show_mosaic
from dbcode.viz.style import CMAP_INK, CMAP_SEQUENTIAL, COLORS, GUIDE, LABELS, SMALL

C_GRID = {
    "ci": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
    "paper": tuple(round(0.05 * k, 2) for k in range(21)),
}
"""Correlation strengths of the Fig 4B sweep at each scale (paper: steps of 0.05)."""

N_SEEDS = {"ci": 3, "paper": 50}
"""Seeds per correlation strength and learning rule at each scale."""

RUN_OVERRIDES = {
    "ci": {
        "n_evals": 10,
        "eta_sigma": preset("bars", "paper").eta_sigma
        * preset("bars", "paper").n_presentations
        / preset("bars", "ci").n_presentations,
    },
    "paper": {},
}
"""Changes to the preset of each scale. At CI scale: ten test evaluations instead of
six, so that the last three of them (the final loss,
:data:`dbcode.analysis.losses.N_FINAL`) cover the last 20 % of training; and the
annealing of ``sigma`` compressed in proportion to the shorter training, so that it
ends at the same fraction of training as in the paper."""

VARIANT_C = (0.0, 0.6, 1.0)
"""Correlation strengths of Fig S3."""


def run_overrides(scale: str, overrides: dict | None = None) -> dict:
    """Parameter changes applied to the ``bars`` preset of ``scale`` in this chapter."""
    return {**RUN_OVERRIDES[scale], **(overrides or {})}


def _c_key(c: float) -> float:
    return round(float(c), 2)


def sweep_jobs(
    scale: str,
    seed: int = 0,
    *,
    c_values: Sequence[float] | None = None,
    n_seeds: int | None = None,
    variants: Sequence[str] = ("sb", "db"),
    overrides: dict | None = None,
) -> list[Job]:
    """The networks of Fig 4B: every ``c`` x seed x learning rule.

    Parameters
    ----------
    scale : {"ci", "paper"}
    seed : int
        First seed; the networks use seeds ``seed, seed + 1, ..., seed + n_seeds - 1``
        (each seed draws its own images and spiking noise).
    c_values, n_seeds : optional
        Default :data:`C_GRID` and :data:`N_SEEDS` of the scale.
    variants : sequence of str
        Learning rules (see :data:`dbcode.model.params.VARIANTS`).
    overrides : dict, optional
        Parameter changes on top of :func:`run_overrides`.
    """
    check_scale(scale)
    c_values = C_GRID[scale] if c_values is None else c_values
    n_seeds = N_SEEDS[scale] if n_seeds is None else check_count(n_seeds, "n_seeds")
    base = run_overrides(scale, overrides)
    return [
        Job("bars", scale, seed=seed + k, overrides={**base, "variant": v}, data={"c": _c_key(c)})
        for c in c_values
        for k in range(n_seeds)
        for v in variants
    ]


def variant_jobs(
    scale: str,
    seed: int = 0,
    *,
    c_values: Sequence[float] = VARIANT_C,
    variants: Sequence[str] = VARIANTS,
    overrides: dict | None = None,
) -> list[Job]:
    """The networks of Fig S3: one seed of every learning rule at a few ``c``.

    The explicit dendritic variants start from small positive input weights (they
    divide by ``F``), which :func:`dbcode.model.params.preset` selects for them.
    """
    return sweep_jobs(
        scale, seed, c_values=c_values, n_seeds=1, variants=variants, overrides=overrides
    )


@dataclass
class Sweep:
    """Losses and distinct-bar counts of a set of networks, indexed by rule, ``c``, seed.

    Attributes
    ----------
    c : (n_c,) array
        Correlation strengths, increasing.
    seeds : list of int
    variants : tuple of str
    loss : dict
        Rule -> (n_c, n_seeds) array of final losses
        (:func:`dbcode.analysis.losses.final_loss`).
    distinct : dict
        Rule -> (n_c, n_seeds) array of :func:`dbcode.analysis.features.distinct_features` of the
        input weights against the 16 bars.
    results : dict
        ``(rule, c, seed)`` -> the stored :class:`~dbcode.run.store.Result`.
    """

    c: np.ndarray
    seeds: list
    variants: tuple
    loss: dict
    distinct: dict
    results: dict

    def mean(self, variant: str, what: str = "loss") -> np.ndarray:
        """Mean over seeds at every ``c``."""
        return getattr(self, what)[variant].mean(axis=1)

    def spread(self, variant: str, what: str = "loss") -> np.ndarray:
        """Standard deviation over seeds (``ddof=1``; 0 for a single seed)."""
        values = getattr(self, what)[variant]
        return values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(self.c))

    def worst_c(self, variant: str = "sb") -> float:
        """The ``c`` with the highest mean loss of ``variant``."""
        return float(self.c[np.argmax(self.mean(variant))])

    def most_different_c(self, a: str = "sb", b: str = "db") -> float:
        """The ``c`` where the mean loss of ``a`` exceeds that of ``b`` the most."""
        return float(self.c[np.argmax(self.mean(a) - self.mean(b))])

    def network(self, variant: str, c: float, seed: int | None = None) -> Result:
        return self.results[(variant, _c_key(c), self.seeds[0] if seed is None else seed)]

    @property
    def runtime_s(self) -> float:
        """Summed simulation time of all networks (as first computed, not loaded)."""
        return float(sum(r.meta["runtime_s"] for r in self.results.values()))

    @property
    def data_source(self) -> str:
        cs = ", ".join(f"{c:g}" for c in self.c)
        return f"correlated bars, generated per seed (c = {cs})"


def summarize(jobs: Sequence[Job], results: Sequence[Result]) -> Sweep:
    """Arrange the results of :func:`sweep_jobs` or :func:`variant_jobs` by rule, ``c``
    and seed."""
    by_key = {
        (j.overrides["variant"], _c_key(j.data["c"]), j.seed): r for j, r in zip(jobs, results)
    }
    variants = tuple(dict.fromkeys(j.overrides["variant"] for j in jobs))
    cs = np.array(sorted({_c_key(j.data["c"]) for j in jobs}))
    seeds = sorted({j.seed for j in jobs})
    templates = bar_templates()
    loss, distinct = {}, {}
    for v in variants:
        loss[v] = np.array(
            [[final_loss(by_key[(v, c, s)].arrays["test_loss"]) for s in seeds] for c in cs]
        )
        distinct[v] = np.array(
            [
                [distinct_features(by_key[(v, c, s)].arrays["F"], templates) for s in seeds]
                for c in cs
            ]
        )
    return Sweep(c=cs, seeds=seeds, variants=variants, loss=loss, distinct=distinct, results=by_key)


def run(jobs: Sequence[Job], progress: bool | None = None) -> Sweep:
    """Train (or load) ``jobs`` in parallel on all cores and summarise them."""
    return summarize(jobs, run_networks(list(jobs), progress=progress, desc="bars networks"))


def _name(stem: str, c: float) -> str:
    return f"{stem}_c{c:.2f}"


def loss_key_numbers(sweep: Sweep) -> dict:
    """Key numbers of Fig 4B: mean and spread of the loss per rule and ``c``, the ``c``
    where SB is worst and the SB/DB loss ratio there."""
    numbers = {"n_seeds": len(sweep.seeds)}
    for v in sweep.variants:
        for c, m, s in zip(sweep.c, sweep.mean(v), sweep.spread(v)):
            numbers[_name(f"loss_{v}_mean", c)] = float(m)
            numbers[_name(f"loss_{v}_sd", c)] = float(s)
    worst = sweep.worst_c("sb")
    i = int(np.searchsorted(sweep.c, worst))
    numbers["worst_c_sb"] = worst
    numbers["ratio_sb_db_at_worst"] = float(sweep.mean("sb")[i] / sweep.mean("db")[i])
    return numbers


def counts_distinct_bars(c: float) -> bool:
    """Whether the distinct-bar count is a statistic at ``c``: at ``c = 1`` every image
    is a cross of a bar and its partner, a neuron's field matches both bars alike, and
    which one wins the best match is decided by noise (the count jumps between 1 and 8
    from seed to seed), so it is not reported there."""
    return c < 1.0


def distinct_key_numbers(sweep: Sweep, c_shown: float) -> dict:
    """Key numbers of Fig 4C: mean distinct-bar counts per rule and ``c`` (where
    :func:`counts_distinct_bars`)."""
    numbers = {"c_shown": c_shown}
    for v in sweep.variants:
        for c, m in zip(sweep.c, sweep.mean(v, "distinct")):
            if counts_distinct_bars(c):
                numbers[_name(f"distinct_{v}_mean", c)] = float(m)
    return numbers


def variant_key_numbers(sweep: Sweep) -> dict:
    """Key numbers of Fig S3: loss of every rule at every ``c`` and its distinct-bar
    count (where :func:`counts_distinct_bars`)."""
    numbers = {}
    for v in sweep.variants:
        for c, m, d in zip(sweep.c, sweep.mean(v), sweep.mean(v, "distinct")):
            numbers[_name(f"loss_{v}", c)] = float(m)
            if counts_distinct_bars(c):
                numbers[_name(f"distinct_{v}", c)] = float(d)
    return numbers


# --- data ----------------------------------------------------------------------------


def pair_statistics(c: float, n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, float]:
    """Co-occurrence of the 16 bars in ``n`` sampled images, and the fraction of images
    that show a pair (expected ``c + (1 - c)/16``).

    Returns
    -------
    cooc : (16, 16) array
        Probability that bars ``a`` and ``b`` (``a != b``) appear in the same image;
        the diagonal holds the probability that a bar appears at all.
    pair_fraction : float
    """
    ids = sample_bar_ids(n, c, np.random.default_rng(seed))
    present = np.zeros((n, N_BARS))
    present[np.arange(n)[:, None], ids] = 1.0
    cooc = present.T @ present / n
    return cooc, float(np.mean(ids[:, 1] == partner(ids[:, 0])))


# --- plotting ------------------------------------------------------------------------


def bar_order(F: np.ndarray) -> np.ndarray:
    """Neurons sorted by the bar that best matches their input weights."""
    return np.argsort(best_matches(F, bar_templates()), kind="stable")


def show_weights(ax, F: np.ndarray, title: str = "") -> None:
    """Input weights of all neurons, sorted by best-matching bar, four per row."""
    tiles = np.asarray(F)[bar_order(F)].reshape(-1, SIDE, SIDE)
    show_mosaic(ax, tiles, 4, cmap=CMAP_INK, vmin=0.0, vmax=1.0, title=title)
    ax.set_axis_off()


def _show_images(axes, images: np.ndarray) -> None:
    for ax, img in zip(axes, images):
        show_image(ax, img.reshape(SIDE, SIDE), cmap=CMAP_INK, vmin=0.0, vmax=1.0)


def plot_task(
    c_values: Sequence[float], n_images: int = 6, c_pairs: float = 0.6, seed: int = 0
) -> tuple[plt.Figure, dict]:
    """Fig 4A: sample images for several ``c`` (rows), the eight pairs of bars, and the
    co-occurrence of bars at ``c_pairs``.

    Returns the figure and the measured pair fraction of every ``c`` (key numbers).
    """
    rng = np.random.default_rng(seed)
    fig = plt.figure(figsize=(9.0, 0.95 * len(c_values) + 0.6))
    outer = fig.add_gridspec(1, 3, width_ratios=[n_images, 2.2, 3.0], wspace=0.25)
    grid = outer[0].subgridspec(len(c_values), n_images, wspace=0.08, hspace=0.12)
    numbers = {}
    for r, c in enumerate(c_values):
        axes = [fig.add_subplot(grid[r, q]) for q in range(n_images)]
        _show_images(axes, render_bars(sample_bar_ids(n_images, c, rng)))
        axes[0].set_ylabel(f"c = {c:g}", fontsize=9)
        numbers[_name("pair_fraction", c)] = pair_statistics(c, seed=seed)[1]
    ax_pairs = fig.add_subplot(outer[1])
    pairs = np.zeros((SIDE, SIDE, SIDE))
    for i in range(SIDE):
        pairs[i, i, :] = pairs[i, :, i] = 1.0
    show_mosaic(ax_pairs, pairs, 2, cmap=CMAP_INK, vmin=0.0, vmax=1.0)
    ax_pairs.set_title(f"the {SIDE} pairs:\nrow i with column i", fontsize=9)
    ax_pairs.set_axis_off()
    ax_cooc = fig.add_subplot(outer[2])
    cooc, _ = pair_statistics(c_pairs, seed=seed)
    np.fill_diagonal(cooc, np.nan)
    im = ax_cooc.imshow(cooc, cmap=CMAP_SEQUENTIAL, interpolation="nearest")
    ax_cooc.set_title(f"co-occurrence of bars, c = {c_pairs:g}", fontsize=9)
    ticks, labels = [3.5, 11.5], ["horizontal", "vertical"]
    ax_cooc.set_xticks(ticks, labels, fontsize=SMALL)
    ax_cooc.set_yticks(ticks, labels, fontsize=SMALL, rotation=90, va="center")
    fig.colorbar(im, ax=ax_cooc, fraction=0.046, pad=0.04)
    return fig, numbers


def plot_loss_vs_c(sweep: Sweep) -> plt.Figure:
    """Fig 4B: test decoder loss against ``c``, mean and ±1 s.d. over seeds, seeds as
    dots."""
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for v in sweep.variants:
        m, s, col = sweep.mean(v), sweep.spread(v), COLORS[v]
        ax.fill_between(sweep.c, m - s, m + s, color=col, alpha=0.2, lw=0)
        ax.plot(sweep.c, m, "-o", color=col, ms=4, label=LABELS[v])
        jitter = 0.008 * (1 if v == "db" else -1)
        for k in range(len(sweep.seeds)):
            ax.plot(sweep.c + jitter, sweep.loss[v][:, k], ".", color=col, ms=3, alpha=0.5)
    ax.set_xlabel("correlation strength c")
    ax.set_ylabel("test decoder loss")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_weights_and_distinct(sweep: Sweep, c: float) -> plt.Figure:
    """Fig 4C: input weights of an SB and a DB network at ``c`` (first seed), and the
    number of bars that are the best match of exactly one neuron, against ``c``."""
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.2), gridspec_kw={"width_ratios": [1, 1, 1.3]})
    for ax, v in zip(axes[:2], ("sb", "db")):
        net = sweep.network(v, c)
        i = int(np.searchsorted(sweep.c, _c_key(c)))
        show_weights(
            ax, net.arrays["F"], f"{LABELS[v]}, c = {c:g}: {sweep.distinct[v][i, 0]} distinct bars"
        )
    ax = axes[2]
    for v in ("sb", "db"):
        m, s = sweep.mean(v, "distinct"), sweep.spread(v, "distinct")
        ax.errorbar(sweep.c, m, yerr=s, fmt="-o", ms=4, capsize=2, color=COLORS[v], label=LABELS[v])
    ax.axvline(c, color=GUIDE, lw=0.8, ls=":")
    ax.set_xlabel("correlation strength c")
    ax.set_ylabel("bars coded by exactly one neuron")
    ax.set_ylim(-0.5, N_BARS + 0.5)
    ax.set_yticks(range(0, N_BARS + 1, 4))  # whole bars only
    ax.legend(frameon=False, loc="lower left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_variants(sweep: Sweep, c_weights: float | None = None) -> plt.Figure:
    """Fig S3: test loss of every learning rule at each ``c`` (bars), and the learned
    input weights of each rule at ``c_weights`` (default: the middle ``c``)."""
    c_weights = sweep.c[len(sweep.c) // 2] if c_weights is None else c_weights
    n = len(sweep.variants)
    fig = plt.figure(figsize=(9.0, 5.2))
    gs = fig.add_gridspec(2, n, height_ratios=[1.1, 1.0], hspace=0.45)
    ax = fig.add_subplot(gs[0, :])
    width = 0.8 / n
    for k, v in enumerate(sweep.variants):
        x = np.arange(len(sweep.c)) + (k - (n - 1) / 2) * width
        ax.bar(x, sweep.mean(v), width, color=COLORS[v], label=LABELS[v])
    ax.set_xticks(np.arange(len(sweep.c)), [f"c = {c:g}" for c in sweep.c])
    ax.set_ylabel("test decoder loss")
    ax.legend(frameon=False, ncol=n, fontsize=SMALL, loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    for k, v in enumerate(sweep.variants):
        show_weights(
            fig.add_subplot(gs[1, k]),
            sweep.network(v, c_weights).arrays["F"],
            f"{LABELS[v]}, c = {c_weights:g}",
        )
    return fig


# --- explorer ------------------------------------------------------------------------


def explore(c: float = 0.6, train: bool = False, seed: int = 0, n_images: int = 8) -> plt.Figure:
    """Callback of the chapter's explorer: sample images at correlation strength ``c``;
    with ``train``, one SB and one DB network at ``c`` (CI scale, a few seconds on two
    cores, cached) and their learned input weights."""
    c = _c_key(c)
    images = render_bars(sample_bar_ids(n_images, c, np.random.default_rng(seed)))
    if not train:
        fig, axes = plt.subplots(1, n_images, figsize=(1.0 * n_images, 1.3))
        _show_images(axes, images)
        fig.suptitle(f"sample images, c = {c:g}", fontsize=9)
        return fig
    networks = run(sweep_jobs("ci", seed, c_values=[c], n_seeds=1), progress=False)
    fig = plt.figure(figsize=(8.0, 4.2))
    gs = fig.add_gridspec(2, 2, height_ratios=[0.6, 2.0])
    top = gs[0, :].subgridspec(1, n_images, wspace=0.08)
    _show_images([fig.add_subplot(top[0, q]) for q in range(n_images)], images)
    for q, v in enumerate(("sb", "db")):
        show_weights(
            fig.add_subplot(gs[1, q]),
            networks.network(v, c).arrays["F"],
            f"{LABELS[v]}: loss {networks.loss[v][0, 0]:.4f}, "
            f"{networks.distinct[v][0, 0]} distinct bars",
        )
    fig.suptitle(f"c = {c:g} (CI scale, seed {seed})", fontsize=9)
    return fig


def paper_losses(summary: dict, variants: Sequence[str] = ("sb", "db")) -> dict:
    """Final losses of a committed paper-scale summary (see
    :func:`dbcode.run.records.export_summary`) as ``{rule: {c: array over seeds}}``."""
    from dbcode.run.records import losses_by_condition

    return losses_by_condition(summary, lambda row: _c_key(row["data"]["c"]), variants)


def paper_key_numbers(summary: dict) -> dict:
    """Key numbers of the paper-scale figure: the mean loss per rule and ``c`` over the
    seeds finished so far (how many are finished is progress, not a result, and is in
    the figure's title)."""
    numbers = {}
    for v, by_c in paper_losses(summary).items():
        for c, losses in by_c.items():
            numbers[_name(f"loss_{v}_mean", c)] = float(losses.mean())
    return numbers


def plot_paper_scale(summary: dict, sweep: Sweep) -> plt.Figure:
    """Fig 4B at the paper's run length (committed summary, mean ± s.d. over the seeds
    done so far) beside the CI-scale means (dashed)."""
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for v, by_c in paper_losses(summary).items():
        if not by_c:
            continue
        c = np.array(list(by_c))
        m = np.array([x.mean() for x in by_c.values()])
        s = np.array([x.std(ddof=1) if len(x) > 1 else 0.0 for x in by_c.values()])
        col = COLORS[v]
        ax.errorbar(
            c, m, yerr=s, fmt="-o", color=col, ms=4, capsize=2, label=f"{LABELS[v]}, paper scale"
        )
        if v in sweep.variants:
            ax.plot(
                sweep.c, sweep.mean(v), "--", color=col, alpha=0.6, label=f"{LABELS[v]}, CI scale"
            )
    ax.set_xlabel("correlation strength c")
    ax.set_ylabel("test decoder loss")
    ax.set_title(f"{summary['done']} of {summary['total']} paper-scale networks", fontsize=9)
    ax.legend(frameon=False, fontsize=SMALL)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def paper_comparison(summary: dict) -> dict[float, dict]:
    """SB against DB at every ``c`` of a paper-scale summary: mean losses, their
    difference in units of the combined standard error over seeds (``z``; ``nan`` with
    fewer than two seeds of either rule) and the ratio SB / DB."""
    table = paper_losses(summary)
    out = {}
    for c, sb in table["sb"].items():
        db = table["db"].get(c)
        if db is None:
            continue
        se = (
            np.sqrt(sb.var(ddof=1) / len(sb) + db.var(ddof=1) / len(db))
            if min(len(sb), len(db)) > 1
            else np.nan
        )
        out[c] = {
            "sb": float(sb.mean()),
            "db": float(db.mean()),
            "n": min(len(sb), len(db)),
            "z": float((sb.mean() - db.mean()) / se),
            "ratio": float(sb.mean() / db.mean()),
        }
    return out


def format_c_set(cs, grid) -> str:
    """Values of ``c`` as runs of consecutive ``grid`` values ("0-0.45, 0.6, 0.8-1"),
    or "none"."""
    grid = sorted(grid)
    chosen = [c in set(cs) for c in grid]
    runs, start = [], None
    for i, inside in enumerate([*chosen, False]):
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            runs.append(
                f"{grid[start]:g}" if i - 1 == start else f"{grid[start]:g}-{grid[i - 1]:g}"
            )
            start = None
    return ", ".join(runs) or "none"


def _describe(job: Job, result: Result) -> dict:
    """The bars columns of a network's row in the committed record."""
    return {"distinct_bars": distinct_features(result.arrays["F"], bar_templates())}


registry.register(
    "fig4b", lambda scale, n_seeds: sweep_jobs(scale, n_seeds=n_seeds), describe=_describe
)


def _count(n: int) -> str:
    """A count as the prose writes it: "6 000", or "$10^6$" for a power of ten."""
    k = int(round(np.log10(n))) if n > 0 else 0
    return f"$10^{k}$" if n >= 10**5 and n == 10**k else f"{n:,}".replace(",", " ")


def _gap(sb: float, db: float) -> str:
    """SB's loss against DB's in words: "7 % above DB" or "4 % below DB"."""
    ratio = sb / db - 1
    return f"{100 * abs(ratio):.0f} % {'above' if ratio > 0 else 'below'} DB"


def scale_notes(sweep: Sweep, paper_summary: dict | None) -> str:
    """The chapter's closing section in Markdown, every number from ``sweep`` (the
    CI-scale Fig 4B sweep) and the committed paper-scale record: the reduced protocol,
    how SB and DB compare at ``c = 0`` and ``c = 1`` at both scales, where SB's
    distinct-bar count drops, and the size and measured cost of the paper-scale record
    against the paper's grid."""
    ci, paper = sweep_jobs("ci", 0)[0].params, sweep_jobs("paper", 0)[0].params
    i0, i1 = int(np.argmin(sweep.c)), int(np.argmax(sweep.c))
    sb, db = sweep.mean("sb"), sweep.mean("db")
    se = np.sqrt((sweep.spread("sb") ** 2 + sweep.spread("db") ** 2) / len(sweep.seeds))
    tie = abs(sb[i1] - db[i1]) <= se[i1]
    lines = [
        f"At CI scale ({_count(ci.n_presentations)} presentations with "
        f"{ci.eta_F / paper.eta_F:.0f}-fold learning rates, {len(sweep.c)} correlation "
        f"strengths, {len(sweep.seeds)} seeds) the figures above are computed; the paper's "
        f"scale ({_count(paper.n_presentations)} presentations per network) is the committed "
        "record. Where the measurement departs from the paper:",
        "",
    ]
    at_one = (
        f"- At $c = 1$ the reduced runs end with SB at {sb[i1]:.4f} and DB at {db[i1]:.4f}"
        + (", a difference within one standard error" if tie else f" (SB {_gap(sb[i1], db[i1])})")
        + "; the paper reports DB below SB at every $c$. With every image a cross, both "
        "rules learn crosses, and the pairwise Hebbian rule has nothing left to confuse."
    )
    at_zero = (
        f"- At $c = 0$ the reduced runs leave SB {_gap(sb[i0], db[i0])}. Short training "
        "penalises SB's Hebbian rule more than the gradient rule, so part of SB's excess "
        "at every $c$ is a property of the reduced scale"
    )
    compared = paper_comparison(paper_summary) if paper_summary else {}
    if compared:
        p1, p0 = compared[max(compared)], compared[min(compared)]
        at_one += (
            f" At the paper's run length SB ends {_gap(p1['sb'], p1['db'])} at "
            f"$c = {max(compared):g}$ ({abs(p1['z']):.1f} standard errors)."
        )
        at_zero += f"; at the paper's run length SB ends {_gap(p0['sb'], p0['db'])} there."
    else:
        at_zero += "."
    lines += [
        at_one,
        at_zero,
        "- The distinct-bar count understates the merging under SB: a neuron whose "
        "receptive field holds a bar and a fainter copy of its partner still has a single "
        "best-matching bar (left panel of {numref}`fig-bars-weights`). The count drops only "
        "where both arms are of similar strength; SB's mean count at CI scale is "
        + ", ".join(
            f"{n:.1f} at $c = {c:g}$" for c, n in zip(sweep.c, sweep.mean("sb", "distinct"))
        )
        + ".",
        "",
    ]
    if paper_summary:
        runtimes = [row["runtime_s"] for row in paper_summary["networks"]]
        seeds = len({row["seed"] for row in paper_summary["networks"]})
        total = len(sweep_jobs("paper", 0))
        per_net = float(np.mean(runtimes))
        lines.append(
            f"At paper scale ($c$ = {C_GRID['paper'][0]:g}, {C_GRID['paper'][1]:g}, …, "
            f"{C_GRID['paper'][-1]:g}) the committed record has {seeds} of the paper's "
            f"{N_SEEDS['paper']} seeds per $c$, {paper_summary['done']} networks of "
            f"{_count(total)}, at a mean of {per_net:.0f} s of one core per network "
            f"({sum(runtimes) / 3600:.1f} core-hours in all); the whole grid would take "
            f"about {per_net * total / 3600:.0f} core-hours "
            "(`python benchmarks/project_paper_sweeps.py` projects every sweep)."
        )
    return "\n".join(lines) + "\n"
