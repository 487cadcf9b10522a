"""The CI-scale runs agree qualitatively with the committed paper-scale results."""

import numpy as np
import pytest

import claims
from dbcode import bars_experiment as bx
from dbcode.sweep import load_summary


def test_ci_scale_orders_sb_and_db_like_the_paper_scale():
    """Wherever the paper-scale runs resolve a difference between SB and DB (means
    apart by more than their combined standard error), the CI-scale means order the two
    rules the same way."""
    summary = load_summary("fig4b", "paper")
    if summary is None:
        pytest.fail("results/paper/fig4b.json is missing: run `python -m dbcode sweep fig4b "
                    "--scale paper` and `python -m dbcode export fig4b --scale paper`")
    ci = claims.key_numbers("fig4b", "bars")
    paper = bx.paper_losses(summary)
    compared = 0
    for c, sb in paper["sb"].items():
        db = paper["db"].get(c)
        key = f"c{c:.2f}"
        if db is None or f"loss_sb_mean_{key}" not in ci:
            continue
        se = np.sqrt(sb.var(ddof=1) / len(sb) + db.var(ddof=1) / len(db)) \
            if min(len(sb), len(db)) > 1 else 0.05 * db.mean()
        if abs(sb.mean() - db.mean()) <= se:
            continue
        compared += 1
        paper_order = np.sign(sb.mean() - db.mean())
        ci_order = np.sign(ci[f"loss_sb_mean_{key}"] - ci[f"loss_db_mean_{key}"])
        assert ci_order == paper_order, (
            f"c = {c}: paper scale SB {sb.mean():.4f} vs DB {db.mean():.4f}, CI scale "
            f"SB {ci[f'loss_sb_mean_{key}']:.4f} vs DB {ci[f'loss_db_mean_{key}']:.4f}")
    assert compared >= 1, "no condition resolved at both scales"
