"""Natural images (paper Fig 5): SB and DB under compression, their receptive fields.

Mikulasch, Rudelt & Priesemann (2020), Fig 5: networks of ``N_z`` neurons learn 8 x 8
patches of whitened natural images split into on and off channels
(:mod:`dbcode.data.natural`, ``N_x = 128``) at a fixed population rate of 1000 Hz, so
that every neuron's homeostatic target rate is ``rho = 1000 / N_z`` Hz and only the
compression, not the number of spikes, changes with ``N_z``. Somatic balance (SB;
Hebbian-like input weights, Eq 6/15, inhibition Eq 4/16) and analytic dendritic balance
(DB; gradient input weights, Eq 5/9, inhibition at its balanced fixed point
``W = -F D``) are compared by their test decoder loss (Eq 1). This module builds the
sweep over ``N_z``, reduces it to the chapter's numbers (final loss, relative gap, how
many neurons SB needs to reach DB's loss, an orientation index of the receptive
fields), plots Fig 5A-C and runs the chapter's explorer. The committed paper-scale
record is read by :mod:`dbcode.chapters.scenes_paper`, the controlled experiments on
DB's stability live in :mod:`dbcode.chapters.scenes_controls`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from dbcode.analysis.field_fits import CLASSES, GOOD_FIT, class_fractions, classify_fields
from dbcode.analysis.image_statistics import OLSHAUSEN_REFERENCE
from dbcode.analysis.losses import (
    N_FINAL,
    final_loss,
    measured_loss,
)
from dbcode.analysis.orientation import (
    ORIENTED,
    orientation_indices,
    orientation_summary,
    receptive_fields,
    shuffled_orientation,
)
from dbcode.data.natural import N_PIXELS, PATCH, onoff_transform, receptive_field, sample_patches
from dbcode.model.params import Params, check_scale
from dbcode.model.rules import NetworkState
from dbcode.model.simulate import evaluate
from dbcode.run import registry
from dbcode.run.field_classes import record_classes
from dbcode.run.jobs import Job, load_data, run_network
from dbcode.run.records import BEST_SUFFIX, summary_path
from dbcode.run.store import Result
from dbcode.run.sweep import run_grouped
from dbcode.viz.images import show_image, show_mosaic
from dbcode.viz.legibility import place_legend
from dbcode.viz.style import CMAP_IMAGE, COLORS, FIGURE_WIDTH, GUIDE, INK, LABELS, NEUTRAL, SMALL

CHAPTER = "scenes"
POPULATION_RATE = 1000.0
"""Summed target rate of all coding neurons (Hz); each neuron's ``rho`` is this / ``N_z``."""
RULES = ("sb", "db")
N_Z_GRID = {
    "ci": (40, 100, 200),
    "paper": tuple(range(40, 201, 20)),
}
"""Numbers of coding neurons of the Fig 5B sweep at each scale (paper: 40 ... 200)."""
RUN_OVERRIDES = {"ci": {"n_evals": 12}, "paper": {}}
"""Changes to the preset per scale: at CI scale twelve test evaluations, so that the
last three of them (the final loss) span the last quarter of training."""
N_RECONSTRUCT = 6
"""Test patches reconstructed by the explorer (those of highest contrast)."""
EXPLORER_SHORT = 500
"""Training presentations of a network the explorer trains on demand."""
N_INPUTS = 128
"""Input dimensions ``N_x``: the paper's fields change character where ``N_z`` passes it."""
CLASS_KEYS = dict(zip(CLASSES, ("gabor", "centre_surround", "other")))
"""Short names of the field classes in key numbers."""


# --------------------------------------------------------------------------- jobs
def network_job(rule: str, n_z: int, scale: str = "ci", seed: int = 0, **overrides) -> Job:
    """One network of the scenes preset with ``N_z`` neurons at ``rho = 1000 / N_z`` Hz."""
    check_scale(scale)
    params = {
        "variant": rule,
        "n_z": int(n_z),
        "rho": POPULATION_RATE / int(n_z),
        **RUN_OVERRIDES[scale],
        **overrides,
    }
    return Job("scenes", scale=scale, seed=seed, overrides=params)


def sweep_jobs(
    scale: str, seeds: Sequence[int], n_zs: Sequence[int] | None = None
) -> dict[tuple[str, int], list[Job]]:
    """Fig 5B: SB and DB at every ``N_z`` of :data:`N_Z_GRID` (or ``n_zs``) and seed."""
    n_zs = N_Z_GRID[scale] if n_zs is None else n_zs
    return {
        (rule, int(n)): [network_job(rule, n, scale, s) for s in seeds]
        for n in n_zs
        for rule in RULES
    }


# --------------------------------------------------------------------------- analysis
def neurons_for_loss(
    n_zs: Sequence[float], losses: Sequence[float], target: float
) -> tuple[float, bool]:
    """Number of neurons at which a loss curve reaches ``target``.

    The loss is interpolated linearly in ``log N_z`` between the measured points; the
    first crossing from the left counts. When the target lies outside the measured
    losses, the nearest end segment is extended.

    Parameters
    ----------
    n_zs : sequence of float
        Increasing numbers of neurons.
    losses : sequence of float
        Loss at each of them.
    target : float

    Returns
    -------
    n : float
        Interpolated ``N_z`` (``inf`` if the extended curve never reaches ``target``).
    extrapolated : bool
        Whether ``n`` lies outside the measured range.
    """
    x, y = np.log(np.asarray(n_zs, dtype=float)), np.asarray(losses, dtype=float)
    if len(x) < 2:
        raise ValueError("need at least two points to interpolate")
    for i in range(len(x) - 1):
        lo, hi = sorted((y[i], y[i + 1]))
        if lo <= target <= hi and y[i] != y[i + 1]:
            t = (target - y[i]) / (y[i + 1] - y[i])
            return float(np.exp(x[i] + t * (x[i + 1] - x[i]))), False
    i = len(x) - 2 if target < y[-1] else 0
    slope = (y[i + 1] - y[i]) / (x[i + 1] - x[i])
    if slope >= 0:
        return math.inf, True
    return float(np.exp(x[i] + (target - y[i]) / slope)), True


def neuron_ratio(n_zs: Sequence[int], sb: Sequence[float], db: Sequence[float], n_z: int) -> dict:
    """How many neurons SB needs for the loss DB reaches with ``n_z`` (Fig 5B).

    Parameters
    ----------
    n_zs : sequence of int
        Increasing numbers of neurons.
    sb, db : sequence of float
        Each rule's loss at each of them.
    n_z : int
        The ``N_z`` whose DB loss is the target.

    Returns
    -------
    dict
        ``n_sb`` from :func:`neurons_for_loss` on SB's losses, ``ratio = n_sb / n_z``,
        whether ``n_sb`` was ``extrapolated``, and ``lower_bound``: when SB's loss at
        the largest ``N_z`` is still above the target, SB needs more than that many
        neurons (if its loss keeps falling with ``N_z``), so the ratio is at least
        ``max(N_z) / n_z``; ``None`` otherwise.
    """
    n_zs = [int(n) for n in n_zs]
    target = float(db[n_zs.index(n_z)])
    n_sb, extrapolated = neurons_for_loss(n_zs, sb, target)
    lower = n_zs[-1] / n_z if sb[-1] > target else None
    return {
        "n_z": n_z,
        "target": target,
        "n_sb": n_sb,
        "ratio": n_sb / n_z,
        "extrapolated": extrapolated,
        "lower_bound": lower,
    }


@dataclass
class Sweep:
    """Fig 5B sweep: results by ``(rule, N_z)`` over seeds and the numbers drawn from them."""

    results: dict[tuple[str, int], list[Result]]
    n_zs: tuple[int, ...]

    def losses(self, rule: str, measure: str = "final") -> np.ndarray:
        """Losses by one of :data:`~dbcode.analysis.losses.MEASURES`, shape ``(n_seeds, len(n_zs))``."""
        return np.array(
            [
                [measured_loss(r.arrays["test_loss"], measure) for r in self.results[(rule, n)]]
                for n in self.n_zs
            ]
        ).T

    def mean_loss(self, rule: str, measure: str = "final") -> np.ndarray:
        return self.losses(rule, measure).mean(axis=0)

    def relative_gap(self) -> np.ndarray:
        """``(L_SB - L_DB) / L_DB`` at every ``N_z`` (seed means)."""
        sb, db = self.mean_loss("sb"), self.mean_loss("db")
        return (sb - db) / db

    @property
    def middle(self) -> int:
        """The ``N_z`` in the middle of the sweep (lower middle for an even count)."""
        return self.n_zs[(len(self.n_zs) - 1) // 2]

    def neuron_ratio(self, n_z: int | None = None) -> dict:
        """:func:`neuron_ratio` of the seed means at ``n_z`` (default :attr:`middle`)."""
        return neuron_ratio(
            self.n_zs,
            self.mean_loss("sb"),
            self.mean_loss("db"),
            self.middle if n_z is None else n_z,
        )

    def network(self, rule: str, n_z: int, seed_index: int = 0) -> Result:
        return self.results[(rule, n_z)][seed_index]

    @property
    def runtime_s(self) -> float:
        return float(sum(r.meta["runtime_s"] for group in self.results.values() for r in group))

    @property
    def data_source(self) -> str:
        return next(iter(self.results.values()))[0].meta["data_source"]


def run(jobs: dict[tuple[str, int], list[Job]], progress: bool | None = None) -> Sweep:
    """Run every job of :func:`sweep_jobs` in one parallel, cached sweep."""
    return Sweep(run_grouped(jobs, progress=progress), tuple(sorted({n for _, n in jobs})))


def loss_key_numbers(sweep: Sweep) -> dict:
    """Key numbers of Fig 5B (claim C6)."""
    out: dict = {
        "n_seeds": len(next(iter(sweep.results.values()))),
        "n_last": N_FINAL,
        "n_z_values": ",".join(str(n) for n in sweep.n_zs),
    }
    for rule in RULES:
        for n, loss in zip(sweep.n_zs, sweep.mean_loss(rule)):
            out[f"loss_{rule}_n{n}"] = float(loss)
        for n, loss in zip(sweep.n_zs, sweep.mean_loss(rule, "lowest")):
            out[f"lowest_{rule}_n{n}"] = float(loss)
    for n, gap in zip(sweep.n_zs, sweep.relative_gap()):
        out[f"gap_n{n}"] = float(gap)
    ratio = sweep.neuron_ratio()
    out.update(
        {
            "ratio_n_z": ratio["n_z"],
            "ratio_extrapolated": ratio["extrapolated"],
            "neuron_ratio": ratio["ratio"],
            "neuron_ratio_lower_bound": ratio["lower_bound"] or 0.0,
        }
    )
    return out


def field_classes(F: np.ndarray) -> dict[str, float]:
    """Fractions of a network's receptive fields in each class of
    :data:`dbcode.analysis.field_fits.CLASSES` (Gabor and difference-of-Gaussians fits)."""
    return class_fractions(classify_fields(receptive_fields(F)))


def sweep_field_classes(sweep: Sweep) -> dict[tuple[str, int], dict[str, float]]:
    """:func:`field_classes` of the seed-0 network of every rule and ``N_z``."""
    return {
        (rule, n): field_classes(sweep.network(rule, n).arrays["F"])
        for rule in RULES
        for n in sweep.n_zs
    }


def paper_field_pattern(classes: dict[tuple[str, int], dict[str, float]], rule: str) -> dict:
    """Whether a rule's fields follow the paper's statement: centre-surround fields
    outnumber Gabor-like ones at every ``N_z`` below ``N_x = 128``, and Gabor-like
    fields outnumber centre-surround ones at every ``N_z`` above."""
    sizes = sorted(n for r, n in classes if r == rule)
    below = [classes[(rule, n)] for n in sizes if n < N_INPUTS]
    above = [classes[(rule, n)] for n in sizes if n > N_INPUTS]
    centre_surround = bool(below) and all(c["centre-surround"] > c["Gabor-like"] for c in below)
    gabor = bool(above) and all(c["Gabor-like"] > c["centre-surround"] for c in above)
    return {
        "centre_surround_small": bool(centre_surround),
        "gabor_large": bool(gabor),
        "matches": bool(centre_surround and gabor),
    }


def field_key_numbers(sweep: Sweep, classes: dict | None = None) -> dict:
    """Key numbers of Fig 5C: orientation statistics at the smallest and largest N_z,
    the fractions of field classes at every N_z, and whether each rule follows the
    paper's pattern."""
    classes = sweep_field_classes(sweep) if classes is None else classes
    out: dict = {"oriented_threshold": ORIENTED, "good_fit": GOOD_FIT}
    for n in (sweep.n_zs[0], sweep.n_zs[-1]):
        for rule in RULES:
            summary = orientation_summary(sweep.network(rule, n).arrays["F"])
            for key, value in summary.items():
                out[f"{key}_{rule}_n{n}"] = value
    for (rule, n), fractions in classes.items():
        for kind, value in fractions.items():
            out[f"frac_{CLASS_KEYS[kind]}_{rule}_n{n}"] = value
    for rule in RULES:
        out[f"paper_pattern_{rule}"] = paper_field_pattern(classes, rule)["matches"]
    return out


def record_field_classes(
    fields, seed: int = 0, best: bool = False, record: str | None = None
) -> dict[tuple[str, int], dict[str, float]]:
    """Class fractions (as :func:`field_classes`) of every network of a committed
    record's fields (:func:`dbcode.run.records.load_fields`, keys
    ``<rule>_n<N_z>_s<seed>``) of ``seed``: at the end of training, or with ``best``
    where the network's test loss was lowest (keys with
    :data:`~dbcode.run.records.BEST_SUFFIX`). With the name of the paper-scale
    ``record`` the fits committed beside it are used
    (:func:`dbcode.run.field_classes.record_classes`) where they match."""
    chosen = {}
    for key in fields:
        if key.endswith(BEST_SUFFIX) != best:
            continue
        rule, n, s = key.removesuffix(BEST_SUFFIX).split("_")
        if int(s[1:]) == seed and rule in RULES:
            chosen[key] = (rule, int(n[1:]))
    path = summary_path(record, "paper") if record is not None else None
    fits = record_classes({key: fields[key] for key in chosen}, path)
    return {chosen[key]: class_fractions(fits[key]) for key in chosen}


def plot_field_classes(
    classes: dict[tuple[str, int], dict[str, float]], title: str = ""
) -> plt.Figure:
    """Fractions of Gabor-like and centre-surround fields against ``N_z`` for both rules,
    with ``N_x = 128``, where the paper places the change from one to the other."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, kind in zip(axes, ("Gabor-like", "centre-surround")):
        for rule in RULES:
            sizes = sorted(n for r, n in classes if r == rule)
            ax.plot(
                sizes,
                [classes[(rule, n)][kind] for n in sizes],
                "o-",
                color=COLORS[rule],
                label=LABELS[rule],
            )
        ax.axvline(N_INPUTS, color=GUIDE, ls=":", lw=1)
        ax.text(N_INPUTS, 1.0, " $N_z = N_x$", color=INK, fontsize=SMALL, va="top")
        ax.set_xlabel("number of neurons $N_z$")
        ax.set_title(f"{kind} fields", fontsize=10)
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("fraction of fields")
    place_legend(axes[0], frameon=False, fontsize=SMALL)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- reconstructions
def state_of(result: Result) -> NetworkState:
    """The final network state of a stored run (analytic DB's ``W`` is ``-F D``)."""
    a = result.arrays
    return NetworkState(
        F=a["F"],
        D=a["D"],
        W=a["W"],
        W3=np.zeros((0, 0, 0)),
        Fbar=np.zeros((0, 0)),
        b=a["b"],
        z=np.zeros(len(a["F"])),
        sigma=float(result.meta["sigma"]),
    )


def reconstruct(
    result: Result, params: Params, indices: Sequence[int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Decoder reconstructions ``x_hat = D z`` (Eq 1) of test patches.

    The stored network sees the patches ``indices`` of its test set again, in this
    order, with plasticity off; ``z`` is averaged over each presentation after the
    fade-in.

    Returns
    -------
    x, x_hat : (len(indices), 128) arrays
        The inputs and their reconstructions.
    """
    x = result.arrays["test_images"][np.asarray(indices)]
    n = params.steps_per_presentation
    seg = evaluate(state_of(result), params, x, np.random.default_rng(seed), n_record=len(x) * n)
    z = seg.record["z"].reshape(len(x), n, -1)[:, params.fade_steps :].mean(axis=1)
    return x, z @ result.arrays["D"].T


def high_contrast(images: np.ndarray, n: int = N_RECONSTRUCT) -> np.ndarray:
    """Indices of the ``n`` inputs with the largest on-minus-off contrast, in test order."""
    contrast = np.linalg.norm(images[:, :N_PIXELS] - images[:, N_PIXELS:], axis=1)
    return np.sort(np.argsort(contrast)[::-1][:n])


def onoff_image(x: np.ndarray) -> np.ndarray:
    """On minus off channel of an input vector as an 8 x 8 image."""
    return receptive_field(x)


# --------------------------------------------------------------------------- inputs
SOURCE_LABELS = {
    "reference": "Olshausen (reference)",
    "images_mat": "IMAGES.mat (measured here)",
    "dead-leaves": "dead leaves (offline default)",
    "skimage": "photographs",
    "textures": "textures",
}
"""Column labels of the input-statistics table, by source."""


def source_comparison(seed: int = 0) -> dict[str, dict]:
    """:func:`~dbcode.analysis.image_statistics.image_statistics` of every offline
    image set and, when ``IMAGES.mat`` is in the data cache, of Olshausen's images, by
    source (a few seconds)."""
    from dbcode.analysis.image_statistics import source_statistics
    from dbcode.data.natural import OFFLINE_SOURCES, resolve_source

    sources = list(OFFLINE_SOURCES)
    if resolve_source("auto")["source"] == "images_mat":
        sources.insert(0, "images_mat")
    return {source: source_statistics(source, seed=seed) for source in sources}


def _cell(stats: dict, key: str) -> str:
    if key == "frac_oriented":
        lo, hi = stats.get("frac_oriented_lo"), stats.get("frac_oriented_hi")
        spread = f" ({100 * lo:.0f}-{100 * hi:.0f} %)" if lo is not None else ""
        return f"{100 * stats[key]:.1f} %{spread}"
    if key == "frac_blank":
        return f"{100 * stats[key]:.1f} %"
    if key == "variance_range":
        return f"{stats['variance_lo']:.3f}-{stats['variance_hi']:.3f}"
    value = stats.get(key)
    if value is None:
        return "n/a"
    return f"{value:+.2f}" if key == "spectrum_slope" else f"{value:.1f}"


def source_table(stats: dict[str, dict]) -> str:
    """Markdown table: the measures of
    :data:`~dbcode.analysis.image_statistics.MEASURES` (rows) for the Olshausen
    reference values and each measured source (columns)."""
    from dbcode.analysis.image_statistics import MEASURES

    columns = {"reference": OLSHAUSEN_REFERENCE, **stats}
    header = "| measure | " + " | ".join(SOURCE_LABELS[c] for c in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    rows = [
        f"| {label} | " + " | ".join(_cell(columns[c], key) for c in columns) + " |"
        for key, label in MEASURES.items()
    ]
    return "\n".join([header, rule, *rows])


def source_key_numbers(stats: dict[str, dict]) -> dict:
    """The table's numbers as key numbers, ``<measure>_<source>`` (slope omitted where
    not measured)."""
    out = {}
    for source, values in stats.items():
        tag = source.replace("-", "_")
        for key, value in values.items():
            if value is not None and key != "n_images":
                out[f"{key}_{tag}"] = value
    return out


# --------------------------------------------------------------------------- plotting
def _pixels(ax, img, vmin, vmax, cmap=CMAP_IMAGE):
    show_image(ax, img, cmap=cmap, vmin=vmin, vmax=vmax)


def plot_inputs(job: Job, n_patches: int = 8, seed: int = 0) -> tuple[plt.Figure, dict]:
    """Fig 5A: whitened images, whitened 8 x 8 patches with their on and off inputs,
    and the distribution of the input values with its statistics.

    Returns
    -------
    fig, stats
        ``stats``: input statistics of the training set
        (:func:`dbcode.data.natural.input_statistics`) and the images' mean variance.
    """
    data = load_data(job)
    images = np.asarray(data.meta["images"], dtype=float)
    patches = sample_patches(images, n_patches, np.random.default_rng(seed))
    inputs = onoff_transform(patches)
    fig = plt.figure(figsize=(FIGURE_WIDTH, 5.0))
    top = fig.add_gridspec(1, 5, left=0.03, right=0.98, top=0.93, bottom=0.5, wspace=0.45)
    for k in range(4):
        ax = fig.add_subplot(top[0, k])
        lim = 2 * images[k].std()
        _pixels(ax, images[k], -lim, lim)
        ax.set_title(f"whitened image {k + 1}", fontsize=9)
    ax = fig.add_subplot(top[0, 4])
    ax.hist(data.train.ravel(), bins=50, range=(0, 1), color=INK)
    ax.set_yscale("log")
    ax.set_xlabel("input value $x_i$")
    ax.set_ylabel("count")
    stats = dict(data.meta["input_statistics"])
    ax.set_title(
        f"mean {stats['mean']:.2f}; {100 * stats['frac_below_0.01']:.0f} % < 0.01, "
        f"{100 * stats['frac_above_0.9']:.0f} % > 0.9",
        fontsize=SMALL,
    )
    bottom = fig.add_gridspec(
        3, n_patches, left=0.12, right=0.9, top=0.42, bottom=0.02, wspace=0.1, hspace=0.12
    )
    rows = (
        ("whitened\npatch", patches, None),
        ("on\nchannel", inputs[:, :N_PIXELS], (0, 1)),
        ("off\nchannel", inputs[:, N_PIXELS:], (0, 1)),
    )
    for row, (name, values, limits) in enumerate(rows):
        for k in range(n_patches):
            ax = fig.add_subplot(bottom[row, k])
            lim = np.abs(values[k]).max() or 1.0
            vmin, vmax = limits or (-lim, lim)
            _pixels(ax, values[k].reshape(PATCH, PATCH), vmin, vmax)
            if k == 0:
                ax.set_ylabel(name, fontsize=SMALL)
    stats["image_variance"] = float(data.meta["image_variance"])
    return fig, stats


def plot_losses(sweep: Sweep) -> plt.Figure:
    """Fig 5B: final test loss against ``N_z`` for SB and DB (seeds as dots, mean as
    line), the relative gap, and the neurons SB needs for DB's loss at the middle N_z."""
    fig, (ax, ax_gap) = plt.subplots(
        1, 2, figsize=(FIGURE_WIDTH, 3.6), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    n = np.asarray(sweep.n_zs)
    for rule in RULES:
        losses = sweep.losses(rule)
        for row in losses:
            ax.plot(n, row, "o", color=COLORS[rule], alpha=0.4, ms=4)
        ax.plot(n, losses.mean(axis=0), "-o", color=COLORS[rule], lw=1.8, label=LABELS[rule])
    ratio = sweep.neuron_ratio()
    n_line = min(ratio["n_sb"], 4 * n[-1])
    ax.plot([ratio["n_z"], n_line], [ratio["target"]] * 2, ":", color=INK, lw=1)
    if ratio["extrapolated"] and n_line > n[-1]:
        sb = sweep.mean_loss("sb")[-2:]
        slope = (sb[1] - sb[0]) / np.log(n[-1] / n[-2])
        ax.plot(
            [n[-1], n_line],
            [sb[1], sb[1] + slope * np.log(n_line / n[-1])],
            "--",
            color=COLORS["sb"],
            lw=1,
        )
    if ratio["lower_bound"]:
        text = (
            f"SB at {n[-1]} > DB at {ratio['n_z']}: ratio > {ratio['lower_bound']:.1f}"
            f"\n(extrapolated: {ratio['n_sb']:.0f} neurons, {ratio['ratio']:.1f} x)"
        )
    else:
        word = "extrapolated" if ratio["extrapolated"] else "interpolated"
        text = f"SB needs {ratio['n_sb']:.0f} neurons\n({ratio['ratio']:.2f} x, {word})"
    ax.annotate(
        text,
        xy=(n_line, ratio["target"]),
        xytext=(0.45, 0.8),
        textcoords="axes fraction",
        fontsize=SMALL,
        arrowprops={"arrowstyle": "->", "lw": 0.8},
    )
    ax.set_xscale("log")
    ax.set_xticks(n)
    ax.set_xticklabels([str(v) for v in n])
    ax.minorticks_off()
    ax.set_xlabel("coding neurons $N_z$ (population rate 1000 Hz)")
    ax.set_ylabel(f"test loss $L$ (mean of last {N_FINAL} tests)")
    ax.legend(fontsize=SMALL)
    ax_gap.bar(range(len(n)), 100 * sweep.relative_gap(), color=NEUTRAL)
    ax_gap.axhline(0, color=INK, lw=0.8)
    ax_gap.set_xticks(range(len(n)))
    ax_gap.set_xticklabels([str(v) for v in n])
    ax_gap.set_xlabel("$N_z$")
    ax_gap.set_ylabel("$(L_{SB} - L_{DB}) / L_{DB}$ (%)")
    fig.tight_layout()
    return fig


def plot_fields(sweep: Sweep, max_fields: int = 100) -> plt.Figure:
    """Fig 5C: receptive fields ``F_on - F_off`` (on one grey scale per network, as in
    the paper) at the smallest and largest ``N_z`` for both rules, and their orientation indices
    (:func:`~dbcode.analysis.orientation.orientation_index`) against the pixel-shuffled chance level."""
    sizes = (sweep.n_zs[0], sweep.n_zs[-1])
    fig = plt.figure(figsize=(FIGURE_WIDTH, 5.0))
    grid = fig.add_gridspec(
        2, 3, width_ratios=[1, 1, 0.9], left=0.02, right=0.98, bottom=0.12, wspace=0.2, hspace=0.25
    )
    for row, n in enumerate(sizes):
        for col, rule in enumerate(RULES):
            F = sweep.network(rule, n).arrays["F"][:max_fields]
            a = orientation_indices(F)
            order = np.argsort(a)
            show_mosaic(
                fig.add_subplot(grid[row, col]),
                receptive_fields(F)[order],
                cols=10,
                common_scale=True,
                title=f"{LABELS[rule]}, $N_z$ = {n}"
                + (f" (first {len(F)})" if len(F) < n else "")
                + f": median A = {np.median(a):.2f}",
            )
    ax = fig.add_subplot(grid[:, 2])
    labels, values = [], []
    for n in sizes:
        for rule in RULES:
            F = sweep.network(rule, n).arrays["F"]
            labels.append(f"{LABELS[rule]} {n}")
            values.append(orientation_indices(F))
    shuffled = shuffled_orientation(sweep.network("db", sizes[-1]).arrays["F"])
    ax.boxplot([*values, shuffled], vert=False, widths=0.6)
    ax.set_yticks(range(1, len(labels) + 2))
    ax.set_yticklabels([*labels, "shuffled"], fontsize=SMALL)
    ax.axvline(ORIENTED, color=GUIDE, ls=":", lw=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("orientation index A\n(0: isotropic, 1: oriented)")
    return fig


# --------------------------------------------------------------------------- explorer
def explorer_job(
    rule: str = "db", n_z: int = 200, presentations: int = 0, seed: int = 0, scale: str = "ci"
) -> Job:
    """The explorer's network: the sweep's when ``presentations`` is 0 (cached after
    the chapter ran), else a new one trained for that many presentations."""
    if not presentations:
        return network_job(rule, n_z, scale, seed)
    return network_job(rule, n_z, scale, seed, n_presentations=int(presentations), n_evals=2)


def explore(
    rule: str = "db",
    n_z: int = 200,
    presentations: int = 0,
    seed: int = 0,
    scale: str = "ci",
    max_fields: int = 60,
) -> plt.Figure:
    """Callback of the chapter's explorer: receptive fields and reconstructions.

    Parameters
    ----------
    rule : {"sb", "db"}
    n_z : int
        Coding neurons (target rate ``1000 / n_z`` Hz each).
    presentations : int
        0: the sweep's network (loaded from the cache, trained if missing);
        otherwise train a new network for this many presentations (cached too).
    seed : int
    scale : {"ci", "paper"}
    max_fields : int
        Receptive fields shown (sorted by orientation index).
    """
    job = explorer_job(rule, n_z, presentations, seed, scale)
    result = run_network(job, progress=False)
    params = job.params
    x, x_hat = reconstruct(result, params, high_contrast(result.arrays["test_images"]), seed=seed)
    F = result.arrays["F"]
    a = orientation_indices(F)
    shown = receptive_fields(F)[np.argsort(a)][:max_fields]
    fig = plt.figure(figsize=(FIGURE_WIDTH, 3.2))
    grid = fig.add_gridspec(2, N_RECONSTRUCT + 7, wspace=0.25, hspace=0.1)
    show_mosaic(
        fig.add_subplot(grid[:, :6]),
        shown,
        cols=10,
        title=f"{LABELS[rule]}, $N_z$ = {n_z}, {params.n_presentations} presentations"
        f"\nfinal L = {final_loss(result.arrays['test_loss']):.4f}, "
        f"median A = {np.median(a):.2f}",
    )
    for k in range(N_RECONSTRUCT):
        for row, (v, name) in enumerate(((x[k], "input"), (x_hat[k], "$\\hat x = Dz$"))):
            ax = fig.add_subplot(grid[row, 7 + k])
            _pixels(ax, onoff_image(v), -1, 1)
            if k == 0:
                ax.set_ylabel(f"{name}\n(on - off)", fontsize=SMALL)
    return fig


# --------------------------------------------------------------------------- records
PAPER_SWEEP = "fig5b"
"""Name of the paper-scale sweep (``python -m dbcode sweep fig5b --scale paper``)."""


def describe_network(job: Job, result: Result) -> dict:
    """The natural-image columns of a network's row in the committed record."""
    orientation = orientation_summary(result.arrays["F"])
    return {
        **{f"orientation_{k}": v for k, v in orientation.items()},
        "sigma2_final": job.params.sigma2_final,
    }


def flat_jobs(by_condition: dict) -> list[Job]:
    """The jobs of a ``{condition: [Job, ...]}`` mapping in one list."""
    return [job for jobs in by_condition.values() for job in jobs]


registry.register(
    PAPER_SWEEP,
    lambda scale, n: flat_jobs(sweep_jobs(scale, range(1 if n is None else n))),
    describe=describe_network,
    keep_fields=True,
)
