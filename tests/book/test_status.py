"""The reproduction status table (dbcode.book.status): verdicts follow from conditions,
every condition can fail, and the table covers every panel with the numbers of the
manifest."""

import copy

import pytest

from dbcode.book import status as st
from dbcode.viz.figures import load_manifest


def test_verdict_follows_from_the_conditions():
    yes, no, unknown = st.Condition("a", True), st.Condition("b", False), st.Condition("c", None)
    assert st.verdict([yes, yes]) == st.REPRODUCED
    assert st.verdict([yes, no]) == st.PARTLY
    assert st.verdict([yes, unknown]) == st.PARTLY
    assert st.verdict([no, no]) == st.NOT
    assert st.verdict([unknown]) == st.NOT_RUN
    assert st.verdict(None) == st.NOT_RUN


def test_a_result_only_at_the_reduced_scale_is_partly_reproduced():
    assert st.combined(st.REPRODUCED, st.NOT_RUN) == st.PARTLY
    assert st.combined(st.REPRODUCED, st.SAME) == st.REPRODUCED
    assert st.combined(st.REPRODUCED, st.NOT) == st.NOT
    assert st.combined(st.NOT, st.NOT_RUN) == st.NOT


@pytest.fixture(scope="module")
def numbers():
    manifest = load_manifest()
    if not manifest:
        pytest.fail("figures/manifest.json is empty: run `make book`")
    return st.key_numbers(manifest)


def test_every_panel_is_evaluated_on_the_manifest(numbers):
    rows = st.evaluate(numbers)
    assert [r.panel.figure for r in rows] == [p.figure for p in st.PANELS]
    for row in rows:
        assert row.ci is not None, f"{row.panel.figure}: no CI-scale numbers"
        assert row.verdict in st.VERDICTS
        for fig in row.panel.figures:
            assert fig in numbers, f"{row.panel.figure} names {fig}, which the manifest lacks"
    table = st.status_table(rows)
    assert sum(line.startswith("|") for line in table.splitlines()) == len(rows) + 2
    details = st.status_conditions(rows)
    for row in rows:  # every verdict with the conditions behind it
        item = next(
            line for line in details.splitlines() if f"**{row.panel.figure} of the paper:" in line
        )
        for condition in row.ci:
            assert condition.text in item


def _flip(numbers, fig, key, value):
    changed = copy.deepcopy(dict(numbers))
    changed[fig] = dict(changed[fig], **{key: value})
    return changed


@pytest.mark.parametrize(
    ("figure", "fig", "key", "value"),
    [
        ("Fig 1A", "fig1a", "relative_loss", 0.5),
        ("Fig 2E", "fig2e", "sb_db_difference", 1.0),
        ("Fig 2H", "fig2h", "sb_change", 1.0),
        ("Fig 3A-E", "fig3c", "last_loss_sb", 1.0),
        ("Fig S2", "figS2", "ratio_db-slow_db", 2.0),
        ("Fig 4B", "fig4b", "loss_db_mean_c0.40", 1.0),
        ("Fig 5B", "fig5b", "loss_db_n40", 1.0),
        ("Fig 6A, S7", "fig6a", "loss_db_dt5", 1.0),
        ("Fig 6B-D", "fig6c", "similarity_db", 1.0),
    ],
)
def test_each_ci_check_fails_when_its_numbers_contradict_the_paper(
    numbers, figure, fig, key, value
):
    panel = next(p for p in st.PANELS if p.figure == figure)
    before = st.evaluate(numbers, [panel])[0]
    assert key in numbers[fig]
    after = st.evaluate(_flip(numbers, fig, key, value), [panel])[0]
    assert sum(bool(c.holds) for c in after.ci) < sum(bool(c.holds) for c in before.ci)


def test_field_classes_check_the_paper_pattern():
    """Fig 5C: centre-surround most common below 128 neurons, Gabor-like above, and the
    shares moving that way: all hold on a made-up record with that pattern, and each
    fails on its mirror image."""
    k = {}
    for rule in ("sb", "db"):
        for n, (cs, gabor) in {40: (0.6, 0.2), 200: (0.1, 0.7)}.items():
            k[f"frac_centre_surround_{rule}_n{n}"] = cs
            k[f"frac_gabor_{rule}_n{n}"] = gabor
            k[f"frac_other_{rule}_n{n}"] = 1 - cs - gabor
    assert st.verdict(st._fields(k)) == st.REPRODUCED
    mirror = {
        key.replace("centre_surround", "X")
        .replace("gabor", "centre_surround")
        .replace("X", "gabor"): v
        for key, v in k.items()
    }
    assert st.verdict(st._fields(mirror)) == st.NOT


def test_the_paper_scale_delay_scan_compares_sb_and_db_by_the_lowest_loss():
    """Fig 6A at the paper's scale: at the grid's shortest delay SB and DB are compared
    by each network's lowest test loss (the paper's measure), the last loss is named
    beside it; the check fails when the lowest losses differ by more than 15 %."""
    k = {"done": 4, "total": 63, "baseline": 0.04, "grid_shortest_delay": 0.1}
    k.update(shortest_delay=0.1, longest_delay=5.0, db_growth=0.2)
    k.update({"loss_sb_dt0.1": 0.019, "loss_db_dt0.1": 0.022, "loss_sb_dt5": 0.05})
    k.update({"lowest_sb_dt0.1": 0.0185, "lowest_db_dt0.1": 0.0179})
    first = st._fig6a_paper({"fig6a_paper": k})[0]
    assert first.holds and "SB / DB = 1.03 by the lowest test loss" in first.text
    assert "by the last loss 0.86" in first.text
    worse = st._fig6a_paper({"fig6a_paper": {**k, "lowest_sb_dt0.1": 0.0215}})[0]
    assert worse.holds is False


def test_status_pages_are_written_for_the_intro_and_every_chapter(numbers, tmp_path):
    written = st.write_status_pages(load_manifest(), tmp_path)
    names = {p.name for p in written}
    assert "status.md" in names
    for chapter in {p.chapter for p in st.PANELS}:
        text = (tmp_path / f"status_{chapter}.md").read_text()
        assert text.startswith(":::{admonition} What this chapter reproduces")
        for panel in (p for p in st.PANELS if p.chapter == chapter):
            assert f"**{panel.figure}: " in text
