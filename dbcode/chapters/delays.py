"""Transmission delays: Hebbian-like learning collapses, dendritic balance copes (paper
Fig 6 and Fig S7).

In the discrete-time model a spike emitted in one step reaches the other neurons in the
next, so the time step ``dt`` *is* the transmission delay of lateral inhibition. This
module builds the chapter's jobs (natural images with ``N_z = 200`` at a population rate
of 1000 Hz over a scan of ``dt``, for SB at two or more inhibitory learning rates and
for analytic DB; MNIST with a long delay), measures what the chapter reports (the
decoder loss of Eq 1 against a mean-input baseline, how alike the neurons' weights are,
how synchronous their spikes are), plots the figures and runs the chapter's explorer.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dbcode.analysis.features import cosine_matrix, mean_pairwise_cosine
from dbcode.analysis.losses import last_loss, lowest_loss
from dbcode.analysis.synchrony import synchrony
from dbcode.chapters import mnist as mx
from dbcode.data.natural import receptive_field
from dbcode.model.params import ParameterError, Params, check_scale, preset
from dbcode.run import registry
from dbcode.run.jobs import Job, load_data, run_network
from dbcode.run.sweep import run_grouped
from dbcode.viz.style import (
    CMAP_IMAGE,
    CMAP_SIGNED,
    COLORS,
    FAINT,
    FIGURE_WIDTH,
    GUIDE,
    INK,
    LABELS,
)

CHAPTER = "delays"
DELAYS = {"ci": (0.1, 0.25, 0.5, 1.0, 2.0, 5.0), "paper": (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0)}
"""Delays ``dt`` (ms) of the natural-image scan. Every one divides the 100 ms
presentation into whole steps (the paper's 7 ms does not, so the scan stops at 5 ms)."""
BETAS = {"ci": (0.13,), "paper": (0.13, 0.2, 0.3)}
"""Final stochasticity ``beta = sigma**2`` of the scan."""
SLOW_INHIBITION = 3.0
"""The slower SB condition divides both inhibitory learning rates ``eta_W`` (early and
late) by this factor, leaving ``eta_F`` unchanged."""
CONDITIONS = {
    "sb": {"variant": "sb"},
    "sb-slow": {"variant": "sb", "inhibition_factor": 1.0 / SLOW_INHIBITION},
    "db": {"variant": "db"},
}
CONDITION_LABELS = {
    "sb": r"SB, paper's $\eta_W/\eta_F$",
    "sb-slow": rf"SB, $\eta_W$ / {SLOW_INHIBITION:g}",
    "db": "DB",
}
MNIST_DELAY = 2.0
"""Delay (ms) of the MNIST comparison (the MNIST chapter uses 0.1 ms)."""
MNIST_RECORD_IMAGES = 100
"""MNIST test images whose every step is recorded (rasters and synchrony)."""
RASTER_IMAGES = 5
SCAN_RECORD_IMAGES = 3
"""Natural-image test patches whose every step is recorded (explorer rasters)."""
COLLAPSED_SIMILARITY = 0.7
"""Mean pairwise cosine of ``F_on - F_off`` rows that a collapsed SB network exceeds
(all neurons alike, claim C7); healthy networks stay far below 0.2."""


# --------------------------------------------------------------------------- jobs
def scan_overrides(condition: str, dt: float, beta: float, scale: str) -> dict:
    """Parameter overrides of one network of the natural-image delay scan."""
    check_scale(scale)
    if condition not in CONDITIONS:
        raise ParameterError(
            f"unknown delay condition {condition!r}; choose one of {', '.join(CONDITIONS)}"
        )
    spec = dict(CONDITIONS[condition])
    factor = spec.pop("inhibition_factor", 1.0)
    base = preset("delays", scale)
    out = {**spec, "dt": float(dt), "sigma2_final": float(beta)}
    if factor != 1.0:
        out["eta_W"] = base.eta_W * factor
        out["eta_W_late"] = base.eta_W_late * factor
    return out


def scan_job(
    condition: str,
    dt: float,
    scale: str = "ci",
    seed: int = 0,
    beta: float | None = None,
    **overrides,
) -> Job:
    """One network of the natural-image scan; the first :data:`SCAN_RECORD_IMAGES`
    test patches of the final evaluation are recorded."""
    check_scale(scale)
    beta = BETAS[scale][0] if beta is None else beta
    params = {**scan_overrides(condition, dt, beta, scale), **overrides}
    steps = preset("delays", scale, **params).steps_per_presentation
    return Job(
        "delays", scale=scale, seed=seed, overrides=params, n_record=SCAN_RECORD_IMAGES * steps
    )


SCAN_ORDER = (("sb", "db"), ("sb-slow",))
"""Order in which a sweep submits the scan, within each beta (the main figure's first):
SB and DB delay by delay from the longest delay (the cheapest network, and where SB
collapses) to the shortest, then the slower-inhibition control, so that an interrupted
paper-scale scan holds the comparisons the chapter needs most."""


def sweep_jobs(scale: str = "ci", seed: int = 0) -> dict[tuple, Job]:
    """The whole scan, keyed by ``(condition, beta, dt)``, in :data:`SCAN_ORDER`."""
    check_scale(scale)
    return {
        (c, beta, dt): scan_job(c, dt, scale, seed, beta)
        for beta in BETAS[scale]
        for group in SCAN_ORDER
        for dt in sorted(DELAYS[scale], reverse=True)
        for c in group
    }


def mnist_job(variant: str, scale: str = "ci", seed: int = 0, dt: float = MNIST_DELAY) -> Job:
    """SB or DB on MNIST digits 0-2 with a long delay; the first
    :data:`MNIST_RECORD_IMAGES` test images of the final evaluation are recorded."""
    check_scale(scale)
    overrides = {"variant": variant, "dt": float(dt), **mx.data_overrides(scale)}
    p = preset("mnist", scale, **overrides)
    n_img = min(MNIST_RECORD_IMAGES, p.n_test_eval)
    return Job(
        "mnist",
        scale=scale,
        seed=seed,
        overrides=overrides,
        n_record=n_img * p.steps_per_presentation,
    )


def mnist_jobs(scale: str = "ci", seed: int = 0) -> dict[str, Job]:
    return {rule: mnist_job(rule, scale, seed) for rule in ("sb", "db")}


def run_all(jobs: dict, progress=None) -> dict:
    """Run the jobs of ``{key: job}`` in one parallel sweep, most expensive first;
    returns ``{key: Result}``."""
    return run_grouped(jobs, progress=progress, desc="delay networks")


# --------------------------------------------------------------------------- analysis
def mean_input_baseline(job: Job, test_images: np.ndarray) -> float:
    """Loss of Eq 1 when every test input is decoded by the mean training input,
    ``mean ||x - <x>_train||^2 / (2 N_x)``; a network that codes nothing about the
    individual image reaches this at best."""
    mean_train = load_data(job).train.mean(axis=0)
    x = np.asarray(test_images)
    return float(np.mean(np.sum((x - mean_train) ** 2, axis=1)) / (2 * x.shape[1]))


def weight_rows(F: np.ndarray, kind: str) -> np.ndarray:
    """Rows whose similarity tells whether neurons learned the same feature.

    ``"scenes"``: the receptive fields ``F_on - F_off`` (flattened 8 x 8); ``"mnist"``:
    each row minus its own mean over pixels. Raw rows of ``F`` share a large
    mean-input component and are alike even when every neuron codes its own feature.
    """
    F = np.asarray(F, dtype=float)
    if kind == "scenes":
        return np.array([receptive_field(row).ravel() for row in F])
    if kind == "mnist":
        return F - F.mean(axis=1, keepdims=True)
    raise ValueError(f"kind must be 'scenes' or 'mnist', got {kind!r}")


def similarity_text(value: float) -> str:
    """A weight similarity with two decimals, never ``-0.00`` (a mean cosine of -0.003 is
    zero at that precision, and a minus sign would suggest anti-aligned fields)."""
    return f"{round(value, 2) + 0.0:.2f}"


def weight_similarity(F: np.ndarray, kind: str) -> float:
    """Mean pairwise cosine of :func:`weight_rows` (1: all neurons alike)."""
    return mean_pairwise_cosine(weight_rows(F, kind))


def summarize_scan(results: dict, jobs: dict, scale: str = "ci") -> dict:
    """Key numbers of Fig 6A and S7 (claim C7) for every ``beta`` of the scan.

    Returns
    -------
    dict
        ``delays``, ``baseline`` (mean-input loss) and, per ``beta`` and condition,
        lists over delays of ``loss``, ``similarity`` and ``rate_hz`` (mean test rate).
    """
    delays = list(DELAYS[scale])
    first = jobs[("db", BETAS[scale][0], delays[0])]
    out = {
        "delays": delays,
        "baseline": mean_input_baseline(
            first, results[("db", BETAS[scale][0], delays[0])].arrays["test_images"]
        ),
    }
    for beta in BETAS[scale]:
        for c in CONDITIONS:
            rs = [results[(c, beta, dt)] for dt in delays]
            out[(beta, c)] = {
                "loss": [last_loss(r.arrays["test_loss"]) for r in rs],
                "similarity": [weight_similarity(r.arrays["F"], "scenes") for r in rs],
                "rate_hz": [float(np.mean(r.arrays["rates_hz"])) for r in rs],
            }
    return out


def collapsed(loss: float, baseline: float) -> bool:
    """A network has collapsed when its test loss is no better than the mean-input
    baseline, or when its weights diverged (non-finite loss)."""
    return not math.isfinite(loss) or loss >= baseline


def divergence_note(summary: dict, beta: float, scale: str) -> str:
    """A paragraph on the networks of the scan at ``beta`` whose weights diverged, with
    the factor by which the learning rates at ``scale`` exceed the paper's; one sentence
    saying so when none diverged."""
    diverged = {
        c: [
            dt
            for dt, loss in zip(summary["delays"], summary[(beta, c)]["loss"])
            if not math.isfinite(loss)
        ]
        for c in CONDITIONS
    }
    diverged = {c: dts for c, dts in diverged.items() if dts}
    if not diverged:
        return "No network of this scan diverged: every one has a finite loss in the figure."
    factor = preset("delays", scale).eta_F / preset("delays", "paper").eta_F
    where = "; ".join(
        f"{LABELS[c]} at {', '.join(f'{dt:g}' for dt in dts)} ms" for c, dts in diverged.items()
    )
    rates = (
        f"With learning rates {factor:g} times the paper's, a synchronised population "
        "firing in bursts makes the inhibitory rule take steps too large to be stable. "
        if factor > 1
        else ""
    )
    return (
        f"In this scan the weights diverged ({where}; crosses in the figure). {rates}This is "
        "the collapse carried to its extreme."
    )


def collapse_delay(summary: dict, beta: float, condition: str) -> float | None:
    """Shortest delay from which on the network is :func:`collapsed` at every longer
    delay of the scan, or ``None``."""
    onset = None
    for dt, loss in zip(summary["delays"], summary[(beta, condition)]["loss"]):
        if collapsed(loss, summary["baseline"]):
            onset = dt if onset is None else onset
        else:
            onset = None
    return onset


def scan_key_numbers(summary: dict, beta: float) -> dict:
    """Key numbers of Fig 6A for the manifest (claim C7): every loss and similarity of
    the scan, the baseline, and the derived numbers the claims test."""
    delays = summary["delays"]
    out = {
        "baseline": summary["baseline"],
        "beta": beta,
        "shortest_delay": delays[0],
        "longest_delay": delays[-1],
    }
    for c in CONDITIONS:
        v = summary[(beta, c)]
        for dt, loss, sim in zip(delays, v["loss"], v["similarity"]):
            out[f"loss_{c}_dt{dt:g}"] = loss
            out[f"similarity_{c}_dt{dt:g}"] = sim
        out[f"n_diverged_{c}"] = sum(not math.isfinite(loss) for loss in v["loss"])
        onset = collapse_delay(summary, beta, c)
        out[f"collapse_delay_{c}"] = "none" if onset is None else onset
    db = summary[(beta, "db")]["loss"]
    out["ratio_sb_db_shortest"] = summary[(beta, "sb")]["loss"][0] / db[0]
    out["db_growth"] = db[-1] / db[0] - 1
    out["similarity_db_max"] = max(summary[(beta, "db")]["similarity"])
    return out


def summarize_mnist(results: dict) -> dict:
    """Key numbers of Fig 6B-D (claim C8): loss, weight similarity (matrix and mean of
    mean-subtracted rows) and synchrony of the recorded test spikes."""
    out = {}
    for rule, r in results.items():
        rows = weight_rows(r.arrays["F"], "mnist")
        out[rule] = {
            "loss": last_loss(r.arrays["test_loss"]),
            "similarity": mean_pairwise_cosine(rows),
            "similarity_matrix": cosine_matrix(rows, rows),
            **(
                synchrony(r.arrays["record_s"])
                if "record_s" in r.arrays
                else dict.fromkeys(("coincidence", "coincidence_chance", "fano"), math.nan)
            ),
        }
    return out


# --------------------------------------------------------------------------- plotting
def plot_delay_scan(summary: dict, betas) -> plt.Figure:
    """Fig 6A: final test loss (Eq 1) against the delay, with the mean-input baseline,
    and the similarity of the learned receptive fields ``F_on - F_off``; one row per
    ``beta``. A network whose weights diverged has no value: its line breaks there, and
    a cross on the upper edge of the panel (outside the data) marks its delay. Where a
    condition's ``ran`` list (paper-scale records) says a network has not run, nothing
    is drawn at its delay."""
    betas = list(betas)
    fig, axes = plt.subplots(
        len(betas), 2, figsize=(FIGURE_WIDTH, 3.6 * len(betas) + 0.5), squeeze=False
    )
    delays = np.asarray(summary["delays"])
    for (ax, bx), beta in zip(axes, betas):
        finite = [x for c in CONDITIONS for x in summary[(beta, c)]["loss"] if math.isfinite(x)]
        top = 1.12 * max([*finite, summary["baseline"]])  # not-run networks are nan too
        for c in CONDITIONS:
            loss = np.asarray(summary[(beta, c)]["loss"], dtype=float)
            ran = np.asarray(summary[(beta, c)].get("ran", [True] * len(loss)), dtype=bool)
            ok = np.isfinite(loss) | ~ran
            ax.plot(
                delays, np.where(ok, loss, np.nan), "o-", color=COLORS[c], label=CONDITION_LABELS[c]
            )
            similarity = np.asarray(summary[(beta, c)]["similarity"], dtype=float)
            bx.plot(delays, np.where(ok, similarity, np.nan), "o-", color=COLORS[c])
            if not ok.all():
                for a in (ax, bx):
                    a.plot(
                        delays[~ok],
                        np.ones((~ok).sum()),
                        "x",
                        color=COLORS[c],
                        ms=9,
                        mew=2,
                        clip_on=False,
                        transform=a.get_xaxis_transform(),
                        label=f"{LABELS[c]}: weights diverged (no value)" if a is ax else None,
                    )
        ax.axhline(summary["baseline"], color=INK, ls="--", lw=1, label="mean input (baseline)")
        ax.set_ylim(0, 1.06 * top)
        ax.set_ylabel("final test loss $L$")
        ax.set_title(rf"$\beta$ = {beta:g}", fontsize=10, loc="left")
        bx.axhline(COLLAPSED_SIMILARITY, color=GUIDE, ls=":", lw=1)
        bx.set_ylim(-0.05, 1.02)
        bx.set_ylabel("mean pairwise cosine of\n$F_{on} - F_{off}$ rows")
        ran_any = any(any(summary[(beta, c)].get("ran", [True])) for c in CONDITIONS)
        for a in (ax, bx):
            a.set_xscale("log")
            a.set_xlim(delays[0] / 1.4, delays[-1] * 1.4)
            a.set_xticks(delays)
            a.set_xticklabels([f"{d:g}" for d in delays])
            a.minorticks_off()
            a.set_xlabel(r"transmission delay $\Delta t$ (ms)")
            if not ran_any:
                a.text(
                    0.5,
                    0.5,
                    "no network has run yet",
                    transform=a.transAxes,
                    ha="center",
                    va="center",
                    color=GUIDE,
                )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False)
    fig.suptitle("Natural images, $N_z$ = 200 neurons, 1000 Hz population rate", fontsize=10)
    rows = len(betas)
    fig.tight_layout(rect=(0, 0.12 / rows, 1, 1))
    return fig


def plot_fields(ax_grid, F: np.ndarray, order=None):
    """Receptive fields ``F_on - F_off`` of the first neurons of ``order`` on a grid of
    axes, each on its own symmetric colour scale."""
    order = np.arange(len(F)) if order is None else order
    for ax, j in zip(np.ravel(ax_grid), order):
        rf = receptive_field(F[j])
        lim = np.abs(rf).max() or 1.0
        ax.imshow(rf, cmap=CMAP_IMAGE, vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])


def plot_collapsed_fields(
    results: dict, summary: dict, beta: float, dt: float, n: int = 40
) -> plt.Figure:
    """Fig S7: receptive fields of SB after the collapse next to DB's at the same delay
    (``n`` most active neurons of each)."""
    cols = 8
    rows = math.ceil(n / cols)
    fig = plt.figure(figsize=(FIGURE_WIDTH, 0.65 * rows + 1.0))
    grid = fig.add_gridspec(rows, 2 * cols + 1, wspace=0.08, hspace=0.08)
    k = summary["delays"].index(dt)
    for side, c in enumerate(("sb", "db")):
        r = results[(c, beta, dt)]
        order = np.argsort(-r.arrays["rates_hz"])[:n]
        axes = [fig.add_subplot(grid[i // cols, side * (cols + 1) + i % cols]) for i in range(n)]
        plot_fields(axes, r.arrays["F"], order)
        axes[cols // 2].set_title(
            f"{CONDITION_LABELS[c]}: L = {summary[(beta, c)]['loss'][k]:.4f}, "
            f"similarity {similarity_text(summary[(beta, c)]['similarity'][k])}",
            fontsize=9,
        )
    fig.suptitle(rf"Receptive fields $F_{{on}} - F_{{off}}$ at $\Delta t$ = {dt:g} ms", fontsize=10)
    return fig


def _raster(ax, s, dt, color, n_z):
    steps, neurons = np.nonzero(s)
    ax.scatter(steps * dt, neurons, marker="|", s=30, color=color, lw=1)
    ax.set_ylim(-0.7, n_z - 0.3)
    if n_z <= 20:
        ax.set_yticks(range(0, n_z, 2))


def plot_mnist_rasters(results: dict, summary: dict, params: Params) -> plt.Figure:
    """Fig 6B: spikes of SB and DB on MNIST test images with a long delay, with each
    network's coincidence fraction and population Fano factor."""
    n = params.steps_per_presentation
    fig = plt.figure(figsize=(9, 5.2))
    grid = fig.add_gridspec(3, RASTER_IMAGES, height_ratios=[1, 1.6, 1.6], hspace=0.45)
    images = results["sb"].arrays["test_images"]
    for k in range(RASTER_IMAGES):
        mx._image(fig.add_subplot(grid[0, k]), images[k])
    for row, rule in enumerate(("sb", "db"), start=1):
        ax = fig.add_subplot(grid[row, :])
        _raster(
            ax,
            results[rule].arrays["record_s"][: RASTER_IMAGES * n],
            params.dt,
            COLORS[rule],
            params.n_z,
        )
        for k in range(1, RASTER_IMAGES):
            ax.axvline(k * params.t_present, color=FAINT, lw=0.8, zorder=0)
        ax.set_xlim(0, RASTER_IMAGES * params.t_present)
        ax.set_ylabel(f"{LABELS[rule]}\nneuron")
        m = summary[rule]
        ax.set_title(
            f"{LABELS[rule]}: {100 * m['coincidence']:.0f} % of spikes within one "
            f"step of another neuron's (chance {100 * m['coincidence_chance']:.0f} %), "
            f"population Fano factor {m['fano']:.2f}",
            fontsize=9,
        )
    ax.set_xlabel(rf"time in test (ms), $\Delta t$ = {params.dt:g} ms")
    return fig


def plot_similarity_matrices(summary: dict) -> plt.Figure:
    """Fig 6C: pairwise cosine similarity of the mean-subtracted weight rows."""
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.4))
    for ax, rule in zip(axes, ("sb", "db")):
        im = ax.imshow(summary[rule]["similarity_matrix"], vmin=-1, vmax=1, cmap=CMAP_SIGNED)
        ax.set_title(f"{LABELS[rule]}: mean {summary[rule]['similarity']:.2f}", fontsize=10)
        ax.set_xlabel("neuron")
        ax.set_ylabel("neuron")
    fig.colorbar(im, ax=axes, shrink=0.8, label="cosine similarity")
    return fig


def plot_mnist_weights(results: dict, summary: dict) -> plt.Figure:
    """Fig 6D: input weights ``F_j`` of the nine neurons of SB and DB."""
    n_z = results["sb"].arrays["F"].shape[0]
    fig, axes = plt.subplots(2, n_z, figsize=(9, 2.6))
    for row, rule in enumerate(("sb", "db")):
        for j, ax in enumerate(axes[row]):
            mx._image(ax, results[rule].arrays["F"][j], cmap=CMAP_SIGNED, symmetric=True)
        axes[row, 0].set_ylabel(LABELS[rule], fontsize=9)
        axes[row, n_z // 2].set_title(
            f"{LABELS[rule]}: test loss {summary[rule]['loss']:.4f}", fontsize=9
        )
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- explorer
EXPLORER_DELAYS = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 4.0, 5.0)
EXPLORER_FIELDS = 12


def explorer_jobs(dt: float, n_presentations: int = 0, seed: int = 0) -> dict:
    """SB (paper's rates) and DB at delay ``dt``; with the preset's training length
    (``n_presentations=0``) these are the chapter's cached networks, shorter ones run
    on demand."""
    extra = {"n_presentations": int(n_presentations)} if n_presentations else {}
    return {c: scan_job(c, dt, "ci", seed, **extra) for c in ("sb", "db")}


def explore(dt: float = 2.0, n_presentations: int = 0, seed: int = 0) -> plt.Figure:
    """Raster of the recorded test patches and the receptive fields of the most active
    neurons of SB and DB trained with delay ``dt`` (ms)."""
    jobs = explorer_jobs(dt, n_presentations, seed)
    results = {c: run_network(j, progress=False) for c, j in jobs.items()}
    fig = plt.figure(figsize=(FIGURE_WIDTH, 4.6))
    grid = fig.add_gridspec(4, 12, wspace=0.1, hspace=0.5)
    for row, c in enumerate(("sb", "db")):
        r, p = results[c], jobs[c].params
        ax = fig.add_subplot(grid[2 * row : 2 * row + 2, :6])
        _raster(ax, r.arrays["record_s"], p.dt, COLORS[c], p.n_z)
        n_img = len(r.arrays["record_s"]) // p.steps_per_presentation
        for k in range(1, n_img):
            ax.axvline(k * p.t_present, color=FAINT, lw=0.8, zorder=0)
        ax.set_xlim(0, n_img * p.t_present)
        ax.set_ylabel("neuron")
        ax.tick_params(labelbottom=row == 1)
        sim = similarity_text(weight_similarity(r.arrays["F"], "scenes"))
        ax.set_title(
            f"{LABELS[c]}, Δt = {p.dt:g} ms, {p.n_presentations} presentations: "
            f"L = {last_loss(r.arrays['test_loss']):.4f}, similarity {sim}",
            fontsize=9,
        )
        if row == 1:
            ax.set_xlabel("time in test (ms), one patch per 100 ms")
        order = np.argsort(-r.arrays["rates_hz"])[:EXPLORER_FIELDS]
        axes = [fig.add_subplot(grid[2 * row + i // 6, 6 + i % 6]) for i in range(EXPLORER_FIELDS)]
        plot_fields(axes, r.arrays["F"], order)
    return fig


# --------------------------------------------------------------------------- named sweeps
def scan_condition(params: Params, scale: str) -> str:
    """The condition of ``CONDITIONS`` a scan network was trained in, from its
    parameters (SB's slower inhibition is the only one whose ``eta_W`` departs from the
    preset's)."""
    if params.variant == "db":
        return "db"
    return "sb" if params.eta_W == preset("delays", scale).eta_W else "sb-slow"


def describe_scan_network(job: Job, result) -> dict:
    """Columns of a scan network in the committed record (besides the generic ones of
    :func:`dbcode.run.records.summarize_network`): its condition, delay and ``beta``,
    the chapter's measure (the last test loss), the lowest test loss during training and
    the similarity of the learned receptive fields."""
    p = job.params
    test_loss = result.arrays["test_loss"]
    return {
        "condition": scan_condition(p, job.scale),
        "dt": p.dt,
        "beta": p.sigma2_final,
        "last_loss": last_loss(test_loss),
        "lowest_loss": lowest_loss(test_loss),
        "similarity": weight_similarity(result.arrays["F"], "scenes"),
    }


def describe_mnist_network(job: Job, result) -> dict:
    """Columns of an MNIST network with a long delay in the committed record: its delay,
    last test loss, the similarity of its mean-subtracted weight rows and the synchrony
    of its recorded test spikes (Fig 6B-D)."""
    rows = weight_rows(result.arrays["F"], "mnist")
    return {
        "dt": job.params.dt,
        "last_loss": last_loss(result.arrays["test_loss"]),
        "similarity": mean_pairwise_cosine(rows),
        **synchrony(result.arrays["record_s"]),
    }


registry.register(
    "fig6a",
    lambda scale, n: [
        job for seed in range(1 if n is None else n) for job in sweep_jobs(scale, seed).values()
    ],
    describe=describe_scan_network,
)
registry.register(
    "fig6bd",
    lambda scale, n: [
        job for seed in range(1 if n is None else n) for job in mnist_jobs(scale, seed).values()
    ],
    describe=describe_mnist_network,
)
