"""Same seed, same code, same locked versions: the same bits on every x86-64 CPU.

A short network of every learning rule (and every data set) is run in two processes:
one as this CPU computes, one under :func:`dbcode.core.cpuenv.emulated_cpu_environment`,
which makes numba, NumPy, glibc and OpenBLAS take the code paths of a CPU without AVX,
FMA or AVX-512. Weights, spikes and losses must agree bitwise between the two and with
``tests/model/fingerprint.json``, the digests committed from another machine.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dbcode.core.cpuenv import baseline_library_environment, emulated_cpu_environment
from dbcode.model.params import ENGINES, VARIANTS

COMMITTED = Path(__file__).with_name("fingerprint.json")

# Besides the fingerprint, each process reports digests of library functions whose bits
# depend on the CPU, to show that the emulation really changes the code paths.
PROBES = """
import hashlib, json, math, sys
import numpy as np
x = np.random.default_rng(0).uniform(-5, 5, 100_000)
A = np.random.default_rng(1).normal(size=(64, 64))
h = lambda a: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
probes = {"numpy exp": h(np.exp(x)), "glibc exp": h(np.array([math.exp(v) for v in x])),
          "openblas matmul": h(A @ A), "numpy sum": h(np.sum(x[:, None] * x[None, :1000]))}
"""
SCRIPT = (
    PROBES
    + """
from dbcode.run.fingerprint import fingerprint
json.dump({"fingerprint": fingerprint(), "probes": probes}, sys.stdout)
"""
)


def _run(env, cache: Path, script: str = SCRIPT) -> dict:
    env = dict(env, NUMBA_CACHE_DIR=str(cache), PYTHONHASHSEED="0")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def two_cpus(tmp_path_factory, clean_environment):
    base = clean_environment
    host = _run(base, tmp_path_factory.mktemp("numba-host"))
    other = _run(emulated_cpu_environment(base), tmp_path_factory.mktemp("numba-generic"))
    return host, other


@pytest.fixture(scope="module")
def clean_environment():
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("NUMBA_CPU", "NPY_DISABLE", "GLIBC_TUNABLES", "OPENBLAS_CORETYPE", "OPENBLAS_NUM")
        )
        and k != "OMP_NUM_THREADS"
    }


def _differences(a: dict, b: dict) -> list[str]:
    return sorted(
        f"{name}.{array}"
        for name in set(a) | set(b)
        for array in set(a.get(name, {})) | set(b.get(name, {}))
        if a.get(name, {}).get(array) != b.get(name, {}).get(array)
    )


@pytest.mark.slow
def test_the_emulated_cpu_takes_other_code_paths(two_cpus):
    host, other = two_cpus
    changed = [name for name in host["probes"] if host["probes"][name] != other["probes"][name]]
    assert changed, "the emulated CPU computes exp and matmul like this one: nothing is tested"


@pytest.mark.slow
def test_every_rule_gives_the_same_bits_on_another_cpu(two_cpus):
    host, other = two_cpus
    for experiment in ("bars", "mnist"):
        assert {f"{experiment}/{v}" for v in VARIANTS} <= set(host["fingerprint"])
    for engine in ENGINES:
        assert {f"bars/{v}/{engine}" for v in VARIANTS} <= set(host["fingerprint"])
    assert len(host["fingerprint"]) == 25
    assert _differences(host["fingerprint"], other["fingerprint"]) == []


@pytest.mark.slow
def test_the_bits_equal_the_committed_fingerprint(two_cpus):
    host, _ = two_cpus
    committed = json.loads(COMMITTED.read_text())
    differ = _differences(committed, host["fingerprint"])
    assert differ == [], (
        f"{len(differ)} digest(s) differ from {COMMITTED.name}: {differ}. If the simulation "
        "changed on purpose, write new ones with python -m dbcode fingerprint --json "
        "tests/model/fingerprint.json"
    )


def test_the_libraries_baseline_code_computes_as_the_emulated_cpu(
    two_cpus, clean_environment, tmp_path
):
    """The environment the book is executed in (the libraries' baseline code) gives the
    same bits in NumPy, glibc and OpenBLAS as a CPU without AVX would: the chapters'
    analysis, not only their simulations, is CPU-independent."""
    _, other = two_cpus
    script = PROBES + "json.dump({'probes': probes}, sys.stdout)"
    baseline = _run(baseline_library_environment(clean_environment), tmp_path, script)
    assert baseline["probes"] == other["probes"]


def test_the_baseline_environment_gives_the_same_bits_on_any_number_of_cores(
    clean_environment, tmp_path
):
    """OpenBLAS's threads split a product into blocks that round differently (with its
    baseline kernels a mean pairwise cosine of 200 x 128 weights, as the delays chapter
    computes, differs in the last bits between one and two threads); the book's
    environment pins one thread, so a machine with more cores gives the same key
    numbers."""
    script = """
import hashlib, sys
import numpy as np
from dbcode.analysis.features import mean_pairwise_cosine
rng = np.random.default_rng(1)
values = np.array([mean_pairwise_cosine(rng.normal(size=(200, 128))) for _ in range(20)])
print(hashlib.sha256(values.tobytes()).hexdigest())
"""

    def digest(env):
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip()

    book = baseline_library_environment(clean_environment)
    two = {**book, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    if (os.cpu_count() or 1) >= 2:  # OpenBLAS's baseline kernels on two threads round
        assert digest(two) != digest(book)  # otherwise ...
    assert digest(baseline_library_environment(two)) == digest(book)  # ... not in the book
