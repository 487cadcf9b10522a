"""Tests of the on-disk result cache :mod:`dbcode.run.store`."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from dbcode.core import repo
from dbcode.run import store as cache


@pytest.fixture(autouse=True)
def _caching_enabled(monkeypatch):
    monkeypatch.delenv("DBCODE_NO_CACHE", raising=False)


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, value: float = 1.0) -> None:
        self.calls = 0
        self.value = value

    def __call__(self):
        self.calls += 1
        arrays = {"w": np.full((3, 4), self.value), "idx": np.arange(5, dtype=np.int32)}
        return arrays, {"loss": np.float64(0.25), "shape": (3, 4)}


PARAMS = {"n_z": 16, "eta": 5e-5, "c": np.float64(0.4), "phases": (1, 2)}


def test_round_trip(store):
    compute = Counter()
    first = cache.cached("bars", PARAMS, 3, compute, store=store)
    second = cache.cached("bars", PARAMS, 3, compute, store=store)
    assert compute.calls == 1
    assert not first.from_cache and second.from_cache
    for name in ("w", "idx"):
        np.testing.assert_array_equal(second.arrays[name], first.arrays[name])
        assert second.arrays[name].dtype == first.arrays[name].dtype
    assert second.meta == first.meta == {"loss": 0.25, "shape": [3, 4]}
    assert second.provenance == first.provenance
    prov = second.provenance
    assert prov["seed"] == 3 and prov["params"]["c"] == 0.4
    assert prov["code_version"] == cache.code_version()
    assert prov["runtime_s"] >= 0 and prov["created"]


def test_other_params_or_seed_miss(store):
    compute = Counter()
    cache.cached("bars", PARAMS, 3, compute, store=store)
    cache.cached("bars", {**PARAMS, "eta": 1e-4}, 3, compute, store=store)
    cache.cached("bars", PARAMS, 4, compute, store=store)
    cache.cached("mnist", PARAMS, 3, compute, store=store)
    assert compute.calls == 4
    assert len(store.keys()) == 4


def test_force_recomputes(store):
    compute = Counter()
    cache.cached("bars", PARAMS, 0, compute, store=store)
    assert not cache.cached("bars", PARAMS, 0, compute, store=store, force=True).from_cache
    assert compute.calls == 2


def test_key_is_stable_and_canonical():
    @dataclasses.dataclass(frozen=True)
    class P:
        n: int
        rates: tuple

    a = cache.key_for("run", {"b": 1, "a": np.int64(2), "p": P(3, (0.1, 0.2))}, 7)
    b = cache.key_for("run", {"a": 2, "p": P(3, (0.1, 0.2)), "b": 1}, 7)
    assert a == b and a.startswith("run-")
    assert cache.key_for("run", {"x": np.arange(3)}, 0) != cache.key_for(
        "run", {"x": np.arange(1, 4)}, 0
    )
    with pytest.raises(ValueError):
        cache.key_for("../evil", {}, 0)
    with pytest.raises(TypeError):
        cache.key_for("run", {"f": object()}, 0)


def test_code_version_change_misses(store, monkeypatch):
    compute = Counter()
    cache.cached("bars", PARAMS, 0, compute, store=store)
    monkeypatch.setattr(cache, "code_version", lambda: "000000000000")
    assert not cache.cached("bars", PARAMS, 0, compute, store=store).from_cache
    assert compute.calls == 2


def test_code_version_tracks_package_source():
    version = cache.code_version()
    assert len(version) == 12 and version == cache.code_version()
    commit = repo.git_commit()
    assert commit is None or len(commit) == 40


def _entry_files(store, key):
    return store.root / f"{key}.npz", store.root / f"{key}.json"


def _corrupt_and_check(store, damage):
    compute = Counter()
    key = cache.key_for("bars", PARAMS, 0)
    cache.cached("bars", PARAMS, 0, compute, store=store)
    damage(*_entry_files(store, key))
    with pytest.warns(RuntimeWarning, match="corrupt"):
        result = cache.cached("bars", PARAMS, 0, compute, store=store)
    assert not result.from_cache and compute.calls == 2
    assert cache.cached("bars", PARAMS, 0, compute, store=store).from_cache


def _truncate(npz, sidecar):
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])


def _flip_array_byte(npz, sidecar):
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the compressed array data
    npz.write_bytes(bytes(data))


def _flip_data_byte_keep_zip_valid(npz, sidecar):
    with np.load(npz) as archive:
        arrays = {name: archive[name].copy() for name in archive.files}
    arrays["w"][1, 2] += 1e-9
    np.savez(npz, **arrays)


def _edit_meta(npz, sidecar):
    record = json.loads(sidecar.read_text())
    record["meta"]["loss"] = 0.125
    sidecar.write_text(json.dumps(record))


def _truncate_json(npz, sidecar):
    sidecar.write_bytes(sidecar.read_bytes()[:40])


def _remove_npz(npz, sidecar):
    npz.unlink()


@pytest.mark.parametrize(
    "damage",
    [
        _truncate,
        _flip_array_byte,
        _flip_data_byte_keep_zip_valid,
        _edit_meta,
        _truncate_json,
        _remove_npz,
    ],
)
def test_corruption_is_detected_and_recomputed(store, damage):
    _corrupt_and_check(store, damage)


def test_failing_compute_leaves_nothing(store):
    def compute():
        raise RuntimeError("simulation failed")

    with pytest.raises(RuntimeError):
        cache.cached("bars", PARAMS, 0, compute, store=store)
    assert not store.root.exists() or not any(store.root.iterdir())


def test_failing_write_leaves_no_partial_file(store, monkeypatch):
    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(cache.np, "savez_compressed", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        cache.cached("bars", PARAMS, 0, Counter(), store=store)
    assert list(store.root.iterdir()) == []


def test_object_arrays_are_refused(store):
    with pytest.raises(TypeError, match="object"):
        store.put(cache.key_for("x", {}, 0), {"a": np.array([{}, 1], dtype=object)}, {}, {})


def test_store_interface(store):
    key = cache.key_for("bars", PARAMS, 0)
    assert key not in store and store.get(key) is None and store.keys() == []
    store.put(key, {"a": np.zeros(2)}, {"m": np.arange(3)}, {"seed": 0})
    assert key in store and store.keys() == [key]
    assert store.get(key).meta == {"m": [0, 1, 2]}
    (store.root / "unrelated.txt").write_text("keep me")
    store.clear()
    assert store.keys() == [] and (store.root / "unrelated.txt").exists()


def test_disable_with_environment(store, monkeypatch):
    monkeypatch.setenv("DBCODE_NO_CACHE", "1")
    compute = Counter()
    first = cache.cached("bars", PARAMS, 0, compute, store=store)
    second = cache.cached("bars", PARAMS, 0, compute, store=store)
    assert compute.calls == 2 and not first.from_cache and not second.from_cache
    assert store.keys() == []
    assert first.meta == {"loss": 0.25, "shape": [3, 4]}


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("DBCODE_CACHE", str(tmp_path / "here"))
    assert cache.ResultStore().root == tmp_path / "here"
    monkeypatch.delenv("DBCODE_CACHE")
    root = cache.default_root()
    assert root.name == "dbcode" and root.parent.name in (".cache",)


def _slow_compute(root: str, log: str) -> bool:
    """In a child process: compute a slow entry; returns whether it came from the store."""
    import time as _time

    def compute():
        with open(log, "a") as fh:
            fh.write("computed\n")
        _time.sleep(1.5)
        return {"x": np.arange(3)}, {"n": 3}

    return cache.cached("slow", {"a": 1}, 0, compute, store=cache.ResultStore(root)).from_cache


def test_two_processes_compute_an_entry_once(tmp_path):
    """Two sweeps on one store share the work: the second waits for the first's claim
    and loads its result instead of computing it again."""
    import multiprocessing

    log = tmp_path / "log.txt"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        from_cache = sorted(pool.starmap(_slow_compute, [(str(tmp_path / "s"), str(log))] * 2))
    assert log.read_text().count("computed") == 1
    assert from_cache == [False, True]
    assert not list((tmp_path / "s").glob("*.claim"))


def test_a_claim_left_by_a_dead_process_is_taken_over(store):
    import json as _json
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    key = cache.key_for("bars", PARAMS, 0)
    store.root.mkdir(parents=True, exist_ok=True)
    (store.root / f"{key}.claim").write_text(
        _json.dumps({"host": __import__("socket").gethostname(), "pid": int(dead), "time": 0})
    )
    compute = Counter()
    assert not cache.cached("bars", PARAMS, 0, compute, store=store).from_cache
    assert compute.calls == 1 and not (store.root / f"{key}.claim").exists()
