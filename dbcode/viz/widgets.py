"""The chapters' explorers: controls that redraw a figure when the reader changes them."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt


def explorer(callback: Callable[..., object], controls: dict, row: bool = True):
    """Controls above an output area that shows ``callback(**values)`` after each change.

    Unlike ``ipywidgets.interactive_output``, nothing is drawn when the explorer is
    created: every chapter shows the default setting as a captioned figure just above,
    so the rendered page shows that figure once, and a running notebook draws a new one
    below the controls as soon as a control moves.

    Parameters
    ----------
    callback : callable
        Draws a matplotlib figure; called with one keyword argument per control.
    controls : dict
        Keyword name -> ipywidgets control with a ``value``.
    row : bool
        Controls side by side (``True``) or stacked.
    """
    from ipywidgets import HBox, Output, VBox

    out = Output()

    def redraw(_change=None) -> None:
        with out:
            out.clear_output(wait=True)
            callback(**{name: control.value for name, control in controls.items()})
            plt.show()

    for control in controls.values():
        control.observe(redraw, names="value")
    layout = HBox if row else VBox
    return VBox([layout(list(controls.values())), out])
