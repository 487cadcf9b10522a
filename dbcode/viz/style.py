"""One style for every figure: colours, labels and colour maps, defined here only.

SB is orange and DB blue in every chapter; the explicit dendritic implementations are
green and purple; SB with slower inhibition (delays chapter) is brown. Blue never means
anything but DB, and no other colour means a rule: excitation is red, inhibition grey,
and guides (reference lines, presentation boundaries) are light greys.
``tests/viz/test_style.py`` fails when figure code in ``dbcode`` names a colour or a
colour map that is not taken from this module.
"""

from __future__ import annotations

COLORS = {
    "sb": "tab:orange",
    "db": "tab:blue",
    "db-slow": "tab:green",
    "db-simultaneous": "tab:purple",
    "sb-slow": "tab:brown",
}
"""Line and marker colour of each learning rule (and of the delays chapter's SB with
slower inhibition)."""

LABELS = {
    "sb": "SB",
    "db": "DB",
    "db-slow": "DB slow",
    "db-simultaneous": "DB simult.",
    "sb-slow": "SB slow inh.",
}
"""Short label of each rule, for legends and panel titles."""

INK = "k"
"""Data that belongs to no rule: inputs, spikes of a single population, totals, zero
lines."""

EXCITATION = "tab:red"
"""Excitatory drive (``F_j x``) of a neuron."""

INHIBITION = "0.45"
"""Inhibitory drive (``W_j z + c_j``); grey, because blue is DB."""

NEUTRAL = "0.5"
"""Bars and markers of quantities that compare rules (gaps, differences)."""

GUIDE = "0.6"
"""Reference lines: the operating point of a sweep, a chance level, a threshold."""

FAINT = "0.8"
"""Background guides: boundaries between presentations, secondary axes."""

AXON, DENDRITE = "0.15", "0.55"
"""Axons and input lines, and dendrites, in the circuit schematic."""

CHANNELS = ("tab:cyan", "tab:pink")
"""Input dimensions of the derivation's toy signal (Fig 1A read-outs); not rule colours."""

PASS, FAIL = "tab:olive", "tab:red"
"""Checks that hold (deviation below the threshold) and checks that fail."""

CONDITIONS = {
    "baseline": INK,
    "photographs": "tab:red",
    "fixed pool": "tab:olive",
    "authors' test": "tab:cyan",
}
"""Inputs and protocols of the natural-images controls (one colour per condition; the
rule is told by the line style)."""

SMALL = 9
"""Smallest text size in points (legends, annotations, small titles and ticks)."""

FIGURE_WIDTH = 9.3
"""Widest figure in inches. The page shows a wider figure shrunk to its text column, so
that text of :data:`SMALL` points in a figure of this width still appears
:data:`dbcode.viz.legibility.MIN_TEXT_PX` pixels high."""

CMAP_IMAGE = "gray"
"""Pixel images and receptive fields of natural images (signed, grey = 0)."""

CMAP_INK = "gray_r"
"""Non-negative images drawn as ink on paper (bars, digits)."""

CMAP_SIGNED = "RdBu_r"
"""Signed weights and similarities (red positive, blue negative; symmetric limits)."""

CMAP_SEQUENTIAL = "viridis"
"""Non-negative matrices (co-occurrence probabilities)."""
