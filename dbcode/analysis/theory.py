"""The expectation-maximisation view of the SI and numerical checks of the derivation.

The functions here make the steps of the derivation chapter computable:

- :func:`network_parameters`: the network that samples an efficient code for a given
  decoder (SI Eq 13: ``F = D^T``, ``W = -D^T D``, thresholds), in the engine's
  convention for the bias (``b = -T - c`` with ``c = W_jj / 4``);
- :func:`projected_error_identity`: with those parameters ``sigma^2 u`` equals the
  projected coding error ``D^T (x - xhat) - T`` (E-step = network dynamics);
- :func:`gradient_check`: the DB rule (Eq 5/9) is minus the gradient of the decoder
  loss, the SB rule (Eq 6/15) only when the traces do not overlap;
- :func:`inhibitory_fixed_point`: at ``W = -F D*`` (``D*`` the least-squares decoder)
  the expected somatic (Eq 4/16) and dendritic (Eq 8) inhibitory updates vanish;
- :func:`dendritic_balance_run`: in a small simulation on bars, dendritic inhibition
  learned with Eq 8 converges to ``W_jik = -F_ji D_ik`` and the local potential tracks
  ``F_ji (x_i - xhat_i)`` (Fig 2B/C).

All rules come from :mod:`dbcode.model.rules`; nothing here restates them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dbcode.data.bars import bar_templates, load_bars
from dbcode.model import rules
from dbcode.model.params import preset
from dbcode.model.rules import initial_state
from dbcode.model.simulate import evaluate, train


def network_parameters(D: np.ndarray, sigma2: float, prior: float):
    """Network parameters that sample an efficient code for decoder ``D`` (SI Eq 13).

    Parameters
    ----------
    D : (N_x, N_z) array
        Decoder of the generative model ``x ~ N(D z, sigma^2)``.
    sigma2 : float
        Decoder variance, equal to the stochasticity ``beta`` of spiking.
    prior : float
        Prior probability of a spike per step, ``p(s_j = 1)``.

    Returns
    -------
    F : (N_z, N_x) array
        Input weights ``D^T``.
    W : (N_z, N_z) array
        Inhibition ``-D^T D`` (its diagonal is the reset).
    T : (N_z,) array
        Thresholds ``||D_j||^2 / 2 - sigma^2 logit(prior)``.
    b : (N_z,) array
        The engine's bias ``-T - c`` (the engine adds ``c_j = W_jj / 4`` to every
        potential, see :func:`dbcode.model.rules.self_inhibition_constant`).
    """
    F = D.T.copy()
    W = rules.optimal_inhibition(F, D)
    T = 0.5 * np.sum(D * D, axis=0) - sigma2 * np.log(prior / (1.0 - prior))
    b = -T - rules.self_inhibition_constant(np.diag(W))
    return F, W, T, b


def projected_error_identity(
    D: np.ndarray, sigma2: float, prior: float, x: np.ndarray, z_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``sigma^2 u`` of the engine's potential (Eq 3) and ``D^T (x - D z) - T``.

    With the parameters of :func:`network_parameters` both are equal: each neuron's
    potential is its projection of the coding error minus its threshold (SI Eq 13).
    """
    F, W, T, b = network_parameters(D, sigma2, prior)
    ubar = F @ x + W @ z_prev
    c = rules.self_inhibition_constant(np.diag(W))
    u = rules.membrane_potential(ubar, c, b, sigma2, bias_outside=False)
    return sigma2 * u, D.T @ (x - D @ z_prev) - T


def frozen_samples(correlated: bool, n: int = 200, n_z: int = 6, n_x: int = 10, seed: int = 5):
    """Inputs ``X`` (n, N_x), traces ``Z`` (n, N_z) and weights ``F`` for the gradient
    check; with ``correlated=False`` exactly one trace is non-zero per sample."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_x))
    if correlated:
        Z = rng.random((n, n_z)) * (rng.random((n, n_z)) < 0.5)
    else:
        Z = np.zeros((n, n_z))
        Z[np.arange(n), rng.integers(n_z, size=n)] = rng.random(n) + 0.5
    F = 0.3 * rng.random((n_z, n_x))
    return X, Z, F


def summed_loss(D: np.ndarray, X: np.ndarray, Z: np.ndarray) -> float:
    """``sum_t ||x(t) - D z(t)||^2 / 2`` over samples (Eq 1 without the normalisation)."""
    R = X - Z @ D.T
    return 0.5 * float(np.sum(R * R))


def finite_difference_gradient(
    D: np.ndarray, X: np.ndarray, Z: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    """Central finite-difference gradient of :func:`summed_loss` with respect to ``D``."""
    grad = np.zeros_like(D)
    for idx in np.ndindex(D.shape):
        dD = np.zeros_like(D)
        dD[idx] = h
        grad[idx] = (summed_loss(D + dD, X, Z) - summed_loss(D - dD, X, Z)) / (2 * h)
    return grad


def gradient_check(correlated: bool) -> dict:
    """Compare the summed input-weight updates with minus the loss gradient (Eq 5).

    The decoder is the analytic-DB estimate ``D = F^T``; the gradient with respect to
    ``D_ij`` is the update of ``F_ji``.

    Returns
    -------
    dict
        ``db_error`` and ``sb_error``: largest deviation of the summed DB (Eq 5/9) and
        SB (Eq 6/15) updates from ``-dL/dD^T``, relative to the largest gradient entry.
    """
    X, Z, F = frozen_samples(correlated)
    grad = finite_difference_gradient(F.T, X, Z).T
    db = sum(rules.gradient_input_update(F, x, z, 1.0) for x, z in zip(X, Z))
    sb = sum(rules.hebbian_input_update(F, x, z, 1.0) for x, z in zip(X, Z))
    scale = np.abs(grad).max()
    return {
        "db_error": float(np.abs(db + grad).max() / scale),
        "sb_error": float(np.abs(sb + grad).max() / scale),
    }


def inhibitory_fixed_point(seed: int = 5) -> dict:
    """Summed inhibitory updates at ``W = -F D*`` and at a perturbed ``W``.

    ``D*`` is the least-squares decoder of the samples of :func:`frozen_samples`. At
    the fixed point the somatic rule (Eq 4/16) and the dendritic rule (Eq 8) sum to
    zero; away from it they do not.

    Returns
    -------
    dict
        ``somatic_at_fixed_point``, ``dendritic_at_fixed_point``: largest summed update
        at ``-F D*`` relative to the largest summed update at ``-F (D* + noise)``
        (``somatic_perturbed``, ``dendritic_perturbed``, absolute).
    """
    X, Z, F = frozen_samples(True, seed=seed)
    D_star = np.linalg.lstsq(Z, X, rcond=None)[0].T
    noise = 0.1 * np.random.default_rng(seed + 1).standard_normal(D_star.shape)

    def summed(D):
        W = rules.optimal_inhibition(F, D)
        W3 = -F[:, :, None] * D[None, :, :]
        dW = sum(rules.somatic_inhibition_update(F @ x + W @ z, z, 1.0) for x, z in zip(X, Z))
        dW3 = sum(
            rules.dendritic_inhibition_update(rules.dendritic_potentials(F, W3, x, z), z, 1.0)
            for x, z in zip(X, Z)
        )
        return np.abs(dW).max(), np.abs(dW3).max()

    som0, den0 = summed(D_star)
    som1, den1 = summed(D_star + noise)
    return {
        "somatic_at_fixed_point": float(som0 / som1),
        "dendritic_at_fixed_point": float(den0 / den1),
        "somatic_perturbed": float(som1),
        "dendritic_perturbed": float(den1),
    }


@dataclass
class DendriticBalance:
    """Outcome of :func:`dendritic_balance_run`.

    Attributes
    ----------
    F : (N_z, N_x) array
        The fixed input weights.
    W3, D : arrays
        Learned dendritic inhibition and decoder.
    target : (N_z, N_x, N_z) array
        ``-F_ji D_ik``, the fixed point of Eq 8.
    weight_corr : float
        Correlation of ``W3`` with ``target`` over the entries larger than 5 % of the
        largest target entry.
    weight_rel_error : float
        ``||W3 - target|| / ||target||`` over the same entries.
    t_ms : (n_steps,) array
    u_local, error_local : (n_steps,) arrays
        Dendritic potential ``u_ji(t)`` (Eq 7) of one synapse during a test, and
        ``F_ji (x_i - xhat_i)`` with ``xhat = D z(t-1)``.
    potential_corr : float
        Correlation of all ``u_ji(t)`` with ``F_ji (x_i(t) - xhat_i(t))`` over the test.
    synapse : tuple of int
        ``(j, i)`` of the synapse shown.
    test_loss : (2,) array
        Test loss before and after learning the inhibition.
    params : Params
    runtime_s : float
    data_source : str
    """

    F: np.ndarray
    W3: np.ndarray
    D: np.ndarray
    target: np.ndarray
    weight_corr: float
    weight_rel_error: float
    t_ms: np.ndarray
    u_local: np.ndarray
    error_local: np.ndarray
    potential_corr: float
    synapse: tuple
    test_loss: np.ndarray
    params: object
    runtime_s: float
    data_source: str


def dendritic_balance_run(
    seed: int = 0, n_presentations: int = 1_500, n_record: int = 300
) -> DendriticBalance:
    """Learn dendritic inhibition (Eq 8) and the decoder (Eq 10) with input weights fixed.

    A DB network with slow feed-forward adaptation (``db-slow``) whose input weights are
    frozen (``eta_F = eta_Fbar = 0``) near the 16 bar templates sees uncorrelated bars
    (``c = 0``); ``sigma^2 = 0.1`` throughout. After learning, a test run with all
    plasticity off records the traces, from which the local potentials of Eq 7 are
    recomputed with :func:`dbcode.model.rules.dendritic_potentials`.
    """
    p = preset(
        "bars",
        "ci",
        variant="db-slow",
        eta_F=0.0,
        eta_Fbar=0.0,
        eta_W=2e-3,
        eta_D=1e-3,
        eta_sigma=0.0,
        sigma_init=float(np.sqrt(0.1)),
        n_presentations=n_presentations,
        n_evals=1,
        n_train=2_000,
        n_test=300,
    )
    data = load_bars(p.n_train, p.n_test, seed=seed, c=0.0)
    rng = np.random.default_rng(seed + 4)
    F = np.abs(bar_templates() + 0.1 * rng.random((p.n_z, data.train.shape[1])))
    state = initial_state(p, F.shape[1], rng)
    state.F, state.Fbar = F.copy(), F * F
    started = time.perf_counter()
    result = train(p, data.train, data.test, seed=seed, state=state, progress=False)
    W3, D = result.state.W3, result.state.D
    target = -F[:, :, None] * D[None, :, :]
    relevant = np.abs(target) > 0.05 * np.abs(target).max()
    weight_corr = float(np.corrcoef(W3[relevant], target[relevant])[0, 1])
    weight_rel_error = float(
        np.linalg.norm(W3[relevant] - target[relevant]) / np.linalg.norm(target[relevant])
    )

    seg = evaluate(result.state, p, data.test, np.random.default_rng(seed + 7), n_record=n_record)
    x, z = seg.record["x"], seg.record["z"]
    z_prev = np.vstack([np.zeros(p.n_z), z[:-1]])
    u = np.stack([rules.dendritic_potentials(F, W3, xt, zt) for xt, zt in zip(x, z_prev)])
    err = F[None] * (x - z_prev @ D.T)[:, None, :]
    potential_corr = float(np.corrcoef(u.ravel(), err.ravel())[0, 1])
    j = int(np.argmax(seg.record["s"].sum(axis=0)))
    i = int(np.argmax(F[j]))
    return DendriticBalance(
        F=F,
        W3=W3,
        D=D,
        target=target,
        weight_corr=weight_corr,
        weight_rel_error=weight_rel_error,
        t_ms=np.arange(n_record) * p.dt,
        u_local=u[:, j, i],
        error_local=err[:, j, i],
        potential_corr=potential_corr,
        synapse=(j, i),
        test_loss=result.test_loss,
        params=p,
        runtime_s=time.perf_counter() - started,
        data_source=data.source,
    )


def derivation_checks(seed: int = 0) -> dict:
    """All numerical checks of the derivation in one dictionary.

    Returns
    -------
    dict
        ``gradient_db_uncorrelated``, ``gradient_db_correlated``,
        ``gradient_sb_uncorrelated``, ``gradient_sb_correlated``: relative deviations of
        the summed input-weight updates from minus the loss gradient (Eq 5);
        ``fixed_point_somatic``, ``fixed_point_dendritic``: relative residuals of Eq 4/16
        and Eq 8 at ``W = -F D*``; ``em_identity``: largest ``|sigma^2 u - (D^T (x -
        xhat) - T)|`` relative to the largest projected error, for random decoders,
        inputs and traces with the parameters of SI Eq 13.
    """
    uncorrelated, correlated = gradient_check(False), gradient_check(True)
    fixed = inhibitory_fixed_point(seed + 5)
    rng = np.random.default_rng(seed)
    deviation, size = 0.0, 0.0
    for _ in range(20):
        n_x, n_z = rng.integers(2, 20), rng.integers(2, 30)
        D = rng.random((n_x, n_z))
        lhs, rhs = projected_error_identity(
            D,
            float(rng.uniform(0.01, 0.3)),
            float(rng.uniform(1e-4, 0.1)),
            rng.random(n_x),
            rng.random(n_z),
        )
        deviation = max(deviation, float(np.abs(lhs - rhs).max()))
        size = max(size, float(np.abs(rhs).max()))
    return {
        "gradient_db_uncorrelated": uncorrelated["db_error"],
        "gradient_db_correlated": correlated["db_error"],
        "gradient_sb_uncorrelated": uncorrelated["sb_error"],
        "gradient_sb_correlated": correlated["sb_error"],
        "fixed_point_somatic": fixed["somatic_at_fixed_point"],
        "fixed_point_dendritic": fixed["dendritic_at_fixed_point"],
        "em_identity": deviation / size,
    }
