"""Measures the chapters report: which features the neurons learned, how similar and
how synchronous they are."""

from __future__ import annotations

import numpy as np


def cosine_matrix(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosine similarity between the rows of ``A`` and the rows of ``B``."""
    A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)
    B = B / np.maximum(np.linalg.norm(B, axis=1, keepdims=True), 1e-12)
    return A @ B.T


def best_matches(F: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """Index of the template (e.g. one of the 16 bars) that best matches each neuron's
    input weights, by cosine similarity."""
    return np.argmax(cosine_matrix(F, templates), axis=1)


def distinct_features(F: np.ndarray, templates: np.ndarray) -> int:
    """How many templates are the best match of exactly one neuron (16 for a perfect
    one-bar-per-neuron code on the bars task)."""
    counts = np.bincount(best_matches(F, templates), minlength=len(templates))
    return int(np.sum(counts == 1))


def mean_pairwise_cosine(rows: np.ndarray) -> float:
    """Mean cosine similarity over all pairs of distinct rows."""
    C = cosine_matrix(rows, rows)
    n = len(rows)
    return float((C.sum() - np.trace(C)) / (n * (n - 1)))


def active_neurons_per_image(counts: np.ndarray, min_spikes: int = 1) -> np.ndarray:
    """Number of neurons with at least ``min_spikes`` spikes in each presentation."""
    return np.sum(counts >= min_spikes, axis=1)
