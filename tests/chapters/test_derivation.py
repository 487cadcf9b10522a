"""The optimal network of SI Eq 13 (dbcode.analysis.theory) and the Fig 1A tracking demo
(dbcode.chapters.derivation), plus the numerical checks of the derivation."""

import numpy as np
import pytest

from dbcode.analysis import theory as em
from dbcode.chapters import derivation as tracking
from dbcode.model import rules


def test_network_parameters_of_si_eq13():
    D = np.random.default_rng(0).random((3, 5))
    F, W, T, b = em.network_parameters(D, 0.1, 0.01)
    np.testing.assert_allclose(F, D.T)
    np.testing.assert_allclose(W, -D.T @ D)
    np.testing.assert_allclose(T, 0.5 * (D**2).sum(axis=0) - 0.1 * np.log(0.01 / 0.99))
    np.testing.assert_allclose(b + rules.self_inhibition_constant(np.diag(W)), -T)


def test_potential_is_projected_error():
    rng = np.random.default_rng(1)
    D = rng.random((4, 7))
    lhs, rhs = em.projected_error_identity(D, 0.2, 0.05, rng.random(4), rng.random(7))
    np.testing.assert_allclose(lhs, rhs, atol=1e-12)


@pytest.mark.parametrize("correlated", [False, True])
def test_gradient_check(correlated):
    out = em.gradient_check(correlated)
    assert out["db_error"] < 1e-6
    assert (out["sb_error"] > 0.1) if correlated else (out["sb_error"] < 1e-6)


def test_inhibitory_fixed_point():
    out = em.inhibitory_fixed_point()
    assert out["somatic_at_fixed_point"] < 1e-10
    assert out["dendritic_at_fixed_point"] < 1e-10
    assert out["somatic_perturbed"] > 0.1


def test_smooth_signal_and_decoder_shapes():
    x = tracking.smooth_signal(40, 2, np.random.default_rng(0))
    assert x.shape == (40, 2)
    np.testing.assert_allclose(np.abs(x - 1.0).max(axis=0), 0.6)
    assert np.abs(np.diff(x, axis=0)).max() < 0.5
    D = tracking.fan_decoder(5, 2, 0.3)
    np.testing.assert_allclose(np.linalg.norm(D, axis=0), 0.3)
    assert (D >= -1e-12).all()
    assert tracking.fan_decoder(3, 1, 0.2).shape == (1, 3)
    with pytest.raises(ValueError):
        tracking.fan_decoder(3, 3, 0.2)


def test_tracking_is_tight_and_deterministic():
    a = tracking.track(n_z=10, beta=0.01, duration_ms=400.0, seed=3)
    b = tracking.track(n_z=10, beta=0.01, duration_ms=400.0, seed=3)
    assert a.relative_loss == b.relative_loss
    assert a.relative_loss < 0.1
    assert a.balance_index < 0.25
    assert a.x.shape == a.xhat.shape == (3500, 2)
    assert a.spikes.shape == (3500, 10)


def test_tracking_fails_without_balance_at_high_noise():
    """Very random spiking (beta comparable to the error scale) loosens the balance."""
    noisy = tracking.track(n_z=10, beta=0.3, duration_ms=400.0, seed=3)
    tight = tracking.track(n_z=10, beta=0.01, duration_ms=400.0, seed=3)
    assert noisy.relative_loss > 2 * tight.relative_loss
    assert noisy.balance_index > tight.balance_index


def test_one_dimensional_tracking():
    r = tracking.track(n_z=8, beta=0.01, n_dim=1, duration_ms=300.0, seed=1)
    assert r.x.shape[1] == 1
    assert r.relative_loss < 0.1
