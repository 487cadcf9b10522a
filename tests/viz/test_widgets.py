"""Every chapter's ipywidgets explorer: its callback runs with the widget's default values.

The default values of each explorer's controls coincide with the callback's own keyword
defaults (the bars explorer's "train" box is ticked by default and is tested both ways).
The chapters render the same default call as a static figure, so after ``make book`` the
networks come from the result store and the whole file takes seconds; on an empty store
the callbacks train them (about 1.5 min on two cores at CI scale).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

import dbcode

# chapter -> (module, callback, extra keyword arguments of the chapter's default call)
EXPLORERS = {
    "derivation": ("dbcode.chapters.derivation", "explore_tracking", {}),
    "mnist": ("dbcode.chapters.mnist", "explore", {}),
    "bars": ("dbcode.chapters.bars", "explore", {"train": True}),
    "bars-samples": ("dbcode.chapters.bars", "explore", {"train": False}),
    "scenes": ("dbcode.chapters.scenes", "explore", {}),
    "delays": ("dbcode.chapters.delays", "explore", {}),
}


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch):
    monkeypatch.setenv("DBCODE_PROGRESS", "0")
    plt.close("all")
    yield
    plt.close("all")


def load_callback(module_name: str, function: str):
    return getattr(importlib.import_module(module_name), function)


def figure_has_content(fig) -> bool:
    return any(ax.has_data() for ax in fig.axes)


@pytest.mark.parametrize("chapter", list(EXPLORERS))
def test_explorer_callback_runs_with_default_values(chapter):
    module_name, function, extra = EXPLORERS[chapter]
    callback = load_callback(module_name, function)
    signature = inspect.signature(callback)
    required = [
        name
        for name, p in signature.parameters.items()
        if p.default is inspect.Parameter.empty and name not in extra
    ]
    assert not required, f"{module_name}.{function} has no default for {required}"

    returned = callback(**extra)

    figures = [plt.figure(n) for n in plt.get_fignums()]
    assert figures, f"{module_name}.{function}() drew no figure"
    if returned is not None:
        assert isinstance(returned, plt.Figure)
        assert returned in figures
    assert all(figure_has_content(fig) for fig in figures), (
        f"{module_name}.{function}() drew an empty figure"
    )


def test_every_explorer_module_is_listed():
    """A new ``dbcode.*_experiment`` module with an ``explore`` callback must be added to
    :data:`EXPLORERS`."""
    listed = {module for module, _, _ in EXPLORERS.values()}
    found = {
        f"dbcode.{info.name}"
        for info in pkgutil.iter_modules(dbcode.__path__)
        if info.name.endswith("_experiment")
    }
    with_explorer = {name for name in found if hasattr(importlib.import_module(name), "explore")}
    assert with_explorer <= listed, f"explorers not tested: {sorted(with_explorer - listed)}"


def test_explorer_draws_only_when_a_control_changes():
    """The chapters show the default as a captioned figure, so the explorer itself draws
    nothing at creation, and each change redraws with all controls' current values."""
    from ipywidgets import IntSlider

    from dbcode.viz.widgets import explorer

    calls = []

    def callback(a, b):
        calls.append((a, b))
        plt.figure()
        plt.plot([a, b])

    a, b = IntSlider(value=1), IntSlider(value=2)
    box = explorer(callback, {"a": a, "b": b})
    assert calls == []
    b.value = 5
    a.value = 3
    assert calls == [(1, 5), (3, 5)]
    controls, _output = box.children
    assert list(controls.children) == [a, b]
