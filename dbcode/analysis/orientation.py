"""Orientation of receptive fields (Fig 5C): how elongated each ``F_on - F_off`` is."""

from __future__ import annotations

import numpy as np

from dbcode.data.natural import PATCH, receptive_field

ORIENTED = 0.5
"""Orientation index above which a receptive field counts as oriented."""


def orientation_index(field: np.ndarray) -> float:
    """How elongated a receptive field's structure is, from 0 (isotropic) to 1.

    With the spatial gradient ``g = grad r`` of the field ``r`` (central differences),
    ``J = sum_x g g^T`` is the second-moment tensor of the field's 2-D power spectrum
    (by Parseval, ``J = sum_f P(f) f f^T`` up to the difference filter). Its eigenvalues
    ``l1 >= l2`` give ``A = (l1 - l2) / (l1 + l2)``: ``A = 0`` for a centre-surround
    field or round blob, whose power spreads evenly over orientations, and ``A -> 1``
    for an edge, stripe or Gabor, whose power lies along one direction.

    Parameters
    ----------
    field : (8, 8) array
        ``F_on - F_off`` of one neuron (:func:`dbcode.data.natural.receptive_field`).
    """
    gy, gx = np.gradient(np.asarray(field, dtype=float))
    J = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]])
    l2, l1 = np.linalg.eigvalsh(J)
    return float((l1 - l2) / (l1 + l2)) if l1 + l2 > 0 else 0.0


def receptive_fields(F: np.ndarray) -> np.ndarray:
    """All ``F_on - F_off`` fields of a weight matrix, shape ``(N_z, 8, 8)``."""
    return np.array([receptive_field(row) for row in F])


def orientation_indices(F: np.ndarray) -> np.ndarray:
    """:func:`orientation_index` of every neuron's receptive field."""
    return np.array([orientation_index(r) for r in receptive_fields(F)])


def shuffled_orientation(F: np.ndarray, seed: int = 0) -> np.ndarray:
    """Chance level of :func:`orientation_index`: every field with its pixels permuted
    (same values, no spatial structure)."""
    rng = np.random.default_rng(seed)
    fields = receptive_fields(F).reshape(len(F), -1)
    return np.array([orientation_index(rng.permutation(f).reshape(PATCH, PATCH)) for f in fields])


def orientation_summary(F: np.ndarray, seed: int = 0) -> dict:
    """Median orientation index, fraction of oriented fields and the shuffled median."""
    a = orientation_indices(F)
    return {
        "median": float(np.median(a)),
        "frac_oriented": float(np.mean(a > ORIENTED)),
        "shuffled_median": float(np.median(shuffled_orientation(F, seed))),
    }
