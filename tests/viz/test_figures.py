"""dbcode.viz.figures: files, manifest entries, JSON conversion, scale stamp."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from dbcode.viz import figures


@pytest.fixture
def figdir(tmp_path, monkeypatch):
    out = tmp_path / "figs"
    monkeypatch.setenv("DBCODE_FIGURES", str(out))
    return out


@pytest.fixture
def fig():
    f, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    yield f
    plt.close(f)


@dataclasses.dataclass
class Params:
    n: int = 3
    eta: np.float64 = dataclasses.field(default_factory=lambda: np.float64(0.5))
    w: np.ndarray = dataclasses.field(default_factory=lambda: np.arange(3))


def _save(fig, fig_id="figX", **kw):
    args = dict(
        chapter="toy",
        scale="ci",
        seeds=[0, np.int64(1)],
        params=Params(),
        data_source="synthetic",
        key_numbers={"loss": np.float32(0.25), "rate": {"value": 3.0, "rtol": 0.2}},
        runtime_s=1.23456,
        caption="A toy figure.",
    )
    args.update(kw)
    return figures.save_figure(fig, fig_id, **args)


def test_save_figure_writes_files_and_entry(figdir, fig):
    entry = _save(fig)
    assert (figdir / "figX.png").stat().st_size > 0
    assert (figdir / "figX.svg").read_text().lstrip().startswith("<?xml")
    manifest = json.loads((figdir / "manifest.json").read_text())
    assert manifest == {"figX": entry}
    assert entry["files"] == ["figX.png", "figX.svg"]
    assert entry["chapter"] == "toy" and entry["scale"] == "ci"
    assert entry["seeds"] == [0, 1]
    assert entry["params"] == {"n": 3, "eta": 0.5, "w": [0, 1, 2]}
    assert entry["key_numbers"] == {"loss": 0.25, "rate": {"value": 3.0, "rtol": 0.2}}
    assert entry["runtime_s"] == pytest.approx(1.235)
    assert entry["dbcode_version"]
    assert entry["created"].endswith("+00:00")
    for key in ("fig_id", "cell", "data_source", "git", "caption"):
        assert key in entry


def test_manifest_update_keeps_other_entries(figdir, fig):
    _save(fig, "a")
    _save(fig, "b", scale="paper", seeds=7)
    _save(fig, "a", key_numbers={"loss": 1.0})
    manifest = figures.load_manifest()
    assert sorted(manifest) == ["a", "b"]
    assert manifest["a"]["key_numbers"] == {"loss": 1.0}
    assert manifest["b"]["seeds"] == [7]
    assert not list(figdir.glob(".*tmp*")), "temporary files left behind"


def test_svg_is_reproducible(figdir, fig):
    _save(fig)
    first = (figdir / "figX.svg").read_bytes()
    _save(fig)
    assert (figdir / "figX.svg").read_bytes() == first


def test_scale_stamp_is_drawn_once(fig):
    figures.stamp_scale(fig, "ci")
    figures.stamp_scale(fig, "paper")
    stamps = [t for t in fig.texts if t.get_gid() == "dbcode-scale-stamp"]
    assert [t.get_text() for t in stamps] == ["scale: paper"]
    assert figures.scale_label("ci") == "scale: ci (reduced)"
    assert "make paper" in figures.figure_caption_suffix("ci")
    assert "paper scale" in figures.figure_caption_suffix("paper")


def test_save_figure_stamps_scale(figdir, fig):
    _save(fig)
    assert any(t.get_text() == "scale: ci (reduced)" for t in fig.texts)


@pytest.mark.parametrize("bad", ["", "a/b", "../x", ".hidden", "with space"])
def test_invalid_fig_id(figdir, fig, bad):
    with pytest.raises(ValueError):
        _save(fig, bad)


def test_key_numbers_mapping_needs_value(figdir, fig):
    with pytest.raises(ValueError, match="value"):
        _save(fig, key_numbers={"loss": {"rtol": 0.1}})


def test_jsonable_types():
    big = np.zeros((40, 40))
    out = figures.jsonable(
        {
            1: np.int32(2),
            "f": np.float16(0.5),
            "nan": float("nan"),
            "inf": -math.inf,
            "path": Path("/x/y"),
            "set": {3, 1},
            "tuple": (1, 2),
            "big": big,
            "bool": np.bool_(True),
        }
    )
    assert out["1"] == 2 and out["f"] == 0.5
    assert out["nan"] is None and out["inf"] is None  # strict JSON
    assert out["path"] == "/x/y" and out["set"] == [1, 3] and out["tuple"] == [1, 2]
    assert out["big"] == {"shape": [40, 40], "dtype": "float64", "mean": 0.0}
    assert out["bool"] is True
    json.dumps(out)


def test_figures_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("DBCODE_FIGURES", str(tmp_path / "elsewhere"))
    assert figures.figures_dir() == (tmp_path / "elsewhere").resolve()
    monkeypatch.delenv("DBCODE_FIGURES")
    root = figures.repo_root()
    if root is not None:  # editable install: the repository's figures/
        assert figures.figures_dir() == root / "figures"
    monkeypatch.setattr(figures, "repo_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert figures.figures_dir() == tmp_path / "figures"


def test_load_manifest_missing_and_empty(tmp_path):
    assert figures.load_manifest(tmp_path / "none.json") == {}
    (tmp_path / "m.json").write_text("")
    assert figures.load_manifest(tmp_path / "m.json") == {}
    (tmp_path / "m.json").write_text("[]")
    with pytest.raises(ValueError):
        figures.load_manifest(tmp_path / "m.json")
