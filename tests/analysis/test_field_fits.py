"""Gabor and difference-of-Gaussians fits classify receptive fields."""

import numpy as np
import pytest

from dbcode.analysis import field_fits as ff

GABOR = np.array([1.0, 3.5, 3.8, 1.5, 2.5, 0.6, 0.25, 0.3])
DOG = np.array([1.0, 0.4, 3.2, 4.1, 0.9, 2.5])


@pytest.mark.parametrize(
    "field, kind",
    [
        (ff.gabor(GABOR), "Gabor-like"),
        (ff.dog(DOG), "centre-surround"),
        (ff.dog(np.array([1.0, 0.0, 3.2, 4.1, 1.2, 2.5])), "other"),  # blob, no surround
    ],
)
def test_model_fields_are_recognised(field, kind):
    assert ff.classify_field(field)["class"] == kind
    noisy = field + 0.05 * np.random.default_rng(1).normal(size=(8, 8))
    assert ff.classify_field(noisy)["class"] == kind


def test_fits_recover_the_fields():
    _, r2 = ff.fit_gabor(ff.gabor(GABOR))
    assert r2 > 0.99
    _, r2 = ff.fit_dog(ff.dog(DOG))
    assert r2 > 0.99


def test_noise_is_other():
    fields = np.random.default_rng(2).normal(size=(20, 8, 8))
    fractions = ff.class_fractions(ff.classify_fields(fields))
    assert fractions["other"] >= 0.9
    assert sum(fractions.values()) == pytest.approx(1.0)
