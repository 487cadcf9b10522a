"""pytest plugin (``-p dbcode.book.nbval_environment``) for ``make test-nbval``.

nbval executes the chapters again in kernels started by pytest; this sets the
environment in which :mod:`dbcode.book.pipeline` executed them (the libraries'
baseline code, :func:`dbcode.core.cpuenv.baseline_library_variables`, and no progress
bars), so that both executions compute the same bits and print the same outputs. The
figures of that second run go to ``_build/nbval-figures`` (``DBCODE_FIGURES``), which
starts as a copy of ``figures/`` (the appendix reads the manifest): ``figures/`` keeps
the build's, with the cell numbers papermill gave them.
"""

import os
import shutil
from pathlib import Path

from dbcode.core.cpuenv import baseline_library_variables

SCRATCH = Path.cwd() / "_build" / "nbval-figures"
shutil.rmtree(SCRATCH, ignore_errors=True)
if (Path.cwd() / "figures").is_dir():
    shutil.copytree(Path.cwd() / "figures", SCRATCH)
os.environ.update(baseline_library_variables(), DBCODE_PROGRESS="0", DBCODE_FIGURES=str(SCRATCH))
