"""The CPU-independent elementary functions of dbcode.model.fpmath against NumPy."""

import numpy as np
import pytest
from numba import njit

from dbcode.model import fpmath


def _ulps(y, x, fn):
    """Distance of ``y`` from ``fn(x)`` in long double, in units of the last place."""
    ref = fn(x.astype(np.longdouble))
    return np.abs((y - ref) / np.spacing(ref.astype(float)).astype(np.longdouble))


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (-700.0, 700.0), (-745.0, -708.0)])
def test_exp_is_within_one_ulp(lo, hi):
    x = np.random.default_rng(0).uniform(lo, hi, 200_000)
    assert float(_ulps(fpmath.exp_array(x), x, np.exp).max()) < 1.0


@pytest.mark.parametrize("lo, hi", [(1e-3, 1e3), (0.9, 1.1), (1e-300, 1e-290)])
def test_log_is_within_one_ulp(lo, hi):
    x = np.random.default_rng(1).uniform(lo, hi, 200_000)
    assert float(_ulps(fpmath.log_array(x), x, np.log).max()) < 1.0


def test_special_values():
    assert fpmath.exp(0.0) == 1.0 and fpmath.log(1.0) == 0.0
    assert fpmath.exp(-np.inf) == 0.0 and fpmath.exp(np.inf) == np.inf
    assert fpmath.exp(800.0) == np.inf and fpmath.exp(-800.0) == 0.0
    assert np.isnan(fpmath.exp(np.nan)) and np.isnan(fpmath.log(np.nan))
    assert fpmath.log(0.0) == -np.inf and np.isnan(fpmath.log(-1.0))
    assert fpmath.log(np.inf) == np.inf


def test_logit_and_expit_invert_each_other():
    p = np.array([0.0015, 0.1, 0.5, 0.9])
    back = fpmath.expit_array(np.array([fpmath.logit(v) for v in p]))
    np.testing.assert_allclose(back, p, rtol=1e-15)


def test_dot_matvec_and_matmul_agree_with_numpy():
    rng = np.random.default_rng(2)
    for n in (0, 1, 7, 8, 9, 130):
        a, b = rng.normal(size=n), rng.normal(size=n)
        assert fpmath.dot(a, b) == pytest.approx(float(a @ b), rel=1e-12, abs=1e-12)
    A, B = rng.normal(size=(5, 13)), rng.normal(size=(13, 4))
    np.testing.assert_allclose(fpmath.matmul(A, B), A @ B, rtol=1e-12)
    out = np.empty(5)
    fpmath.matvec(A, B[:, 0].copy(), out)
    np.testing.assert_allclose(out, A @ B[:, 0], rtol=1e-12)
    with pytest.raises(ValueError, match="cannot multiply"):
        fpmath.matmul(A, A)


def test_dot_sums_in_the_documented_order():
    # sixteen lanes (s_0, s_4, s_8, s_12 combine first), then the tail: with terms 1e16
    # and 1 the order decides what survives rounding (a running sum gives 2)
    a = np.zeros(17)
    a[[0, 4, 8, 12, 16]] = [1e16, 1.0, -1e16, 1.0, 1.0]
    assert fpmath.dot(a, np.ones(17)) == ((1e16 + 1.0) + (-1e16 + 1.0)) + 1.0 == 1.0


def test_the_vector_dot_equals_the_scalar_reference_bitwise():
    rng = np.random.default_rng(3)

    @njit
    def inside(a, b):  # C-contiguous rows take the vector path, columns the reference
        return fpmath.dot(a, b), fpmath.dot_reference(a, b)

    for n in range(70):
        A = rng.normal(size=(2, n)) * 10.0 ** rng.integers(-5, 5, size=(2, n))
        vec, ref = inside(A[0], A[1])
        assert vec == ref == fpmath.dot(A[0], A[1])
        if n:
            cols = np.asfortranarray(A)
            assert inside(cols[0], cols[1])[0] == ref


def test_exp_lower_bound_is_a_power_of_two_below_exp():
    x = np.random.default_rng(4).uniform(-699.9, 699.9, 100_000)
    bound = np.array([fpmath.exp_lower_bound(v) for v in x])
    ratio = bound / fpmath.exp_array(x)
    assert np.all(np.frexp(bound)[0] == 0.5)
    assert ratio.min() >= 2**-2.5 * (1 - 1e-12) and ratio.max() <= 2**-1.5
    assert fpmath.exp_lower_bound(800.0) == 0.0 and fpmath.exp_lower_bound(np.nan) == 0.0


def test_row_products_have_the_bits_of_dot():
    """``row_dot``, ``row_dots4`` and ``matvec`` compute several products together or
    without row views; each must equal :func:`fpmath.dot` of its rows bit for bit."""
    rng = np.random.default_rng(4)

    @njit
    def inside(A, B, v, rows):
        one = fpmath.row_dot(A, B, rows[0]), fpmath.row_dot(A, v, rows[1])
        four_rows = fpmath.row_dots4(A, B, rows[0], rows[1], rows[2], rows[3])
        four_vector = fpmath.row_dots4(A, v, rows[3], rows[2], rows[1], rows[0])
        return one, four_rows, four_vector

    for n in (1, 3, 4, 5, 15, 16, 17, 33, 70, 131):
        A = rng.normal(size=(9, n)) * 10.0 ** rng.integers(-5, 5, size=(9, n))
        B, v = rng.normal(size=(9, n)), rng.normal(size=n)
        rows = np.array([8, 0, 3, 3])
        one, four_rows, four_vector = inside(A, B, v, rows)
        assert one == (fpmath.dot_reference(A[8], B[8]), fpmath.dot_reference(A[0], v))
        assert four_rows == tuple(fpmath.dot_reference(A[j], B[j]) for j in rows)
        assert four_vector == tuple(fpmath.dot_reference(A[j], v) for j in rows[::-1])
        assert fpmath.row_dots4(A, B, *rows) == four_rows  # the Python version
        for m in (1, 4, 7, 9):
            out = np.empty(m)
            fpmath.matvec(A[:m], v, out)
            assert list(out) == [fpmath.dot_reference(A[j], v) for j in range(m)]


def test_the_fused_row_update_has_the_bits_of_update_then_dot():
    """``axpy_row_dot`` updates a row and takes its product with another matrix's row in
    one pass; row and product must equal ``A[j] += g v`` then :func:`fpmath.dot_reference`
    bit for bit, for every length (whole blocks of 16, groups of 4, a tail of 1-3)."""
    rng = np.random.default_rng(5)

    @njit
    def inside(A, v, g, B, j):
        return fpmath.axpy_row_dot(A, v, g, B, j)

    for n in (1, 3, 4, 5, 15, 16, 17, 33, 64, 70, 131):
        A = rng.normal(size=(5, n)) * 10.0 ** rng.integers(-5, 5, size=(5, n))
        B, v, g = rng.normal(size=(5, n)), rng.normal(size=n), rng.normal() * 1e-3
        for j in (0, 4):
            expected = A.copy()
            expected[j] = expected[j] + g * v
            got = inside(A, v, g, B, j)
            assert np.array_equal(A, expected)  # only row j moved, by A_ji + (g v_i)
            assert got == fpmath.dot_reference(expected[j], B[j])
        A_python = A.copy()
        assert fpmath.axpy_row_dot(A_python, v, g, B, 2) == inside(A, v, g, B, 2)
        assert np.array_equal(A_python, A)


def test_the_fused_update_of_two_rows_has_the_bits_of_update_then_dot():
    """``axpy_rows_dot`` moves ``B[j]`` and ``A[j]``, then takes their product, in one pass;
    rows and product must equal the updates one after the other and
    :func:`fpmath.dot_reference`, bit for bit."""
    rng = np.random.default_rng(6)

    @njit
    def inside(A, v, g, B, r, h, j):
        return fpmath.axpy_rows_dot(A, v, g, B, r, h, j)

    for n in (1, 3, 4, 5, 15, 16, 17, 33, 64, 70, 131):
        A, B = rng.normal(size=(2, 5, n)) * 10.0 ** rng.integers(-5, 5, size=(2, 5, n))
        v, r = rng.normal(size=(2, n))
        g, h = rng.normal(size=2) * 1e-3
        for j in (0, 4):
            expected_A, expected_B = A.copy(), B.copy()
            expected_B[j] = expected_B[j] + h * r
            expected_A[j] = expected_A[j] + g * v
            got = inside(A, v, g, B, r, h, j)
            assert np.array_equal(A, expected_A) and np.array_equal(B, expected_B)
            assert got == fpmath.dot_reference(expected_A[j], expected_B[j])
        A_python, B_python = A.copy(), B.copy()
        assert fpmath.axpy_rows_dot(A_python, v, g, B_python, r, h, 1) == inside(
            A, v, g, B, r, h, 1
        )
        assert np.array_equal(A_python, A) and np.array_equal(B_python, B)


def test_the_fused_row_update_refuses_bad_shapes():
    @njit
    def inside(A, v, B, j):
        return fpmath.axpy_row_dot(A, v, 1.0, B, j)

    with pytest.raises(ValueError, match="differ in length"):
        inside(np.ones((2, 5)), np.ones(4), np.ones((2, 5)), 0)
    with pytest.raises(IndexError, match="out of range"):
        inside(np.ones((2, 5)), np.ones(5), np.ones((2, 5)), 2)


def test_row_products_refuse_rows_of_another_length():
    @njit
    def inside(A, v):
        return fpmath.row_dot(A, v, 0)

    with pytest.raises(ValueError, match="differ in length"):
        inside(np.ones((2, 5)), np.ones(4))
