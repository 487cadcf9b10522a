"""The derivation chapter (Fig 1A, 2B-H): the tracking network, and plots of the checks
and of the spike-timing windows.

Fig 1A: a tightly balanced network tracks a slowly varying low-dimensional input.

The network has the optimal fixed parameters of SI Eq 13 for a given decoder ``D``
(``F = D^T``, ``W = -D^T D``, thresholds from :func:`dbcode.analysis.theory.network_parameters`) and
runs in the engine (:func:`dbcode.model.simulate.evaluate`, all plasticity off). The input is
a sequence of samples of a smooth random curve, each presented for ``sample_ms`` with
``fade = 1.0``, so that the engine interpolates linearly between consecutive samples
and the input is piecewise linear and continuous.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dbcode.analysis.stdp import Windows
from dbcode.analysis.theory import network_parameters
from dbcode.model.params import preset
from dbcode.model.rules import initial_state
from dbcode.model.simulate import evaluate
from dbcode.viz.legibility import place_legend
from dbcode.viz.style import CHANNELS, COLORS, EXCITATION, FAIL, GUIDE, INHIBITION, INK, PASS, SMALL


def smooth_signal(
    n_samples: int,
    n_dim: int,
    rng: np.random.Generator,
    mean: float = 1.0,
    amplitude: float = 0.6,
    n_modes: int = 3,
) -> np.ndarray:
    """Samples of a slowly varying positive curve, shape ``(n_samples, n_dim)``.

    Each dimension is ``mean`` plus a sum of ``n_modes`` sinusoids with random phases
    and at most ``n_modes`` periods over the whole sequence, scaled so that its range
    is ``mean +- amplitude``.
    """
    k = np.arange(n_samples)[:, None] / n_samples
    x = np.zeros((n_samples, n_dim))
    for d in range(n_dim):
        freqs = rng.uniform(0.5, n_modes, size=n_modes)
        phases = rng.uniform(0, 2 * np.pi, size=n_modes)
        weights = rng.uniform(0.5, 1.0, size=n_modes)
        curve = (weights * np.sin(2 * np.pi * freqs * k + phases)).sum(axis=1)
        curve -= curve.mean()
        x[:, d] = mean + amplitude * curve / np.abs(curve).max()
    return x


def fan_decoder(n_z: int, n_dim: int, norm: float) -> np.ndarray:
    """Decoder ``D`` (n_dim, n_z) whose columns have length ``norm`` and non-negative
    entries: all equal for ``n_dim = 1``, evenly spread angles in the positive quadrant
    for ``n_dim = 2``."""
    if n_dim == 1:
        return np.full((1, n_z), norm)
    if n_dim == 2:
        angles = np.linspace(0.0, np.pi / 2, n_z)
        return norm * np.vstack([np.cos(angles), np.sin(angles)])
    raise ValueError(f"n_dim must be 1 or 2, got {n_dim}")


@dataclass
class Tracking:
    """Outcome of :func:`track`.

    Attributes
    ----------
    Everything is recorded after the first sample (the network starts silent, and its
    first volley is a transient).

    t_ms : (n_steps,) array
    x, xhat : (n_steps, n_dim) arrays
        Input and read-out ``D z(t)``.
    spikes : (n_steps, N_z) array
    exc, inh : (n_steps,) arrays
        Excitatory drive ``F_j x`` and inhibitory drive ``W_j z(t-1) + c_j`` of the most
        active neuron ``neuron``.
    loss, silent_loss : float
        Decoder loss (Eq 1), and the loss of a silent network
        (``xhat = 0``) on the same input.
    relative_loss : float
        ``loss / silent_loss``.
    balance_index : float
        ``sum |exc + inh| / sum |exc|`` over all neurons and steps: 0 for perfect
        balance, 1 without inhibition.
    rates_hz : (N_z,) array
    D : (n_dim, N_z) array
    params : Params
    runtime_s : float
    """

    t_ms: np.ndarray
    x: np.ndarray
    xhat: np.ndarray
    spikes: np.ndarray
    exc: np.ndarray
    inh: np.ndarray
    neuron: int
    loss: float
    silent_loss: float
    relative_loss: float
    balance_index: float
    rates_hz: np.ndarray
    D: np.ndarray
    params: object
    runtime_s: float


def track(
    n_z: int = 20,
    beta: float = 0.01,
    n_dim: int = 2,
    duration_ms: float = 1000.0,
    sample_ms: float = 50.0,
    dt: float = 0.1,
    decoder_norm: float = 0.3,
    prior_rate_hz: float = 5.0,
    seed: int = 0,
) -> Tracking:
    """Run the optimal network of SI Eq 13 on a slowly varying input.

    Parameters
    ----------
    n_z : int
        Number of coding neurons.
    beta : float
        Stochasticity of spiking ``beta = sigma^2`` (Eq 2), also the decoder variance.
    n_dim : {1, 2}
        Dimension of the input.
    duration_ms, sample_ms : float
        Length of the run and spacing of the samples of the input curve.
    dt : float
        Time step (ms), which is also the transmission delay.
    decoder_norm : float
        Length of every decoder column: what one spike adds to the read-out.
    prior_rate_hz : float
        Prior spike rate of the decoding model (enters the thresholds).
    seed : int
        Seeds the input curve and the spiking noise.
    """
    rng = np.random.default_rng(seed)
    n_samples = int(round(duration_ms / sample_ms))
    samples = smooth_signal(n_samples, n_dim, rng)
    p = preset(
        "bars",
        "ci",
        variant="sb",
        n_z=n_z,
        dt=dt,
        t_present=sample_ms,
        fade=1.0,
        sigma2_final=beta,
        sigma_init=float(np.sqrt(beta)),
        eta_sigma=0.0,
        n_train=n_samples,
        n_test=n_samples,
        n_test_eval=n_samples,
    )
    D = fan_decoder(n_z, n_dim, decoder_norm)
    state = initial_state(p, n_dim, rng)
    state.F, state.W, _, state.b = network_parameters(D, beta, prior_rate_hz * dt / 1000.0)
    state.D = D
    n_steps = n_samples * p.steps_per_presentation
    started = time.perf_counter()
    seg = evaluate(state, p, samples, rng, n_record=n_steps)
    runtime = time.perf_counter() - started
    rec = seg.record
    x, z = rec["x"], rec["z"]
    xhat = z @ D.T
    after = slice(p.steps_per_presentation, None)
    x, xhat, s = x[after], xhat[after], rec["s"][after]
    exc, inh = rec["exc"][after], rec["inh"][after]
    loss = float(np.mean(np.sum((x - xhat) ** 2, axis=1)) / (2 * n_dim))
    silent = float(np.mean(np.sum(x**2, axis=1)) / (2 * n_dim))
    balance = float(np.abs(exc + inh).sum() / np.abs(exc).sum())
    neuron = int(np.argmax(s.sum(axis=0)))
    return Tracking(
        t_ms=np.arange(n_steps)[after] * dt,
        x=x,
        xhat=xhat,
        spikes=s,
        exc=exc[:, neuron],
        inh=inh[:, neuron],
        neuron=neuron,
        loss=loss,
        silent_loss=silent,
        relative_loss=loss / silent,
        balance_index=balance,
        rates_hz=s.sum(axis=0) / (len(s) * dt / 1000.0),
        D=D,
        params=p,
        runtime_s=runtime,
    )


def plot_tracking(result: Tracking, fig=None):
    """Fig 1A: input and read-out, spike raster, excitation and inhibition of one
    neuron. Returns the figure."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(7.0, 6.0))
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1.3, 1.5]})
    t = result.t_ms
    colors = CHANNELS
    for d in range(result.x.shape[1]):
        axes[0].plot(
            t,
            result.xhat[:, d],
            color=colors[d],
            lw=0.6,
            alpha=0.7,
            label=rf"read-out $\hat x_{d + 1}$",
        )
        axes[0].plot(t, result.x[:, d], color=INK, lw=1.2, label="input $x$" if d == 0 else None)
    axes[0].set_ylabel("signal")
    place_legend(axes[0], fontsize=SMALL, ncol=3, frameon=False)
    axes[0].set_title(
        rf"$N_z$ = {result.spikes.shape[1]}, $\beta$ = {result.params.sigma2_final:g}: "
        f"loss / silent loss = {result.relative_loss:.3f}, "
        f"balance index = {result.balance_index:.2f}",
        fontsize=9,
    )
    steps, neurons = np.nonzero(result.spikes)
    axes[1].scatter(t[steps], neurons, s=2, marker="|", color=INK, lw=0.6)
    axes[1].set_ylabel("neuron")
    axes[1].set_ylim(-0.5, result.spikes.shape[1] - 0.5)
    axes[2].plot(
        t, -result.inh, color=INHIBITION, lw=0.6, alpha=0.8, label=r"inhibition $-(W_j z + c_j)$"
    )
    axes[2].plot(t, result.exc, color=EXCITATION, lw=1.5, label=r"excitation $F_j x$")
    axes[2].plot(t, result.exc + result.inh, color=INK, lw=0.6, label="net drive")
    axes[2].axhline(0.0, color=INK, lw=0.5)
    axes[2].set_ylabel(f"drive of neuron {result.neuron}")
    axes[2].set_xlabel("time (ms)")
    place_legend(axes[2], fontsize=SMALL, ncol=3, frameon=False)
    fig.align_ylabels(axes)
    return fig


def explore_tracking(beta: float = 0.01, n_z: int = 20, seed: int = 0):
    """Explorer callback: run :func:`track` and draw :func:`plot_tracking`."""
    return plot_tracking(track(n_z=n_z, beta=beta, seed=seed))


def plot_dendritic_balance(balance):
    """Dendritic inhibition learned by the rule of Eq 8 against its fixed point
    ``-F_ji D_ik`` (left), and the local potential ``u_ji`` (Eq 7) of one synapse against
    the local coding error ``F_ji (x_i - xhat_i)`` during a test (right), from
    :func:`~dbcode.analysis.theory.dendritic_balance_run`. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.0, 3.2), gridspec_kw={"width_ratios": [1, 1.6]})
    relevant = np.abs(balance.target) > 0.05 * np.abs(balance.target).max()
    ax0.scatter(balance.target[relevant], balance.W3[relevant], s=3, alpha=0.4, color=COLORS["db"])
    lim = [balance.target[relevant].min(), 0]
    ax0.plot(lim, lim, color=INK, lw=0.8)
    ax0.set_xlabel(r"$-F_{ji} D_{ik}$")
    ax0.set_ylabel(r"learned $W_{jik}$")
    ax0.set_title(f"r = {balance.weight_corr:.3f}", fontsize=9)
    j, i = balance.synapse
    ax1.plot(
        balance.t_ms, balance.error_local, color=INK, lw=1.5, label=r"$F_{ji}(x_i - \hat x_i)$"
    )
    ax1.plot(balance.t_ms, balance.u_local, color=EXCITATION, lw=0.8, label=r"$u_{ji}$")
    ax1.axhline(0, color=GUIDE, lw=0.5)
    ax1.set_xlabel("time (ms)")
    ax1.set_title(f"neuron j = {j}, input i = {i}", fontsize=9)
    ax1.legend(fontsize=SMALL, frameon=False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- checks and windows
CHECK_LABELS = {
    "gradient_db_uncorrelated": "DB input rule = gradient\n(uncorrelated z)",
    "gradient_db_correlated": "DB input rule = gradient\n(correlated z)",
    "gradient_sb_uncorrelated": "SB input rule = gradient\n(uncorrelated z)",
    "gradient_sb_correlated": "SB input rule = gradient\n(correlated z)",
    "fixed_point_somatic": "somatic inhibitory rule\nat rest at W = -F D*",
    "fixed_point_dendritic": "dendritic inhibitory rule\nat rest at W = -F D*",
    "em_identity": "optimal parameters:\n$\\sigma^2 u = D^T(x - \\hat{x}) - T$",
}


def plot_checks(checks: dict, ax) -> None:
    """Bar chart (log scale) of the relative deviations of :func:`~dbcode.analysis.theory.derivation_checks`."""
    names = list(CHECK_LABELS)
    values = np.maximum([checks[n] for n in names], 1e-17)
    colors = [FAIL if v > 1e-6 else PASS for v in values]
    ax.barh(range(len(names)), values, color=colors)
    ax.set_yticks(range(len(names)), [CHECK_LABELS[n] for n in names], fontsize=SMALL)
    ax.set_xscale("log")
    ax.set_xlim(1e-17, 10)
    ax.axvline(1e-6, color=INK, lw=0.6, ls=":")
    ax.invert_yaxis()
    ax.set_xlabel("relative deviation")


def plot_windows(w: Windows, ax, title: str):
    """Plot one pair of SB/DB windows on ``ax``."""
    ax.axhline(0.0, color=INK, lw=0.5)
    ax.axvline(0.0, color=INK, lw=0.5, ls=":")
    ax.plot(w.delta_t, w.sb, color=COLORS["sb"], lw=2.5, label="SB")
    ax.plot(w.delta_t, w.db, color=COLORS["db"], lw=1.2, ls="--", label="DB")
    if w.inhibitory_lag is not None:
        ax.axvline(
            w.inhibitory_lag,
            color=GUIDE,
            lw=0.8,
            label=f"spike of neuron k (+{w.inhibitory_lag:g} ms)",
        )
    ax.set_xlabel(r"$\Delta t = t_j - t_i$ (ms)")
    ax.set_ylabel(r"$\Delta F_{ji}$ / $\eta$ (ms)")
    ax.set_title(title, fontsize=9)
    place_legend(ax, fontsize=SMALL, frameon=False)
