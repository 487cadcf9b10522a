"""The compiled kernels are cached per version of the model's sources."""

import os
import shutil
import subprocess
import sys

from dbcode.model import jitcache


def test_an_edit_of_any_model_source_selects_another_cache(tmp_path, monkeypatch):
    copy = tmp_path / "model"
    shutil.copytree(jitcache.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(jitcache, "PACKAGE_DIR", copy)
    before = jitcache.source_digest()
    fpmath = copy / "fpmath.py"
    fpmath.write_text(fpmath.read_text() + "\n# an edit of a function the kernels call\n")
    assert jitcache.source_digest() != before


def test_the_compilation_target_selects_another_cache(monkeypatch):
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    host = jitcache.source_digest()
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    assert jitcache.source_digest() != host


def test_kernels_are_cached_under_the_digest_and_a_user_setting_stands(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = (
        "import numpy as np, numba; from dbcode.model import fpmath, jitcache; "
        "fpmath.dot(np.ones(5), np.ones(5)); print(numba.config.CACHE_DIR); "
        "print(jitcache.source_digest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == str(tmp_path / "dbcode" / "numba" / out[1])
    assert any(p.suffix == ".nbi" for p in (tmp_path / "dbcode" / "numba").rglob("*"))

    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == str(tmp_path / "mine")
