"""Text in the book's figures is readable at page width (:mod:`dbcode.viz.legibility`)."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from dbcode.viz.figures import stamp_scale
from dbcode.viz.legibility import (
    MIN_TEXT_PX,
    PAGE_WIDTH_PX,
    SCREEN_DPI,
    covered_by_legends,
    place_legend,
    readable_points,
    shown_px_per_point,
    smallest_text,
)
from dbcode.viz.style import FIGURE_WIDTH, SMALL

MANIFEST = Path(__file__).resolve().parents[2] / "figures" / "manifest.json"


def test_narrow_figures_are_shown_at_natural_size_wide_ones_shrunk():
    assert shown_px_per_point(PAGE_WIDTH_PX / SCREEN_DPI / 2) == pytest.approx(SCREEN_DPI / 72)
    assert shown_px_per_point(2 * PAGE_WIDTH_PX / SCREEN_DPI) == pytest.approx(SCREEN_DPI / 144)
    assert readable_points(12.0) * shown_px_per_point(12.0) == pytest.approx(MIN_TEXT_PX)


def test_the_style_keeps_small_text_readable_in_the_widest_figure():
    assert SMALL * shown_px_per_point(FIGURE_WIDTH) >= MIN_TEXT_PX


def test_smallest_text_finds_the_smallest_label_as_shown():
    fig, ax = plt.subplots(figsize=(12, 3))
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend(fontsize=6)
    ax.set_title("title", fontsize=14)
    found = smallest_text(fig)
    plt.close(fig)
    assert found.text == "line" and found.points == 6
    assert found.px == pytest.approx(6 * shown_px_per_point(found.width_in), abs=0.01)
    assert found.px < MIN_TEXT_PX


def test_hidden_and_empty_texts_do_not_count():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.tick_params(labelsize=12)
    ax.text(0.5, 0.5, "hidden", fontsize=3).set_visible(False)
    ax.text(0.5, 0.5, "   ", fontsize=3)
    found = smallest_text(fig)
    plt.close(fig)
    assert found.points == 12


def test_the_scale_stamp_is_readable_in_a_wide_figure():
    fig, ax = plt.subplots(figsize=(14, 3))
    ax.set_axis_off()
    stamp = stamp_scale(fig, "ci")
    found = smallest_text(fig)
    plt.close(fig)
    assert found.text == stamp.get_text()
    assert found.px >= MIN_TEXT_PX


def test_every_figure_of_the_book_is_readable_at_page_width():
    manifest = json.loads(MANIFEST.read_text())
    small = {
        fig_id: entry["smallest_text"]
        for fig_id, entry in manifest.items()
        if entry["smallest_text"] is not None and entry["smallest_text"]["px"] < MIN_TEXT_PX
    }
    assert not small, f"text smaller than {MIN_TEXT_PX} px at page width: {small}"


def test_a_legend_over_a_line_is_found_and_one_beside_it_is_not():
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([0, 1], [1, 1], label="top")
    ax.plot([0, 1], [0, 0], label="bottom")
    ax.set_ylim(-0.1, 1.1)
    ax.legend(loc="upper left")
    assert covered_by_legends(fig) == ["axes: top"]
    ax.set_ylim(-0.1, 3.0)
    assert covered_by_legends(fig) == []
    plt.close(fig)


def test_a_legend_between_two_data_points_is_found():
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([0, 1], [0, 1], "-", label="diagonal")
    ax.legend(loc="center")
    assert covered_by_legends(fig) == ["axes: diagonal"]
    plt.close(fig)


def test_no_legend_of_the_book_covers_a_line():
    manifest = json.loads(MANIFEST.read_text())
    covered = {k: e["covered_by_legends"] for k, e in manifest.items() if e["covered_by_legends"]}
    assert not covered, f"legends over data: {covered}"


def test_the_scale_stamp_stays_clear_of_a_label_below_the_frame():
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.set_xlabel("a label\nof two lines", fontsize=14)
    fig.subplots_adjust(bottom=0.05)
    stamp = stamp_scale(fig, "paper")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert not stamp.get_window_extent(renderer).overlaps(
        ax.xaxis.label.get_window_extent(renderer)
    )
    plt.close(fig)


def test_place_legend_finds_a_free_corner():
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([0, 1], [1, 0], label="falling")
    place_legend(ax)
    assert not covered_by_legends(fig)
    assert ax.get_ylim() == pytest.approx((-0.05, 1.05))
    plt.close(fig)


def test_place_legend_makes_headroom_beside_another_panel():
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    x = np.linspace(0, 1, 200)
    for k in range(3):
        left.plot(x, np.sin(20 * x + k), label=f"wave {k}")
    right.plot(x, x)
    high = left.get_ylim()[1]
    place_legend(left)
    assert left.get_ylim()[1] > high
    assert not covered_by_legends(fig)
    assert left.get_legend().get_window_extent().x1 <= right.get_window_extent().x0
    plt.close(fig)
