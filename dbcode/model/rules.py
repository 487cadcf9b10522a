"""Readable NumPy reference of the model and of every learning rule.

Each function implements one equation of the paper (numbers as in the main text, with
the SI numbers after a slash) for a single time step of length ``dt``; learning rates
``eta`` passed here are already multiplied by ``dt``. :func:`reference_step` chains them
into one step of the network and :func:`simulate_reference` into a run; the fast kernels
in :mod:`dbcode.model.kernels` are tested against these functions.

Shapes: ``x`` (N_x,), ``z`` and ``s`` (N_z,), ``F`` (N_z, N_x), ``D`` (N_x, N_z),
``W`` (N_z, N_z), dendritic inhibition ``W3`` (N_z, N_x, N_z) with ``W3[j, i, k]`` the
weight from neuron ``k`` onto the dendrite of input ``i`` of neuron ``j``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dbcode.model import fpmath
from dbcode.model.params import PHASE_LEARNING, Params

# --- signals ------------------------------------------------------------------------


def faded_input(x_prev: np.ndarray, x_new: np.ndarray, k: int, fade_steps: int) -> np.ndarray:
    """Input in step ``k`` of a presentation: a linear fade from the previous image
    over the first ``fade_steps`` steps, then the new image (Methods)."""
    a = 1.0 if fade_steps == 0 else min(1.0, (k + 1) / fade_steps)
    return x_prev + a * (x_new - x_prev)


def trace_update(
    z_prev: np.ndarray, s: np.ndarray, decay: float, threshold: float = 0.0
) -> np.ndarray:
    """Postsynaptic traces ``z(t) = exp(-dt/tau) z(t-1) + s(t)``, cut to zero where
    they fall below ``threshold`` (see :func:`trace_threshold`)."""
    z = decay * z_prev + s
    if threshold > 0.0:
        z[z < threshold] = 0.0
    return z


def trace_threshold(params: Params) -> float:
    """Value below which a trace is cut to zero (0: never).

    The authors' neurons forget a spike ``L = round(trace_cutoff tau / dt)`` steps
    after it: a spike adds ``exp(-m dt / tau)`` to its trace ``m = 0 .. L-1`` steps
    later and nothing afterwards. Cutting at ``exp(-(L - 1/2) dt / tau)``, between the
    last value kept and the first one dropped, does the same for an isolated spike
    without a memory of spike times; after a burst, the remainders of the older spikes
    (each below ``exp(-trace_cutoff)``) stay until the whole trace falls below.
    """
    if params.trace_cutoff == 0:
        return 0.0
    steps = round(params.trace_cutoff * params.tau / params.dt)
    return float(fpmath.exp(-(steps - 0.5) * params.dt / params.tau))


def decoder_loss(x: np.ndarray, D: np.ndarray, z: np.ndarray) -> float:
    """Instantaneous decoder loss (Eq 1): ``||x - D z||^2 / (2 N_x)``."""
    r = x - D @ z
    return float(r @ r) / (2 * x.size)


# --- neurons ------------------------------------------------------------------------


def spike_probability(u: np.ndarray) -> np.ndarray:
    """Escape-noise spiking probability per step (Eq 2/11): ``sigmoid(u)``."""
    return 1.0 / (1.0 + np.exp(-u))


def self_inhibition_constant(W_diag: np.ndarray) -> np.ndarray:
    """The constant ``c_j = W_jj / 4`` added to every potential (Methods)."""
    return W_diag / 4.0


def membrane_potential(
    ubar: np.ndarray, c: np.ndarray, b: np.ndarray, sigma2: float, bias_outside: bool
) -> np.ndarray:
    """Somatic potential (Eq 3): ``(ubar + c + b) / sigma^2``, where ``ubar = F x + W z``
    is the balanced drive; with ``bias_outside`` the bias is added after scaling."""
    if bias_outside:
        return (ubar + c) / sigma2 + b
    return (ubar + c + b) / sigma2


def optimal_inhibition(F: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Inhibition that balances the soma for decoder ``D``: ``W = -F D`` (SI Eq 13)."""
    return -F @ D


def dendritic_potentials(F: np.ndarray, W3: np.ndarray, x: np.ndarray, z_prev: np.ndarray):
    """Local dendritic potentials (Eq 7/17): ``u_ji = F_ji x_i + sum_k W_jik z_k``."""
    return F * x[None, :] + W3 @ z_prev


# --- plasticity ---------------------------------------------------------------------


def decoder_update(D: np.ndarray, x: np.ndarray, z: np.ndarray, eta: float) -> np.ndarray:
    """Decoder learning (Eq 10/14): ``dD = eta (x - D z) z^T``."""
    return eta * np.outer(x - D @ z, z)


def somatic_inhibition_update(ubar: np.ndarray, z_prev: np.ndarray, eta: float) -> np.ndarray:
    """Somatic balance of inhibition (Eq 4/16): ``dW_jk = -eta ubar_j z_k(t-1)``."""
    return -eta * np.outer(ubar, z_prev)


def hebbian_input_update(F: np.ndarray, x: np.ndarray, z: np.ndarray, eta: float) -> np.ndarray:
    """SB input rule, the regularised Hebbian approximation of the gradient (Eq 6/15):
    ``dF_ji = eta (x_i z_j - F_ji z_j^2)``."""
    return eta * (np.outer(z, x) - (z * z)[:, None] * F)


def gradient_input_update(
    F: np.ndarray, x: np.ndarray, z: np.ndarray, eta: float, D: np.ndarray | None = None
) -> np.ndarray:
    """Exact gradient of the decoder loss w.r.t. the input weights (Eq 5/9):
    ``dF_ji = eta z_j (x_i - xhat_i)``. Analytic DB estimates the decoder by ``F^T``;
    pass ``D`` to use a given decoder instead."""
    xhat = (F.T if D is None else D) @ z
    return eta * np.outer(z, x - xhat)


def dendritic_inhibition_update(u_d: np.ndarray, z_prev: np.ndarray, eta: float) -> np.ndarray:
    """Local balance of dendritic inhibition (Eq 8): ``dW_jik = -eta u_ji z_k(t-1)``."""
    return -eta * u_d[:, :, None] * z_prev[None, None, :]


def floored(F: np.ndarray, floor: float) -> np.ndarray:
    """``F`` with its magnitude floored at ``floor``, keeping the sign (0 counts as +)."""
    return np.where(F < 0, np.minimum(F, -floor), np.maximum(F, floor))


def slow_integration_update(u_d: np.ndarray, z: np.ndarray, eta: float) -> np.ndarray:
    """Integration variable of DB with slow feed-forward adaptation (SI):
    ``dFbar_ji = eta z_j u_ji``."""
    return eta * z[:, None] * u_d


def slow_input_update(F: np.ndarray, Fbar: np.ndarray, eta: float, floor: float) -> np.ndarray:
    """Slow feed-forward adaptation (SI): ``dF_ji = eta (Fbar_ji / F_ji - F_ji)``, so
    that ``F_ji^2`` follows ``Fbar_ji``."""
    return eta * (Fbar / floored(F, floor) - F)


def simultaneous_input_update(
    F: np.ndarray, x: np.ndarray, z: np.ndarray, W3z: np.ndarray, eta: float, floor: float
) -> np.ndarray:
    """DB with simultaneous adaptation (SI): ``dF_ji = eta z_j (x_i + (u_ji - F_ji x_i)
    / F_ji)``, where ``u_ji - F_ji x_i = sum_k W_jik z_k`` is the local inhibition."""
    return eta * z[:, None] * (x[None, :] + W3z / floored(F, floor))


def homeostasis_update(s: np.ndarray, target: float, eta: float) -> np.ndarray:
    """Homeostatic bias (Methods): ``db_j = eta (rho dt - s_j)``; too few spikes raise
    the bias."""
    return eta * (target - s)


def sigma_annealing_update(sigma: float, sigma2_final: float, eta: float) -> float:
    """Annealing of the stochasticity (Methods): ``dsigma = eta (sigma_f^2 - sigma^2) /
    sigma``."""
    return eta * (sigma2_final - sigma * sigma) / sigma


# --- the network --------------------------------------------------------------------


@dataclass
class NetworkState:
    """Everything that changes during a run. ``W`` is the somatic inhibition of SB;
    analytic DB derives it as ``-F D``; the dendritic variants keep ``W3`` and ``Fbar``."""

    F: np.ndarray
    D: np.ndarray
    W: np.ndarray
    W3: np.ndarray
    Fbar: np.ndarray
    b: np.ndarray
    z: np.ndarray
    sigma: float

    def copy(self) -> NetworkState:
        return NetworkState(
            self.F.copy(),
            self.D.copy(),
            self.W.copy(),
            self.W3.copy(),
            self.Fbar.copy(),
            self.b.copy(),
            self.z.copy(),
            float(self.sigma),
        )

    def somatic_inhibition(self, variant: str) -> np.ndarray:
        """The somatic inhibitory weights ``W_jk`` the soma sees (``sum_i W_jik`` for
        the dendritic variants)."""
        if variant == "db":
            return optimal_inhibition(self.F, self.D)
        if variant in ("db-slow", "db-simultaneous"):
            return self.W3.sum(axis=1)
        return self.W


def initial_state(params: Params, n_x: int, rng: np.random.Generator) -> NetworkState:
    """Initial weights (see :class:`~dbcode.model.params.Params` ``init``), zero traces and the
    homeostatic bias at the value that gives rate ``rho`` for zero drive."""
    n_z = params.n_z
    F = np.zeros((n_z, n_x))
    if params.init == "small":
        F = 0.01 * (0.5 + rng.random((n_z, n_x)))
    elif params.init == "mnist":
        F = fpmath.exp_array(np.maximum(0.0, 0.3 * rng.standard_normal((n_z, n_x)) - 0.2)) - 0.99
    W = np.zeros((n_z, n_z))
    W3 = np.zeros((n_z, n_x, n_z)) if params.is_dendritic else np.zeros((0, 0, 0))
    if params.init == "mnist":
        W[np.diag_indices(n_z)] = -np.sum(F * F, axis=1)
        if params.is_dendritic:
            W3[np.arange(n_z), :, np.arange(n_z)] = -(F * F)
    Fbar = F * F if params.variant == "db-slow" else np.zeros((0, 0))
    p = params.rho * params.dt / 1000.0
    logit = fpmath.logit(p)
    sigma = params.sigma_init if params.eta_sigma > 0 else float(np.sqrt(params.sigma2_final))
    b0 = logit if params.bias_outside else sigma * sigma * logit
    return NetworkState(
        F=F,
        D=np.zeros((n_x, n_z)),
        W=W,
        W3=W3,
        Fbar=Fbar,
        b=np.full(n_z, b0),
        z=np.zeros(n_z),
        sigma=float(sigma),
    )


@dataclass(frozen=True)
class Rates:
    """Per-step learning rates (already multiplied by ``dt``) and switches."""

    F: float
    D: float
    W: float
    b: float
    Fbar: float
    decay: float
    sigma: float

    @classmethod
    def of(cls, params: Params, what: str = "all", late: bool = False, learn: bool = True):
        """Rates for a phase ``what`` (see ``Params.phases``); ``learn=False`` freezes
        everything (test evaluation)."""
        dt = params.dt
        if not learn:
            return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        learn_D, learn_W, learn_F = PHASE_LEARNING[what]

        def pick(name):
            late_value = getattr(params, f"eta_{name}_late")
            return late_value if late and late_value is not None else getattr(params, f"eta_{name}")

        return cls(
            F=pick("F") * dt * learn_F,
            D=pick("D") * dt * learn_D,
            W=pick("W") * dt * learn_W,
            b=pick("b") * dt,
            Fbar=params.eta_Fbar * dt * learn_F,
            decay=params.decay * dt,
            sigma=params.eta_sigma * dt,
        )


def reference_step(
    state: NetworkState,
    x: np.ndarray,
    uniforms: np.ndarray,
    params: Params,
    rates: Rates,
) -> tuple[np.ndarray, float]:
    """Advance the network by one step, in place; returns the spikes and the decoder
    loss of this step (before this step's decoder update).

    Order within a step: potentials from ``z(t-1)`` (the spike of the previous step
    arrives now: the step is the transmission delay), spikes, traces ``z(t)``, then all
    weight updates computed from the weights at the start of the step.
    """
    variant = params.variant
    F, D = state.F, state.D
    z_prev = state.z
    W_som = state.somatic_inhibition(variant)
    if variant in ("db-slow", "db-simultaneous"):
        u_d = dendritic_potentials(F, state.W3, x, z_prev)
        ubar = u_d.sum(axis=1)
    else:
        ubar = F @ x + W_som @ z_prev
    c = self_inhibition_constant(np.diag(W_som))
    sigma2 = state.sigma**2
    u = membrane_potential(ubar, c, state.b, sigma2, params.bias_outside)
    s = (uniforms < spike_probability(u)).astype(float)
    z = trace_update(z_prev, s, fpmath.exp(-params.dt / params.tau), trace_threshold(params))
    loss = decoder_loss(x, D, z)

    dD = decoder_update(D, x, z, rates.D)
    if variant == "sb":
        state.W = state.W + somatic_inhibition_update(ubar, z_prev, rates.W)
        state.F = F + hebbian_input_update(F, x, z, rates.F)
    elif variant == "db":
        state.F = F + gradient_input_update(F, x, z, rates.F)
    else:
        dW3 = dendritic_inhibition_update(u_d, z_prev, rates.W)
        if variant == "db-slow":
            dFbar = slow_integration_update(u_d, z, rates.Fbar)
            state.F = F + slow_input_update(F, state.Fbar, rates.F, params.F_floor)
            state.Fbar = state.Fbar + dFbar
        else:
            W3z = u_d - F * x[None, :]
            state.F = F + simultaneous_input_update(F, x, z, W3z, rates.F, params.F_floor)
            state.F -= rates.decay * F
            dW3 -= rates.decay * state.W3
        state.W3 = state.W3 + dW3
    state.D = D + dD
    state.b = state.b + homeostasis_update(s, params.rho * params.dt / 1000.0, rates.b)
    state.sigma = state.sigma + sigma_annealing_update(
        state.sigma, params.sigma2_final, rates.sigma
    )
    state.z = z
    return s, loss


def simulate_reference(
    params: Params,
    state: NetworkState,
    images: np.ndarray,
    order: np.ndarray,
    x_start: np.ndarray,
    uniforms: np.ndarray,
    rates: Rates,
) -> tuple[np.ndarray, np.ndarray]:
    """Run presentations ``images[order]`` step by step with :func:`reference_step`.

    ``uniforms`` holds one uniform random number per step and neuron, shape
    (len(order) * steps_per_presentation, N_z). Returns the spikes (steps, N_z) and
    the loss of every step.
    """
    n_steps, n_fade = params.steps_per_presentation, params.fade_steps
    spikes = np.zeros((len(order) * n_steps, params.n_z))
    losses = np.zeros(len(order) * n_steps)
    x_prev = x_start
    t = 0
    for idx in order:
        x_new = images[idx]
        for k in range(n_steps):
            x = faded_input(x_prev, x_new, k, n_fade)
            spikes[t], losses[t] = reference_step(state, x, uniforms[t], params, rates)
            t += 1
        x_prev = x_new
    return spikes, losses
