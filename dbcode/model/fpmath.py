"""Elementary functions whose bits do not depend on the CPU or on the C library.

NumPy picks its ``exp``, ``log`` and ``power`` loops by the vector instructions of the
CPU (AVX2, AVX-512, ...), glibc picks its ``exp`` and ``log`` by whether the CPU has
FMA, and OpenBLAS picks its matrix kernels by the CPU model: each choice rounds
differently in the last bit. A spiking network amplifies such a bit into a different
trajectory, so everything that feeds a simulation (the kernel's spike probability,
the trace decay, the initial weights, the data) uses the functions here instead. They
are computed from IEEE-754 additions, multiplications and divisions in a fixed order
and are compiled by numba without ``fastmath`` (which would let the compiler reorder
or fuse them per CPU), so they give the same bits on every x86-64 machine.

The algorithms are the classic argument reductions with minimax polynomials of
fdlibm (``e_exp.c``, ``e_log.c``); both stay within one unit in the last place of the
exact result (``tests/model/test_fpmath.py`` measures it against NumPy).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = [
    "axpy_row_dot",
    "axpy_rows_dot",
    "dot",
    "dot_reference",
    "exp",
    "exp_array",
    "exp_lower_bound",
    "expit_array",
    "log",
    "log_array",
    "logit",
    "matmul",
    "matvec",
    "row_dot",
    "row_dots4",
]

_LN2_HI = 6.93147180369123816490e-01  # ln 2 with its last 32 bits zero: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_EXP_OVERFLOW = 7.09782712893383973096e02
_EXP_UNDERFLOW = -7.45133219101941108420e02
_ROUND_SHIFT = 6755399441055744.0  # 1.5 * 2**52
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08

_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT_HALF = 0.70710678118654752440


@intrinsic
def _bits_as_float(typingctx, bits):
    """The float64 whose IEEE-754 bit pattern is the int64 ``bits``."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@njit(cache=True)
def _pow2(k):
    """``2.0**k`` for integer ``-1022 <= k <= 1023`` (exact)."""
    return _bits_as_float((k + 1023) << 52)


@njit(cache=True)
def exp(x: float) -> float:
    """``e**x`` within one unit in the last place, the same bits on every CPU.

    ``x = k ln 2 + r`` with ``|r| <= ln(2)/2``; ``e**r`` from a rational approximation
    with a degree-5 polynomial in ``r**2``; then scaled by ``2**k`` (exact, in two
    factors where ``2**k`` is not a normal number).
    """
    if not x < _EXP_OVERFLOW:
        return x if x != x else math.inf
    if x < _EXP_UNDERFLOW:
        return 0.0
    # k = round(x / ln 2): adding 1.5 * 2**52 rounds to an integer in the last bit
    kd = (x * _INV_LN2 + _ROUND_SHIFT) - _ROUND_SHIFT
    k = int(kd)
    hi = x - kd * _LN2_HI
    lo = kd * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    if -1022 <= k <= 1023:
        return y * _pow2(k)
    half = k // 2
    return (y * _pow2(half)) * _pow2(k - half)


@njit(cache=True)
def exp_lower_bound(x: float) -> float:
    """A power of two below :func:`exp` ``(x)``, between ``e**x 2**-2.5`` and
    ``e**x 2**-1.5`` for ``|x| < 700`` (0 elsewhere, and for NaN): a few operations
    where :func:`exp` takes a polynomial and a division.

    ``k = round(x / ln 2)`` computed from ``x * (1 / ln 2)`` is within ``1/2 + 10**-12``
    of ``x / ln 2``, so ``2**(k - 2) <= e**x 2**(-1.5 + 10**-12)``, below ``e**x`` by
    far more than the relative error ``2**-52`` of :func:`exp`.
    """
    if not -700.0 < x < 700.0:
        return 0.0
    kd = (x * _INV_LN2 + _ROUND_SHIFT) - _ROUND_SHIFT
    return _pow2(int(kd) - 2)


@njit(cache=True)
def log(x: float) -> float:
    """Natural logarithm within one unit in the last place, the same bits on every CPU.

    ``x = 2**k (1 + f)`` with ``sqrt(1/2) <= 1 + f < sqrt(2)``; ``log(1 + f)`` from
    ``s = f / (2 + f)`` and a degree-7 polynomial in ``s**2``.
    """
    if x != x or x == math.inf:
        return x
    if x == 0.0:
        return -math.inf
    if x < 0.0:
        return math.nan
    m, k = math.frexp(x)  # x = m 2**k, 1/2 <= m < 1
    if m < _SQRT_HALF:
        m *= 2.0
        k -= 1
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + t1 + t2) + k * _LN2_LO)) - f)


@njit(cache=True)
def _map_exp(x, out):
    for i in range(x.size):
        out[i] = exp(x[i])


@njit(cache=True)
def _map_log(x, out):
    for i in range(x.size):
        out[i] = log(x[i])


def exp_array(x) -> np.ndarray:
    """Element-wise :func:`exp` of an array (or a scalar, returned as a 0-d array)."""
    x = np.asarray(x, dtype=float)
    out = np.empty(x.size)
    _map_exp(np.ascontiguousarray(x).ravel(), out)
    return out.reshape(x.shape)


def log_array(x) -> np.ndarray:
    """Element-wise :func:`log` of an array (or a scalar, returned as a 0-d array)."""
    x = np.asarray(x, dtype=float)
    out = np.empty(x.size)
    _map_log(np.ascontiguousarray(x).ravel(), out)
    return out.reshape(x.shape)


def expit_array(x) -> np.ndarray:
    """Element-wise logistic function ``1 / (1 + exp(-x))``."""
    return 1.0 / (1.0 + exp_array(-np.asarray(x, dtype=float)))


def logit(p: float) -> float:
    """``log(p / (1 - p))``."""
    return float(log(p / (1.0 - p)))


LANES = 16
"""Partial sums of :func:`dot`."""


@njit(cache=True)
def dot_reference(a, b) -> float:
    """``sum_i a_i b_i`` in the order of :func:`dot`, one scalar operation at a time.

    Partial sum ``s_l`` (``l < 16``) adds ``a_i b_i`` for ``i = l mod 16`` in
    increasing ``i``, over ``i < m = n - n mod 4``; then ``t_l = (s_l + s_{l+4}) +
    (s_{l+8} + s_{l+12})`` for ``l < 4``, the total ``(t_0 + t_1) + (t_2 + t_3)``, and
    last the remaining ``n mod 4`` terms one by one.
    """
    n = a.shape[0]
    s = np.zeros(LANES)
    m = n - n % 4
    for i in range(m):
        s[i % LANES] += a[i] * b[i]
    t = np.zeros(4)
    for lane in range(4):
        t[lane] = (s[lane] + s[lane + 4]) + (s[lane + 8] + s[lane + 12])
    acc = (t[0] + t[1]) + (t[2] + t[3])
    for i in range(m, n):
        acc += a[i] * b[i]
    return acc


def _is_contiguous_vector(t) -> bool:
    return (
        isinstance(t, types.Array) and t.ndim == 1 and t.layout == "C" and t.dtype == types.float64
    )


def _lane_total(builder, acc):
    """The sixteen partial sums of :func:`dot_reference` in four ``<4 x double>``
    accumulators, combined in its fixed tree, in a new stack slot (to which the caller
    adds the last ``n mod 4`` terms)."""
    v = [builder.load(a) for a in acc]
    t = builder.fadd(builder.fadd(v[0], v[1]), builder.fadd(v[2], v[3]))
    lane = [builder.extract_element(t, ir.Constant(ir.IntType(32), k)) for k in range(4)]
    return cgutils.alloca_once_value(
        builder, builder.fadd(builder.fadd(lane[0], lane[1]), builder.fadd(lane[2], lane[3]))
    )


def _lanes_codegen(n_pairs, operands=None):
    """LLVM IR for ``n_pairs`` dot products ``a_p . b_p`` of C-contiguous float64 vectors
    of one length, each in the order of :func:`dot_reference`, with four ``<4 x double>``
    accumulators per product (accumulator ``q``, lane ``k`` is ``s_{4q+k}``).

    The vector operations are IEEE additions and multiplications lane by lane, so the
    compiler may split them into SSE2 pairs or keep them in AVX registers without
    changing a bit; the loop vectoriser would not do this for a scalar sum unless
    allowed to reorder it (``fastmath``, which reorders it differently per CPU). Several
    products in one loop give the processor independent chains of additions to overlap,
    where one product waits for the latency of each addition.
    """

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        vec = ir.VectorType(double, 4)
        intp = context.get_value_type(types.intp)
        if operands is None:
            arrays = [
                context.make_array(signature.args[i])(context, builder, args[i])
                for i in range(2 * n_pairs)
            ]
            data = [a.data for a in arrays]
            (n,) = cgutils.unpack_tuple(builder, arrays[0].shape, 1)
        else:
            data, n = operands(context, builder, signature, args)
        blocks = builder.sdiv(n, ir.Constant(intp, LANES))
        zero = ir.Constant(vec, [0.0] * 4)
        acc = [[cgutils.alloca_once_value(builder, zero) for _ in range(4)] for _ in range(n_pairs)]

        def load4(data, index):
            pointer = builder.bitcast(builder.gep(data, [index]), vec.as_pointer())
            return builder.load(pointer, align=8)

        def accumulate(p, q, index):
            a, b = data[2 * p], data[2 * p + 1]
            product = builder.fmul(load4(a, index), load4(b, index))
            builder.store(builder.fadd(builder.load(acc[p][q]), product), acc[p][q])

        with cgutils.for_range(builder, blocks) as loop:
            base = builder.mul(loop.index, ir.Constant(intp, LANES))
            for q in range(4):
                for p in range(n_pairs):
                    accumulate(p, q, builder.add(base, ir.Constant(intp, 4 * q)))
        # up to three more whole groups of four go to the accumulators in turn
        rest = builder.mul(blocks, ir.Constant(intp, LANES))
        for q in range(3):
            end = builder.add(rest, ir.Constant(intp, 4 * (q + 1)))
            with builder.if_then(builder.icmp_signed("<=", end, n)):
                for p in range(n_pairs):
                    accumulate(p, q, builder.add(rest, ir.Constant(intp, 4 * q)))
        start = builder.sub(n, builder.srem(n, ir.Constant(intp, 4)))
        totals = []
        for p in range(n_pairs):
            total = _lane_total(builder, acc[p])
            with cgutils.for_range(builder, builder.sub(n, start)) as loop:
                index = builder.add(start, loop.index)
                x = builder.load(builder.gep(data[2 * p], [index]))
                y = builder.load(builder.gep(data[2 * p + 1], [index]))
                builder.store(builder.fadd(builder.load(total), builder.fmul(x, y)), total)
            totals.append(builder.load(total))
        if n_pairs == 1:
            return totals[0]
        return context.make_tuple(builder, signature.return_type, totals)

    return codegen


@intrinsic
def _dot_lanes(typingctx, a, b):
    """:func:`dot_reference` on two C-contiguous float64 vectors (see
    :func:`_lanes_codegen`)."""
    if not (_is_contiguous_vector(a) and _is_contiguous_vector(b)):
        return None
    return types.float64(a, b), _lanes_codegen(1)


def _is_contiguous_matrix(t) -> bool:
    return (
        isinstance(t, types.Array) and t.ndim == 2 and t.layout == "C" and t.dtype == types.float64
    )


def _row_operands(context, builder, signature, args):
    """Data pointers of ``A[j_p]`` and ``B[j_p]`` (or ``B`` itself when it is a vector)
    for the row indices ``j_p`` that follow ``A, B`` in ``args``, and the row length."""
    A = context.make_array(signature.args[0])(context, builder, args[0])
    B = context.make_array(signature.args[1])(context, builder, args[1])
    _, n = cgutils.unpack_tuple(builder, A.shape, 2)
    data = []
    for p in range(len(args) - 2):
        j = args[2 + p]
        data.append(builder.gep(A.data, [builder.mul(j, n)]))
        data.append(
            builder.gep(B.data, [builder.mul(j, n)]) if signature.args[1].ndim == 2 else B.data
        )
    return data, n


def _row_signature(A, B, rows):
    """The signature of a row intrinsic, or None where it does not apply."""
    if not _is_contiguous_matrix(A):
        return None
    if not (_is_contiguous_matrix(B) or _is_contiguous_vector(B)):
        return None
    if not all(isinstance(j, types.Integer) for j in rows):
        return None
    result = types.float64 if len(rows) == 1 else types.UniTuple(types.float64, len(rows))
    return result(A, B, *([types.intp] * len(rows)))


@intrinsic
def _row_dot_lanes(typingctx, A, B, j):
    """``dot(A[j], B[j])`` (or ``dot(A[j], B)`` for a vector ``B``) without making the
    row views (see :func:`_row_dots4_lanes`)."""
    sig = _row_signature(A, B, (j,))
    return None if sig is None else (sig, _lanes_codegen(1, _row_operands))


@intrinsic
def _row_dots4_lanes(typingctx, A, B, j0, j1, j2, j3):
    """``dot(A[j_p], B[j_p])`` (or ``dot(A[j_p], B)`` for a vector ``B``) for four rows
    ``j_p`` of a C-contiguous float64 matrix, each with the bits of :func:`dot` (see
    :func:`_lanes_codegen`). Indices are not checked. Taking the matrices and row
    numbers, not row views, spares compiled code the reference counting of each view."""
    sig = _row_signature(A, B, (j0, j1, j2, j3))
    return None if sig is None else (sig, _lanes_codegen(4, _row_operands))


def dot(a, b) -> float:
    """``sum_i a_i b_i`` in a fixed order, the same bits on every CPU: sixteen
    interleaved partial sums combined in a fixed tree, then the last ``n mod 4`` terms
    (:func:`dot_reference` spells the order out).

    The partial sums are independent chains, so they run in vector registers of any
    width without changing a bit, where a single running sum is sequential (and fast
    only under ``fastmath``, which reorders it per CPU). Callable from Python and from
    numba-compiled code.
    """
    return dot_reference(np.ascontiguousarray(a, dtype=float), np.ascontiguousarray(b, dtype=float))


@overload(dot, inline="always", jit_options={"cache": True})
def _dot_overload(a, b):
    if _is_contiguous_vector(a) and _is_contiguous_vector(b):
        return lambda a, b: _dot_lanes(a, b)
    return lambda a, b: dot_reference(a, b)


def row_dot(A, B, j) -> float:
    """``dot(A[j], B[j])`` (or ``dot(A[j], B)`` when ``B`` is a vector), with the bits of
    :func:`dot`; in compiled code without making the row views. The row must exist."""
    return dot(A[j], B[j] if np.ndim(B) == 2 else B)


@overload(row_dot, inline="always", jit_options={"cache": True})
def _row_dot_overload(A, B, j):
    if _is_contiguous_matrix(A) and (_is_contiguous_matrix(B) or _is_contiguous_vector(B)):
        rows_of_B = B.ndim == 2

        def impl(A, B, j):
            if (B.shape[1] if rows_of_B else B.shape[0]) != A.shape[1]:
                raise ValueError("row_dot: rows of A and B differ in length")
            return _row_dot_lanes(A, B, j)

        return impl
    return None


def row_dots4(A, B, j0, j1, j2, j3) -> tuple[float, float, float, float]:
    """``dot(A[j], B[j])`` for the four rows ``j = j0 .. j3`` of the matrices ``A`` and
    ``B`` (or ``dot(A[j], B)`` when ``B`` is a vector), each with the bits of
    :func:`dot`, computed together so that their chains of additions overlap. Callable
    from Python and from numba-compiled code; the rows must exist."""
    return tuple(dot(A[j], B[j] if np.ndim(B) == 2 else B) for j in (j0, j1, j2, j3))


@overload(row_dots4, inline="always", jit_options={"cache": True})
def _row_dots4_overload(A, B, j0, j1, j2, j3):
    if _is_contiguous_matrix(A) and (_is_contiguous_matrix(B) or _is_contiguous_vector(B)):
        rows_of_B = B.ndim == 2

        def impl(A, B, j0, j1, j2, j3):
            n = A.shape[1]
            if (B.shape[1] if rows_of_B else B.shape[0]) != n:
                raise ValueError("row_dots4: rows of A and B differ in length")
            return _row_dots4_lanes(A, B, j0, j1, j2, j3)

        return impl
    return None


def _axpy_dot_codegen(update_b):
    """LLVM IR of :func:`axpy_row_dot` (``update_b`` false) or :func:`axpy_rows_dot`: one
    pass over row ``j`` that updates ``B[j]`` (``b + h r``) and ``A[j]`` (``a + g v``)
    four entries at a time (a multiplication, then an addition, as in plain code) and
    adds the new entries' products to the accumulators of :func:`_lanes_codegen`, in the
    same order, so that the product has the bits of :func:`dot`."""

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        vec = ir.VectorType(double, 4)
        i32 = ir.IntType(32)
        intp = context.get_value_type(types.intp)
        A = context.make_array(signature.args[0])(context, builder, args[0])
        v = context.make_array(signature.args[1])(context, builder, args[1])
        B = context.make_array(signature.args[3])(context, builder, args[3])
        g, j = args[2], args[-1]
        r, h = (
            (context.make_array(signature.args[4])(context, builder, args[4]), args[5])
            if (update_b)
            else (None, None)
        )
        _, n = cgutils.unpack_tuple(builder, A.shape, 2)
        row_a = builder.gep(A.data, [builder.mul(j, n)])
        row_b = builder.gep(B.data, [builder.mul(j, n)])

        def splat(x):
            out = cgutils.get_null_value(vec)
            for k in range(4):
                out = builder.insert_element(out, x, ir.Constant(i32, k))
            return out

        g4, h4 = splat(g), (splat(h) if update_b else None)
        zero = ir.Constant(vec, [0.0] * 4)
        acc = [cgutils.alloca_once_value(builder, zero) for _ in range(4)]

        def axpy(row, factor, data, index, width):
            """``row[index:index+width] += factor data[index:...]``, the new values."""
            if width == 4:
                pointer = builder.bitcast(builder.gep(row, [index]), vec.as_pointer())
                other = builder.bitcast(builder.gep(data, [index]), vec.as_pointer())
                old, x = builder.load(pointer, align=8), builder.load(other, align=8)
            else:
                pointer, other = builder.gep(row, [index]), builder.gep(data, [index])
                old, x = builder.load(pointer), builder.load(other)
            new = builder.fadd(old, builder.fmul(factor, x))
            builder.store(new, pointer, **({"align": 8} if width == 4 else {}))
            return new

        def update(q, index):
            b = (
                axpy(row_b, h4, r.data, index, 4)
                if update_b
                else builder.load(
                    builder.bitcast(builder.gep(row_b, [index]), vec.as_pointer()), align=8
                )
            )
            a = axpy(row_a, g4, v.data, index, 4)
            builder.store(builder.fadd(builder.load(acc[q]), builder.fmul(a, b)), acc[q])

        blocks = builder.sdiv(n, ir.Constant(intp, LANES))
        with cgutils.for_range(builder, blocks) as loop:
            base = builder.mul(loop.index, ir.Constant(intp, LANES))
            for q in range(4):
                update(q, builder.add(base, ir.Constant(intp, 4 * q)))
        rest = builder.mul(blocks, ir.Constant(intp, LANES))
        for q in range(3):
            end = builder.add(rest, ir.Constant(intp, 4 * (q + 1)))
            with builder.if_then(builder.icmp_signed("<=", end, n)):
                update(q, builder.add(rest, ir.Constant(intp, 4 * q)))
        start = builder.sub(n, builder.srem(n, ir.Constant(intp, 4)))
        total = _lane_total(builder, acc)
        with cgutils.for_range(builder, builder.sub(n, start)) as loop:
            index = builder.add(start, loop.index)
            b = (
                axpy(row_b, h, r.data, index, 1)
                if update_b
                else builder.load(builder.gep(row_b, [index]))
            )
            a = axpy(row_a, g, v.data, index, 1)
            builder.store(builder.fadd(builder.load(total), builder.fmul(a, b)), total)
        return builder.load(total)

    return codegen


@intrinsic
def _axpy_row_dot_lanes(typingctx, A, v, g, B, j):
    """See :func:`_axpy_dot_codegen`; shapes are not checked."""
    if not (
        _is_contiguous_matrix(A)
        and _is_contiguous_vector(v)
        and isinstance(g, types.Float)
        and _is_contiguous_matrix(B)
        and isinstance(j, types.Integer)
    ):
        return None
    return types.float64(A, v, types.float64, B, types.intp), _axpy_dot_codegen(False)


@intrinsic
def _axpy_rows_dot_lanes(typingctx, A, v, g, B, r, h, j):
    """See :func:`_axpy_dot_codegen`; shapes are not checked."""
    if not (
        _is_contiguous_matrix(A)
        and _is_contiguous_vector(v)
        and isinstance(g, types.Float)
        and _is_contiguous_matrix(B)
        and _is_contiguous_vector(r)
        and isinstance(h, types.Float)
        and isinstance(j, types.Integer)
    ):
        return None
    sig = types.float64(A, v, types.float64, B, r, types.float64, types.intp)
    return sig, _axpy_dot_codegen(True)


@njit(cache=True, inline="always")
def _check_rows(A, v, B, j):
    """Refuse rows of other lengths or out of range (the intrinsics check nothing)."""
    n = A.shape[1]
    if v.shape[0] != n or B.shape[1] != n:
        raise ValueError("axpy_row(s)_dot: the rows and vectors differ in length")
    if not 0 <= j < A.shape[0] or j >= B.shape[0]:
        raise IndexError("axpy_row(s)_dot: row out of range")


def axpy_row_dot(A, v, g, B, j) -> float:
    """``A[j] += g v`` (entry by entry ``A_ji + (g v_i)``), then ``dot(A[j], B[j])`` with the
    bits of :func:`dot`; in compiled code in one pass over the row, where the update and
    the product would be two. Callable from Python and from numba-compiled code."""
    A[j] += g * np.asarray(v, dtype=float)
    return dot(A[j], B[j])


def axpy_rows_dot(A, v, g, B, r, h, j) -> float:
    """``B[j] += h r`` and ``A[j] += g v``, then ``dot(A[j], B[j])`` with the bits of
    :func:`dot`, in compiled code in one pass (see :func:`axpy_row_dot`)."""
    B[j] += h * np.asarray(r, dtype=float)
    return axpy_row_dot(A, v, g, B, j)


@overload(axpy_row_dot, inline="always", jit_options={"cache": True})
def _axpy_row_dot_overload(A, v, g, B, j):
    if _is_contiguous_matrix(A) and _is_contiguous_vector(v) and _is_contiguous_matrix(B):

        def impl(A, v, g, B, j):
            _check_rows(A, v, B, j)
            return _axpy_row_dot_lanes(A, v, float(g), B, j)

        return impl
    return None


@overload(axpy_rows_dot, inline="always", jit_options={"cache": True})
def _axpy_rows_dot_overload(A, v, g, B, r, h, j):
    if (
        _is_contiguous_matrix(A)
        and _is_contiguous_vector(v)
        and _is_contiguous_matrix(B)
        and _is_contiguous_vector(r)
    ):

        def impl(A, v, g, B, r, h, j):
            _check_rows(A, v, B, j)
            _check_rows(B, r, A, j)
            return _axpy_rows_dot_lanes(A, v, float(g), B, r, float(h), j)

        return impl
    return None


@njit(cache=True, _nrt=False)
def matvec(M, v, out):
    """``out = M v``, every entry with the bits of :func:`dot` of its row (four rows at a
    time with :func:`row_dots4`)."""
    n = M.shape[0]
    m = n - n % 4
    for i in range(0, m, 4):
        out[i], out[i + 1], out[i + 2], out[i + 3] = row_dots4(M, v, i, i + 1, i + 2, i + 3)
    for i in range(m, n):
        out[i] = row_dot(M, v, i)


@njit(cache=True)
def _matmul(A, Bt, out):
    for i in range(A.shape[0]):
        for j in range(Bt.shape[0]):
            out[i, j] = dot(A[i], Bt[j])


def matmul(A, B) -> np.ndarray:
    """The matrix product ``A B`` of two 2-D arrays, every entry a :func:`dot` (where
    ``A @ B`` goes to OpenBLAS, whose kernels and so whose rounding depend on the
    CPU)."""
    A = np.ascontiguousarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"cannot multiply shapes {A.shape} and {B.shape}")
    out = np.empty((A.shape[0], B.shape[1]))
    _matmul(A, np.ascontiguousarray(B.T), out)
    return out
