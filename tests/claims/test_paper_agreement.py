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


def _risen(summary) -> set[int]:
    """The ``N_z`` at which the paper-scale DB network's test loss rose late in training."""
    from dbcode.chapters import scenes_paper as sp

    return {n for (rule, n), onset in sp.paper_onsets(summary).items() if rule == "db" and onset}


def _natural_image_orderings(measure: str, ci_prefix: str):
    """``(N_z, paper SB, paper DB, CI SB, CI DB)`` by ``measure`` at every ``N_z`` with
    networks of both rules at both scales."""
    from dbcode.chapters import scenes as sx
    from dbcode.chapters import scenes_paper as sp

    _, summary, _ = sp.paper_record()
    if summary is None:
        pytest.fail(
            "no paper-scale natural-image record (results/paper/fig5b.json or "
            "fig5b-photographs.json): run `python -m dbcode sweep fig5b --scale paper` and "
            "`python -m dbcode export fig5b --scale paper`"
        )
    ci = claims.key_numbers("fig5b", sx.CHAPTER)
    paper = sp.paper_losses(summary, measure)
    ci_n_zs = [int(n) for n in ci["n_z_values"].split(",")]
    # where the paper-scale DB network became unstable late in training (the chapter
    # lists these N_z and shows the departure), its losses are not the stable network's
    compared = [
        n for n in sp.paper_conditions(summary) if n in ci_n_zs and n not in _risen(summary)
    ]
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


def test_final_losses_order_sb_and_db_alike_at_both_scales_on_natural_images():
    """The same ordering holds for the loss at the end of training."""
    for n, paper_sb, paper_db, ci_sb, ci_db in _natural_image_orderings("final", "loss"):
        assert np.sign(ci_sb - ci_db) == np.sign(paper_sb - paper_db), (
            f"N_z = {n}, final test loss: paper scale SB {paper_sb:.4f} vs DB "
            f"{paper_db:.4f}, CI scale SB {ci_sb:.4f} vs DB {ci_db:.4f}"
        )


def _scenes_record():
    """The paper-scale Fig 5B record on the chapter's current inputs (not the earlier
    photograph networks)."""
    from dbcode.chapters import scenes as sx
    from dbcode.chapters import scenes_paper as sp

    summary = load_summary(sx.PAPER_SWEEP, "paper")
    if summary is None or not sp.paper_conditions(summary):
        pytest.fail(
            f"results/paper/{sx.PAPER_SWEEP}.json has no N_z with networks of both rules: "
            f"run `python -m dbcode sweep {sx.PAPER_SWEEP} --scale paper` and "
            f"`python -m dbcode export {sx.PAPER_SWEEP} --scale paper`"
        )
    return summary


@pytest.mark.parametrize("measure", ["lowest", "final"])
def test_c6_holds_on_the_paper_scale_record(measure):
    """Claim C6 on the committed paper-scale networks, by the paper's measure (lowest
    test loss during training) and by the final loss: DB is below SB at every N_z with
    networks of both rules except where DB's loss rose late (by the final loss at 160-200,
    by the lowest loss at 200, where SB's is 2 % below; the chapter states both), the
    relative gap is larger at the smallest N_z than at the largest, and SB needs more
    neurons than DB for DB's loss at the middle N_z."""
    from dbcode.chapters import scenes_paper as sp

    record = _scenes_record()
    c6 = sp.paper_c6(record, measure)
    above = sorted(set(c6["n_zs"]) - set(c6["below"]))
    risen = {
        n
        for (rule, n), onset in sp.paper_onsets(record).items()
        if rule == "db" and onset is not None
    }
    # C6 fails only where DB's loss rose late (the chapter says so)
    assert set(above) <= risen, f"{measure}: DB above SB at N_z = {above}, rose late at {risen}"
    above = sorted(set(above) - risen)
    assert not above, f"{measure}: DB above SB at N_z = {above} (SB {c6['sb']}, DB {c6['db']})"
    if len(c6["n_zs"]) > 1:
        assert c6["gap"][0] > c6["gap"][-1], f"{measure}: gaps {c6['gap']} over {c6['n_zs']}"
        ratio = c6["ratio"]
        assert (ratio["lower_bound"] or ratio["ratio"]) > 1, ratio


def test_paper_scale_db_rises_late_less_often_on_the_chapters_inputs_than_on_photographs():
    """The late instability of DB (test loss rising the factor RISE above its lowest),
    seen in every DB network of the earlier paper-scale record on photographs, is rarer
    on the chapter's inputs; the chapter lists where it occurs (paper_findings)."""
    from dbcode.chapters import scenes_paper as sp

    photographs = load_summary("fig5b-photographs", "paper")
    assert photographs is not None, "results/paper/fig5b-photographs.json is missing"

    def share_risen(summary):
        onsets = [v for k, v in sp.paper_onsets(summary).items() if k[0] == "db"]
        assert onsets, "no DB network in the record"
        return sum(v is not None for v in onsets) / len(onsets)

    on_inputs, on_photographs = share_risen(_scenes_record()), share_risen(photographs)
    assert on_inputs < on_photographs, (on_inputs, on_photographs)


def test_paper_scale_fields_change_with_compression_as_the_paper_says():
    """Fields by compression (C6, Fig 5C), on the chapter's key numbers of the committed
    paper-scale fields: for both rules the share of centre-surround fields is larger at
    the smallest N_z than at the largest, and the share of Gabor-like fields smaller.
    The departure the discussion states: below N_x = 128 Gabor-like fields are at least
    as common as centre-surround ones (the paper has centre-surround fields there)."""
    from dbcode.chapters import scenes as sx

    k = claims.key_numbers("fig5c_classes_paper", sx.CHAPTER)
    by_rule = [
        {int(key.rsplit("_n", 1)[1]) for key in k if key.startswith(f"frac_gabor_{rule}_")}
        for rule in sx.RULES
    ]
    sizes = sorted(set.intersection(*by_rule))  # N_z with the fields of both rules
    assert len(sizes) > 1, "fewer than two N_z in the paper-scale fields"
    for rule in sx.RULES:
        small, large = sizes[0], sizes[-1]
        cs, gabor = "frac_centre_surround_" + rule, "frac_gabor_" + rule
        assert k[f"{cs}_n{small}"] > k[f"{cs}_n{large}"], (rule, small, large)
        assert k[f"{gabor}_n{small}"] < k[f"{gabor}_n{large}"], (rule, small, large)
        for n in sizes:
            if n < sx.N_INPUTS:
                assert k[f"{gabor}_n{n}"] >= k[f"{cs}_n{n}"], (rule, n)
