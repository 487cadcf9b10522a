"""Synchrony measures of recorded spikes (Fig 6B)."""

import numpy as np
import pytest

from dbcode.analysis import synchrony as dx


def test_coincidence_counts_spikes_near_another_neurons_spike():
    s = np.zeros((20, 3))
    s[2, 0] = s[3, 1] = 1  # within one step of each other
    s[10, 0] = s[10, 0] = 1  # alone
    s[15, 2] = 1
    s[16, 2] = 1  # same neuron twice: not a coincidence
    assert dx.coincidence_fraction(s) == pytest.approx(2 / 5)
    assert dx.coincidence_fraction(np.zeros((5, 2))) == 0.0


def test_synchrony_separates_locked_from_independent_spikes():
    rng = np.random.default_rng(1)
    independent = (rng.random((20_000, 9)) < 0.015).astype(float)
    common = rng.random(20_000) < 0.015
    locked = np.repeat(common[:, None], 9, axis=1).astype(float)
    ind, lock = dx.synchrony(independent), dx.synchrony(locked)
    assert ind["coincidence"] == pytest.approx(ind["coincidence_chance"], abs=0.03)
    assert ind["fano"] == pytest.approx(1.0, abs=0.1)
    assert lock["coincidence"] == 1.0 and lock["fano"] > 5
