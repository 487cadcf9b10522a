"""Receptive fields classified by fitting a Gabor and a difference of Gaussians (Fig 5C).

The paper states that with more coding neurons than inputs the fields are
Gabor-wavelet-like and with fewer they are centre-surround. Each field
``r = F_on - F_off`` (8 x 8) is fitted by least squares with

* a Gabor, ``A exp(-(u^2 / (2 s_u^2) + v^2 / (2 s_v^2))) cos(2 pi f u + phi)`` in
  coordinates ``(u, v)`` rotated by ``theta`` about a centre ``(x0, y0)`` (8 parameters),
* a difference of concentric Gaussians, ``A1 exp(-d^2 / (2 s1^2)) - A2 exp(-d^2 / (2
  s2^2))`` with ``d`` the distance from ``(x0, y0)`` (6 parameters),

and the fit quality is the fraction of the field's variance explained, ``R^2``. A field
is *Gabor-like* when the Gabor explains at least :data:`GOOD_FIT` of it and clearly more
than the difference of Gaussians (by :data:`MARGIN`), *centre-surround* when the
difference of Gaussians explains at least :data:`GOOD_FIT` and no less than the Gabor
minus the margin (the simpler model wins a near tie) and has an antagonistic surround
(:data:`SURROUND`), and *other* otherwise.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

GOOD_FIT = 0.7
"""Explained variance from which a fit counts as describing a field."""
MARGIN = 0.05
"""How much better the Gabor must explain a field to beat the difference of Gaussians."""
SURROUND = 0.1
"""Smallest integrated weight of a centre-surround field's surround relative to its
centre (``A2 s2^2 / (A1 s1^2)``); a blob without a surround is not centre-surround."""
CLASSES = ("Gabor-like", "centre-surround", "other")
"""The classes a field can fall into."""

_Y, _X = np.mgrid[0:8, 0:8].astype(float)


def gabor(p: np.ndarray, x: np.ndarray = _X, y: np.ndarray = _Y) -> np.ndarray:
    """The Gabor of parameters ``(A, x0, y0, s_u, s_v, theta, f, phi)`` on the grid."""
    a, x0, y0, su, sv, theta, f, phi = p
    c, s = np.cos(theta), np.sin(theta)
    u = (x - x0) * c + (y - y0) * s
    v = -(x - x0) * s + (y - y0) * c
    return (
        a
        * np.exp(-(u * u / (2 * su * su) + v * v / (2 * sv * sv)))
        * np.cos(2 * np.pi * f * u + phi)
    )


def dog(p: np.ndarray, x: np.ndarray = _X, y: np.ndarray = _Y) -> np.ndarray:
    """The difference of Gaussians of parameters ``(A1, A2, x0, y0, s1, s2)``."""
    a1, a2, x0, y0, s1, s2 = p
    d2 = (x - x0) ** 2 + (y - y0) ** 2
    return a1 * np.exp(-d2 / (2 * s1 * s1)) - a2 * np.exp(-d2 / (2 * s2 * s2))


def _explained(field: np.ndarray, model: np.ndarray) -> float:
    total = np.sum((field - field.mean()) ** 2)
    return float(1.0 - np.sum((field - model) ** 2) / total) if total > 0 else 0.0


def _best(fun, starts, lower, upper, field):
    best, best_cost = None, np.inf
    for p0 in starts:
        p0 = np.clip(p0, lower + 1e-9, upper - 1e-9)
        res = least_squares(
            lambda p: (fun(p) - field).ravel(), p0, bounds=(lower, upper), max_nfev=400
        )
        if res.cost < best_cost:
            best, best_cost = res.x, res.cost
    return best


def fit_gabor(field: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares Gabor fit of an 8 x 8 field: parameters and ``R^2``.

    Starts from the peak of the field's power spectrum (frequency and orientation) at
    the field's centre of energy, in cosine and sine phase (the amplitude
    takes either sign)."""
    field = np.asarray(field, dtype=float)
    scale = np.abs(field).max() or 1.0
    energy = field * field
    x0, y0 = (np.sum(energy * _X), np.sum(energy * _Y)) / (energy.sum() or 1.0)
    power = np.abs(np.fft.fft2(field - field.mean())) ** 2
    power[0, 0] = 0.0
    ky, kx = np.unravel_index(np.argmax(power), power.shape)
    fy, fx = np.fft.fftfreq(8)[ky], np.fft.fftfreq(8)[kx]
    f0 = max(np.hypot(fx, fy), 0.05)
    theta0 = np.arctan2(fy, fx)
    lower = np.array([-4 * scale, -1.0, -1.0, 0.5, 0.5, -2 * np.pi, 0.0, -2 * np.pi])
    upper = np.array([4 * scale, 8.0, 8.0, 8.0, 8.0, 2 * np.pi, 0.5, 2 * np.pi])
    starts = [np.array([scale, x0, y0, 2.0, 2.0, theta0, f0, phi]) for phi in (0.0, np.pi / 2)]
    p = _best(gabor, starts, lower, upper, field)
    return p, _explained(field, gabor(p))


def fit_dog(field: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares difference-of-Gaussians fit of an 8 x 8 field: parameters and
    ``R^2``. Starts at the extreme pixel of either sign."""
    field = np.asarray(field, dtype=float)
    scale = np.abs(field).max() or 1.0
    lower = np.array([-4 * scale, -4 * scale, -1.0, -1.0, 0.4, 0.8])
    upper = np.array([4 * scale, 4 * scale, 8.0, 8.0, 4.0, 12.0])
    starts = []
    for sign in (1.0, -1.0):
        iy, ix = np.unravel_index(np.argmax(sign * field), field.shape)
        starts.append(np.array([sign * scale, 0.3 * sign * scale, ix, iy, 1.0, 3.0]))
    p = _best(dog, starts, lower, upper, field)
    return p, _explained(field, dog(p))


def classify_field(field: np.ndarray) -> dict:
    """Both fits of one field and its class (one of :data:`CLASSES`)."""
    _, r2_gabor = fit_gabor(field)
    p, r2_dog = fit_dog(field)
    a1, a2, _, _, s1, s2 = p
    # an antagonistic surround that carries at least SURROUND of the centre's weight
    surround = a1 * a2 > 0 and abs(a2) * s2 * s2 >= SURROUND * abs(a1) * s1 * s1
    if r2_gabor >= GOOD_FIT and r2_gabor > r2_dog + MARGIN:
        kind = "Gabor-like"
    elif r2_dog >= GOOD_FIT and r2_dog >= r2_gabor - MARGIN and surround:
        kind = "centre-surround"
    else:
        kind = "other"
    return {"r2_gabor": r2_gabor, "r2_dog": r2_dog, "class": kind}


def classify_fields(fields: np.ndarray) -> list[dict]:
    """:func:`classify_field` of every field of a stack ``(n, 8, 8)``."""
    return [classify_field(f) for f in np.asarray(fields)]


def class_fractions(classes: list[dict]) -> dict[str, float]:
    """Fraction of the fields in each class of :data:`CLASSES`."""
    n = max(1, len(classes))
    return {kind: sum(c["class"] == kind for c in classes) / n for kind in CLASSES}
