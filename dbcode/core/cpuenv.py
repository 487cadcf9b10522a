"""Environments in which the libraries compute the same bits on every x86-64 CPU.

NumPy, glibc's mathematical functions and OpenBLAS each pick, at run time, code written
for the CPU's widest vector instructions, and these sum and round in other orders than
their baseline code. The simulations never use those paths (see
:mod:`dbcode.model.fpmath`), but the analysis of their results (correlations, medians,
projections) does. :func:`baseline_library_environment` tells the three libraries to
take their baseline code, which every x86-64 CPU runs alike, and OpenBLAS to compute on
one thread (its threads split a product into blocks whose sums round differently, so
the bits would depend on the number of cores); the book is executed in it, so that
every key number, not only every simulation, has the same bits everywhere.
:func:`emulated_cpu_environment` adds numba's generic target: a process that computes as
a CPU without AVX, AVX2, FMA or AVX-512 would (used to test the kernels).

All variables are read when a process starts (or loads the library), so these are
environments for child processes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = [
    "baseline_library_environment",
    "baseline_library_variables",
    "emulated_cpu_environment",
]

GLIBC_BASELINE = "glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4,-AVX512F,-AVX512DQ,-AVX512VL"
OPENBLAS_BASELINE = "Nehalem"


def _numpy_dispatch_targets() -> list[str]:
    """The CPU features for which NumPy picks other loops at run time, where present."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy < 2
        from numpy.core import _multiarray_umath as umath
    return [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]


def baseline_library_variables() -> dict[str, str]:
    """The variables that make NumPy skip its dispatched loops
    (``NPY_DISABLE_CPU_FEATURES``), glibc take the SSE2 variants of its mathematical
    functions (``GLIBC_TUNABLES``) and OpenBLAS its Nehalem kernels
    (``OPENBLAS_CORETYPE``) on one thread (``OPENBLAS_NUM_THREADS``,
    ``OMP_NUM_THREADS``)."""
    return {
        "NPY_DISABLE_CPU_FEATURES": " ".join(_numpy_dispatch_targets()),
        "GLIBC_TUNABLES": GLIBC_BASELINE,
        "OPENBLAS_CORETYPE": OPENBLAS_BASELINE,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }


def baseline_library_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) with :func:`baseline_library_variables`.

    Returns
    -------
    dict
        A complete environment for ``subprocess.run``.
    """
    return {**(os.environ if base is None else base), **baseline_library_variables()}


def emulated_cpu_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """:func:`baseline_library_environment` with numba compiling for the generic x86-64
    target (``NUMBA_CPU_NAME=generic``): a process that computes as a CPU without AVX,
    AVX2, FMA or AVX-512 would.

    Returns
    -------
    dict
        A complete environment for ``subprocess.run``.
    """
    env = baseline_library_environment(base)
    env["NUMBA_CPU_NAME"] = "generic"
    env["NUMBA_CPU_FEATURES"] = ""
    return env
