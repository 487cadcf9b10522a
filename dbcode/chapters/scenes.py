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
fields), plots Fig 5A-C and runs the chapter's explorer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import matplotlib.pyplot as plt
import numpy as np

from dbcode.analysis.field_fits import CLASSES, GOOD_FIT, class_fractions, classify_fields
from dbcode.analysis.image_statistics import OLSHAUSEN_REFERENCE
from dbcode.analysis.losses import (
    MEASURES,
    N_FINAL,
    RISE,
    final_loss,
    instability_onset,
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
from dbcode.model.params import Params, check_scale, preset
from dbcode.model.rules import NetworkState
from dbcode.model.simulate import evaluate
from dbcode.run import registry
from dbcode.run.jobs import Job, load_data, run_network
from dbcode.run.records import BEST_SUFFIX
from dbcode.run.store import Result
from dbcode.run.sweep import run_grouped
from dbcode.viz.images import show_image, show_mosaic
from dbcode.viz.style import COLORS, LABELS

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
    fields, seed: int = 0, best: bool = False
) -> dict[tuple[str, int], dict[str, float]]:
    """:func:`field_classes` of every network of a committed record's fields
    (:func:`dbcode.run.records.load_fields`, keys ``<rule>_n<N_z>_s<seed>``) of ``seed``:
    at the end of training, or with ``best`` where the network's test loss was lowest
    (keys with :data:`~dbcode.run.records.BEST_SUFFIX`)."""
    out = {}
    for key in fields:
        if key.endswith(BEST_SUFFIX) != best:
            continue
        rule, n, s = key.removesuffix(BEST_SUFFIX).split("_")
        if int(s[1:]) == seed and rule in RULES:
            out[(rule, int(n[1:]))] = field_classes(np.asarray(fields[key]))
    return out


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
        ax.axvline(N_INPUTS, color="0.6", ls=":", lw=1)
        ax.text(N_INPUTS, 1.0, " $N_z = N_x$", color="0.4", fontsize=8, va="top")
        ax.set_xlabel("number of neurons $N_z$")
        ax.set_title(f"{kind} fields", fontsize=10)
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("fraction of fields")
    axes[0].legend(frameon=False, fontsize=8, loc="center left")
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
def _pixels(ax, img, vmin, vmax, cmap="gray"):
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
    fig = plt.figure(figsize=(11, 5.6))
    top = fig.add_gridspec(1, 5, left=0.03, right=0.98, top=0.93, bottom=0.5, wspace=0.45)
    for k in range(4):
        ax = fig.add_subplot(top[0, k])
        lim = 2 * images[k].std()
        _pixels(ax, images[k], -lim, lim)
        ax.set_title(f"whitened image {k + 1}", fontsize=9)
    ax = fig.add_subplot(top[0, 4])
    ax.hist(data.train.ravel(), bins=50, range=(0, 1), color="0.4")
    ax.set_yscale("log")
    ax.set_xlabel("input value $x_i$")
    ax.set_ylabel("count")
    stats = dict(data.meta["input_statistics"])
    ax.set_title(
        f"mean {stats['mean']:.2f}; {100 * stats['frac_below_0.01']:.0f} % < 0.01, "
        f"{100 * stats['frac_above_0.9']:.0f} % > 0.9",
        fontsize=8,
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
                ax.set_ylabel(name, fontsize=8)
    stats["image_variance"] = float(data.meta["image_variance"])
    return fig, stats


def plot_losses(sweep: Sweep) -> plt.Figure:
    """Fig 5B: final test loss against ``N_z`` for SB and DB (seeds as dots, mean as
    line), the relative gap, and the neurons SB needs for DB's loss at the middle N_z."""
    fig, (ax, ax_gap) = plt.subplots(
        1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    n = np.asarray(sweep.n_zs)
    for rule in RULES:
        losses = sweep.losses(rule)
        for row in losses:
            ax.plot(n, row, "o", color=COLORS[rule], alpha=0.4, ms=4)
        ax.plot(n, losses.mean(axis=0), "-o", color=COLORS[rule], lw=1.8, label=LABELS[rule])
    ratio = sweep.neuron_ratio()
    n_line = min(ratio["n_sb"], 4 * n[-1])
    ax.plot([ratio["n_z"], n_line], [ratio["target"]] * 2, "k:", lw=1)
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
        fontsize=8,
        arrowprops={"arrowstyle": "->", "lw": 0.8},
    )
    ax.set_xscale("log")
    ax.set_xticks(n)
    ax.set_xticklabels([str(v) for v in n])
    ax.minorticks_off()
    ax.set_xlabel("coding neurons $N_z$ (population rate 1000 Hz)")
    ax.set_ylabel(f"test loss $L$ (mean of last {N_FINAL} tests)")
    ax.legend(fontsize=8)
    ax_gap.bar(range(len(n)), 100 * sweep.relative_gap(), color="0.5")
    ax_gap.axhline(0, color="k", lw=0.8)
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
    fig = plt.figure(figsize=(12, 6.2))
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
    ax.set_yticklabels([*labels, "shuffled"], fontsize=8)
    ax.axvline(ORIENTED, color="0.6", ls=":", lw=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("orientation index A\n(0: isotropic, 1: oriented)")
    return fig


# --------------------------------------------------------------------------- paper scale
PAPER_SWEEP = "fig5b"
"""Name of the paper-scale sweep (``python -m dbcode sweep fig5b --scale paper``)."""
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
    fig, axes = plt.subplots(1, len(n_zs), figsize=(5.2 * len(n_zs), 3.8), squeeze=False)
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
                    color="0.75",
                    lw=1,
                    zorder=0,
                )
        right.set_ylabel("$\\sigma^2$ (grey)", color="0.5")
        right.set_ylim(0, 0.4)
        ax.set_zorder(right.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_yscale("log")
        ax.set_xlabel("training presentations (millions)")
        ax.set_ylabel("test loss $L$ (log scale)")
        ax.set_title(f"$N_z$ = {n}, paper scale", fontsize=9)
        ax.legend(fontsize=8, frameon=False)
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
    L_DB``, the ``N_z`` where DB is ``below`` SB, and :func:`neuron_ratio` at the middle
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
    fig = plt.figure(figsize=(11, 4.0))
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
    ax.legend(fontsize=8, frameon=False)
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
    ax.legend(fontsize=7, frameon=False, ncol=2, loc="upper left")
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
        figsize=(10, 2.9 * math.ceil(len(panels) / cols)),
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
    fig = plt.figure(figsize=(11, 3.6))
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
                ax.set_ylabel(f"{name}\n(on - off)", fontsize=8)
    return fig


# --------------------------------------------------------------------------- controls
CONTROL_SWEEP = "fig5b-controls"
"""Named sweep of the controlled experiments on DB's late instability: one factor of
the inputs or the protocol changed at a time, at :data:`~dbcode.chapters.scenes.CONTROL_N_Z` neurons."""
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
    """One network of the controls: ``rule`` at :data:`~dbcode.chapters.scenes.CONTROL_N_Z` under ``condition``.

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


def _describe_control(job: Job, result: Result) -> dict:
    return {**_describe(job, result), "condition": control_condition(job)}


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
            + " whether DB becomes unstable (one seed each)."
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
    :data:`POPULATION_RATE`: ``1 - exp(-lambda)`` with ``lambda`` the expected spikes of
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
    colours = dict(zip(CONTROLS, ("0.1", "#c76d00", "#2a7ab0", "#6a3d9a")))
    for (rule, condition), row in sorted(rows.items()):
        ax.plot(
            np.asarray(row["eval_at"]) / 1e6,
            row["test_loss"],
            ls="-" if rule == "db" else "--",
            color=colours[condition],
            label=f"{LABELS[rule]}, {condition}",
        )
    ax.set_yscale("log")
    ax.set_xlabel("presentations (millions)")
    ax.set_ylabel("test loss")
    ax.legend(frameon=False, fontsize=8, ncol=2, loc="upper right")
    fig.tight_layout()
    return fig


def _describe(job: Job, result: Result) -> dict:
    """The natural-image columns of a network's row in the committed record."""
    orientation = orientation_summary(result.arrays["F"])
    return {
        **{f"orientation_{k}": v for k, v in orientation.items()},
        "sigma2_final": job.params.sigma2_final,
    }


def _flat(by_condition: dict) -> list[Job]:
    return [job for jobs in by_condition.values() for job in jobs]


registry.register(
    PAPER_SWEEP,
    lambda scale, n: _flat(sweep_jobs(scale, range(1 if n is None else n))),
    describe=_describe,
    keep_fields=True,
)
registry.register(
    CONTROL_SWEEP,
    lambda scale, n: _flat(control_jobs(scale, range(1 if n is None else n))),
    describe=_describe_control,
    keep_fields=True,
    keep_states=True,
)
registry.register(
    NOISE_SWEEP,
    lambda scale, n: _flat(noise_jobs(scale, range(1 if n is None else n))),
    describe=_describe,
    keep_fields=True,
)
