"""Shared fixtures of the test suite, which is organised like the package: one folder per
layer of ``dbcode/`` (``model``, ``data``, ``analysis``, ``run``, ``viz``, ``chapters``),
``book`` for the pipeline, the browser and the repository, and ``claims`` for the
paper's claims checked on the numbers of the built book (marker ``claims``)."""

import pytest

import dbcode.chapters  # noqa: F401  (the chapters register the named sweeps)
from dbcode.run.store import ResultStore


@pytest.fixture
def store(tmp_path):
    """An empty result store of its own."""
    return ResultStore(tmp_path / "store")
