"""Unit tests of :mod:`dbcode.chapters.scenes` (no network is trained here)."""

import math

import numpy as np
import pytest

from dbcode.analysis import losses, orientation
from dbcode.chapters import scenes as sx
from dbcode.chapters import scenes_controls as sc
from dbcode.chapters import scenes_paper as sp
from dbcode.run.store import Result


def _grid():
    y, x = np.meshgrid(np.arange(8) - 3.5, np.arange(8) - 3.5, indexing="ij")
    return x, y


def test_jobs_fix_the_population_rate():
    jobs = sx.sweep_jobs("ci", [0, 1])
    assert set(jobs) == {(r, n) for r in sx.RULES for n in sx.N_Z_GRID["ci"]}
    for (rule, n), group in jobs.items():
        assert [j.seed for j in group] == [0, 1]
        p = group[0].params
        assert (p.variant, p.n_z) == (rule, n)
        assert p.n_z * p.rho == pytest.approx(sx.POPULATION_RATE)
        assert p.dt == 0.1


def test_paper_grid_is_the_papers():
    assert sx.N_Z_GRID["paper"] == (40, 60, 80, 100, 120, 140, 160, 180, 200)
    p = sx.network_job("sb", 40, "paper").params
    assert p.n_presentations == 1_500_000 and p.rho == 25.0


def test_noise_control_differs_from_the_paper_sweep_only_in_the_final_noise():
    jobs = sp.noise_jobs("paper", [0])
    assert set(jobs) == {(r, n) for r in sx.RULES for n in sp.NOISE_N_ZS}
    for (rule, n), (job,) in jobs.items():
        paper = sx.network_job(rule, n, "paper", 0).params
        assert job.params.sigma2_final == sp.NOISE_SIGMA2 > paper.sigma2_final
        assert job.params.replace(sigma2_final=paper.sigma2_final) == paper


def test_neurons_for_loss_interpolates_in_log_n():
    n, extrapolated = sx.neurons_for_loss([50, 200], [0.03, 0.02], 0.025)
    assert n == pytest.approx(100.0) and not extrapolated


def test_neurons_for_loss_extrapolates_the_end_segments():
    n, extrapolated = sx.neurons_for_loss([50, 100, 200], [0.03, 0.025, 0.02], 0.015)
    assert extrapolated and n == pytest.approx(400.0)
    n, extrapolated = sx.neurons_for_loss([50, 100], [0.03, 0.025], 0.035)
    assert extrapolated and n == pytest.approx(25.0)
    n, _ = sx.neurons_for_loss([50, 100], [0.03, 0.031], 0.02)
    assert math.isinf(n)


def test_orientation_index_separates_centre_surround_from_gabor():
    x, y = _grid()
    r2 = x**2 + y**2
    centre_surround = np.exp(-r2 / 2) - 0.5 * np.exp(-r2 / 8)
    gabor = np.exp(-r2 / 8) * np.cos(1.5 * x)
    stripe = np.cos(0.8 * (x + y))
    assert orientation.orientation_index(centre_surround) < 0.05
    assert orientation.orientation_index(gabor) > 0.7
    assert orientation.orientation_index(stripe) > 0.9
    assert orientation.orientation_index(np.zeros((8, 8))) == 0.0
    rotated = orientation.orientation_index(np.exp(-r2 / 8) * np.cos(1.5 * y))
    assert rotated == pytest.approx(orientation.orientation_index(gabor))


def test_shuffled_fields_lie_between_isotropic_and_oriented():
    x, _ = _grid()
    F = np.tile(np.concatenate([np.cos(1.5 * x).ravel(), np.zeros(64)]), (20, 1))
    a = orientation.shuffled_orientation(F)
    assert 0.0 < np.median(a) < orientation.ORIENTED


def _result(test_loss, F=None):
    arrays = {
        "test_loss": np.asarray(test_loss, dtype=float),
        "F": np.zeros((2, 128)) if F is None else F,
    }
    return Result(arrays=arrays, meta={"runtime_s": 1.0, "data_source": "test"}, provenance={})


def _sweep(sb, db):
    results = {}
    for rule, curve in (("sb", sb), ("db", db)):
        for n, loss in zip((50, 100, 200), curve):
            results[(rule, n)] = [_result([1.0, loss, loss, loss])]
    return sx.Sweep(results, (50, 100, 200))


def test_lowest_loss_is_the_minimum_over_training_for_runs_and_sweeps():
    sweep = sx.Sweep(
        {("sb", 50): [_result([1.0, 0.2, 0.4, 0.3])], ("db", 50): [_result([1.0, 0.3, 0.3, 0.3])]},
        (50,),
    )
    assert sweep.mean_loss("sb", "lowest")[0] == pytest.approx(0.2)
    assert sweep.mean_loss("sb")[0] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="choose one of"):
        sweep.losses("sb", "min")


def test_sweep_ratio_and_gap():
    sweep = _sweep(sb=[0.03, 0.025, 0.02], db=[0.025, 0.02, 0.019])
    assert sweep.middle == 100
    np.testing.assert_allclose(sweep.relative_gap(), [0.2, 0.25, 1 / 19])
    ratio = sweep.neuron_ratio()
    assert ratio["ratio"] == pytest.approx(2.0) and not ratio["extrapolated"]
    assert ratio["lower_bound"] is None
    numbers = sx.loss_key_numbers(sweep)
    assert numbers["loss_sb_n50"] == pytest.approx(0.03)
    assert numbers["neuron_ratio_lower_bound"] == 0.0


def test_sweep_ratio_lower_bound_when_sb_never_reaches_db():
    ratio = _sweep(sb=[0.03, 0.026, 0.024], db=[0.025, 0.022, 0.022]).neuron_ratio()
    assert ratio["extrapolated"] and ratio["lower_bound"] == pytest.approx(2.0)
    assert ratio["ratio"] > 2.0


EVAL_AT = [0, 500_000, 1_000_000, 1_250_000, 1_500_000]


def _paper_summary():
    rows = [
        {
            "variant": rule,
            "n_z": n,
            "seed": 0,
            "data": {},
            "test_loss": [0.07, best, loss, loss, loss],
            "eval_at": EVAL_AT,
            "rate_hz": 25.0,
            "train_rate_hz": 25.0,
            "below_1hz_at_test": 0,
            "orientation_median": 0.5,
            "runtime_s": 600.0,
        }
        for rule, n, best, loss in (
            ("sb", 40, 0.031, 0.03),
            ("db", 40, 0.018, 0.02),
            ("sb", 60, 0.025, 0.025),
        )
    ]
    return {"total": 18, "done": len(rows), "networks": rows}


def test_paper_summary_tables_losses_by_rule_and_n_z():
    summary = _paper_summary()
    table = sp.paper_losses(summary)
    assert list(table["sb"]) == [40, 60] and list(table["db"]) == [40]
    assert sp.paper_conditions(summary) == [40]
    lowest = sp.paper_losses(summary, "lowest")
    assert lowest["sb"][40][0] == 0.03 and lowest["db"][40][0] == 0.018
    with pytest.raises(ValueError, match="unknown loss measure 'best'"):
        sp.paper_losses(summary, "best")
    x, _ = _grid()
    oriented = np.concatenate([np.cos(1.5 * x).ravel(), np.zeros(64)])
    fields = {"sb_n40_s0": np.tile(oriented, (40, 1)), "db_n40_s0": np.tile(oriented, (40, 1))}
    numbers = sp.paper_key_numbers(summary, fields)
    assert numbers["loss_sb_n60"] == pytest.approx(0.025)
    assert numbers["lowest_db_n40"] == pytest.approx(0.018)
    assert numbers["median_db_n40"] > orientation.ORIENTED
    fig = sp.plot_paper_scale(summary, _sweep(sb=[0.03, 0.025, 0.02], db=[0.025, 0.02, 0.019]))
    assert "3 of 18" in fig.axes[0].get_title()
    assert len(fig.axes) == 2
    assert len(fig.axes[1].lines) == 2  # SB and DB during training at N_z = 40
    table = sp.paper_table(summary)
    assert "| 40 | 0.0300 | 0.0180 | 0.0300 | 0.0200 | +66.7 % | +50.0 % |" in table
    assert "DB is below SB at every $N_z$ computed so far; at the end" in table
    trajectories = sp.paper_trajectories(summary, 40)
    assert trajectories["db"]["best"] == 0.018 and trajectories["db"]["best_at"] == 500_000
    assert trajectories["sb"]["below_1hz"] == 0


def _two_size_summary():
    summary = _paper_summary()
    rise = dict(summary["networks"][1], n_z=60, test_loss=[0.07, 0.02, 0.03, 0.03, 0.03])
    summary["networks"].append(rise)
    summary["done"] = len(summary["networks"])
    for row in summary["networks"]:
        row["data_source"] = "dead leaves (test)"
    return summary


def test_paper_c6_and_onsets_read_the_record():
    summary = _two_size_summary()
    c6 = sp.paper_c6(summary, "lowest")
    assert c6["n_zs"] == [40, 60] and c6["below"] == [40, 60]
    assert c6["gap"] == pytest.approx([0.03 / 0.018 - 1, 0.025 / 0.02 - 1])
    # DB's lowest at 40 (0.018) lies below SB's loss at 60: a lower bound of 60/40
    assert c6["ratio"]["n_z"] == 40 and c6["ratio"]["lower_bound"] == pytest.approx(1.5)
    final = sp.paper_c6(summary, "final")
    assert final["below"] == [40]  # DB ends at 0.03 at N_z = 60, above SB's 0.025
    onsets = sp.paper_onsets(summary)
    assert onsets[("db", 60)] == 1_000_000 and onsets[("db", 40)] is None
    text = sp.paper_findings(summary, {}, {})
    assert "DB at $N_z$ = 60 (from 1.00 M presentations)" in text
    assert "none of the other 3 networks" in text
    assert "$N_z$ = 40 of 40 and 60" in text
    box = sp.summary_box(
        _sweep(sb=[0.03, 0.025, 0.02], db=[0.025, 0.02, 0.019]),
        {
            (r, n): {"centre-surround": 0.0, "Gabor-like": 0.0}
            for r in sx.RULES
            for n in (50, 100, 200)
        },
        "dead leaves",
        summary,
    )
    assert "DB's test loss rises late in training at $N_z$ = 60" in box
    assert sp.paper_runtimes(summary) == (
        "Measured, one core per network: SB 10 min at $N_z$ = 40 and 10 min at $N_z$ = 60; "
        "DB 10 min at $N_z$ = 40 and 10 min at $N_z$ = 60."
    )


def test_paper_fields_are_shown_at_the_best_point_and_at_the_end():
    summary = _two_size_summary()
    x, _ = _grid()
    oriented = np.concatenate([np.cos(1.5 * x).ravel(), np.zeros(64)])
    fields = {}
    for rule in sx.RULES:
        for n in (40, 60):
            fields[f"{rule}_n{n}_s0"] = np.tile(oriented, (n, 1))
            fields[f"{rule}_n{n}_s0_best"] = np.tile(-oriented, (n, 1))
    assert sp.best_presentations(summary["networks"][1]) == 500_000
    fig = sp.plot_paper_fields(summary, fields)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 8
    assert "DB, $N_z$ = 40 (best, 0.50 M presentations)" in titles[2]
    assert "(end, 1.50 M)" in titles[3]
    best = sx.record_field_classes(fields, best=True)
    end = sx.record_field_classes(fields)
    assert set(best) == set(end) == {(r, n) for r in sx.RULES for n in (40, 60)}


def test_sigma2_schedule_follows_the_per_step_annealing_rule():
    from dbcode.model.rules import sigma_annealing_update

    params = sx.network_job("db", 40, "paper").params.replace(eta_sigma=7e-6)
    sigma, steps = params.sigma_init, params.steps_per_presentation
    for _ in range(20 * steps):  # 20 presentations
        sigma += sigma_annealing_update(sigma, params.sigma2_final, params.eta_sigma * params.dt)
    assert sp.sigma2_schedule(params, 20) == pytest.approx(sigma**2, rel=1e-3)
    assert sp.sigma2_schedule(params, 0) == pytest.approx(1.0)


def _control_summaries():
    def row(rule, n, curve, sigma2):
        return {
            "variant": rule,
            "n_z": n,
            "seed": 0,
            "data": {},
            "test_loss": curve,
            "eval_at": EVAL_AT,
            "sigma2_final": sigma2,
        }

    paper = {
        "networks": [
            row("sb", 40, [0.07, 0.028, 0.027, 0.027, 0.027], sp.PAPER_SIGMA2),
            row("db", 40, [0.07, 0.024, 0.035, 0.035, 0.035], sp.PAPER_SIGMA2),
            row("db", 100, [0.07, 0.02, 0.02, 0.02, 0.02], sp.PAPER_SIGMA2),
        ]
    }
    control = {
        "networks": [
            row("sb", 40, [0.07, 0.029, 0.028, 0.028, 0.028], sp.NOISE_SIGMA2),
            row("db", 40, [0.07, 0.025, 0.024, 0.024, 0.024], sp.NOISE_SIGMA2),
            row("sb", 60, [0.07, 0.026, 0.026, 0.026, 0.026], sp.NOISE_SIGMA2),
        ]
    }
    return paper, control


def test_instability_onset_is_the_first_rise_after_the_lowest_loss():
    at = [0, 1, 2, 3, 4]
    assert losses.instability_onset([1.0, 0.5, 0.55, 0.7, 0.5], at) == 3
    assert losses.instability_onset([1.0, 0.5, 0.55, 0.59, 0.5], at) is None
    assert losses.instability_onset([1.0, 0.9, 0.5], at[:3]) is None


def test_noise_control_pairs_each_network_with_its_control():
    pairs = sp.noise_control(*_control_summaries())
    assert list(pairs) == [("db", 40), ("sb", 40)]  # sb 60 has no paper-scale partner
    assert set(pairs["db", 40]) == {sp.PAPER_SIGMA2, sp.NOISE_SIGMA2}
    numbers = sp.noise_control_numbers(pairs)
    assert numbers["final_db_n40_s0.13"] == pytest.approx(0.035)
    assert numbers["lowest_db_n40_s0.13"] == 0.024
    assert numbers["final_db_n40_s0.18"] == pytest.approx(0.024)
    table = sp.noise_control_table(pairs)
    assert "| SB, $N_z$ = 40 | 0.0270 | 0.0270 | 0.0280 | 0.0280 |" in table
    assert "| DB, $N_z$ = 40 | 0.0240 | 0.0350 | 0.0240 | 0.0240 |" in table
    assert numbers["onset_db_n40_s0.13"] == 1_000_000 and numbers["onset_db_n40_s0.18"] == 0
    assert sp.noise_onset(pairs) == (
        "DB's test loss first rose 20 % above its lowest with 40 neurons after 1.0 million "
        "presentations with $\\sigma^2 \\to$ 0.13, not before the end with "
        "$\\sigma^2 \\to$ 0.18."
    )
    fig = sp.plot_noise_control(pairs)
    assert len(fig.axes) == 2  # one panel and its sigma^2 axis
    assert len(fig.axes[0].lines) == 4 and len(fig.axes[1].lines) == 4


def test_noise_control_caption_names_both_final_noise_levels():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "book" / "scenes.md").read_text()
    caption = text[text.index("**The noise control") : text.index("name: fig-scenes-noise")]
    for sigma2 in (sp.PAPER_SIGMA2, sp.NOISE_SIGMA2):
        assert f"{sigma2:g}" in caption


def test_the_paper_field_pattern_compares_the_classes_across_n_x():
    cs, gab = (
        {"centre-surround": 0.6, "Gabor-like": 0.1},
        {"centre-surround": 0.1, "Gabor-like": 0.5},
    )
    classes = {("db", 40): cs, ("db", 200): gab, ("sb", 40): gab, ("sb", 200): gab}
    assert sx.paper_field_pattern(classes, "db")["matches"]
    sb = sx.paper_field_pattern(classes, "sb")
    assert not sb["matches"] and sb["gabor_large"] and not sb["centre_surround_small"]


def test_the_summary_box_states_what_holds():
    sweep = _sweep(sb=[0.03, 0.025, 0.02], db=[0.025, 0.02, 0.021])
    none = {"centre-surround": 0.0, "Gabor-like": 0.0}
    classes = {(r, n): none for r in sx.RULES for n in (50, 100, 200)}
    box = sp.summary_box(sweep, classes, "dead leaves; fresh patches")
    assert box.startswith("```{important}") and box.endswith("```")
    assert "at $N_z$ = 50 and 100 of 50, 100 and 200" in box
    assert "**not** the paper's centre-surround" in box
    assert "no committed networks" in box


def test_control_conditions_are_recovered_from_the_jobs():
    for rule, conditions in sc.CONTROL_RULES.items():
        for condition in conditions:
            job = sc.control_job(rule, condition, "paper")
            assert sc.control_condition(job) == condition
            assert job.params.n_z == sc.CONTROL_N_Z
            assert job.params.n_presentations == sc.CONTROL_PRESENTATIONS
            assert job.params.n_evals * 15_000 == sc.CONTROL_PRESENTATIONS
    assert sc.control_job("db", "authors' test", "paper").params.test_protocol == "authors"


def test_control_table_and_finding():
    row = {
        "variant": "db",
        "condition": "baseline",
        "seed": 0,
        "test_loss": [0.05, 0.02, 0.03, 0.04],
        "eval_at": [0, 300_000, 600_000, 900_000],
        "train_rate_hz": 16.0,
        "rate_hz": 15.0,
        "runtime_s": 600.0,
    }
    rows = sc.control_rows(
        {"networks": [row, {**row, "variant": "sb", "test_loss": [0.05, 0.03, 0.03, 0.03]}]}
    )
    table = sc.control_table(rows)
    assert "| DB | baseline | 0.0200 | 0.30 |" in table
    assert "rise from 0.60 M presentations" in sc.control_finding(rows)


def test_without_excitation_keeps_the_diagonal_and_the_inhibition():
    W = np.array([[-2.0, 0.5, -0.1], [0.3, -1.0, 0.2], [-0.4, 0.0, 1.5]])
    out = sc.without_excitation(W)
    assert np.array_equal(out, [[-2.0, 0.0, -0.1], [0.0, -1.0, 0.0], [-0.4, 0.0, 1.5]])
    assert W[0, 1] == 0.5  # the input is not modified
