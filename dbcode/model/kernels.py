"""Fast numba kernel that runs the network of :mod:`dbcode.model.rules` over presentations.

One kernel serves all four learning schemes. It exploits what is constant between
events: while no neuron spikes within a presentation, every trace decays geometrically
(``z(t) = lambda^m z0``) and the input is ``x = x_prev + a(t) (x_new - x_prev)``. The
potentials then cost O(N_z) per step from cached products (``F x_prev``, ``F dx``,
``W z0``), the decoder loss O(1) from cached dot products, and the weight updates of
all those steps reduce to a few scalar sums of powers of ``lambda`` and of the fade
coefficient ``a``. The sums are applied ("flushed") in one O(N_z N_x) update when a
neuron spikes or the presentation ends; the step with the spike itself is applied
exactly.

With ``exact=True`` every step is flushed on its own and the kernel reproduces
:func:`dbcode.model.rules.reference_step` to float precision. In the event-driven mode
(``exact=False``) the weights that enter the potentials and the updates are those of
the last event (at most one inter-spike interval old), the scheme of the authors'
simulations; ``tests/model/test_engine.py`` bounds its effect on weights and loss.

Homeostasis and annealing are applied every step in both modes.

How the spikes are drawn is a separate choice (``Params.engine``). The *per-step* mode
tests every neuron in every step against a uniform number (Eq 2/11). The
*spike-to-spike* mode (``skip=True``) visits only the steps in which some neuron may
spike, exactly in distribution, by thinning. Between events a neuron's potential is a
constant plus a term linear in the fade coefficient, a term geometric in the trace
factor and a bias drifting linearly (homeostasis), over a ``sigma**2`` moving
monotonically to its final value, so :func:`bound_probabilities` bounds its spike
probability by ``q_j`` over a window of steps. Each step is then a *candidate* for
neuron ``j`` with probability ``q_j``, independently: the next step with any candidate
is a geometric draw with ``1 - prod_j (1 - q_j)``, its first candidate neuron a binary
search in the cumulative probabilities, further candidates geometric skips over the
neurons (thinned from ``max q``). A candidate spikes with probability ``sigmoid(u) /
q_j`` from its true potential, so every neuron spikes in every step with probability
``sigmoid(u)``, independently, as in the per-step mode. After a spike (which changes
the potentials) the bounds are brought up to date; a neuron's bound is computed again
only when it no longer holds or has become loose by a factor of about two. The per-step
scalar work (loss, window sums, annealing) stays. Both modes draw from the kernel's own
generator (:mod:`dbcode.model.prng`), and neither gives the other's spikes.

Every function is compiled without ``fastmath`` and computes its sums in an order
written out in the code (interleaved partial sums, see :func:`dbcode.model.fpmath.dot`), and
the spike probability uses :func:`dbcode.model.fpmath.exp` rather than the C library: the
same seed gives the same bits on every x86-64 CPU (``tests/model/test_reproducibility.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dbcode.model.fpmath import (
    LANES,
    axpy_row_dot,
    axpy_rows_dot,
    dot,
    exp,
    exp_lower_bound,
    log,
    matvec,
    row_dot,
    row_dots4,
)
from dbcode.model.prng import geometric, uniform

SB, DB, DB_SLOW, DB_SIM = 0, 1, 2, 3
VARIANT_CODES = {"sb": SB, "db": DB, "db-slow": DB_SLOW, "db-simultaneous": DB_SIM}

# indices into the per-step rate vector
R_F, R_D, R_W, R_B, R_FBAR, R_DECAY, R_SIGMA = range(7)
# indices into the window sums: count, sums over steps of wA, a wA, wA^2 (rules driven
# by z(t-1) = wA zA), of wB, a wB, wB^2 (rules driven by z(t) = wB zB) and of wA wB
S_N, S_A1, S_AA, S_A2, S_B1, S_BA, S_B2, S_AB = range(8)
# spike-to-spike mode: a neuron's probability bound is computed from its potential's
# bound plus SLACK, and computed again when that bound rises above it or falls by more
# than RETIGHTEN (a factor of about e**0.7 = 2 in probability)
SLACK, RETIGHTEN = 0.05, 0.7


@njit(cache=True, inline="always")
def spikes(u, uniform, not_below):
    """Whether a neuron with potential ``u`` spikes, given its uniform random number:
    ``uniform < sigmoid(u)``, decided as ``uniform (1 + exp(-u)) < 1`` (Eq 2/11).

    Most steps are decided without the exponential: ``not_below = 1 +
    exp_lower_bound(-u)`` is at most ``1 + exp(-u)`` and rounding is monotonic, so
    ``uniform not_below >= 1`` already means no spike. The decision is the same bit for
    bit.
    """
    if uniform * not_below >= 1.0:
        return False
    return uniform * (1.0 + exp(-u)) < 1.0


@njit(cache=True)
def _floored(f, floor):
    if f < 0.0:
        return min(f, -floor)
    return max(f, floor)


@njit(cache=True, _nrt=False)
def _dendritic_inhibition(W3, zA, out):
    """out[j, i] = sum_k W3[j, i, k] zA[k] (local inhibition of each dendrite)."""
    n_z, n_x, _ = W3.shape
    for j in range(n_z):
        for i in range(n_x):
            out[j, i] = dot(W3[j, i], zA)


@njit(cache=True, inline="always")
def _axpy_row(M, k, g, v):
    """``M[k] += g v`` (indexed, not through a row view, which compiled code would have
    to reference-count)."""
    for i in range(M.shape[1]):
        M[k, i] += g * v[i]


@njit(cache=True, inline="always")
def _decoder_factor(xp, dx, Dz, eta_D, b1, ba, b2, r):
    """The window's decoder update is ``dD = r z^T`` (Eq 10 summed): ``r = eta_D (b1 xp +
    ba dx - b2 D z)``, written into ``r`` (zero when the decoder does not learn)."""
    if eta_D == 0.0:
        r[:] = 0.0
    else:
        for i in range(r.shape[0]):
            r[i] = eta_D * (b1 * xp[i] + ba * dx[i] - b2 * Dz[i])
    return r


@njit(cache=True, inline="always")
def _db_input_factor(xp, dx, Fz, b1, ba, b2, r_xp, r_dx, v):
    """Analytic DB's window update is ``dF = eta_F z v^T`` (Eq 5/9 summed, decoder
    estimated by ``F^T``): ``v = b1 xp + ba dx - b2 F^T z`` into ``v``; returns how a
    unit of ``g = eta_F z_j`` moves ``F_j xp`` and ``F_j dx``."""
    for i in range(v.shape[0]):
        v[i] = b1 * xp[i] + ba * dx[i] - b2 * Fz[i]
    return r_xp - b2 * dot(Fz, xp), r_dx - b2 * dot(Fz, dx)


@njit(cache=True, inline="always")
def _db_input_row(F, Dt, Fxp, Fdx, j, g, v, dxp, ddx, c, r, h):
    """``D_j += h r`` (the decoder's update, Eq 10; none when ``h`` is zero), ``F_j +=
    g v`` and the cached ``F_j xp``, ``F_j dx`` with it; ``c_j = W_jj / 4 = -F_j . D_j /
    4`` (``W = -F D``) from the new rows, all in one pass."""
    if h == 0.0:
        c[j] = -axpy_row_dot(F, v, g, Dt, j) / 4.0
    else:
        c[j] = -axpy_rows_dot(F, v, g, Dt, r, h, j) / 4.0
    Fxp[j] += g * dxp
    Fdx[j] += g * ddx


@njit(cache=True, _nrt=False)
def _flush(variant, zA, zB, sums, inputs, weights, rates, floor, products, work, c):
    """Apply the summed updates of a window (or of one step) with frozen weights.

    ``inputs = (xp, dx, gram)``, ``weights = (F, Dt, Wt, W3, Fbar)``, ``products = (Dz,
    Fz, Fxp, Fdx, WzA)`` and ``work = (work_r, work_v, work_drive, work_zx, work_idx)`` travel as
    tuples (unpacked at no cost in compiled code).

    Over the window the input is ``xp + a dx``, ``z(t-1) = wA zA`` and ``z(t) = wB zB``;
    ``sums`` holds the sums of the scalar weights (see ``S_*``). For a single step
    ``sums = (1, 1, a, 1, 1, a, 1, 1)`` and the update equals the per-step rules.

    The decoder and SB's inhibition are held transposed, ``Dt = D^T`` and ``Wt = W^T``
    (rows contiguous per neuron, so that a neuron's column is one contiguous row). The
    caller passes the products of the current weights ``Dz = D zB``, ``Fz = F^T zB``
    (DB), ``Fxp = F xp``,
    ``Fdx = F dx`` and ``WzA = W zA`` (SB); ``Fxp`` and ``Fdx`` are brought up to date
    with the new ``F`` (incrementally for SB and DB, whose updates are low-rank).
    ``gram`` holds ``(xp.xp, xp.dx, dx.dx)``. The low-rank factors of the updates are
    left in ``work_r`` (``dD = work_r zB^T``), ``work_drive`` (SB: ``dW = -work_drive
    zA^T``) and ``work_v`` (DB: ``dF = eta_F zB work_v^T``) for :func:`_advance_base`.
    Analytic DB with a learning ``F`` also leaves ``c_j = W_jj / 4`` of the moved rows in
    ``c`` (computed with each row's update, the decoder updated first).
    """
    xp, dx, gram = inputs
    F, Dt, Wt, W3, Fbar = weights
    Dz, Fz, Fxp, Fdx, WzA = products
    work_r, work_v, work_drive, work_zx, _ = work
    n_z, n_x = F.shape
    n, a1, aa, a2, b1, ba, b2, ab = (
        sums[S_N],
        sums[S_A1],
        sums[S_AA],
        sums[S_A2],
        sums[S_B1],
        sums[S_BA],
        sums[S_B2],
        sums[S_AB],
    )
    eta_F, eta_D, eta_W = rates[R_F], rates[R_D], rates[R_W]
    # window sums of x weighted by z(t): r = sum_t wB x(t); its products with xp and dx
    r_xp = b1 * gram[0] + ba * gram[1]
    r_dx = b1 * gram[1] + ba * gram[2]

    # Eq 10: dD = eta_D (x - D z) z^T summed over the window (on the transpose Dt)
    r = _decoder_factor(xp, dx, Dz, eta_D, b1, ba, b2, work_r)
    # (analytic DB with a learning F moves each row of Dt in the pass over its row of F)
    if eta_D != 0.0 and not (variant == DB and eta_F != 0.0):
        for k in range(n_z):
            if zB[k] != 0.0:
                _axpy_row(Dt, k, zB[k], r)

    if variant == SB:
        # Eq 4/16 with ubar = F x + W z(t-1), from the weights before this update
        if eta_W != 0.0:
            drive = work_drive
            for j in range(n_z):
                drive[j] = eta_W * (a1 * Fxp[j] + aa * Fdx[j] + a2 * WzA[j])
            # only the columns of the non-zero traces change: rows of Wt
            for k in range(n_z):
                g = zA[k]
                if g == 0.0:
                    continue
                for j in range(n_z):
                    Wt[k, j] -= drive[j] * g
        # Eq 6/15: dF_ji = eta_F (x_i z_j - F_ji z_j^2)
        if eta_F != 0.0:
            rx = work_v  # sum over the window of x weighted by z(t)
            for i in range(n_x):
                rx[i] = b1 * xp[i] + ba * dx[i]
            for j in range(n_z):
                zj = zB[j]
                if zj == 0.0:
                    continue
                g = eta_F * zj
                h = b2 * zj
                for i in range(n_x):
                    F[j, i] += g * (rx[i] - h * F[j, i])
                Fxp[j] += g * (r_xp - h * Fxp[j])
                Fdx[j] += g * (r_dx - h * Fdx[j])
    elif variant == DB:
        # Eq 5/9 with the decoder estimated by F^T: dF = eta_F z (x - F^T z)^T
        if eta_F != 0.0:
            dxp, ddx = _db_input_factor(xp, dx, Fz, b1, ba, b2, r_xp, r_dx, work_v)
            for j in range(n_z):
                if zB[j] != 0.0:
                    h = zB[j] if eta_D != 0.0 else 0.0
                    _db_input_row(F, Dt, Fxp, Fdx, j, eta_F * zB[j], work_v, dxp, ddx, c, r, h)
    else:
        # Eq 7/8: u_ji = F_ji x_i + (W3 z(t-1))_ji, dW3_jik = -eta_W u_ji z_k(t-1)
        inh = work_zx
        _dendritic_inhibition(W3, zA, inh)
        eta_Fbar, decay = rates[R_FBAR], rates[R_DECAY]
        for j in range(n_z):
            zj = zB[j]
            for i in range(n_x):
                f = F[j, i]
                if variant == DB_SLOW:
                    # SI: dFbar = eta z_j u_ji; dF = eta (Fbar / F - F) with the old Fbar
                    df = eta_F * n * (Fbar[j, i] / _floored(f, floor) - f)
                    Fbar[j, i] += eta_Fbar * zj * (f * (b1 * xp[i] + ba * dx[i]) + ab * inh[j, i])
                else:
                    # SI: dF = eta z_j (x_i + (u_ji - F_ji x_i) / F_ji) - lambda F
                    df = (
                        eta_F * zj * (b1 * xp[i] + ba * dx[i] + ab * inh[j, i] / _floored(f, floor))
                        - decay * n * f
                    )
                if eta_W != 0.0 or decay != 0.0:
                    ubar_w = f * (a1 * xp[i] + aa * dx[i]) + a2 * inh[j, i]
                    g = eta_W * ubar_w
                    if variant == DB_SIM:
                        dec = decay * n
                        for k in range(n_z):
                            W3[j, i, k] -= g * zA[k] + dec * W3[j, i, k]
                    else:
                        for k in range(n_z):
                            W3[j, i, k] -= g * zA[k]
                F[j, i] = f + df
        _input_drive(F, xp, dx, Fxp, Fdx)


@njit(cache=True, _nrt=False)
def _input_drive(F, xp, dx, Fxp, Fdx):
    """Fxp = F xp, Fdx = F dx."""
    matvec(F, xp, Fxp)
    matvec(F, dx, Fdx)


@njit(cache=True, _nrt=False)
def _decode(Dt, z, out):
    """Read-out ``out = D z`` from the transposed decoder ``Dt`` (or ``F^T z`` from
    ``F``)."""
    out[:] = 0.0
    for k in range(Dt.shape[0]):
        g = z[k]
        if g == 0.0:
            continue
        for i in range(Dt.shape[1]):
            out[i] += g * Dt[k, i]


@njit(cache=True, _nrt=False)
def _refresh(variant, weights, z0, Wz0, c, Dz0, Fz0, lanes):
    """Recompute the products with the base traces ``z0`` after they or the weights
    changed: ``Dz0 = D z0``, ``Fz0 = F^T z0`` (DB), the inhibitory drive ``Wz0 = W z0``
    and ``c = diag(W)/4``."""
    F, Dt, Wt, W3, _ = weights
    _decode(Dt, z0, Dz0)
    if variant == DB:
        _decode(F, z0, Fz0)
    _inhibition_of_base(variant, F, Dt, Wt, W3, z0, Wz0, c, Dz0, lanes)


@njit(cache=True, _nrt=False)
def _advance_base(variant, z0, lw, spike, weights, rates, base, c, work, trace_floor):
    """After a window flush with base ``z0`` (``zA = zB = z0``) of SB or analytic DB, move
    the base to ``z0' = lw z0 + s`` and update the cached products without full matrix
    products: ``D' z0' = lw (D z0 + r |z0|^2) + sum_k s_k D'[:, k]`` with the low-rank
    factor ``r`` of the decoder update, and likewise ``F'^T z0'`` (DB) and ``W' z0'``
    (SB). Traces that fall below ``trace_floor`` are cut to zero and their remainders
    taken out of the products. The diagonal of ``W`` moved only where the flush moved
    rows (DB: ``F_j``, ``D_j``; SB: column ``j`` of ``W``), the rows of the window's
    non-zero traces; analytic DB's flush took it in the pass that moved the rows, unless
    ``F`` does not learn. Analytic DB's inhibition ``W' z0' = -F' D' z0'`` still needs
    one pass over ``F``.

    The matrices are read row by row in separate passes: updating row ``j`` of ``F``
    and of ``D`` in turn would make loads wait on stores to the other matrix at the same
    address modulo 4 kB (the matrices are equal-sized multiples of pages).
    """
    F, Dt, Wt, _, _ = weights
    Dz0, Fz0, _, _, Wz0 = base
    work_r, work_v, work_drive, _, active = work
    n_z, n_x = F.shape
    zz = dot(z0, z0)
    n_active = 0
    for j in range(n_z):
        if z0[j] != 0.0:
            active[n_active] = j
            n_active += 1
    for i in range(n_x):
        Dz0[i] = lw * (Dz0[i] + work_r[i] * zz)
    if variant == DB:
        g = rates[R_F] * zz
        for i in range(n_x):
            Fz0[i] = lw * (Fz0[i] + (g * work_v[i] if g != 0.0 else 0.0))
        if rates[R_F] == 0.0:  # else the flush left the moved rows' c (_db_input_row)
            _diagonal_db(F, Dt, active, n_active, c)
    elif rates[R_W] != 0.0:
        for j in range(n_z):
            Wz0[j] = lw * (Wz0[j] - work_drive[j] * zz)
        for m in range(n_active):
            j = active[m]
            c[j] = Wt[j, j] / 4.0
    else:
        for j in range(n_z):
            Wz0[j] = lw * Wz0[j]
    # the moved traces; the neurons that spike or whose trace is cut, in increasing k
    # (the order in which their columns enter the products), without a branch per neuron
    events = active
    n_events = 0
    for k in range(n_z):
        zk = lw * z0[k] + spike[k]
        z0[k] = zk
        events[n_events] = k
        n_events += 1 if spike[k] != 0.0 or (zk != 0.0 and zk < trace_floor) else 0
    for e in range(n_events):
        k = events[e]
        if spike[k] != 0.0:
            _add_row(Dz0, Dt, k)
            if variant == DB:
                _add_row(Fz0, F, k)
            else:
                _add_row(Wz0, Wt, k)
        else:
            zk = z0[k]
            z0[k] = 0.0
            _subtract_row(Dz0, zk, Dt, k)
            if variant == DB:
                _subtract_row(Fz0, zk, F, k)
            else:
                _subtract_row(Wz0, zk, Wt, k)
    if variant == DB:
        matvec(F, Dz0, Wz0)
        for j in range(n_z):
            Wz0[j] = -Wz0[j]


@njit(cache=True, _nrt=False)
def _diagonal_db(F, Dt, rows, n_rows, c):
    """``c_j = W_jj / 4 = -F_j . D_j / 4`` (analytic DB, ``W = -F D``) for the neurons
    ``rows[:n_rows]``, four at a time."""
    m = n_rows - n_rows % 4
    for i in range(0, m, 4):
        j0, j1, j2, j3 = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
        d0, d1, d2, d3 = row_dots4(F, Dt, j0, j1, j2, j3)
        c[j0], c[j1], c[j2], c[j3] = -d0 / 4.0, -d1 / 4.0, -d2 / 4.0, -d3 / 4.0
    for i in range(m, n_rows):
        c[rows[i]] = -row_dot(F, Dt, rows[i]) / 4.0


@njit(cache=True, inline="always")
def _add_row(out, M, k):
    """``out += M[k]``."""
    for i in range(out.shape[0]):
        out[i] += M[k, i]


@njit(cache=True, inline="always")
def _subtract_row(out, g, M, k):
    """``out -= g M[k]``."""
    for i in range(out.shape[0]):
        out[i] -= g * M[k, i]


@njit(cache=True, _nrt=False)
def _somatic_drive(Wt, z, out, lanes):
    """``out = W z`` from the transposed ``Wt = W^T`` with the bits of ``dot(W[j], z)``
    for every ``j``: the sixteen partial sums of :func:`dbcode.model.fpmath.dot_reference`
    are kept for all ``j`` at once (``lanes[l, j]``, a (16, N_z) work array) and the rows
    of ``Wt`` added to them in order, so that the work runs along contiguous rows."""
    n = Wt.shape[0]
    m = n - n % 4
    lanes[:, :] = 0.0
    for k in range(m):
        g = z[k]
        lane = k % LANES
        for j in range(Wt.shape[1]):
            lanes[lane, j] += Wt[k, j] * g
    for j in range(Wt.shape[1]):
        t0 = (lanes[0, j] + lanes[4, j]) + (lanes[8, j] + lanes[12, j])
        t1 = (lanes[1, j] + lanes[5, j]) + (lanes[9, j] + lanes[13, j])
        t2 = (lanes[2, j] + lanes[6, j]) + (lanes[10, j] + lanes[14, j])
        t3 = (lanes[3, j] + lanes[7, j]) + (lanes[11, j] + lanes[15, j])
        acc = (t0 + t1) + (t2 + t3)
        for k in range(m, n):
            acc += Wt[k, j] * z[k]
        out[j] = acc


@njit(cache=True, _nrt=False)
def _inhibition_of_base(variant, F, Dt, Wt, W3, z0, Wz0, c, Dz0, lanes):
    """``Wz0 = W z0`` and ``c = diag(W)/4`` for the somatic inhibition of each variant
    (``Dz0 = D z0`` must be current)."""
    n_z, n_x = F.shape
    if variant == SB:
        _somatic_drive(Wt, z0, Wz0, lanes)
        for j in range(n_z):
            c[j] = Wt[j, j] / 4.0
    elif variant == DB:
        # W = -F D: W z0 = -F (D z0) and W_jj = -sum_i F_ji D_ij, without forming W
        for j in range(n_z):
            Wz0[j] = -row_dot(F, Dz0, j)
            c[j] = -row_dot(F, Dt, j) / 4.0
    else:
        for j in range(n_z):
            acc = 0.0
            diag = 0.0
            for i in range(n_x):
                acc += dot(W3[j, i], z0)
                diag += W3[j, i, j]
            Wz0[j] = acc
            c[j] = diag / 4.0


@njit(cache=True, _nrt=False)
def log1m(q):
    """``log(1 - q)``, accurate also for tiny ``q`` (``log(u) (-q) / (u - 1)`` with
    ``u = 1 - q`` rounded: Goldberg's correction)."""
    u = 1.0 - q
    if u == 1.0:
        return -q
    if u <= 0.0:
        return -np.inf
    return log(u) * (-q) / (u - 1.0)


@njit(cache=True, _nrt=False)
def bound_probabilities(
    Fxp,
    Fdx,
    Wz0,
    c,
    b,
    w_now,
    w_end,
    a_now,
    a_end,
    n_ahead,
    db,
    s2_lo,
    s2_hi,
    bias_outside,
    u_bound,
    q,
    cum,
):
    """Upper bounds ``q_j`` of every neuron's spike probability over a window of steps,
    the cumulative candidate probabilities ``cum`` and ``(Q, q_max)``.

    While nobody spikes, neuron ``j``'s potential over the window is the sum of a
    constant (``F x_prev + c``), a term linear in the fade coefficient ``a`` (``a F
    dx``), a term geometric in the trace factor ``w`` (``w W z0``), a bias that drifts
    by ``db`` per step (homeostasis), all divided by a ``sigma**2`` that moves
    monotonically towards its final value. Each term is monotonic in the step, so its
    maximum over the window is at an end; their sum bounds the potential, and the
    sigmoid of that bound (Eq 2) bounds the probability. ``w_end`` must not exceed the
    true factor at the window's end and ``[s2_lo, s2_hi]`` must contain every
    ``sigma**2`` of the window; the bound is widened by a relative ``1e-9`` against
    rounding.

    A neuron keeps its ``q_j`` from an earlier window while its potential's bound ``u``
    over this window stays below the ``u_bound`` its ``q_j`` was computed from and
    above ``u_bound - RETIGHTEN`` (start with ``u_bound = -inf``); otherwise ``q_j`` is
    computed again from ``u + SLACK`` (the slack lets small increases, such as those of a
    learning step, keep the bound). ``cum[j] = 1 - prod_{i<j} (1 - q_i)`` (computed
    without cancellation) is the probability that one of the neurons before ``j`` is a
    candidate.

    Returns
    -------
    Q, q_max, n_new : float, float, int
        ``cum[N_z]``, the largest ``q_j`` and how many bounds were computed again.
    """
    n_z = q.shape[0]
    cum[0] = 0.0
    q_max = 0.0
    n_new = 0
    drift = max(0.0, n_ahead * db)
    for j in range(n_z):
        fd = Fdx[j]
        wz = Wz0[j]
        top = Fxp[j] + c[j] + max(a_now * fd, a_end * fd) + max(w_now * wz, w_end * wz)
        bj = b[j] + drift
        if bias_outside:
            u = top / (s2_lo if top >= 0.0 else s2_hi) + bj
        else:
            num = top + bj
            u = num / (s2_lo if num >= 0.0 else s2_hi)
        u += 1e-9 * (1.0 + abs(u))
        if u > u_bound[j] or u < u_bound[j] - RETIGHTEN:
            u_bound[j] = u + SLACK
            q[j] = min(1.0, (1.0 + 1e-12) / (1.0 + exp(-u_bound[j])))
            n_new += 1
        qj = q[j]
        cum[j + 1] = cum[j] + qj * (1.0 - cum[j])
        if qj > q_max:
            q_max = qj
    return cum[n_z], q_max, n_new


@njit(cache=True, _nrt=False)
def first_candidate(cum, v):
    """The smallest ``j`` with ``cum[j + 1] > v`` (binary search; ``v < cum[-1]``)."""
    lo, hi = 0, cum.shape[0] - 2
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid + 1] > v:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, inline="always")
def _log_spike(spike_log, diagnostics, t, j):
    """Write spike ``(step, neuron)`` into the next row of ``spike_log`` while it lasts."""
    row = diagnostics[3]
    if row < spike_log.shape[0]:
        spike_log[row, 0] = diagnostics[4] + t
        spike_log[row, 1] = j
    diagnostics[3] = row + 1


@njit(cache=True)
def run_presentations(
    variant,
    images,
    order,
    x_start,
    rng,
    n_steps,
    n_fade,
    F,
    Dt,
    Wt,
    W3,
    Fbar,
    b,
    z,
    sigma_box,
    rates,
    trace_decay,
    trace_floor,
    target,
    sigma2_final,
    floor,
    bias_outside,
    exact,
    skip,
    horizon_steps,
    diagnostics,
    spike_log,
    loss_out,
    count_out,
    rec_s,
    rec_z,
    rec_exc,
    rec_inh,
    rec_u,
):
    """Run the presentations ``images[order]``, updating the state arrays in place.

    Parameters
    ----------
    variant : int
        One of ``SB, DB, DB_SLOW, DB_SIM``.
    images : (n_images, N_x) array; order : (n_pres,) int array
    x_start : (N_x,) array
        The image shown before the first presentation (the first fade starts there).
    rng : (4,) uint64 array
        State of the spiking noise's generator (:mod:`dbcode.model.prng`), advanced in
        place, so that a run's noise does not depend on how it is cut into calls.
    n_steps, n_fade : int
        Steps per presentation and steps of the linear fade.
    F, Dt, Wt, W3, Fbar, b, z : arrays
        State (``Dt`` is the transposed decoder ``D^T``, shape (N_z, N_x); ``Wt = W^T``,
        the transposed somatic inhibition, is used by SB, ``W3``/``Fbar`` by the
        dendritic variants).
    sigma_box : (1,) array
        ``sigma``, updated in place.
    rates : (7,) array
        Per-step rates (see ``R_*``); all zero for a test evaluation.
    trace_decay, trace_floor, target, sigma2_final, floor : float
        ``exp(-dt/tau)``, the value below which a trace is cut to zero (0: never; see
        :func:`dbcode.model.rules.trace_threshold`), ``rho dt``, final ``sigma^2``,
        floor of ``|F|``.
    bias_outside, exact : bool
    skip : bool
        Spike-to-spike mode (ignored with ``exact``): draw the next step in which a
        neuron may spike by thinning instead of testing every neuron in every step.
    horizon_steps : int
        Longest window over which the spike-to-spike mode bounds the probabilities.
    diagnostics : (5,) int array
        Incremented in place: candidate neurons tested, probability bounds computed,
        candidates whose true probability exceeded their bound (must stay 0), spikes
        (the index of the next row of ``spike_log``) and steps run.
    spike_log : (n_log, 2) int array
        Step (counted over all calls that share ``diagnostics``) and neuron of the
        first ``n_log`` spikes (``n_log`` may be 0).
    loss_out : (n_pres,) array
        Mean decoder loss (Eq 1) per presentation.
    count_out : (n_pres, N_z) int array
        Spikes per presentation and neuron.
    rec_s, rec_z, rec_exc, rec_inh, rec_u : (n_rec, N_z) arrays
        Spikes, traces, excitatory drive ``F x``, inhibitory drive ``W z(t-1) + c`` and
        potentials of the first ``n_rec`` steps (``n_rec`` may be 0).
    """
    n_z, n_x = F.shape
    n_rec = rec_s.shape[0]
    learning = (
        rates[R_F] != 0.0
        or rates[R_D] != 0.0
        or rates[R_W] != 0.0
        or rates[R_FBAR] != 0.0
        or rates[R_DECAY] != 0.0
    )
    eta_b, eta_sigma = rates[R_B], rates[R_SIGMA]
    lam = trace_decay
    inv_2nx = 1.0 / (2.0 * n_x)

    xp, z0 = x_start.copy(), z.copy()
    sums, one, gram = np.zeros(8), np.ones(8), np.zeros(3)
    # per neuron: traces, spikes, input drive, inhibition, self-inhibition, SB's drive
    zA, zB, spike = np.zeros(n_z), np.zeros(n_z), np.zeros(n_z)
    Fxp, Fdx, Wz0, c = np.zeros(n_z), np.zeros(n_z), np.zeros(n_z), np.zeros(n_z)
    WzA, work_drive = np.zeros(n_z), np.zeros(n_z)
    # per input: input change, read-outs, residual, low-rank factors of the updates
    dx, Dz0, Dz, resid = np.zeros(n_x), np.zeros(n_x), np.zeros(n_x), np.zeros(n_x)
    Fz0, Fz, work_v, work_r = np.zeros(n_x), np.zeros(n_x), np.zeros(n_x), np.zeros(n_x)
    work_zx = np.zeros((n_z, n_x)) if variant >= DB_SLOW else np.zeros((1, 1))
    # traces cut to zero in a step (neuron, value before the cut)
    cut_idx, cut_val = np.zeros(n_z, dtype=np.int64), np.zeros(n_z)
    inputs = (xp, dx, gram)
    weights = (F, Dt, Wt, W3, Fbar)
    base = (Dz0, Fz0, Fxp, Fdx, Wz0)  # products with the base traces z0 of a window
    step = (Dz, Fz, Fxp, Fdx, WzA)  # products with the traces of one step
    work_idx = np.zeros(n_z, dtype=np.int64)  # the neurons with non-zero traces
    work = (work_r, work_v, work_drive, work_zx, work_idx)
    sigma = sigma_box[0]
    # SB and DB have no update driven by both z(t-1) and z(t) of the same step, so in
    # the event-driven mode a spike needs one flush instead of two
    split = not exact and variant <= DB
    t = 0
    # spike-to-spike mode: bounds q of the spike probabilities over a window of steps,
    # their cumulative candidate probabilities, the neurons that spiked in the last step
    use_skip = skip and not exact
    db = eta_b * target  # homeostatic drift of every bias per step without a spike
    b_lag = 0.0  # steps whose drift is not yet added to b (spike-to-spike mode)
    q, cum, u_bound = np.zeros(n_z), np.zeros(n_z + 1), np.full(n_z, -np.inf)
    window = horizon_steps
    # with frozen weights (a test evaluation) a spike moves the inhibitory drive by a
    # column of W: frozen_inhibition[k] = W[:, k] (W = -F D for analytic DB)
    frozen_inhibition = np.zeros((n_z, n_z)) if not learning else np.zeros((1, 1))
    if not learning:
        for k in range(n_z):
            for j in range(n_z):
                if variant == SB:
                    frozen_inhibition[k, j] = Wt[k, j]
                elif variant == DB:
                    frozen_inhibition[k, j] = -dot(F[j], Dt[k])
                else:
                    acc = 0.0
                    for i in range(n_x):
                        acc += W3[j, i, k]
                    frozen_inhibition[k, j] = acc
    fired = np.zeros(n_z, dtype=np.int64)
    u_step, not_below = np.zeros(n_z), np.zeros(n_z)  # per-step mode: potentials, bounds
    lanes = np.zeros((LANES, n_z)) if variant == SB else np.zeros((LANES, 1))
    n_fired = 0
    lam_pow = np.ones(horizon_steps + 1)
    for n in range(1, horizon_steps + 1):
        lam_pow[n] = lam_pow[n - 1] * lam
    sigma_final = np.sqrt(sigma2_final)
    Q, q_max, log_fail, log_qmax = 0.0, 0.0, 0.0, 0.0

    for p in range(order.shape[0]):
        x_new = images[order[p]]
        for i in range(n_x):
            dx[i] = x_new[i] - xp[i]
        _input_drive(F, xp, dx, Fxp, Fdx)
        _refresh(variant, weights, z0, Wz0, c, Dz0, Fz0, lanes)
        pp = dot(xp, xp)
        pd = dot(xp, dx)
        dd = dot(dx, dx)
        gram[0] = pp
        gram[1] = pd
        gram[2] = dd
        qp = dot(xp, Dz0)
        qd = dot(dx, Dz0)
        rr = dot(Dz0, Dz0)
        w = 1.0  # z(t-1) = w z0 within the current window
        sums[:] = 0.0
        loss_sum = 0.0
        # bounds start afresh with every presentation, so that a run's spikes do not
        # depend on where it is cut into kernel calls
        valid, horizon, next_cand = False, -1, 0.0
        u_bound[:] = -np.inf
        for k in range(n_steps):
            a = 1.0 if n_fade == 0 else min(1.0, (k + 1.0) / n_fade)
            inv_s2 = 1.0 / (sigma * sigma)
            any_spike = False
            per_step = not use_skip or t < n_rec
            if not per_step and (not valid or k > horizon):
                if eta_sigma != 0.0 and eta_sigma * (sigma_final + sigma) >= 0.5 * sigma:
                    per_step = True  # annealing might overshoot: no monotonic bound
                else:
                    if b_lag > 0.0:
                        for j in range(n_z):
                            b[j] += b_lag * db
                        b_lag = 0.0
                    if k > horizon:  # a new window; else the rest of the current one
                        horizon = min(n_steps - 1, k + window)
                    n_ahead = horizon - k
                    a_end = 1.0 if n_fade == 0 else min(1.0, (horizon + 1.0) / n_fade)
                    s2 = sigma * sigma
                    s2_lo, s2_hi = s2, s2
                    if eta_sigma != 0.0:
                        s2_lo = min(s2, sigma2_final) * (1.0 - 1e-12)
                        s2_hi = max(s2, sigma2_final) * (1.0 + 1e-12)
                    Q, q_max, n_new = bound_probabilities(
                        Fxp,
                        Fdx,
                        Wz0,
                        c,
                        b,
                        w,
                        w * lam_pow[n_ahead] * (1.0 - 1e-12),
                        a,
                        a_end,
                        n_ahead,
                        db,
                        s2_lo,
                        s2_hi,
                        bias_outside,
                        u_bound,
                        q,
                        cum,
                    )
                    log_fail, log_qmax = log1m(Q), log1m(q_max)
                    next_cand = k + geometric(rng, log_fail)
                    valid = True
                    diagnostics[1] += n_new
            for i in range(n_fired):
                spike[fired[i]] = 0.0
            n_fired = 0
            if per_step:
                if b_lag > 0.0:
                    for j in range(n_z):
                        b[j] += b_lag * db
                    b_lag = 0.0
                valid = False
                # the potentials in one pass the compiler vectorises, then the noise,
                # neuron by neuron in the generator's order
                for j in range(n_z):
                    exc = Fxp[j] + a * Fdx[j]
                    inh = w * Wz0[j] + c[j]
                    if bias_outside:
                        u = (exc + inh) * inv_s2 + b[j]
                    else:
                        u = (exc + inh + b[j]) * inv_s2
                    u_step[j] = u
                    not_below[j] = 1.0 + exp_lower_bound(-u)
                for j in range(n_z):
                    if spikes(u_step[j], uniform(rng), not_below[j]):
                        spike[j] = 1.0
                        fired[n_fired] = j
                        n_fired += 1
                        any_spike = True
                        count_out[p, j] += 1
                        _log_spike(spike_log, diagnostics, t, j)
                if t < n_rec:
                    for j in range(n_z):
                        rec_s[t, j] = spike[j]
                        rec_exc[t, j] = Fxp[j] + a * Fdx[j]
                        rec_inh[t, j] = w * Wz0[j] + c[j]
                        rec_u[t, j] = u_step[j]
            elif k == next_cand:
                # the candidates of this step: the first by its cumulative probability,
                # the others independently with q_j (proposed with q_max, thinned)
                j = first_candidate(cum, uniform(rng) * Q)
                while j < n_z:
                    diagnostics[0] += 1
                    exc = Fxp[j] + a * Fdx[j]
                    inh = w * Wz0[j] + c[j]
                    bj = b[j] + b_lag * db
                    if bias_outside:
                        u = (exc + inh) * inv_s2 + bj
                    else:
                        u = (exc + inh + bj) * inv_s2
                    ratio = q[j] * (1.0 + exp(-u))  # q_j / sigmoid(u)
                    if ratio < 1.0:
                        diagnostics[2] += 1
                    if uniform(rng) * ratio < 1.0:  # spike with probability sigmoid(u)/q_j
                        spike[j] = 1.0
                        fired[n_fired] = j
                        n_fired += 1
                        any_spike = True
                        count_out[p, j] += 1
                        _log_spike(spike_log, diagnostics, t, j)
                    nxt = j + 1
                    while nxt < n_z:
                        gap = geometric(rng, log_qmax)
                        if nxt + gap >= n_z:
                            nxt = n_z
                            break
                        nxt += int(gap)
                        if uniform(rng) * q_max < q[nxt]:
                            break
                        nxt += 1
                    j = nxt
                if any_spike:
                    valid = False
                else:
                    next_cand = k + 1.0 + geometric(rng, log_fail)
            if any_spike and learning and split:
                # step t's z(t-1)-driven updates close the old window (base z0); its
                # z(t)-driven updates open the next one, whose base is z(t) itself
                sums[S_A1] += w
                sums[S_AA] += a * w
                sums[S_A2] += w * w
                _flush(variant, z0, z0, sums, inputs, weights, rates, floor, base, work, c)
                _advance_base(
                    variant, z0, lam * w, spike, weights, rates, base, c, work, trace_floor
                )
                sums[:] = 0.0
                sums[S_B1] = 1.0
                sums[S_BA] = a
                sums[S_B2] = 1.0
                w = 1.0
                qp = dot(xp, Dz0)
                qd = dot(dx, Dz0)
                rr = dot(Dz0, Dz0)
                loss_sum += (pp + 2.0 * a * pd + a * a * dd - 2.0 * (qp + a * qd) + rr) * inv_2nx
            elif any_spike or (exact and (learning or trace_floor > 0.0)):
                if sums[S_N] > 0.0:
                    _flush(variant, z0, z0, sums, inputs, weights, rates, floor, base, work, c)
                    sums[:] = 0.0
                n_cut = 0
                for j in range(n_z):
                    zA[j] = w * z0[j]
                    zj = lam * zA[j] + spike[j]
                    if zj != 0.0 and zj < trace_floor:
                        cut_idx[n_cut] = j
                        cut_val[n_cut] = zj
                        n_cut += 1
                        zj = 0.0
                    zB[j] = zj
                # the loss of this step uses z(t) and the decoder before its update
                lw = lam * w
                if learning:
                    _decode(Dt, zB, Dz)
                else:  # frozen weights: D z(t) = lam w D z0 + the columns of the spikes
                    for i in range(n_x):
                        Dz[i] = lw * Dz0[i]
                    for f in range(n_fired):
                        row = Dt[fired[f]]
                        for i in range(n_x):
                            Dz[i] += row[i]
                    for f in range(n_cut):
                        row = Dt[cut_idx[f]]
                        for i in range(n_x):
                            Dz[i] -= cut_val[f] * row[i]
                for i in range(n_x):
                    resid[i] = xp[i] + a * dx[i] - Dz[i]
                loss_sum += dot(resid, resid) * inv_2nx
                if learning:
                    one[S_AA] = a
                    one[S_BA] = a
                    if variant == SB:
                        _somatic_drive(Wt, zA, WzA, lanes)
                    if variant == DB:
                        _decode(F, zB, Fz)
                    _flush(variant, zA, zB, one, inputs, weights, rates, floor, step, work, c)
                for j in range(n_z):
                    z0[j] = zB[j]
                w = 1.0
                if learning:
                    _refresh(variant, weights, z0, Wz0, c, Dz0, Fz0, lanes)
                else:  # the products move with the columns of spikes and cuts; c stays
                    for i in range(n_x):
                        Dz0[i] = Dz[i]
                    for j in range(n_z):
                        Wz0[j] *= lw
                    if variant == DB:
                        for i in range(n_x):
                            Fz0[i] *= lw
                    for f in range(n_fired):
                        k_f = fired[f]
                        col = frozen_inhibition[k_f]
                        for j in range(n_z):
                            Wz0[j] += col[j]
                        if variant == DB:
                            for i in range(n_x):
                                Fz0[i] += F[k_f, i]
                    for f in range(n_cut):
                        k_f, v = cut_idx[f], cut_val[f]
                        col = frozen_inhibition[k_f]
                        for j in range(n_z):
                            Wz0[j] -= v * col[j]
                        if variant == DB:
                            for i in range(n_x):
                                Fz0[i] -= v * F[k_f, i]
                qp = dot(xp, Dz0)
                qd = dot(dx, Dz0)
                rr = dot(Dz0, Dz0)
            else:
                wb = w * lam
                # ||xp + a dx - wb D z0||^2 from cached dot products
                loss_sum += (
                    pp + 2.0 * a * pd + a * a * dd - 2.0 * wb * (qp + a * qd) + wb * wb * rr
                ) * inv_2nx
                if learning:
                    sums[S_N] += 1.0
                    sums[S_A1] += w
                    sums[S_AA] += a * w
                    sums[S_A2] += w * w
                    sums[S_B1] += wb
                    sums[S_BA] += a * wb
                    sums[S_B2] += wb * wb
                    sums[S_AB] += w * wb
                w = wb
            if t < n_rec:
                for j in range(n_z):
                    rec_z[t, j] = w * z0[j]
            if eta_b != 0.0:
                if per_step:
                    for j in range(n_z):
                        b[j] += eta_b * (target - spike[j])
                elif any_spike:
                    lagged = (b_lag + 1.0) * db
                    for j in range(n_z):
                        b[j] += lagged - eta_b * spike[j]
                    b_lag = 0.0
                else:
                    b_lag += 1.0
            if eta_sigma != 0.0:
                sigma += eta_sigma * (sigma2_final - sigma * sigma) / sigma
            t += 1
        if sums[S_N] > 0.0 or sums[S_B1] > 0.0:
            _flush(variant, z0, z0, sums, inputs, weights, rates, floor, base, work, c)
            sums[:] = 0.0
        for j in range(n_z):
            zj = w * z0[j]
            z0[j] = 0.0 if zj < trace_floor else zj
            b[j] += b_lag * db
        b_lag = 0.0
        loss_out[p] = loss_sum / n_steps
        for i in range(n_x):
            xp[i] = x_new[i]
    for j in range(n_z):
        z[j] = z0[j]
    sigma_box[0] = sigma
    diagnostics[4] += t
