"""One style for every figure: the colour and the label of every learning rule.

SB is orange and DB blue in every chapter; the explicit dendritic implementations are
green and purple; SB with slower inhibition (delays chapter) is brown. Blue never means
anything but DB.
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
