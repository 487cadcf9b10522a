"""dbcode.chapters.bars: the sweep definition, its summary over seeds, key numbers,
task statistics and plotting helpers (no network is trained except in the slow test)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from dbcode.analysis.losses import N_FINAL
from dbcode.chapters import bars as bx
from dbcode.data.bars import bar_templates, partner
from dbcode.run.store import Result


def test_sweep_jobs_cover_grid_seeds_and_rules():
    jobs = bx.sweep_jobs("ci", seed=5)
    assert len(jobs) == len(bx.C_GRID["ci"]) * bx.N_SEEDS["ci"] * 2
    assert {j.seed for j in jobs} == {5, 6, 7}
    assert {j.overrides["variant"] for j in jobs} == {"sb", "db"}
    assert sorted({j.data["c"] for j in jobs}) == list(bx.C_GRID["ci"])
    p = jobs[0].params
    assert p.n_evals == 10 and p.n_evals >= N_FINAL
    paper = bx.sweep_jobs("paper")
    assert len(paper) == 21 * 50 * 2
    assert paper[0].params.n_presentations == 1_000_000
    assert bx.C_GRID["paper"][1] == 0.05 and bx.C_GRID["paper"][-1] == 1.0


def test_ci_annealing_ends_at_the_papers_fraction_of_training():
    ci, paper = bx.sweep_jobs("ci")[0].params, bx.sweep_jobs("paper")[0].params
    assert ci.eta_sigma * ci.n_presentations == pytest.approx(
        paper.eta_sigma * paper.n_presentations
    )


def test_slider_values_map_to_the_same_job():
    a = bx.sweep_jobs("ci", c_values=[0.6000000000000001], n_seeds=1)
    b = bx.sweep_jobs("ci", c_values=[0.6], n_seeds=1)
    assert [j.key_params() for j in a] == [j.key_params() for j in b]


def test_variant_jobs_give_dendritic_rules_small_initial_weights():
    jobs = bx.variant_jobs("ci")
    assert len(jobs) == len(bx.VARIANT_C) * 4
    for j in jobs:
        assert j.params.init == ("small" if j.params.is_dendritic else "zero")


def _fake(loss_tail, F, runtime=1.0):
    test_loss = np.r_[0.1, 0.05, np.full(N_FINAL, loss_tail)]
    return Result(
        arrays={"test_loss": test_loss, "F": F},
        meta={"runtime_s": runtime, "data_source": "x"},
        provenance={},
    )


def _sweep():
    bars = bar_templates()
    crosses = np.maximum(bars, bars[partner(np.arange(16))])
    jobs = bx.sweep_jobs("ci", c_values=[0.0, 0.5, 1.0], n_seeds=2)
    sb_loss = {0.0: 0.012, 0.5: 0.016, 1.0: 0.006}
    results = []
    for j in jobs:
        c, v = j.data["c"], j.overrides["variant"]
        merged = v == "sb" and c == 0.5
        loss = sb_loss[c] if v == "sb" else 0.010 - 0.004 * (c == 1.0)
        results.append(_fake(loss + 1e-4 * j.seed, crosses if merged else bars))
    return bx.summarize(jobs, results)


def test_summarize_means_spreads_and_distinct_bars():
    s = _sweep()
    assert list(s.c) == [0.0, 0.5, 1.0] and s.seeds == [0, 1]
    assert s.loss["sb"].shape == (3, 2)
    np.testing.assert_allclose(s.mean("sb"), [0.01205, 0.01605, 0.00605])
    np.testing.assert_allclose(s.spread("db"), np.full(3, 1e-4 / np.sqrt(2)))
    assert s.worst_c("sb") == 0.5 and s.most_different_c() == 0.5
    assert s.distinct["db"][1].tolist() == [16, 16]
    assert s.distinct["sb"][1].tolist() == [0, 0], "crosses match two bars equally well"
    assert s.runtime_s == pytest.approx(12.0)
    assert s.network("sb", 0.5).arrays["F"].shape == (16, 64)


def test_key_numbers_name_every_c():
    s = _sweep()
    loss = bx.loss_key_numbers(s)
    assert loss["loss_sb_mean_c0.50"] == pytest.approx(0.01605)
    assert loss["worst_c_sb"] == 0.5
    assert loss["ratio_sb_db_at_worst"] == pytest.approx(0.01605 / 0.01005)
    distinct = bx.distinct_key_numbers(s, 0.5)
    assert distinct["distinct_db_mean_c0.50"] == 16
    variants = set(bx.variant_key_numbers(s))
    assert variants >= {"loss_sb_c0.00", "loss_db_c1.00", "distinct_db_c0.50"}
    # at c = 1 the count is decided by noise (every image a cross): not a key number
    assert "distinct_db_c1.00" not in variants and "distinct_db_mean_c1.00" not in distinct


def test_pair_statistics_match_the_definition():
    cooc, fraction = bx.pair_statistics(0.6, n=20_000, seed=1)
    assert fraction == pytest.approx(0.6 + 0.4 / 16, abs=0.01)
    pair = np.mean([cooc[k, partner(k)] for k in range(16)])
    other = np.mean([cooc[k, m] for k in range(16) for m in range(16) if m not in (k, partner(k))])
    assert pair > 10 * other


def test_weights_are_sorted_by_their_bar():
    assert list(bx.bar_order(bar_templates()[::-1])) == list(range(15, -1, -1))


def test_plots_draw(tmp_path):
    s = _sweep()
    figs = [
        bx.plot_loss_vs_c(s),
        bx.plot_weights_and_distinct(s, 0.5),
        bx.plot_variants(s),
        bx.plot_task([0.0, 1.0], n_images=3)[0],
    ]
    for k, fig in enumerate(figs):
        fig.savefig(tmp_path / f"{k}.png")
        plt.close(fig)


def test_explore_trains_a_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("DBCODE_CACHE", str(tmp_path))
    monkeypatch.setattr(plt, "show", lambda: None)
    bx.explore(0.4, train=True, seed=0)
    bx.explore(0.4, train=False)


def test_paper_comparison_scores_the_difference_in_standard_errors():
    rows = [
        {"variant": v, "data": {"c": 0.5}, "final_loss": loss, "seed": s}
        for v, losses in (("sb", (0.012, 0.014)), ("db", (0.010, 0.010)))
        for s, loss in enumerate(losses)
    ]
    compared = bx.paper_comparison({"done": 4, "total": 4, "networks": rows})
    row = compared[0.5]
    assert (row["sb"], row["db"], row["n"]) == (pytest.approx(0.013), 0.010, 2)
    assert row["z"] == pytest.approx(0.003 / 0.001)
    assert row["ratio"] == pytest.approx(1.3)


def test_format_c_set_joins_runs_of_the_grid():
    grid = [0.0, 0.05, 0.1, 0.15, 0.2]
    assert bx.format_c_set([0.0, 0.05, 0.1, 0.2], grid) == "0-0.1, 0.2"
    assert bx.format_c_set([0.15], grid) == "0.15"
    assert bx.format_c_set([], grid) == "none"


def _toy_sweep(sb_at_one, db_at_one):
    c = np.array([0.0, 0.5, 1.0])
    loss = {
        "sb": np.array([[0.013, 0.012], [0.015, 0.016], sb_at_one]),
        "db": np.array([[0.010, 0.010], [0.010, 0.010], db_at_one]),
    }
    distinct = {"sb": np.array([[16, 16], [12, 13], [2, 3]]), "db": np.full((3, 2), 16)}
    return bx.Sweep(c, [0, 1], ("sb", "db"), loss, distinct, results={})


def test_the_closing_notes_state_the_numbers_of_the_sweep():
    notes = bx.scale_notes(_toy_sweep([0.0070, 0.0070], [0.0070, 0.0070]), None)
    assert "SB at 0.0070 and DB at 0.0070, a difference within one standard error" in notes
    assert "SB 25 % above DB" in notes  # 0.0125 / 0.010 at c = 0
    assert "12.5 at $c = 0.5$" in notes and "2.5 at $c = 1$" in notes
    assert "paper's run length" not in notes  # no record, no paper-scale numbers
    apart = bx.scale_notes(_toy_sweep([0.0060, 0.0061], [0.0070, 0.0071]), None)
    assert "(SB 14 % below DB)" in apart  # 0.00605 / 0.00705


def test_the_closing_notes_state_the_committed_record():
    rows = [
        {"variant": v, "seed": s, "data": {"c": c}, "final_loss": loss, "runtime_s": 60.0}
        for c, sb, db in ((0.0, 0.012, 0.010), (1.0, 0.006, 0.007))
        for s in (0, 1)
        for v, loss in (("sb", sb + 1e-4 * s), ("db", db + 1e-4 * s))
    ]
    summary = {"done": len(rows), "total": 2100, "networks": rows}
    notes = bx.scale_notes(_toy_sweep([0.007, 0.007], [0.007, 0.007]), summary)
    assert "SB ends 14 % below DB at $c = 1$" in notes  # 0.00605 / 0.00705
    assert "SB ends 20 % above DB there" in notes  # 0.01205 / 0.01005 at c = 0
    assert "2 of the paper's 50 seeds per $c$, 8 networks of 2 100" in notes
    assert "mean of 60 s of one core per network" in notes
