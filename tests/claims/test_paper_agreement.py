"""The CI-scale runs agree qualitatively with the committed paper-scale results."""

import claims
import numpy as np
import pytest

from dbcode.chapters import bars as bx
from dbcode.run.records import load_summary


def _standard_error(sd_a, n_a, sd_b, n_b):
    return float(np.sqrt(sd_a**2 / n_a + sd_b**2 / n_b))


def test_ci_scale_orders_sb_and_db_like_the_paper_scale():
    """Wherever both scales resolve a difference between SB and DB (means apart by more
    than their combined standard error), they order the two rules the same way. A
    difference within the noise of either scale is a tie there, not an ordering."""
    summary = load_summary("fig4b", "paper")
    if summary is None:
        pytest.fail(
            "results/paper/fig4b.json is missing: run `python -m dbcode sweep fig4b "
            "--scale paper` and `python -m dbcode export fig4b --scale paper`"
        )
    ci = claims.key_numbers("fig4b", "bars")
    n_ci = ci["n_seeds"]
    compared = []
    for c, paper in bx.paper_comparison(summary).items():
        key = f"c{c:.2f}"
        if f"loss_sb_mean_{key}" not in ci or not abs(paper["z"]) > 1:  # nan: < 2 seeds
            continue
        ci_diff = ci[f"loss_sb_mean_{key}"] - ci[f"loss_db_mean_{key}"]
        ci_se = _standard_error(ci[f"loss_sb_sd_{key}"], n_ci, ci[f"loss_db_sd_{key}"], n_ci)
        if abs(ci_diff) <= ci_se:
            continue
        compared.append(c)
        assert np.sign(ci_diff) == np.sign(paper["z"]), (
            f"c = {c}: paper scale SB {paper['sb']:.4f} vs DB {paper['db']:.4f}, CI scale "
            f"SB {ci[f'loss_sb_mean_{key}']:.4f} vs DB {ci[f'loss_db_mean_{key}']:.4f}"
        )
    assert len(compared) >= 1, "no condition resolved at both scales"


def _natural_image_orderings(measure: str, ci_prefix: str):
    """``(N_z, paper SB, paper DB, CI SB, CI DB)`` by ``measure`` at every ``N_z`` with
    networks of both rules at both scales."""
    from dbcode.chapters import scenes as sx

    _, summary, _ = sx.paper_record()
    if summary is None:
        pytest.fail(
            "no paper-scale natural-image record (results/paper/fig5b.json or "
            "fig5b-photographs.json): run `python -m dbcode sweep fig5b --scale paper` and "
            "`python -m dbcode export fig5b --scale paper`"
        )
    ci = claims.key_numbers("fig5b", sx.CHAPTER)
    paper = sx.paper_losses(summary, measure)
    ci_n_zs = [int(n) for n in ci["n_z_values"].split(",")]
    compared = [n for n in sx.paper_conditions(summary) if n in ci_n_zs]
    assert compared, "no number of neurons covered at both scales"
    return [
        (
            n,
            paper["sb"][n].mean(),
            paper["db"][n].mean(),
            ci[f"{ci_prefix}_sb_n{n}"],
            ci[f"{ci_prefix}_db_n{n}"],
        )
        for n in compared
    ]


def test_ci_scale_orders_sb_and_db_like_the_paper_scale_on_natural_images():
    """By the measure of the paper's Fig 5B, each network's lowest test loss during
    training, the CI scale puts SB and DB in the same order as the paper scale at every
    number of neurons with networks of both rules at both scales (the paper-scale sweep
    has one seed per network, as in the paper, so every difference counts)."""
    for n, paper_sb, paper_db, ci_sb, ci_db in _natural_image_orderings("lowest", "lowest"):
        assert np.sign(ci_sb - ci_db) == np.sign(paper_sb - paper_db), (
            f"N_z = {n}, lowest test loss: paper scale SB {paper_sb:.4f} vs DB "
            f"{paper_db:.4f}, CI scale SB {ci_sb:.4f} vs DB {ci_db:.4f}"
        )


@pytest.mark.xfail(
    strict=True,
    reason=(
        "known disagreement: at N_z = 40 the paper-scale DB network reaches a lower loss "
        "than SB, then degrades late in training and ends above SB on the photographs of "
        "that record (book/scenes.md, 'What the paper-scale runs on the photographs show'); strict, so a fix that makes the final losses "
        "agree fails here until this mark is removed"
    ),
)
def test_final_losses_order_sb_and_db_alike_at_both_scales_on_natural_images():
    """The same ordering holds for the loss at the end of training."""
    for n, paper_sb, paper_db, ci_sb, ci_db in _natural_image_orderings("final", "loss"):
        assert np.sign(ci_sb - ci_db) == np.sign(paper_sb - paper_db), (
            f"N_z = {n}, final test loss: paper scale SB {paper_sb:.4f} vs DB "
            f"{paper_db:.4f}, CI scale SB {ci_sb:.4f} vs DB {ci_db:.4f}"
        )
