"""dbcode.chapters.mnist: jobs, class matching, active neurons, reconstructions."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from dbcode.chapters import mnist as mx
from dbcode.run.store import Result


def test_offline_split_fits_the_offline_subset():
    assert sum(mx.OFFLINE_SPLIT.values()) <= 1_500


def test_jobs_keep_dt_and_record_the_first_test_images():
    jobs = mx.sweep_jobs("ci", [0, 1, 2])
    assert set(jobs) == {"sb", "db"}
    for rule, group in jobs.items():
        assert [j.seed for j in group] == [0, 1, 2]
        p = group[0].params
        assert p.variant == rule and p.dt == 0.1 and p.n_z == 9
        assert p.n_train + p.n_test <= 1_500 or not mx.offline_data()
        assert group[0].n_record == mx.N_RECORD_IMAGES * p.steps_per_presentation
    variants = mx.variant_jobs("ci", 0)
    assert {j.params.variant for j in variants.values()} == {"db-slow", "db-simultaneous"}
    assert all(j.n_record == 0 for j in variants.values())


def test_paper_scale_runs_the_published_phases():
    p = mx.network_job("db", "paper", 0).params
    assert [n for _, n in p.phase_plan()] == [60_000, 30_000, 120_000]


def test_class_correlation_identifies_noisy_prototypes():
    rng = np.random.default_rng(0)
    means = rng.random((3, 256))
    F = means[[2, 0, 1, 1]] + 0.1 * rng.standard_normal((4, 256))
    C = mx.class_correlation(F, means)
    assert C.shape == (4, 3)
    assert np.all(np.abs(C) <= 1 + 1e-12)
    m = mx.class_matching(F, means)
    assert m["best"].tolist() == [2, 0, 1, 1]
    assert m["n_classes"] == 3
    assert np.all(m["best_r"] > 0.9) and np.all(m["margin"] > 0)


def test_class_correlation_ignores_offset_and_scale():
    rng = np.random.default_rng(1)
    means = rng.random((3, 16))
    C = mx.class_correlation(3.0 * means + 5.0, means)
    assert np.allclose(np.diag(C), 1.0)


def test_active_neurons_need_two_spikes():
    counts = np.array([[0, 1, 1, 5], [2, 2, 0, 0], [1, 0, 0, 0]])
    assert mx.active_counts(counts).tolist() == [1, 2, 0]


def test_reconstruction_averages_the_plateau():
    p = mx.network_job("db", "ci", 0).params
    n, fade = p.steps_per_presentation, p.fade_steps
    z = np.zeros((2 * n, p.n_z))
    z[:fade, 0] = 100.0  # the fade-in is left out
    z[fade:n, 1] = 1.0
    z[n + fade :, 2] = 2.0
    D = np.zeros((4, p.n_z))
    D[:, 1], D[:, 2] = 1.0, 0.5
    r = Result(arrays={"record_z": z, "D": D}, meta={}, provenance={})
    assert np.allclose(mx.reconstructions(r, p), [[1.0] * 4, [1.0] * 4])


@pytest.mark.slow
def test_explorer_trains_a_short_network(tmp_path, monkeypatch):
    monkeypatch.setenv("DBCODE_CACHE", str(tmp_path))
    fig = mx.explore("sb", n_z=4, beta=0.1, seed=0)
    assert len(fig.axes) == 5


def test_paper_key_numbers_leave_out_diverged_networks():
    from dbcode.chapters import mnist as mx

    def row(variant, seed, losses, diverged=False):
        return {
            "variant": variant,
            "seed": seed,
            "diverged": diverged,
            "eval_at": [0, 10, 20],
            "test_loss": losses,
        }

    summary = {
        "networks": [
            row("sb", 0, [0.1, 0.05, 0.02]),
            row("sb", 1, [0.1, 0.05, 0.04]),
            row("db", 0, [0.1, 0.04, 0.01]),
            row("db", 1, [0.1, None, None], diverged=True),
        ]
    }
    k = mx.paper_key_numbers(summary)
    assert k["last_loss_sb"] == pytest.approx(0.03)
    assert k["last_loss_db"] == pytest.approx(0.01)
    assert k["loss_ratio_sb_db"] == pytest.approx(3.0)
    assert (k["n_networks"], k["n_diverged"]) == (4, 1)
