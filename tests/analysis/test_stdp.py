"""Spike-timing windows from the voltage-based rules (dbcode.analysis.stdp, Fig 2E/2H)."""

import numpy as np
import pytest

from dbcode.analysis import stdp


@pytest.fixture(scope="module")
def windows():
    dts = np.arange(-30.0, 31.0, 2.0)
    return (
        stdp.pairing_windows(dts),
        stdp.pairing_windows(dts, inhibitory_lag=5.0),
        stdp.pairing_windows(dts, inhibitory_lag=0.0),
    )


def test_trace_of_single_spike():
    tr = stdp.spike_train_trace(20, 3, 0.5)
    assert tr[:3].tolist() == [0, 0, 0]
    np.testing.assert_allclose(tr[3:6], [1.0, 0.5, 0.25])
    assert not stdp.spike_train_trace(5, None, 0.5).any()


def test_pair_window_matches_closed_form(windows):
    """Both rules: sum_t x z_j - F sum_t z_j^2 = S (lambda^|dt| - F), S = 1/(1-lambda^2)."""
    plain = windows[0]
    lam = np.exp(-1.0 / 10.0)
    S = 1.0 / (1.0 - lam**2)
    expected = S * (lam ** np.abs(plain.delta_t) - 0.5)
    np.testing.assert_allclose(plain.sb, expected, rtol=1e-6)
    np.testing.assert_allclose(plain.db, expected, rtol=1e-6)


def test_fig2e_symmetric_fig2h_depressed(windows):
    plain, lagged, _ = windows
    numbers = stdp.window_numbers(plain, lagged)
    assert numbers["e_symmetry_sb"] < 1e-6
    assert numbers["e_sb_db_difference"] < 1e-12
    assert numbers["h_sb_change"] == 0.0
    assert numbers["h_db_change_mean"] < -0.05
    assert numbers["h_symmetry_db"] > 0.1
    assert np.all(lagged.db <= plain.db + 1e-12)


def test_simultaneous_inhibition_depresses_symmetrically(windows):
    """With the inhibitory spike at the input spike the extra term is
    -D_ik S lambda^|dt|: still symmetric, scaled down."""
    plain, _, simultaneous = windows
    assert stdp.symmetry_error(simultaneous, "db") < 1e-6
    lam = np.exp(-0.1)
    S = 1.0 / (1.0 - lam**2)
    np.testing.assert_allclose(
        plain.db - simultaneous.db, 0.5 * S * lam ** np.abs(plain.delta_t), rtol=1e-6
    )


def test_symmetry_error_needs_symmetric_grid():
    w = stdp.pairing_windows(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="symmetric"):
        stdp.symmetry_error(w, "sb")
