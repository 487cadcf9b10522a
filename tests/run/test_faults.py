"""Faults a user can hit with bad input or an unlucky run: each gives a clear message (or
a flag) instead of a crash, a hang, a silent wrong result or lost data."""

import json
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from scipy.io import savemat

from dbcode.chapters.bars import sweep_jobs as bars_jobs
from dbcode.chapters.delays import scan_job
from dbcode.chapters.scenes import network_job
from dbcode.data import DataSourceWarning, file_md5, load_dataset, natural
from dbcode.model.params import ParameterError, preset
from dbcode.model.simulate import train
from dbcode.run import records, registry, sweep
from dbcode.run import store as cache
from dbcode.run.jobs import Job, run_network

TINY = {"n_presentations": 60, "n_evals": 2, "n_train": 200, "n_test": 50, "n_test_eval": 20}


@pytest.fixture(scope="module")
def bars():
    return load_dataset("bars", n_train=200, n_test=50, seed=0)


# --------------------------------------------------------------------------- state
@pytest.mark.parametrize(
    "name, value, message",
    [
        ("z", np.zeros(5), r"state.z has shape \(5,\), but a 'db' network of n_z=16"),
        ("b", np.zeros(3), r"state.b has shape \(3,\)"),
        ("W", np.zeros((3, 3)), r"state.W has shape \(3, 3\)"),
        ("D", np.zeros((16, 64)), r"state.D has shape \(16, 64\)"),
        ("F", np.full((16, 64), np.nan), "state.F contains NaN"),
        ("D", np.zeros((64, 16), dtype=complex), "state.D has dtype complex128"),
        ("sigma", -1.0, "state.sigma must be a positive finite number"),
    ],
)
def test_a_bad_state_is_refused_before_the_kernel(bars, name, value, message):
    p = preset("bars", "ci", **TINY)
    state = train(p, bars.train, bars.test, progress=False).state
    setattr(state, name, value)
    with pytest.raises(ParameterError, match=message):
        train(p, bars.train, bars.test, progress=False, state=state)


def test_a_state_of_another_type_is_refused(bars):
    with pytest.raises(ParameterError, match="state must be a NetworkState"):
        train(preset("bars", "ci", **TINY), bars.train, bars.test, progress=False, state={"F": 0})


def test_zero_width_input_is_refused(bars):
    with pytest.raises(ParameterError, match="have no inputs"):
        train(preset("bars", "ci", **TINY), bars.train[:, :0], bars.test[:, :0], progress=False)


# --------------------------------------------------------------------------- divergence
def test_a_diverging_network_stops_and_says_where(bars):
    result = train(preset("bars", "ci", eta_F=1e6, **TINY), bars.train, bars.test, progress=False)
    assert result.diverged and 0 < result.diverged_at <= 60
    assert np.isnan(result.final_loss) and np.isnan(result.test_loss[1:]).all()
    assert np.isnan(result.train_loss[result.diverged_at :]).all()
    healthy = train(preset("bars", "ci", **TINY), bars.train, bars.test, progress=False)
    assert not healthy.diverged and np.isfinite(healthy.final_loss)


def test_the_store_and_the_export_keep_the_flag_in_strict_json(store, tmp_path):
    job = Job("bars", overrides={"eta_F": 1e6, **TINY})
    result = run_network(job, store=store)
    assert result.meta["diverged"] is True and result.meta["final_loss"] is None
    text = (store.root / f"{sweep.job_key(job)}.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda token: pytest.fail(f"non-strict JSON: {token}"))
    # the diverged network comes back from the store as diverged
    again = run_network(job, store=store)
    assert again.from_cache and again.meta["diverged_at"] == result.meta["diverged_at"]
    summary = records.export_summary([job], store, tmp_path / "record.json")
    (row,) = summary["networks"]
    assert row["diverged"] is True and row["final_loss"] is None
    assert "NaN" not in (tmp_path / "record.json").read_text()


# --------------------------------------------------------------------------- sweeps
def _cli(*args, timeout=60):
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "dbcode", *args], capture_output=True, text=True, timeout=timeout
    )
    return done.returncode, done.stderr, time.monotonic() - started


def _cli_out(*args, timeout=60):
    done = subprocess.run(
        [sys.executable, "-m", "dbcode", *args], capture_output=True, text=True, timeout=timeout
    )
    return done.returncode, done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("sweep", "fig4b", "--workers", "-1"), "--workers: must be at least 1, got -1"),
        (("sweep", "fig4b", "--workers", "0"), "--workers: must be at least 1, got 0"),
        (("sweep", "fig3c", "--seeds", "0"), "--seeds: must be at least 1, got 0"),
        (("status", "fig4b", "--seeds", "-3"), "--seeds: must be at least 1, got -3"),
        (("sweep", "fig9z"), "invalid choice: 'fig9z' (choose from 'fig3c', 'fig4b'"),
    ],
)
def test_bad_sweep_arguments_are_refused_at_once(args, message):
    code, err, _ = _cli(*args)
    assert code == 2 and message in err and "Traceback" not in err


def test_an_unreachable_scheduler_is_reported_without_a_traceback(tmp_path):
    code, err, seconds = _cli(
        "sweep", "fig4b", "--scheduler", "tcp://127.0.0.1:9", "--store", str(tmp_path)
    )
    assert code == 2 and "no Dask scheduler answered at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err and seconds < 30


def test_a_sweep_does_not_compute_again_what_the_committed_record_holds(tmp_path):
    summary = records.load_summary("fig4b")
    assert summary is not None, "results/paper/fig4b.json is missing"
    total, done = len(registry.named_jobs("fig4b", "paper")), summary["done"]
    code, out = _cli_out("status", "fig4b", "--scale", "paper", "--store", str(tmp_path))
    assert code == 0
    assert f"{done} of {total} networks are in the committed record fig4b.json" in out
    assert f"0 of {total - done} networks done" in out


def test_seeds_mean_the_same_in_every_sweep():
    assert {job.seed for job in registry.named_jobs("fig3c", "ci", 1)} == {0}
    assert {job.seed for job in registry.named_jobs("fig4b", "ci", 1)} == {0}
    with pytest.raises(ParameterError, match="number of seeds must be a positive integer"):
        registry.named_jobs("fig4b", "ci", 0)
    with pytest.raises(ParameterError, match="workers must be a positive number"):
        sweep.run(registry.named_jobs("fig4b", "ci", 1)[:1], workers=-1)


@pytest.mark.parametrize(
    "build",
    [
        lambda: bars_jobs("huge"),
        lambda: network_job("db", 40, "huge"),
        lambda: registry.named_jobs("fig6a", "huge"),
        lambda: scan_job("sb", 1.0, "huge"),
    ],
)
def test_an_unknown_scale_names_the_scales(build):
    with pytest.raises(ParameterError, match="unknown scale 'huge'; choose one of ci, paper"):
        build()


def test_an_unknown_delay_condition_names_the_conditions():
    with pytest.raises(ParameterError, match="unknown delay condition 'hebb'; choose one of"):
        scan_job("hebb", 1.0)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"correlation": 0.5}, r"unknown data option\(s\) \['correlation'\] for 'bars'; valid"),
        ({"c": 1.5}, r"c must be a number in \[0, 1\]"),
    ],
)
def test_bad_data_options_fail_before_the_sweep_starts(monkeypatch, store, data, message):
    monkeypatch.setattr(sweep, "client_for", lambda *a, **k: pytest.fail("sweep started"))
    jobs = [Job("bars", overrides=TINY), Job("bars", overrides=TINY, data=data)]
    with pytest.raises(ParameterError, match=message):
        sweep.run(jobs, store=store)


# --------------------------------------------------------------------------- records
def test_an_export_keeps_the_committed_networks_the_store_lacks(store, tmp_path):
    """A sweep spanning sessions (each with its own store) loses nothing on export."""
    record = tmp_path / "fig4b.json"
    jobs = bars_jobs("paper", n_seeds=1, c_values=[0.0])
    rows = [{"variant": v, "n_z": 16, "seed": 0, "data": {"c": 0.0}} for v in ("sb", "db")]
    record.write_text(json.dumps({"total": 2, "done": 2, "networks": rows}))
    assert records.committed_jobs(jobs, record) == jobs
    summary = records.export_summary(jobs, store, record)
    assert summary["done"] == 2 and summary["networks"] == rows
    assert json.loads(record.read_text())["networks"] == rows


def test_a_sweep_warns_that_rows_without_parameters_match_by_name_only(
    tmp_path, monkeypatch, capsys
):
    """Rows written before records kept each network's parameters (``job_id``) match a
    job whatever its parameters now are: a sweep that skips them says so and how to
    compute them again; rows with their parameters raise no warning."""
    import argparse

    from dbcode.book import cli

    record = tmp_path / "fig4b.json"
    jobs = bars_jobs("paper", n_seeds=1, c_values=[0.0])
    rows = [{"variant": v, "n_z": 16, "seed": 0, "data": {"c": 0.0}} for v in ("sb", "db")]
    monkeypatch.setattr(records, "summary_path", lambda name, scale="paper": record)
    args = argparse.Namespace(name="fig4b", scale="paper", recompute=False)
    for with_ids in (False, True):
        if with_ids:
            rows = [{**row, "job_id": records.job_identity(j)} for row, j in zip(rows, jobs)]
        record.write_text(json.dumps({"total": 2, "done": 2, "networks": rows}))
        assert cli._without_committed(jobs, args) == []
        out = capsys.readouterr().out
        assert "2 of 2 networks are in the committed record fig4b.json" in out
        warned = "warning: 2 rows of fig4b.json were written before" in out
        assert warned == (not with_ids) and ("pass --recompute" in out) == (not with_ids)
    changed = bars_jobs("paper", n_seeds=1, c_values=[0.0], overrides={"trace_cutoff": 0.0})
    assert cli._without_committed(changed, args) == changed


def test_an_export_never_drops_networks_the_sweep_no_longer_has(store, tmp_path):
    record = tmp_path / "fig4b.json"
    jobs = bars_jobs("paper", n_seeds=1, c_values=[0.0])
    committed = {
        "total": 2,
        "done": 2,
        "networks": [
            {"variant": v, "n_z": 16, "seed": 0, "data": {"c": 0.25}} for v in ("sb", "db")
        ],
    }
    record.write_text(json.dumps(committed))
    assert records.committed_jobs(jobs, record) == []
    with pytest.raises(records.RecordShrinks, match=r"2 of which .*: db n_z=16 seed=0 c=0\.25"):
        records.export_summary(jobs, store, record)
    assert json.loads(record.read_text()) == committed
    assert records.export_summary(jobs, store, record, force=True)["done"] == 0


def test_the_export_takes_the_entry_of_the_current_code(store, tmp_path, monkeypatch):
    job = Job("bars", overrides=TINY)
    monkeypatch.setattr(cache, "code_version", lambda: "0ld0ld0ld0ld")
    stale = run_network(job, store=store)
    monkeypatch.undo()
    time.sleep(1.1)  # a later creation time than the current entry: sorts first
    current = run_network(job, store=store)
    assert stale.provenance["key"] != current.provenance["key"]
    (row,) = records.export_summary([job], store, tmp_path / "r.json")["networks"]
    assert row["code_version"] == current.provenance["code_version"]


# --------------------------------------------------------------------------- data files
def _published(tmp_path, monkeypatch):
    images = np.random.default_rng(0).normal(0, 0.3, size=(64, 64, 2))
    path = tmp_path / "IMAGES.mat"
    savemat(path, {"IMAGES": images})
    monkeypatch.setattr(natural, "IMAGES_MAT_MD5", file_md5(path))
    return path


def test_a_damaged_images_mat_is_named(tmp_path, monkeypatch):
    path = _published(tmp_path, monkeypatch)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{path} is damaged: its MD5 is"):
        natural.load_scenes(5, 5, seed=0, source="images_mat", cache_dir=tmp_path)


def test_a_truncated_images_mat_is_named(tmp_path, monkeypatch):
    path = _published(tmp_path, monkeypatch)
    own = tmp_path / "own.mat"  # another name: no published checksum to check
    own.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=rf"{own} is not a readable MAT file"):
        natural.load_images_mat(own)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=rf"{path} is damaged"):
        natural.load_images_mat(path)


def test_a_misspelled_data_folder_says_it_falls_back(tmp_path):
    with pytest.warns(DataSourceWarning, match="does not exist .* substitute 'dead-leaves'"):
        data = natural.load_scenes(5, 5, seed=0, cache_dir=tmp_path / "sparsnet")
    assert data.source.startswith("synthetic dead-leaves")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        natural.load_scenes(5, 5, seed=0, source="dead-leaves", cache_dir=tmp_path / "sparsnet")


def test_the_resolved_data_are_part_of_the_key(tmp_path, monkeypatch):
    """A network cached on the substitute is not returned once IMAGES.mat is there."""
    job = Job("scenes", data={"cache_dir": str(tmp_path)})
    before = sweep.job_key(job)
    assert job.data_source()["source"] == "dead-leaves"
    _published(tmp_path, monkeypatch)
    assert job.data_source()["source"] == "images_mat"
    assert sweep.job_key(job) != before
