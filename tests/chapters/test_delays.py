"""dbcode.chapters.delays: jobs of the delay scan, baseline, similarity, synchrony."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from dbcode.analysis.features import mean_pairwise_cosine
from dbcode.chapters import delays as dx
from dbcode.model.params import preset
from dbcode.run.jobs import load_data


@pytest.mark.parametrize("scale", ["ci", "paper"])
def test_every_delay_divides_the_presentation(scale):
    for dt in dx.DELAYS[scale] + dx.EXPLORER_DELAYS:
        p = preset("delays", scale, dt=dt)
        assert p.steps_per_presentation * dt == pytest.approx(p.t_present)


def test_scan_jobs_vary_only_the_delay_and_the_inhibitory_rate():
    jobs = dx.sweep_jobs("ci", 0)
    assert len(jobs) == len(dx.CONDITIONS) * len(dx.DELAYS["ci"]) * len(dx.BETAS["ci"])
    base = preset("delays", "ci")
    for (c, beta, dt), job in jobs.items():
        p = job.params
        assert p.dt == dt and p.sigma2_final == beta and p.n_z == 200 and p.rho == 5.0
        assert p.n_z * p.rho == 1000.0
        assert job.n_record == dx.SCAN_RECORD_IMAGES * p.steps_per_presentation
        assert p.eta_F == base.eta_F
        expected = base.eta_W / dx.SLOW_INHIBITION if c == "sb-slow" else base.eta_W
        assert p.eta_W == pytest.approx(expected)
        assert p.variant == ("db" if c == "db" else "sb")


def test_paper_scan_has_several_betas():
    jobs = dx.sweep_jobs("paper", 0)
    assert {k[1] for k in jobs} == set(dx.BETAS["paper"])
    assert len(dx.BETAS["paper"]) >= 2
    assert next(iter(jobs.values())).params.n_presentations == 1_500_000


def test_mnist_jobs_use_the_long_delay_and_record_test_spikes():
    jobs = dx.mnist_jobs("ci", 0)
    for rule, job in jobs.items():
        p = job.params
        assert p.variant == rule and p.dt == dx.MNIST_DELAY and p.n_z == 9
        assert job.n_record == min(dx.MNIST_RECORD_IMAGES, p.n_test_eval) * p.steps_per_presentation


def test_mean_input_baseline_matches_its_definition():
    job = dx.scan_job("db", 1.0)
    data = load_data(job)
    x = data.test[:7]
    m = data.train.mean(axis=0)
    expected = np.mean([np.sum((xi - m) ** 2) for xi in x]) / (2 * x.shape[1])
    assert dx.mean_input_baseline(job, x) == pytest.approx(expected)


def test_similarity_ignores_the_shared_mean_input_component():
    rng = np.random.default_rng(0)
    fields = rng.standard_normal((20, 64))
    shared = 3.0 + np.abs(rng.standard_normal(64))
    F = np.concatenate([shared + fields / 2, shared - fields / 2], axis=1)
    assert mean_pairwise_cosine(F) > 0.9
    assert abs(dx.weight_similarity(F, "scenes")) < 0.1
    same = np.tile(F[:1], (20, 1))
    assert dx.weight_similarity(same, "scenes") == pytest.approx(1.0)
    digits = rng.random((9, 256)) + 5.0
    assert abs(dx.weight_similarity(digits, "mnist")) < 0.2
    assert dx.weight_similarity(
        np.tile(digits[:1], (9, 1)) * np.arange(1, 10)[:, None], "mnist"
    ) == pytest.approx(1.0)


def test_collapse_delay_is_the_onset_of_lasting_collapse():
    summary = {
        "delays": [0.1, 0.5, 1, 2, 5],
        "baseline": 0.04,
        (0.13, "sb"): {"loss": [0.02, 0.05, 0.03, float("nan"), 0.06]},
        (0.13, "db"): {"loss": [0.02, 0.02, 0.02, 0.03, 0.03]},
    }
    assert dx.collapse_delay(summary, 0.13, "sb") == 2
    assert dx.collapse_delay(summary, 0.13, "db") is None
    assert dx.collapsed(float("nan"), 0.04) and dx.collapsed(0.04, 0.04)
    assert not dx.collapsed(0.039, 0.04)


@pytest.mark.slow
def test_explorer_runs_a_short_network_on_demand(tmp_path, monkeypatch):
    monkeypatch.setenv("DBCODE_CACHE", str(tmp_path))
    fig = dx.explore(5.0, n_presentations=50)
    assert len(fig.axes) == 2 * (1 + dx.EXPLORER_FIELDS)


def test_the_divergence_note_names_the_diverged_networks_only():
    summary = {"delays": [0.1, 5.0]}
    for c in dx.CONDITIONS:
        summary[(0.13, c)] = {"loss": [0.02, 0.03]}
    assert dx.divergence_note(summary, 0.13, "ci") == ""
    summary[(0.13, "sb")] = {"loss": [0.02, float("nan")]}
    note = dx.divergence_note(summary, 0.13, "ci")
    assert "(SB at 5 ms; crosses in the figure)" in note and "10 times the paper's" in note
    assert "times the paper's" not in dx.divergence_note(summary, 0.13, "paper")
