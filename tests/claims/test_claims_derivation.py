"""Claims of the derivation chapter, read from the numbers it recorded in the manifest.

C1: tight somatic balance encodes a low-dimensional input (Fig 1A).
C2: the spike-timing window of one input and one coding neuron is symmetric and the same
for SB and DB (Fig 2E); a spike of a neuron inhibiting the dendrite changes (depresses)
the DB window and leaves the SB window unchanged (Fig 2H).
Plus every numerically checkable step of the derivation.
"""

import claims

CHAPTER = "derivation"


def key_numbers(fig_id: str) -> dict:
    return claims.key_numbers(fig_id, CHAPTER)


def test_c1_tight_balance_encodes_low_dimensional_input():
    k = key_numbers("fig1a")
    assert k["relative_loss"] < 0.05, "read-out loss should be a few % of the silent loss"
    assert k["balance_index"] < 0.2, "excitation and inhibition should cancel tightly"
    assert k["mean_rate_hz"] > 1.0, "the network must actually spike"


def test_c2_fig2e_symmetric_and_equal_for_sb_and_db():
    k = key_numbers("fig2e")
    assert k["symmetry_sb"] < 1e-6
    assert k["symmetry_db"] < 1e-6
    assert k["sb_db_difference"] < 1e-6
    assert k["peak"] > 0, "pairing close in time potentiates"


def test_c2_fig2h_db_window_depressed_sb_unchanged():
    e, h = key_numbers("fig2e"), key_numbers("fig2h")
    assert h["sb_change"] < 1e-6, "SB does not see the inhibiting neuron"
    assert h["db_change_mean"] < -0.05, "DB window is depressed"
    assert h["db_peak"] < 0.8 * e["peak"]
    assert h["db_symmetry"] > 0.1, "DB window loses its symmetry"


def test_derivation_identities_hold():
    k = key_numbers("derivation_checks")
    for name in (
        "gradient_db_uncorrelated",
        "gradient_db_correlated",
        "gradient_sb_uncorrelated",
        "fixed_point_somatic",
        "fixed_point_dendritic",
        "em_identity",
    ):
        assert k[name] < 1e-6, name
    assert k["gradient_sb_correlated"] > 0.1, "SB is not the gradient with overlapping traces"


def test_dendritic_inhibition_learns_local_decoder():
    k = key_numbers("fig2bc")
    assert k["weight_corr"] > 0.95
    assert k["potential_corr"] > 0.95
    assert k["test_loss_after"] < 0.5 * k["test_loss_before"]
