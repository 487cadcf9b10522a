"""Receptive-field classes are fitted once and committed beside their record."""

import json

import numpy as np
import pytest

from dbcode.analysis import field_fits as ff
from dbcode.run import field_classes as fc
from dbcode.run import records


def _fields():
    gabor = np.concatenate(
        [ff.gabor(np.array([1.0, 3.5, 3.8, 1.5, 2.5, 0.6, 0.25, 0.3])).ravel(), np.zeros(64)]
    )
    dog = np.concatenate([ff.dog(np.array([1.0, 0.4, 3.2, 4.1, 0.9, 2.5])).ravel(), np.zeros(64)])
    noise = np.random.default_rng(0).normal(size=(2, 128))
    F = np.vstack([gabor, dog, noise]).astype(np.float16).astype(float)
    return {"db_n4_s0": F, "db_n4_s0_best": F[::-1].copy()}


def _no_fitting(monkeypatch):
    def refuse(F):
        raise AssertionError("fitted although the committed classes match")

    monkeypatch.setattr(fc, "network_classes", refuse)


def test_committed_classes_are_read_back_without_fitting(tmp_path, monkeypatch):
    path, fields = tmp_path / "grid.json", _fields()
    fitted = {key: fc.network_classes(F) for key, F in fields.items()}
    assert [c["class"] for c in fitted["db_n4_s0"][:2]] == ["Gabor-like", "centre-surround"]
    target = fc.write_record_classes(path, fields)
    assert target == tmp_path / "grid_classes.json"
    _no_fitting(monkeypatch)
    assert fc.record_classes(fields, path) == fitted


def test_a_changed_field_or_fitting_code_is_fitted_again(tmp_path, monkeypatch):
    path, fields = tmp_path / "grid.json", _fields()
    fc.write_record_classes(path, fields)
    changed = dict(fields, db_n4_s0=fields["db_n4_s0"][[1, 0, 2, 3]])
    calls = []
    original = fc.network_classes
    monkeypatch.setattr(fc, "network_classes", lambda F: calls.append(1) or original(F))
    again = fc.record_classes(changed, path)
    assert len(calls) == 1
    assert [c["class"] for c in again["db_n4_s0"][:2]] == ["centre-surround", "Gabor-like"]
    monkeypatch.setattr(fc, "classifier_version", lambda: "another")
    fc.record_classes(fields, path)
    assert len(calls) == 3  # both networks: the file was written by other code


def test_field_digest_is_the_same_for_the_stored_and_the_widened_array():
    F = np.random.default_rng(3).normal(size=(5, 128)).astype(np.float16)
    assert fc.field_digest(F) == fc.field_digest(F.astype(float))
    assert fc.field_digest(F) != fc.field_digest(F[:4])


def _committed_records():
    root = records.summary_path("fig5b", "paper").parent
    return sorted(p for p in root.glob("*_classes.json"))


@pytest.mark.parametrize("target", _committed_records(), ids=lambda p: p.name)
def test_committed_classes_belong_to_the_committed_fields_and_code(target):
    name = target.name.removesuffix("_classes.json")
    fields = records.load_fields(name, "paper")
    stored = json.loads(target.read_text())
    assert stored["classifier"] == fc.classifier_version(), (
        f"{target.name} was fitted by other code: run `python -m dbcode export {name} "
        "--scale paper` to fit the fields again"
    )
    assert set(stored["networks"]) == set(fields)
    for key, F in fields.items():
        assert stored["networks"][key]["fields"] == fc.field_digest(F), key
    smallest = min(fields, key=lambda key: len(fields[key]))  # refit one network here
    committed = fc.record_classes({smallest: fields[smallest]}, records.summary_path(name))
    refitted = fc.network_classes(fields[smallest])
    assert [c["class"] for c in refitted] == [c["class"] for c in committed[smallest]]
    for what in ("r2_gabor", "r2_dog"):
        assert [c[what] for c in refitted] == pytest.approx(
            [c[what] for c in committed[smallest]], rel=1e-9, abs=1e-12
        )
