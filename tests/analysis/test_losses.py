"""The reductions of a loss curve to one number: one name each."""

import numpy as np
import pytest

from dbcode.analysis import losses


def test_final_loss_averages_the_last_three_evaluations():
    assert losses.final_loss([1.0, 0.4, 0.2, 0.3]) == pytest.approx(0.3)
    assert losses.final_loss([1.0, 0.4, 0.2, 0.3], n=1) == losses.last_loss([1.0, 0.3]) == 0.3


def test_lowest_loss_and_the_measures():
    assert losses.lowest_loss([1.0, 0.2, 0.4, 0.3]) == 0.2
    assert losses.measured_loss([1.0, 0.2, 0.4, 0.3], "lowest") == 0.2
    with pytest.raises(ValueError, match="choose one of"):
        losses.measured_loss([1.0], "min")


def test_a_diverged_curve_has_no_final_loss():
    assert np.isnan(losses.final_loss([0.1, 0.05, np.nan]))


def test_instability_onset_is_the_first_rise_after_the_lowest():
    assert losses.instability_onset([0.3, 0.1, 0.11, 0.2], [0, 10, 20, 30]) == 30
    assert losses.instability_onset([0.3, 0.1, 0.11], [0, 10, 20]) is None
