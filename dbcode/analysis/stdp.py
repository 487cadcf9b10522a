"""Fig 2E/2H: spike-timing windows obtained by integrating the voltage-based rules.

Pairing protocol: one input ``i`` spikes once at ``t_pre``; its trace ``x_i(t)`` is an
exponential PSP (time constant ``tau``, amplitude 1). Coding neuron ``j`` spikes once at
``t_pre + delta_t``. Optionally a second coding neuron ``k`` spikes at
``t_pre + inhibitory_lag``; its decoder weight ``D_ik > 0`` onto input ``i`` means that
it inhibits the dendrite of input ``i`` on neuron ``j`` (Eq 8 fixed point
``W_jik = -F_ji D_ik``). Summing the per-step input-weight change of ``F_ji`` over the
whole protocol gives the weight change as a function of ``delta_t`` for

- SB: the regularised Hebbian rule, :func:`dbcode.model.rules.hebbian_input_update` (Eq 6/15);
- DB: the local-error rule, :func:`dbcode.model.rules.gradient_input_update` (Eq 5/9) with the
  decoder ``D`` (at dendritic balance ``z_j u_ji / F_ji = z_j (x_i - xhat_i)``).

The weight change is reported per unit learning rate (``eta = dt``, so in ms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dbcode.model import rules


@dataclass
class Windows:
    """Weight change of ``F_ji`` against ``delta_t`` for both rules.

    Attributes
    ----------
    delta_t : (n,) array
        Post minus pre spike time (ms).
    sb, db : (n,) arrays
        Summed weight change under the SB rule (Eq 6/15) and the DB rule (Eq 5/9).
    inhibitory_lag : float or None
        Time of the spike of neuron ``k`` after the input spike (``None``: no spike).
    """

    delta_t: np.ndarray
    sb: np.ndarray
    db: np.ndarray
    inhibitory_lag: float | None


def spike_train_trace(n_steps: int, spike_step: int | None, decay: float) -> np.ndarray:
    """Trace ``z(t) = decay z(t-1) + s(t)`` of a single spike at ``spike_step``
    (all zeros for ``None``), with :func:`dbcode.model.rules.trace_update`."""
    trace = np.zeros(n_steps)
    z = np.zeros(1)
    for t in range(n_steps):
        s = np.array([1.0 if t == spike_step else 0.0])
        z = rules.trace_update(z, s, decay)
        trace[t] = z[0]
    return trace


def pairing_windows(
    delta_t: np.ndarray | None = None,
    inhibitory_lag: float | None = None,
    weight: float = 0.5,
    other_decoder: float = 0.5,
    tau: float = 10.0,
    dt: float = 1.0,
) -> Windows:
    """Integrate the SB and DB input-weight rules over the pairing protocol.

    Parameters
    ----------
    delta_t : array, optional
        Post minus pre spike times (ms), multiples of ``dt``; default -50 ... 50 ms.
    inhibitory_lag : float or None
        Spike of coding neuron ``k`` at ``t_pre + inhibitory_lag`` (Fig 2H); ``None``
        for the plain pairing (Fig 2E).
    weight : float
        ``F_ji``, equal to the decoder weight ``D_ij`` of neuron ``j`` (SI Eq 13).
    other_decoder : float
        ``D_ik > 0`` of neuron ``k`` onto input ``i``.
    tau, dt : float
        Time constant of all traces and time step (ms).
    """
    if delta_t is None:
        delta_t = np.arange(-50.0, 50.0 + dt / 2, dt)
    delta_t = np.asarray(delta_t, dtype=float)
    decay = np.exp(-dt / tau)
    lag = 0.0 if inhibitory_lag is None else inhibitory_lag
    span = max(np.abs(delta_t).max(), abs(lag))
    t_pre = int(round(span / dt)) + 1
    n_steps = 2 * t_pre + int(round(12 * tau / dt))
    F = np.array([[weight], [other_decoder]])
    D = F.T.copy()
    x = spike_train_trace(n_steps, t_pre, decay)
    z_k = spike_train_trace(
        n_steps, None if inhibitory_lag is None else t_pre + int(round(lag / dt)), decay
    )
    sb = np.zeros(len(delta_t))
    db = np.zeros(len(delta_t))
    for n, d in enumerate(delta_t):
        z_j = spike_train_trace(n_steps, t_pre + int(round(d / dt)), decay)
        for t in range(n_steps):
            xt = x[t : t + 1]
            zt = np.array([z_j[t], z_k[t]])
            sb[n] += rules.hebbian_input_update(F, xt, zt, dt)[0, 0]
            db[n] += rules.gradient_input_update(F, xt, zt, dt, D=D)[0, 0]
    return Windows(delta_t=delta_t, sb=sb, db=db, inhibitory_lag=inhibitory_lag)


def symmetry_error(w: Windows, rule: str) -> float:
    """``max |w(dt) - w(-dt)| / max |w|`` of one rule's window (0: symmetric).

    ``delta_t`` must be symmetric around 0."""
    v = getattr(w, rule)
    if not np.allclose(w.delta_t, -w.delta_t[::-1]):
        raise ValueError("delta_t must be symmetric around 0")
    return float(np.abs(v - v[::-1]).max() / np.abs(v).max())


def window_numbers(plain: Windows, accompanied: Windows) -> dict:
    """The numbers that Fig 2E/2H and the claim tests use.

    Returns
    -------
    dict
        ``e_symmetry_sb``, ``e_symmetry_db``: symmetry errors of Fig 2E;
        ``e_sb_db_difference``: ``max |sb - db| / max |sb|`` in Fig 2E;
        ``h_sb_change``: ``max |sb_H - sb_E| / max |sb_E|`` (0: unchanged);
        ``h_db_change_mean``: mean of ``db_H - db_E`` relative to ``max |db_E|``
        (negative: depression); ``h_symmetry_db``: symmetry error of the DB window in 2H;
        ``e_peak``, ``h_db_peak``: largest weight change of DB in 2E and 2H.
    """
    scale_db = np.abs(plain.db).max()
    return {
        "e_symmetry_sb": symmetry_error(plain, "sb"),
        "e_symmetry_db": symmetry_error(plain, "db"),
        "e_sb_db_difference": float(np.abs(plain.sb - plain.db).max() / np.abs(plain.sb).max()),
        "h_sb_change": float(np.abs(accompanied.sb - plain.sb).max() / np.abs(plain.sb).max()),
        "h_db_change_mean": float(np.mean(accompanied.db - plain.db) / scale_db),
        "h_symmetry_db": symmetry_error(accompanied, "db"),
        "e_peak": float(plain.db.max()),
        "h_db_peak": float(accompanied.db.max()),
    }
