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
    assert dx.divergence_note(summary, 0.13, "ci").startswith("No network of this scan diverged")
    summary[(0.13, "sb")] = {"loss": [0.02, float("nan")]}
    note = dx.divergence_note(summary, 0.13, "ci")
    assert "(SB at 5 ms; crosses in the figure)" in note and "10 times the paper's" in note
    assert "times the paper's" not in dx.divergence_note(summary, 0.13, "paper")


# --------------------------------------------------------------------------- paper scale
def _toy_scan_record(entries):
    """A committed-record stand-in: ``{(condition, beta, dt): (last loss or None for
    diverged, similarity, runtime)}`` as rows keyed by their jobs' identities."""
    from dbcode.run.records import job_identity

    jobs = dx.sweep_jobs("paper", 0)
    rows = []
    for key, (loss, similarity, runtime) in entries.items():
        rows.append(
            {
                "job_id": job_identity(jobs[key]),
                "diverged": loss is None,
                "last_loss": loss,
                "lowest_loss": None if loss is None else 0.9 * loss,
                "similarity": similarity,
                "rate_hz": 5.0,
                "runtime_s": runtime,
            }
        )
    return {"networks": rows}


def test_the_paper_record_is_shaped_like_the_ci_scan_and_marks_what_has_not_run():
    from dbcode.chapters import delays_paper as dp

    beta = dx.BETAS["paper"][0]
    record = _toy_scan_record(
        {
            ("sb", beta, 0.1): (0.020, 0.1, 600.0),
            ("db", beta, 0.1): (0.019, 0.05, 900.0),
            ("sb", beta, 0.5): (0.050, 0.8, 300.0),
            ("sb", beta, 1.0): (None, 0.0, 120.0),
            ("db", beta, 1.0): (0.024, 0.06, 200.0),
        }
    )
    scan = dp.scan_from_record(record, baseline=0.04)
    assert scan["done"] == 5 and scan["total"] == 63
    sb = scan[(beta, "sb")]
    k05, k1 = scan["delays"].index(0.5), scan["delays"].index(1.0)
    assert sb["ran"][0] and sb["ran"][k05] and not sb["ran"][scan["delays"].index(0.25)]
    assert sb["diverged"][k1] and np.isnan(sb["loss"][k1])
    assert dp.onset_of_collapse(scan, beta, "sb") == 0.5  # 0.5 above baseline, 1.0 diverged
    assert dp.onset_of_collapse(scan, beta, "db") is None
    assert dp.onset_of_collapse(scan, beta, "sb-slow") is None  # nothing ran
    numbers = dp.paper_scan_numbers(scan, beta)
    assert numbers["shortest_delay"] == 0.1 and numbers["longest_delay"] == 1.0
    assert numbers["grid_shortest_delay"] == min(dx.DELAYS["paper"])
    assert numbers["db_growth"] == pytest.approx(0.024 / 0.019 - 1)
    assert numbers["n_diverged_sb"] == 1 and numbers["collapse_delay_sb"] == 0.5
    assert "loss_sb_dt0.25" not in numbers  # not run: no number, not a made-up one
    text = dp.scan_findings(scan, beta)
    assert "from 0.5 ms on" in text and "diverged at 1 ms" in text and "not run yet" in text
    assert "+26 %" in text  # DB 0.019 -> 0.024
    assert "rose late" not in text  # every toy network's last loss is 1.11 x its lowest
    assert "At the shortest delay, 0.1 ms, SB's lowest test loss" in text
    assert "(SB / DB = 1.05, the paper's measure)" in text
    scan[(beta, "db")]["lowest"][0] = 0.019 / 1.5
    assert "rose late in training at 0.1 ms (lowest 0.0127, last 0.0190)" in dp.scan_findings(
        scan, beta
    )
    note = dp.not_run_note(scan)
    assert "5 of 63" in note and "fig6a --scale paper" in note
    assert f"{58 * np.mean([600, 900, 300, 120, 200]) / 3600:.0f} h" in note
    table = dp.scan_table(scan, beta)
    assert "—" in table and "diverged (2 min)" in table and "0.0200 (lowest 0.0180)" in table
    assert dp.betas_run(scan) == [beta]


def test_a_complete_record_needs_no_note():
    from dbcode.chapters import delays_paper as dp

    record = _toy_scan_record({key: (0.02, 0.1, 60.0) for key in dx.sweep_jobs("paper", 0)})
    assert dp.not_run_note(dp.scan_from_record(record, 0.04)) == ""


def test_the_paper_scan_figure_draws_nothing_where_nothing_ran():
    from dbcode.chapters import delays_paper as dp

    beta = dx.BETAS["paper"][0]
    record = _toy_scan_record(
        {("sb", beta, 0.1): (0.02, 0.1, 60.0), ("sb", beta, 2.0): (None, 0, 9)}
    )
    fig = dx.plot_delay_scan(dp.scan_from_record(record, 0.04), [beta])
    crosses = [line for line in fig.axes[0].lines if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [2.0]  # only the diverged one


def test_paper_mnist_record_and_its_words():
    from dbcode.chapters import delays_paper as dp
    from dbcode.run.records import job_identity

    jobs = dx.mnist_jobs("paper", 0)
    row = dict(diverged=False, coincidence=0.8, coincidence_chance=0.5, fano=5.0)
    record = {
        "networks": [
            {"job_id": job_identity(jobs["sb"]), **row, "similarity": 0.9, "last_loss": 0.02},
            {
                "job_id": job_identity(jobs["db"]),
                **row,
                "coincidence": 0.55,
                "fano": 1.8,
                "similarity": 0.3,
                "last_loss": 0.015,
            },
        ]
    }
    paper = dp.mnist_from_record(record)
    assert set(paper) == {"sb", "db"}
    text = dp.mnist_findings(paper)
    assert "more synchronous" in text and "80 % against 55 %" in text and "more alike" in text
    assert "not run" in dp.mnist_findings({})
    assert dp.mnist_numbers(paper)["fano_db"] == 1.8
    assert "| test loss | paper | 0.0200 | 0.0150 |" in dp.mnist_table({}, paper)


def test_paper_scan_submits_the_main_beta_pairwise_from_the_longest_delay():
    keys = list(dx.sweep_jobs("paper", 0))
    main = dx.BETAS["paper"][0]
    first = keys[: 2 * len(dx.DELAYS["paper"])]
    assert all(k[1] == main and k[0] in ("sb", "db") for k in first)
    delays = [k[2] for k in first[::2]]
    assert delays == sorted(dx.DELAYS["paper"], reverse=True)
    assert [k[2] for k in first[1::2]] == delays


def test_a_similarity_that_rounds_to_zero_has_no_minus_sign():
    assert [dx.similarity_text(v) for v in (-0.003, 0.004, -0.2, 0.755)] == [
        "0.00",
        "0.00",
        "-0.20",
        "0.76",
    ]
