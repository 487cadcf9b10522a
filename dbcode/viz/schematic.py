r"""Schematic of the two circuits the paper compares: somatic and dendritic balance.

A figure drawn after the paper's Fig 2A/B, for a first look at the two models.

Somatic balance (SB)
--------------------
Neuron :math:`j` is a point neuron: the inputs :math:`x_i` excite it through the weights
:math:`F_{ji}` and the lateral inhibition :math:`W_{jk}` of the other coding neurons
:math:`k` lands on the soma. The input weights follow a Hebbian-like rule (Eq 6, SI Eq
15) that sees only the presynaptic input :math:`x_i` and the postsynaptic trace
:math:`z_j`; the inhibition learns to balance the somatic potential (Eq 4, SI Eq 16).

Dendritic balance (DB)
----------------------
Every input :math:`i` has a dendritic compartment of its own, and the inhibition from
neuron :math:`k` lands next to the input synapse, with weight :math:`W_{jik}`. The
compartment's potential :math:`u_{ji} = F_{ji} x_i + \sum_k W_{jik} z_k` (Eq 7, SI Eq 17)
is, once the inhibition balances each dendrite (Eq 8) at :math:`W = -F D`, proportional to
the coding error :math:`x_i - \hat x_i` of its input. The voltage-dependent input rule
(Eq 9) reads this local potential and follows the exact gradient of the decoder loss
(Eq 5).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, RegularPolygon

from dbcode.viz.style import AXON, COLORS, DENDRITE, INK, LABELS

__all__ = ["plot_circuits"]

_FONT = 10
_INPUT_Y = (6.45, 5.45, 4.45)  # heights of the inputs x_1, x_2, x_3
_DENDRITE_X = 3.9  # the dendrite of neuron j
_SOMA_J = (_DENDRITE_X, 3.0)
_SOMA_K = (6.5, 3.0)
_SOMA_R = 0.55
_COMPARTMENT = (0.9, 0.7)  # width and height of a dendritic compartment (DB)
_YLIM = 7.35


def _soma(ax, xy, color: str, name: str) -> None:
    """A pyramidal soma (triangle) at ``xy`` named ``name``."""
    ax.add_patch(
        RegularPolygon(xy, 3, radius=_SOMA_R, facecolor=color, edgecolor=INK, lw=1, zorder=3)
    )
    ax.text(*xy, name, ha="center", va="center", fontsize=_FONT, color=INK, zorder=4)


def _excitatory(ax, start, end) -> None:
    """An excitatory synapse: a line from ``start`` ending in an arrowhead at ``end``."""
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "-|>",
            "color": AXON,
            "lw": 1.2,
            "mutation_scale": 12,
            "shrinkA": 0,
            "shrinkB": 0,
        },
        zorder=2,
    )


def _inhibitory(ax, path) -> None:
    """An inhibitory synapse: a line along ``path`` ending in a filled circle."""
    xs, ys = np.transpose(path)
    ax.plot(xs, ys, color=AXON, lw=1.2, zorder=2, solid_capstyle="butt")
    ax.plot(xs[-1], ys[-1], "o", ms=6.5, color=AXON, zorder=5)


def _output(ax, xy, name: str) -> None:
    """The output trace ``name`` leaving the soma at ``xy`` downwards."""
    x, y = xy
    _excitatory(ax, (x, y - _SOMA_R * 0.5), (x, y - 1.05))
    ax.text(x + 0.15, y - 0.8, name, ha="left", va="center", fontsize=_FONT)


def _inputs(ax, end_x: float) -> None:
    """The input lines ``x_1..x_3`` with their weights ``F_ji``, ending at ``end_x``."""
    for i, y in enumerate(_INPUT_Y, start=1):
        ax.text(0.55, y, f"$x_{i}$", ha="right", va="center", fontsize=_FONT + 1)
        _excitatory(ax, (0.75, y), (end_x, y))
        ax.text(end_x - 0.85, y + 0.12, f"$F_{{j{i}}}$", ha="center", va="bottom", fontsize=_FONT)


def _rules(ax, lines) -> None:
    """What each plasticity rule sees, as text below the circuit."""
    ax.text(0.1, 0.0, "\n".join(lines), ha="left", va="bottom", fontsize=_FONT, linespacing=1.35)


def _setup(ax, title: str) -> None:
    """An empty panel in data units of equal length, titled ``title``."""
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.1, _YLIM)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=_FONT + 2, loc="left")


def _somatic(ax) -> None:
    """The SB circuit: a point neuron, inhibition on the soma."""
    color = COLORS["sb"]
    _setup(ax, f"{LABELS['sb']}: somatic balance")
    sx, sy = _SOMA_J
    kx, ky = _SOMA_K
    ax.plot([sx, sx], [sy, _INPUT_Y[0] + 0.4], color=DENDRITE, lw=3, zorder=1)
    ax.text(sx + 0.2, _INPUT_Y[0] + 0.3, "dendrite", ha="left", va="center", fontsize=_FONT)
    _inputs(ax, sx - 0.06)
    _soma(ax, _SOMA_J, color, "$j$")
    _soma(ax, _SOMA_K, color, "$k$")
    _inhibitory(ax, [(kx - 0.5, ky), (sx + 0.32, ky)])
    ax.text((sx + kx) / 2, ky + 0.12, "$W_{jk}$", ha="center", va="bottom", fontsize=_FONT)
    ax.text(sx - 0.65, sy - 0.05, r"soma $\bar u_j$", ha="right", va="center", fontsize=_FONT)
    _output(ax, _SOMA_J, "$z_j$")
    _output(ax, _SOMA_K, "$z_k$")
    ax.text(
        5.0,
        _INPUT_Y[1],
        "inhibition from the other\ncoding neurons $k$\nlands on the soma",
        ha="left",
        va="center",
        fontsize=_FONT,
    )
    ax.plot([sx + 0.5, 5.6], [sy + 0.2, _INPUT_Y[1] - 0.75], color=DENDRITE, lw=0.8)
    _rules(
        ax,
        [
            r"$F$: $\Delta F_{ji} \propto x_i z_j - F_{ji} z_j^2$, Hebbian:"
            "\n    sees only pre- and postsynaptic activity $x_i$, $z_j$",
            r"$W$: $\Delta W_{jk} \propto -\bar u_j z_k$, sees the somatic"
            "\n"
            r"    potential $\bar u_j$: balances the soma",
        ],
    )


def _dendritic(ax) -> None:
    """The DB circuit: one compartment per input, inhibition next to each input."""
    color = COLORS["db"]
    _setup(ax, f"{LABELS['db']}: dendritic balance")
    sx, sy = _SOMA_J
    kx, ky = _SOMA_K
    w, h = _COMPARTMENT
    tops = [sy] + [y + h / 2 for y in _INPUT_Y[:0:-1]]
    bottoms = [y - h / 2 for y in _INPUT_Y[::-1]]
    for y0, y1 in zip(tops, bottoms):
        ax.plot([sx, sx], [y0, y1], color=DENDRITE, lw=3, zorder=1)
    _inputs(ax, sx - w / 2)
    for i, y in enumerate(_INPUT_Y, start=1):
        ax.add_patch(
            FancyBboxPatch(
                (sx - w / 2, y - h / 2),
                w,
                h,
                boxstyle="round,pad=0,rounding_size=0.2",
                facecolor=color,
                alpha=0.35,
                edgecolor="none",
                zorder=2,
            )
        )
        ax.text(sx, y, f"$u_{{j{i}}}$", ha="center", va="center", fontsize=_FONT, zorder=4)
        _inhibitory(ax, [(kx, y), (sx + w / 2, y)])
        label = f"$W_{{j{i}k}}$"
        ax.text((sx + w / 2 + kx) / 2, y + 0.12, label, ha="center", va="bottom", fontsize=_FONT)
    ax.plot([kx, kx], [ky + 0.3, _INPUT_Y[0]], color=AXON, lw=1.2, zorder=2)
    top = _INPUT_Y[0] + h / 2 + 0.1
    ax.text(sx, top, "compartments", ha="center", va="bottom", fontsize=_FONT)
    _soma(ax, _SOMA_J, color, "$j$")
    _soma(ax, _SOMA_K, color, "$k$")
    ax.text(sx - 0.65, sy - 0.05, "soma", ha="right", va="center", fontsize=_FONT)
    _output(ax, _SOMA_J, "$z_j$")
    _output(ax, _SOMA_K, "$z_k$")
    ax.text(
        kx + 0.25,
        _INPUT_Y[1],
        "inhibition lands on\nthe dendrite, next to\neach input synapse",
        ha="left",
        va="center",
        fontsize=_FONT,
    )
    _rules(
        ax,
        [
            r"$u_{ji} = F_{ji} x_i + \Sigma_k W_{jik} z_k$: local coding error",
            r"$F$: $\Delta F_{ji} \propto z_j u_{ji} / F_{ji} = z_j (x_i - \hat x_i)$,"
            "\n    the gradient of the loss: sees the local dendritic potential $u_{ji}$",
            r"$W$: $\Delta W_{jik} \propto -u_{ji} z_k$, balances each dendrite: $W = -F D$",
        ],
    )


def plot_circuits() -> plt.Figure:
    r"""The SB and DB circuits side by side (a schematic after the paper's Fig 2A/B).

    Left, somatic balance: inputs :math:`x_i` excite neuron :math:`j` through
    :math:`F_{ji}`, and inhibition :math:`W_{jk}` from neuron :math:`k` lands on the soma;
    the input weights learn with the Hebbian-like rule of Eq 6 (SI Eq 15), which sees
    only :math:`x_i` and :math:`z_j`, and the inhibition balances the soma (Eq 4, SI Eq
    16). Right, dendritic balance: each input has a compartment with potential
    :math:`u_{ji}` (Eq 7, SI Eq 17) and the inhibition :math:`W_{jik}` lands next to the
    input synapse; balancing each dendrite (Eq 8) gives :math:`W = -F D`, so that the
    voltage-dependent rule
    :math:`\Delta F_{ji} \propto z_j u_{ji} / F_{ji} = z_j (x_i - \hat x_i)` (Eq 9) follows
    the gradient of the decoder loss (Eq 5). Arrowheads mark excitatory, filled circles
    inhibitory synapses.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, about 10 x 4.5 inches, with one panel per circuit.
    """
    fig, (ax_sb, ax_db) = plt.subplots(1, 2, figsize=(10.0, 4.5))
    _somatic(ax_sb)
    _dendritic(ax_db)
    handles = [
        Line2D([], [], color=AXON, marker=">", ms=7, label="excitatory synapse"),
        Line2D([], [], color=AXON, marker="o", ms=6.5, label="inhibitory synapse"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=_FONT, frameon=False)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.08, wspace=0.04)
    return fig
