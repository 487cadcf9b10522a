"""Synchrony of recorded spikes (Fig 6B): coincident spikes and population Fano factor."""

from __future__ import annotations

import numpy as np


def coincidence_fraction(s: np.ndarray, window: int = 1) -> float:
    """Fraction of spikes accompanied by a spike of another neuron within ``window``
    steps (before, same step or after).

    Parameters
    ----------
    s : np.ndarray
        Spike indicators, shape ``(steps, N_z)``.
    """
    s = np.asarray(s, dtype=float)
    near = _window_sum(s, window)
    others = near.sum(axis=1, keepdims=True) - near
    n = s.sum()
    return float(np.sum(s * (others > 0)) / n) if n else 0.0


def _window_sum(a: np.ndarray, window: int) -> np.ndarray:
    """Sum of ``a`` over steps ``t - window ... t + window`` along the first axis."""
    padded = np.pad(a, ((window, window), (0, 0)))
    c = np.concatenate([np.zeros((1, a.shape[1])), np.cumsum(padded, axis=0)])
    return c[2 * window + 1 :] - c[: len(a)]


def chance_coincidence(s: np.ndarray, window: int = 1) -> float:
    """:func:`coincidence_fraction` expected for independent neurons firing at the
    same mean rates (each step a Bernoulli trial)."""
    s = np.asarray(s, dtype=float)
    p = s.mean(axis=0)
    n = s.sum(axis=0)
    if n.sum() == 0:
        return 0.0
    log_quiet = (2 * window + 1) * np.log1p(-np.minimum(p, 1 - 1e-12))
    alone = np.exp(log_quiet.sum() - log_quiet)
    return float(np.sum(n * (1 - alone)) / n.sum())


def population_fano(s: np.ndarray) -> float:
    """Variance over mean of the population spike count per step (1 for independent
    Poisson neurons; larger when neurons fire together)."""
    pop = np.asarray(s, dtype=float).sum(axis=1)
    return float(pop.var() / pop.mean()) if pop.mean() > 0 else 0.0


def synchrony(s: np.ndarray) -> dict:
    """Synchrony measures of recorded spikes (see the functions above)."""
    return {
        "coincidence": coincidence_fraction(s),
        "coincidence_chance": chance_coincidence(s),
        "fano": population_fano(s),
    }
