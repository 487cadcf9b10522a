"""The code version behind every cache key changes only when behaviour can change."""

import shutil
import textwrap

from dbcode.run import codeversion
from dbcode.run.codeversion import SIMULATION_MODULES, _digest, normalised_source

MODULE = '''
"""A module."""
import math

from .fpmath import exp

RATE = 1e-3
"""A documented constant."""


def decay(x, tau=10.0):
    """Trace decay."""
    # a comment
    return exp(-x / tau) * RATE
'''


def test_comments_docstrings_and_formatting_do_not_count():
    reformatted = textwrap.dedent("""
        import math
        from .fpmath import exp
        def decay(x, tau = 10.0):
            return (exp(-x/tau)
                    * RATE)   # other comment
        RATE = 0.001
    """)
    assert normalised_source(reformatted) == normalised_source(MODULE)


def test_a_changed_constant_or_import_counts():
    assert normalised_source(MODULE.replace("1e-3", "2e-3")) != normalised_source(MODULE)
    assert normalised_source(MODULE.replace("tau=10.0", "tau=20.0")) != normalised_source(MODULE)
    # the same name bound by another library is another function
    assert normalised_source(
        MODULE.replace("from .fpmath import exp", "from math import exp")
    ) != normalised_source(MODULE)


def test_moving_a_module_or_a_definition_keeps_the_version(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "kernels.py").write_text(MODULE)
    (tmp_path / "a" / "other.py").write_text("def f():\n    return 1\n")
    before = _digest(sorted((tmp_path / "a").rglob("*.py")))
    # the module moves into a sub-package and imports from two levels up; f moves over
    (tmp_path / "b" / "model").mkdir(parents=True)
    moved = MODULE.replace("from .fpmath", "from ..fpmath") + "\n\ndef f():\n    return 1\n"
    (tmp_path / "b" / "model" / "kernels.py").write_text(moved)
    assert _digest(sorted((tmp_path / "b").rglob("*.py"))) == before
    shutil.rmtree(tmp_path / "b")


def test_the_version_includes_the_computing_libraries(monkeypatch):
    version = codeversion.code_version()
    assert len(version) == 12 and version == codeversion.code_version()
    monkeypatch.setattr(codeversion, "_library_versions", lambda: ["numba==0.1"])
    codeversion._code_version.cache_clear()
    try:
        assert codeversion.code_version() != version
    finally:
        monkeypatch.undo()
        codeversion._code_version.cache_clear()
    assert codeversion.code_version() == version


def test_every_simulation_module_exists():
    for name in SIMULATION_MODULES:
        assert codeversion._module_files(name)
