"""One number from a network's test losses during training (Eq 1).

Every chapter and every record reduces a loss curve with these functions, each with one
name:

- :func:`final_loss`: the mean of the last :data:`N_FINAL` evaluations, "the final
  loss" everywhere in the book (a single evaluation jitters by a few per cent between
  checkpoints);
- :func:`last_loss`: the last evaluation alone;
- :func:`lowest_loss`: the lowest evaluation during training, the measure of the
  paper's Fig 5B;
- :func:`instability_onset`: when a loss that had come down rises again.

Diverged networks have NaN losses from the evaluation where they diverged on, so their
final and last losses are NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "MEASURES",
    "N_FINAL",
    "RISE",
    "final_loss",
    "instability_onset",
    "last_loss",
    "lowest_loss",
    "measured_loss",
]

N_FINAL = 3
"""Test evaluations at the end of training averaged into the final loss."""
MEASURES = ("final", "lowest")
"""Reductions :func:`measured_loss` knows."""
RISE = 1.2
"""A loss counts as risen once an evaluation after its lowest exceeds it this much."""


def final_loss(test_loss: Sequence[float], n: int = N_FINAL) -> float:
    """Mean test loss of the last ``n`` evaluations."""
    return float(np.mean(np.asarray(test_loss, dtype=float)[-n:]))


def last_loss(test_loss: Sequence[float]) -> float:
    """Test loss of the last evaluation."""
    return float(np.asarray(test_loss, dtype=float)[-1])


def lowest_loss(test_loss: Sequence[float]) -> float:
    """Lowest test loss among the evaluations made during training.

    The paper's Fig 5B plots this number for every network: the authors' analysis
    script (``fig4/D_plot_scenes_comparison.py`` in Priesemann-Group/dendritic_balance)
    takes the minimum of the test losses its runs logged every 15 000 presentations (a
    hundredth of training). The fewer evaluations a run makes, the less this minimum
    profits from the evaluations' jitter. It is blind to a loss that rises again late
    in training, which :func:`final_loss` shows.
    """
    return float(np.min(test_loss))


def measured_loss(test_loss: Sequence[float], measure: str = "final") -> float:
    """The test losses reduced by one of :data:`MEASURES`."""
    if measure == "final":
        return final_loss(test_loss)
    if measure == "lowest":
        return lowest_loss(test_loss)
    raise ValueError(f"unknown loss measure {measure!r}; choose one of {MEASURES}")


def instability_onset(
    test_loss: Sequence[float], eval_at: Sequence[int], factor: float = RISE
) -> int | None:
    """Presentations after which the test loss first exceeds ``factor`` times its
    lowest value (after that lowest), or ``None`` when it never does."""
    k = int(np.argmin(test_loss))
    for loss, at in zip(test_loss[k + 1 :], eval_at[k + 1 :]):
        if loss > factor * test_loss[k]:
            return int(at)
    return None
