"""Optional numba kernels for the per-round gradient/hessian (hard binary labels and softmax multiclass).

Same formulas as ``_math`` (margin ``s``, ``t = exp(-|s|)``, ``log1p(t)``), fused into one pass over the rows with
no temporaries; the tests check that the numbers match the numpy path to 1e-12 relative. The kernels themselves
are in ``_fast_kernels`` (module level, so numba's on-disk cache is used: a fresh process pays ``import numba`` and
loading the cached machine code, about 0.5-1.5 s, once).

- Arrays of ``MIN_SIZE`` scores or more take the numba path (numba is imported on the first such array). The
  kernels release the GIL, and arrays of ``2 * PARALLEL_MIN_ROWS`` rows or more are split in equal row ranges over
  the calling thread and a few worker threads (``THREADS``, default: the CPUs this process may use). Plain Python
  threads, not numba's OpenMP pool: idle workers sleep instead of spinning, which matters beside an engine that
  brings its own OpenMP runtime (XGBoost's wheel bundles a libgomp of its own).
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
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ._math import HESSIANS

AVAILABLE = importlib.util.find_spec("numba") is not None and os.environ.get(
    "FOCAL_BOOST_DISABLE_NUMBA", ""
) in ("", "0")

_enabled = AVAILABLE
# Below this many raw scores the numpy path costs about the same per call and the one-time import of numba is not
# worth it; numba is only imported once an array this large arrives (or use_for_small_arrays asks for it).
MIN_SIZE = 50_000
# Each worker thread gets at least this many rows; smaller arrays run on the calling thread alone.
PARALLEL_MIN_ROWS = 50_000
# Worker threads for large arrays (the calling thread included); None: the CPUs this process may run on.
THREADS: int | None = None
_executor: ThreadPoolExecutor | None = None
_executor_threads = 0
_pool_lock = threading.Lock()
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


def _run_rows(kernel: Any, n: int, args: tuple[Any, ...]) -> None:
    """Run ``kernel(*args, start, stop)`` over rows ``0:n``: in one call on the calling thread below
    ``2 * PARALLEL_MIN_ROWS`` rows, else in equal ranges over it and the worker threads (the kernels release the
    GIL), each range at least ``PARALLEL_MIN_ROWS`` rows."""
    n_threads = min(_n_threads(), max(1, n // PARALLEL_MIN_ROWS))
    if n_threads <= 1:
        kernel(*args, 0, n)
        return
    bounds = [n * i // n_threads for i in range(n_threads + 1)]
    pool = _pool()
    futures = [pool.submit(kernel, *args, bounds[i], bounds[i + 1]) for i in range(1, n_threads)]
    kernel(*args, bounds[0], bounds[1])  # the calling thread takes the first range
    for future in futures:
        future.result()


def binary_grad_hess(raw, sign, weight, gamma, mode, dtype=np.float64):
    """Hard binary labels: ``raw`` (n,) float64 or float32, ``sign = 2y - 1`` (n,), ``weight`` (n,) or empty ->
    (grad, hess) of ``dtype`` (float32: the float64 values rounded once, as an engine would round them)."""
    grad = np.empty(raw.shape[0], dtype=dtype)
    hess = np.empty(raw.shape[0], dtype=dtype)
    _run_rows(_compiled()["binary"], raw.shape[0], (raw, sign, weight, gamma, mode, grad, hess))
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
    _run_rows(_compiled()["softmax"], n, (raw, labels, weight, gamma, mode, grad, hess))
    return grad, hess


def _n_threads() -> int:
    if THREADS is not None:
        return max(1, int(THREADS))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _pool_lock:
        if _executor is None or _executor_threads != _n_threads():
            _start_pool()
        return _executor  # type: ignore[return-value]


def _forget_pool_after_fork() -> None:
    # A forked child has none of the parent's threads; a new pool starts on first use.
    global _executor, _executor_threads, _pool_lock
    _executor, _executor_threads, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _start_pool() -> None:
    global _executor, _executor_threads
    if _executor is not None:
        _executor.shutdown(wait=False)
    _executor_threads = _n_threads()
    # Idle workers wait on a lock (no spinning), so they cost nothing between rounds.
    _executor = ThreadPoolExecutor(max_workers=max(1, _executor_threads - 1), thread_name_prefix="focal_boost")


def _checks_apply(arr: np.ndarray) -> bool:
    return arr.ndim == 1 and arr.dtype == np.float64 and arr.flags.c_contiguous and enabled(arr.size)


def any_nonfinite(arr: np.ndarray) -> bool | None:
    """Whether ``arr`` (any shape) holds NaN or inf; ``None`` when the numba path does not apply."""
    if not arr.flags.c_contiguous:
        return None
    flat = arr.reshape(-1)  # a view: no copy
    if not _checks_apply(flat):
        return None
    return bool(_compiled()["any_nonfinite"](flat))


def binary_label_flags(y: np.ndarray) -> tuple[bool, bool] | None:
    """``(bad, soft)`` for binary labels (see ``_fast_kernels.binary_label_flags``), or ``None``."""
    if not _checks_apply(y):
        return None
    bad, soft = _compiled()["binary_label_flags"](y)
    return bool(bad), bool(soft)


def multiclass_labels(y: np.ndarray, n_classes: int) -> tuple[bool, np.ndarray] | None:
    """``(bad, labels as intp)`` in one pass, or ``None``."""
    if not _checks_apply(y):
        return None
    out = np.empty(y.shape[0], dtype=np.intp)
    return bool(_compiled()["multiclass_labels"](y, n_classes, out)), out


def any_bad_weight(w: np.ndarray) -> bool | None:
    """Whether some weight is negative, NaN or inf, or ``None``."""
    if not _checks_apply(w):
        return None
    return bool(_compiled()["any_bad_weight"](w))


def binary_target(y: np.ndarray, weight: np.ndarray | None, alpha: tuple[float, float] | None
                  ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``sign = 2y - 1`` and ``row_weight = alpha_t * weight`` (None when neither is given) in one pass for hard 0/1
    labels, or ``None`` when the numba path does not apply."""
    if not _checks_apply(y) or (weight is not None and not _checks_apply(weight)):
        return None
    sign = np.empty_like(y)
    row_weight = None
    if alpha is not None:
        row_weight = np.empty_like(y)
    elif weight is not None:
        row_weight = weight
    a1, a0 = (1.0, 1.0) if alpha is None else alpha
    _compiled()["binary_target"](y, _EMPTY if weight is None else weight, a1, a0, sign,
                                 _EMPTY if alpha is None else row_weight)
    return sign, row_weight


_EMPTY = np.empty(0)


def _compiled() -> dict[str, object]:
    if not _kernels:
        from . import _fast_kernels  # imports numba (~0.5 s) and loads the cached machine code

        _kernels.update(binary=_fast_kernels.binary, softmax=_fast_kernels.softmax,
                        any_nonfinite=_fast_kernels.any_nonfinite, binary_label_flags=_fast_kernels.binary_label_flags,
                        multiclass_labels=_fast_kernels.multiclass_labels, any_bad_weight=_fast_kernels.any_bad_weight,
                        binary_target=_fast_kernels.binary_target)
    return _kernels
