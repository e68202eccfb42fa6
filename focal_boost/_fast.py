"""Optional numba kernels for the per-round gradient/hessian (hard binary labels and softmax multiclass).

Same formulas as ``_math`` (margin ``s``, ``t = exp(-|s|)``, ``log1p(t)``), fused into one pass over the rows with
no temporaries; the tests check that the numbers match the numpy path to 1e-12 relative. The kernels themselves
are in ``_fast_kernels`` (module level, so numba's on-disk cache is used: a fresh process pays ``import numba`` and
loading the cached machine code, about 0.5-1.5 s, once).

- Arrays of ``MIN_SIZE`` scores or more take the numba path (numba is imported on the first such array); rows are
  split over numba's thread pool (``NUMBA_NUM_THREADS``, default: all cores) from ``PARALLEL_MIN_ROWS`` rows on,
  below that one thread runs them (waking a pool costs more than it saves on small arrays, and far more on a busy
  machine).
- ``use_for_small_arrays(True)`` makes smaller arrays take the (single-threaded) numba path too, for callers that
  make very many small calls, such as CatBoost's objective on chunks of a few hundred rows; ``False`` undoes one
  such request.
- If numba is not installed, or ``FOCAL_BOOST_DISABLE_NUMBA=1`` is set, ``AVAILABLE`` is False and the numpy path in
  ``_math`` is used. ``set_enabled(False)`` switches it off at run time (the tests and the speed benchmark compare
  both paths).
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from ._math import HESSIANS

AVAILABLE = importlib.util.find_spec("numba") is not None and os.environ.get(
    "FOCAL_BOOST_DISABLE_NUMBA", ""
) in ("", "0")

_enabled = AVAILABLE
# Below this many raw scores the numpy path costs about the same per call and the one-time import of numba is not
# worth it; numba is only imported once an array this large arrives (or use_for_small_arrays asks for it).
MIN_SIZE = 50_000
# From this many rows on, the kernels run on numba's thread pool; below, on the calling thread.
PARALLEL_MIN_ROWS = 50_000
_small_requests = 0
_kernels: dict[str, object] = {}


def set_enabled(flag: bool) -> bool:
    """Turn the numba path on/off (only on when numba is installed); returns the previous setting."""
    global _enabled
    previous = _enabled
    _enabled = bool(flag) and AVAILABLE
    return previous


def enabled(size: int) -> bool:
    """Whether an array of ``size`` raw scores takes the numba path."""
    return _enabled and (size >= MIN_SIZE or _small_requests > 0)


def use_for_small_arrays(flag: bool) -> bool:
    """Ask (``True``) for the numba path below ``MIN_SIZE`` too, loading numba now, or withdraw one such request
    (``False``). Requests are counted, so nested or concurrent users do not cancel each other. Returns whether the
    numba path is available."""
    global _small_requests
    if flag:
        if not _enabled:
            return False
        _compiled()
        _small_requests += 1
    else:
        _small_requests = max(0, _small_requests - 1)
    return _enabled


def hessian_code(hessian: str) -> int:
    return HESSIANS.index(hessian)  # 0 bound, 1 abs, 2 exact


def binary_grad_hess(raw, sign, weight, gamma, mode, dtype=np.float64):
    """Hard binary labels: ``raw`` (n,) float64 or float32, ``sign = 2y - 1`` (n,), ``weight`` (n,) or empty ->
    (grad, hess) of ``dtype`` (float32: the float64 values rounded once, as an engine would round them)."""
    grad = np.empty(raw.shape[0], dtype=dtype)
    hess = np.empty(raw.shape[0], dtype=dtype)
    parallel = raw.shape[0] >= PARALLEL_MIN_ROWS
    _compiled()["binary" if parallel else "binary_serial"](raw, sign, weight, gamma, mode, grad, hess)
    return grad, hess


def softmax_grad_hess(raw, labels, weight, gamma, mode, dtype=np.float64):
    """Softmax: ``raw`` (n, K) float64 or float32, C- or Fortran-ordered, integer ``labels`` (n,), ``weight`` (n,)
    or empty -> (grad, hess) of shape (n, K) and ``dtype``.

    The outputs are column-major (Fortran order): LightGBM 4.7 ravels multiclass gradients in that order, which is
    then free; XGBoost 3.2 reads them through their strides.
    """
    n, k = raw.shape
    grad = np.empty((k, n), dtype=dtype).T
    hess = np.empty((k, n), dtype=dtype).T
    parallel = n >= PARALLEL_MIN_ROWS
    _compiled()["softmax" if parallel else "softmax_serial"](raw, labels, weight, gamma, mode, grad, hess)
    return grad, hess


def _compiled() -> dict[str, object]:
    if not _kernels:
        from . import _fast_kernels  # imports numba (~0.5 s) and loads the cached machine code

        _kernels.update(binary=_fast_kernels.binary, softmax=_fast_kernels.softmax,
                        binary_serial=_fast_kernels.binary_serial, softmax_serial=_fast_kernels.softmax_serial)
    return _kernels
