"""Explorers that work on the static page: a grid of settings drawn when the book is
built, embedded in the page, and shown by plain JavaScript as the reader moves the
controls.

The live explorers (:func:`dbcode.viz.widgets.explorer`) need a Python kernel, which a
rendered page does not have. :func:`precomputed_explorer` instead calls the chapter's
explorer callback once for every point of a stated grid of its controls, keeps each
figure as an embedded PNG, and writes HTML controls (a ``<select>`` per categorical
control, a range slider per ordered one) with a few lines of JavaScript that show the
figure of the chosen grid point. Nothing is loaded from the network. The browser test
moves every control and checks that the figure shown is the one of the grid point.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Control", "StaticExplorer", "precomputed_explorer"]


@dataclass(frozen=True)
class Control:
    """One control of a precomputed explorer.

    Parameters
    ----------
    name : str
        Keyword argument of the callback.
    label : str
        What the reader sees next to the control.
    options : sequence of (str, object)
        The grid along this control: ``(label, value)`` pairs, in order.
    default : object
        The value shown first (one of the options' values).
    slider : bool
        Draw a range slider (ordered values) instead of a drop-down list.
    """

    name: str
    label: str
    options: tuple[tuple[str, object], ...]
    default: object
    slider: bool = False

    def __post_init__(self):
        object.__setattr__(self, "options", tuple((str(a), b) for a, b in self.options))
        if not self.options:
            raise ValueError(f"control {self.name!r} has no options")
        if self.default not in [v for _, v in self.options]:
            raise ValueError(f"default {self.default!r} of {self.name!r} is not an option")

    @property
    def default_index(self) -> int:
        return [v for _, v in self.options].index(self.default)


_SCRIPT = """
(function (root) {
  var frames = JSON.parse(root.querySelector("script.dbcode-explorer-frames").textContent);
  var controls = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
  var image = root.querySelector("img.dbcode-explorer-frame");
  var state = root.querySelector(".dbcode-explorer-state");
  function show() {
    var key = controls.map(function (c) { return c.value; }).join("-");
    var frame = frames[key];
    controls.forEach(function (c) {
      var out = root.querySelector("output[data-for='" + c.dataset.control + "']");
      if (out) { out.textContent = JSON.parse(c.dataset.labels)[Number(c.value)]; }
    });
    image.src = frame.src;
    image.alt = frame.label;
    state.textContent = frame.label;
    root.dataset.state = key;
  }
  controls.forEach(function (c) {
    c.addEventListener("input", show);
    c.addEventListener("change", show);
  });
  show();
})(document.currentScript.parentElement);
"""

_STYLE = (
    "<style>.dbcode-explorer{margin:1em 0}.dbcode-explorer-controls{display:flex;"
    "flex-wrap:wrap;gap:0.5em 1.5em;align-items:center;margin-bottom:0.5em}"
    ".dbcode-explorer-controls label{font-weight:600}.dbcode-explorer img"
    "{max-width:100%;height:auto}.dbcode-explorer-state{font-size:90%;color:#555}</style>"
)


@dataclass(frozen=True)
class StaticExplorer:
    """The precomputed figures of an explorer and their controls; shown as HTML."""

    controls: tuple[Control, ...]
    frames: dict[str, dict[str, str]]
    caption: str

    def key(self, indices: Sequence[int]) -> str:
        """Frame key of a grid point given by the index of each control's option."""
        return "-".join(str(int(i)) for i in indices)

    def _control_html(self, control: Control) -> str:
        labels = json.dumps([label for label, _ in control.options])
        name = html.escape(control.name)
        head = f"<label for='dbcode-{name}'>{html.escape(control.label)}</label> "
        attrs = f"data-control='{name}' data-labels='{html.escape(labels)}'"
        if control.slider:
            return (
                f"<span>{head}<input type='range' id='dbcode-{name}' {attrs} min='0' "
                f"max='{len(control.options) - 1}' step='1' value='{control.default_index}'> "
                f"<output data-for='{name}'></output></span>"
            )
        options = "".join(
            f"<option value='{i}'{' selected' if i == control.default_index else ''}>"
            f"{html.escape(label)}</option>"
            for i, (label, _) in enumerate(control.options)
        )
        return f"<span>{head}<select id='dbcode-{name}' {attrs}>{options}</select></span>"

    def _repr_html_(self) -> str:
        default = self.frames[self.key([c.default_index for c in self.controls])]
        controls = "".join(self._control_html(c) for c in self.controls)
        frames = json.dumps(self.frames).replace("</", "<\\/")
        return (
            f"{_STYLE}<div class='dbcode-explorer'>"
            f"<div class='dbcode-explorer-controls'>{controls}</div>"
            f"<img class='dbcode-explorer-frame' src='{default['src']}' "
            f"alt='{html.escape(default['label'])}'>"
            f"<p class='dbcode-explorer-state'>{html.escape(default['label'])}</p>"
            f"<p class='dbcode-explorer-caption'>{html.escape(self.caption)}</p>"
            f"<script type='application/json' class='dbcode-explorer-frames'>{frames}</script>"
            f"<script>{_SCRIPT}</script></div>"
        )


def _png(fig, dpi: int) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def precomputed_explorer(
    callback: Callable[..., object],
    controls: Sequence[Control],
    caption: str,
    *,
    dpi: int = 72,
    progress: bool = True,
) -> StaticExplorer:
    """Draw ``callback(**values)`` at every point of the grid of ``controls``.

    Parameters
    ----------
    callback : callable
        Returns a matplotlib figure; called with one keyword argument per control.
    controls : sequence of Control
        The controls and the grid of each.
    caption : str
        Shown under the figure: what it shows and over which grid.
    dpi : int
        Resolution of the embedded figures.
    progress : bool
        Show a progress bar over the grid points.

    Returns
    -------
    StaticExplorer
        Displayed as HTML: controls, the figure of the default setting, and the script
        that shows the figure of the setting the reader chooses.
    """
    from dbcode.core.progress import progress_bar

    controls = tuple(controls)
    names = [c.name for c in controls]
    if len(set(names)) != len(names):
        raise ValueError(f"control names repeat: {names}")
    grid = list(itertools.product(*(range(len(c.options)) for c in controls)))
    frames = {}
    with progress_bar(len(grid), "explorer", None if progress else False, unit="fig") as bar:
        for indices in grid:
            values = {c.name: c.options[i][1] for c, i in zip(controls, indices)}
            label = ", ".join(f"{c.label} = {c.options[i][0]}" for c, i in zip(controls, indices))
            frames["-".join(map(str, indices))] = {
                "src": _png(callback(**values), dpi),
                "label": label,
            }
            bar.update()
    return StaticExplorer(controls, frames, caption)
