"""Sweeps on Dask survive killed workers and a killed runner, and repair corrupt entries."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import psutil
import pytest

from dbcode.run import records, registry, sweep
from dbcode.run.jobs import Job
from dbcode.run.store import ResultStore

pytestmark = pytest.mark.slow

JOBS_SOURCE = """
from dbcode.run.jobs import Job
JOBS = [Job("bars", "ci", seed=s, overrides={"variant": v, "n_presentations": 8_000,
            "n_evals": 1, "n_test_eval": 50}) for s in range(4) for v in ("sb", "db")]
"""


def _jobs():
    namespace = {}
    exec(JOBS_SOURCE, namespace)
    return namespace["JOBS"]


def _start_runner(tmp_path, store):
    script = tmp_path / "runner.py"
    script.write_text(
        JOBS_SOURCE
        + textwrap.dedent(f"""
        from dbcode.run import sweep
        from dbcode.run.store import ResultStore

        if __name__ == "__main__":  # Dask's worker processes re-import this script
            sweep.run(JOBS, workers=2, store=ResultStore({str(store)!r}), progress=False)
    """)
    )
    return subprocess.Popen(
        [sys.executable, str(script)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(condition, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _kill_a_worker(pid):
    """Kill one of Dask's worker processes under the runner; whether one was found.

    A process may exit between being listed and being read or signalled (a short-lived
    helper process), so each is looked at on its own."""
    for process in reversed(psutil.Process(pid).children(recursive=True)):
        try:
            command = " ".join(process.cmdline())
            if "dask" in command or "spawn" in command:
                process.send_signal(signal.SIGKILL)
                return True
        except psutil.NoSuchProcess:
            continue
    return False


def _done(store, jobs):
    return sum(sweep.job_key(j) in store for j in jobs)


def test_sweep_survives_killed_worker_and_runner(tmp_path):
    jobs = _jobs()
    store_dir = tmp_path / "store"
    runner = _start_runner(tmp_path, store_dir)
    store = ResultStore(store_dir)
    try:
        assert _wait_for(lambda: _done(store, jobs) >= 1), "no job finished"
        assert _wait_for(lambda: _kill_a_worker(runner.pid)), "no worker process found"
        assert _wait_for(lambda: _done(store, jobs) >= 3), "sweep stalled after a worker died"
        os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    interrupted = _done(store, jobs)
    assert interrupted < len(jobs), "the sweep finished before it could be interrupted"

    results = sweep.run(jobs, workers=2, store=store, progress=False)
    keys = store.keys()
    assert sorted(keys) == sorted({sweep.job_key(j) for j in jobs})
    assert not [p for p in store_dir.iterdir() if p.suffix not in (".npz", ".json")]

    reference = sweep.run(
        jobs, workers=1, store=ResultStore(tmp_path / "reference"), progress=False
    )
    for got, want in zip(results, reference):
        for name in ("F", "D", "test_loss"):
            np.testing.assert_array_equal(got.arrays[name], want.arrays[name])


def test_corrupt_entry_is_recomputed(tmp_path):
    jobs = _jobs()[:2]
    store = ResultStore(tmp_path)
    first = sweep.run(jobs, workers=1, store=store, progress=False)
    npz = tmp_path / f"{sweep.job_key(jobs[0])}.npz"
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert sweep.pending(jobs, store) == [jobs[0]]
    again = sweep.run(jobs, workers=1, store=store, progress=False)
    np.testing.assert_array_equal(again[0].arrays["F"], first[0].arrays["F"])
    assert sweep.status(jobs, store).done == 2


def test_status_projects_remaining_time(tmp_path):
    jobs = _jobs()[:2]
    store = ResultStore(tmp_path)
    assert sweep.status(jobs, store).done == 0
    sweep.run(jobs[:1], workers=1, store=store, progress=False)
    status = sweep.status(jobs, store)
    assert (status.done, status.total) == (1, 2)
    assert status.projected_s(1) == pytest.approx(status.mean_runtime_s)
    assert "1 of 2 networks done" in status.format(1)


def test_status_formats_projections_beyond_a_day():
    status = sweep.Status(total=2101, done=1, runtime_s=[45.0])
    assert "projected remaining time on 1 worker(s): 26:15:00 (26.2 h)" in status.format(1)


def test_finishing_clock_extrapolates_the_pace_so_far():
    import datetime
    import time

    ten_minutes_ago = time.monotonic() - 600
    clock = sweep.finishing_clock(ten_minutes_ago, finished=1, total=3)
    expected = datetime.datetime.now() + datetime.timedelta(minutes=20)
    assert clock == expected.strftime("%H:%M") or clock == (
        expected - datetime.timedelta(minutes=1)
    ).strftime("%H:%M")


def test_unknown_sweep_name():
    with pytest.raises(ValueError, match="unknown sweep 'fig9z'; choose one of fig3c"):
        registry.named_jobs("fig9z")
    for name in registry.SWEEPS:
        jobs = registry.named_jobs(name, "ci", 1)
        assert jobs and all(isinstance(job, Job) for job in jobs)
        assert len({sweep.job_key(job) for job in jobs}) == len(jobs), name


def test_export_keeps_natural_image_fields(tmp_path):
    from dbcode.chapters import scenes as sx

    jobs = [
        sx.network_job(
            rule, 6, "ci", 0, n_presentations=20, n_evals=1, n_test_eval=5, n_train=40, n_test=10
        )
        for rule in sx.RULES
    ]
    store = ResultStore(tmp_path / "store")
    results = sweep.run(jobs, workers=1, store=store, progress=False)
    named = registry.named_sweep("fig5b")
    summary = records.export_summary(
        jobs,
        store,
        tmp_path / "out" / "fig5b.json",
        describe=named.describe,
        keep_fields=named.keep_fields,
    )
    assert summary["done"] == 2
    assert [row["n_z"] for row in summary["networks"]] == [6, 6]
    assert 0.0 <= summary["networks"][0]["orientation_median"] <= 1.0
    assert summary["networks"][0]["data_source"] == results[0].meta["data_source"]
    with np.load(tmp_path / "out" / "fig5b_fields.npz") as npz:
        # the final weights and those at the lowest test loss
        assert sorted(npz.files) == ["db_n6_s0", "db_n6_s0_best", "sb_n6_s0", "sb_n6_s0_best"]
        np.testing.assert_allclose(npz["db_n6_s0"], results[1].arrays["F"], rtol=1e-3, atol=1e-4)
        best = results[1].arrays["F_best"]
        np.testing.assert_allclose(npz["db_n6_s0_best"], best, rtol=1e-3, atol=1e-4)


def test_export_merges_a_record_computed_in_two_stores(tmp_path):
    """Networks of one sweep computed in two stores (two sessions or machines) end in one
    record with every row and every field; the second store computes only what the
    record lacks."""
    from dbcode.chapters import scenes as sx

    small = dict(n_presentations=20, n_evals=1, n_test_eval=5, n_train=40, n_test=10)
    jobs = [sx.network_job(rule, 6, "ci", 0, **small) for rule in sx.RULES]
    named = registry.named_sweep("fig5b")
    out = tmp_path / "out" / "fig5b.json"
    first = ResultStore(tmp_path / "first")
    sweep.run(jobs[:1], workers=1, store=first, progress=False)
    records.export_summary(jobs, first, out, describe=named.describe, keep_fields=True)
    assert records.committed_jobs(jobs, out) == jobs[:1]
    second = ResultStore(tmp_path / "second")
    sweep.run(jobs[1:], workers=1, store=second, progress=False)
    assert len(second) == 1
    summary = records.export_summary(jobs, second, out, describe=named.describe, keep_fields=True)
    assert summary["done"] == 2
    assert [row["variant"] for row in summary["networks"]] == list(sx.RULES)
    assert records.committed_jobs(jobs, out) == jobs
    with np.load(tmp_path / "out" / "fig5b_fields.npz") as npz:
        assert sorted(npz.files) == ["db_n6_s0", "db_n6_s0_best", "sb_n6_s0", "sb_n6_s0_best"]
        np.testing.assert_array_equal(
            npz["sb_n6_s0"], first.get(sweep.job_key(jobs[0])).arrays["F"].astype(np.float16)
        )


def test_export_keeps_each_controls_network_and_its_final_state(tmp_path, monkeypatch):
    """Networks that differ only in their condition keep their own fields and states."""
    from dbcode.chapters import scenes_controls as sc

    small = dict(n_presentations=20, n_evals=1, n_test_eval=5, n_train=40, n_test=10)
    jobs = []
    for condition in ("baseline", "photographs"):
        job = sc.control_job("db", condition, "ci")
        jobs.append(Job("scenes", "ci", 0, {**job.overrides, "n_z": 6, **small}, job.data))
    store = ResultStore(tmp_path / "store")
    results = sweep.run(jobs, workers=1, store=store, progress=False)
    named = registry.named_sweep(sc.CONTROL_SWEEP)
    assert named.keep_states
    out = tmp_path / "out" / "controls.json"
    records.export_summary(
        jobs, store, out, describe=named.describe, keep_fields=True, keep_states=True
    )
    with np.load(tmp_path / "out" / "controls_fields.npz") as npz:
        assert {"db_n6_s0_baseline", "db_n6_s0_photographs"} <= set(npz.files)
    monkeypatch.setattr(records, "summary_path", lambda name, scale="paper": out)
    states = records.load_states("controls")
    assert sorted(states) == ["db_n6_s0_baseline", "db_n6_s0_photographs"]
    for result, name in zip(results, sorted(states)):
        assert set(states[name]) == {"F", "D", "W", "b", "sigma"}
        np.testing.assert_allclose(states[name]["W"], result.arrays["W"], rtol=1e-6, atol=1e-7)
        assert states[name]["sigma"] == result.meta["sigma"]


def test_committed_records_summarise_each_sweep(monkeypatch):
    rows = [{"runtime_s": 30.0, "code_version": "a"}, {"runtime_s": 60.0, "code_version": "b"}]
    summaries = {"fig4b": {"done": 2, "total": 210, "networks": rows}}
    monkeypatch.setattr(records, "load_summary", lambda name, scale="paper": summaries.get(name))
    (record,) = records.committed_records()
    assert (record["name"], record["done"], record["total"]) == ("fig4b", 2, 210)
    assert record["runtime_mean_s"] == 45.0
    assert (record["runtime_min_s"], record["runtime_max_s"]) == (30.0, 60.0)
    assert record["code_versions"] == ["a", "b"]


def test_a_local_worker_is_given_one_job_at_a_time():
    """Dask's default lets a single-threaded worker hold a second job, which then waits
    behind the first while another worker is free; the local cluster must not."""
    client, cluster = sweep.client_for(workers=1)
    try:
        saturation = client.run_on_scheduler(
            lambda dask_scheduler: dask_scheduler.WORKER_SATURATION
        )
    finally:
        client.close()
        cluster.close()
    assert saturation == 1.0
