"""Training snapshots: a run killed part-way resumes with the bits of an uninterrupted
run (dbcode.model.checkpoints, train(checkpoint=...), the store's snapshots)."""

import numpy as np
import pytest

from dbcode.data.bars import load_bars
from dbcode.model import simulate
from dbcode.model.params import preset
from dbcode.model.simulate import train

RESULT_ARRAYS = ("train_loss", "eval_at", "test_loss", "rates_hz", "train_rates_hz", "test_counts")
STATE = ("F", "D", "W", "b", "z")


@pytest.fixture(scope="module")
def bars():
    return load_bars(400, 50, seed=0, c=0.3)


def _params(variant, engine):
    return preset(
        "bars", "ci", variant=variant, engine=engine, n_presentations=600, n_evals=20,
        n_test_eval=50,
    )  # fmt: skip


class Killed(Exception):
    """Stands for the end of a session or a lost worker."""


def _killed_after(monkeypatch, n_snapshots):
    """Make training stop right after writing its ``n_snapshots``-th snapshot."""
    written = []
    real = simulate.save_checkpoint

    def save(*args, **kwargs):
        real(*args, **kwargs)
        written.append(1)
        if len(written) == n_snapshots:
            raise Killed

    monkeypatch.setattr(simulate, "save_checkpoint", save)


def _assert_same_bits(a, b):
    for name in STATE:
        np.testing.assert_array_equal(getattr(a.state, name), getattr(b.state, name), name)
    assert a.state.sigma == b.state.sigma
    for name in RESULT_ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)
    np.testing.assert_array_equal(a.F_best, b.F_best)
    assert a.best_at == b.best_at and a.diverged_at == b.diverged_at


@pytest.mark.parametrize(
    ("variant", "engine", "killed_after"),
    [
        ("db", "per-step", 2),
        ("sb", "per-step", 19),  # inside the last 10 %, whose spike counts give the rates
        ("db", "spike-to-spike", 7),
    ],
)
def test_a_killed_run_resumes_with_the_bits_of_an_uninterrupted_one(
    variant, engine, killed_after, bars, tmp_path, monkeypatch
):
    p = _params(variant, engine)
    whole = train(p, bars.train, bars.test, seed=3, progress=False)
    path = tmp_path / "run.snapshot.npz"
    _killed_after(monkeypatch, killed_after)
    with pytest.raises(Killed):
        train(p, bars.train, bars.test, seed=3, progress=False, checkpoint=path)
    monkeypatch.undo()
    with np.load(path) as snapshot:
        assert int(snapshot["done"]) == whole.eval_at[killed_after]
    calls = []
    real = simulate.run_segment
    monkeypatch.setattr(simulate, "run_segment", lambda *a, **k: calls.append(1) or real(*a, **k))
    resumed = train(p, bars.train, bars.test, seed=3, progress=False, checkpoint=path)
    _assert_same_bits(resumed, whole)
    # it went on from the snapshot: only the evaluations and training after it ran
    assert len(calls) == 2 * (len(whole.eval_at) - 1 - killed_after)


def test_a_snapshot_of_another_run_is_not_used(bars, tmp_path, monkeypatch):
    p = _params("db", "per-step")
    path = tmp_path / "run.snapshot.npz"
    _killed_after(monkeypatch, 5)
    with pytest.raises(Killed):
        train(p, bars.train, bars.test, seed=3, progress=False, checkpoint=path)
    monkeypatch.undo()
    for other in (
        dict(seed=4, params=p),
        dict(seed=3, params=p.replace(eta_D=2 * p.eta_D)),
    ):
        result = train(other["params"], bars.train, bars.test, seed=other["seed"],
                       progress=False, checkpoint=path)  # fmt: skip
        alone = train(other["params"], bars.train, bars.test, seed=other["seed"], progress=False)
        _assert_same_bits(result, alone)


def test_an_unreadable_snapshot_is_ignored_with_a_warning(bars, tmp_path):
    p = _params("db", "per-step")
    path = tmp_path / "run.snapshot.npz"
    path.write_bytes(b"not a snapshot")
    with pytest.warns(UserWarning, match="unreadable training snapshot"):
        result = train(p, bars.train, bars.test, seed=3, progress=False, checkpoint=path)
    _assert_same_bits(result, train(p, bars.train, bars.test, seed=3, progress=False))


def test_the_store_keeps_a_snapshot_while_a_network_trains_and_removes_it_after(store, monkeypatch):
    from dbcode.run.jobs import Job, run_network
    from dbcode.run.store import ResultStore, key_for

    job = Job("bars", overrides={"n_presentations": 300, "n_evals": 6, "n_test_eval": 20,
                                 "n_train": 200, "n_test": 20})  # fmt: skip
    snapshot = store.snapshot_path(key_for("network", job.key_params(), job.seed))
    _killed_after(monkeypatch, 3)
    with pytest.raises(Killed):
        run_network(job, store=store)
    monkeypatch.undo()
    assert snapshot.is_file() and len(store) == 0
    resumed = run_network(job, store=store)
    assert not snapshot.exists() and len(store) == 1
    fresh = run_network(job, store=ResultStore(store.root.parent / "uninterrupted"))
    for name in ("F", "test_loss", "train_loss"):
        np.testing.assert_array_equal(resumed.arrays[name], fresh.arrays[name])
    _killed_after(monkeypatch, 1)
    with pytest.raises(Killed):
        run_network(job, store=store, force=True)
    monkeypatch.undo()
    assert snapshot.is_file()
    store.clear()
    assert not snapshot.exists()
