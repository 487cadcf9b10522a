"""pytest plugin (``-p dbcode.book.nbval_environment``) for ``make test-nbval``.

nbval executes the chapters again in kernels started by pytest; this sets the
environment in which :mod:`dbcode.book.pipeline` executed them (the libraries'
baseline code, :func:`dbcode.core.cpuenv.baseline_library_variables`), so that both
executions compute the same bits.
"""

import os

from dbcode.core.cpuenv import baseline_library_variables

os.environ.update(baseline_library_variables())
