"""The kernels' random numbers: xoshiro256** seeded by SplitMix64, inside numba.

The kernels draw their spiking noise themselves, from a generator whose whole state is
four 64-bit words held in a NumPy array. That keeps the stream of a run independent of
how training is cut into kernel calls (the state carries over from one call to the next),
and needs no per-step array of uniforms. Everything is integer arithmetic and one exact
conversion to a double, so the numbers have the same bits on every CPU.

xoshiro256** is Blackman and Vigna's generator (period 2**256 - 1); its state is filled
from a 64-bit seed with SplitMix64, as its authors recommend. :func:`reference_uniforms`
is a pure-Python transcription that the tests compare the compiled one with.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from dbcode.model.fpmath import log

__all__ = [
    "geometric",
    "new_state",
    "reference_uniforms",
    "uniform",
    "uniform_open",
    "uniforms",
]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_TWO_M53 = 2.0**-53


def new_state(seed: int) -> np.ndarray:
    """The four-word state for ``seed`` (any non-negative integer below 2**64), filled
    with SplitMix64.

    Returns
    -------
    (4,) uint64 array
    """
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    x = int(seed)
    words = []
    for _ in range(4):
        x = (x + _GOLDEN) & _MASK
        z = x
        z = ((z ^ (z >> 30)) * _MIX1) & _MASK
        z = ((z ^ (z >> 27)) * _MIX2) & _MASK
        words.append(z ^ (z >> 31))
    return np.array(words, dtype=np.uint64)


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """The next 64-bit output of xoshiro256** (state ``s`` advanced in place)."""
    result = _rotl(s[1] * uint64(5), 7) * uint64(9)
    t = s[1] << uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def uniform(s):
    """A uniform double in [0, 1): the top 53 bits of the next output times 2**-53."""
    return float(next_u64(s) >> uint64(11)) * _TWO_M53


@njit(cache=True, inline="always")
def uniform_open(s):
    """A uniform double in (0, 1] (``1 - uniform``), safe to take the logarithm of."""
    return 1.0 - uniform(s)


@njit(cache=True)
def geometric(s, log_fail):
    """Failures before the first success of independent trials, each failing with
    probability ``exp(log_fail)`` (``log_fail <= 0``), by inversion:
    ``floor(log(U) / log_fail)`` with U uniform in (0, 1]. Returns a float (it may
    exceed any integer range when the success probability is tiny; ``inf`` when it is 0).
    """
    if log_fail == 0.0:
        return np.inf
    return np.floor(log(uniform_open(s)) / log_fail)


@njit(cache=True)
def uniforms(s, n):
    """``n`` draws of :func:`uniform` (state advanced in place)."""
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(s)
    return out


def reference_uniforms(seed: int, n: int) -> np.ndarray:
    """The first ``n`` uniforms of the stream of ``seed``, computed with Python integers
    (the specification the compiled generator is tested against)."""
    s = [int(w) for w in new_state(seed)]

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & _MASK

    out = np.empty(n)
    for i in range(n):
        result = (rotl((s[1] * 5) & _MASK, 7) * 9) & _MASK
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        out[i] = (result >> 11) * _TWO_M53
    return out
