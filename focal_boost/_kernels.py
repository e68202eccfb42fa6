"""The one place that picks the per-round kernel: numpy (``_math``) or numba (``_fast_kernels``), same numbers.

- An array of ``SWITCH.min_size`` raw scores or more takes the numba path when numba is installed (numba is
  imported on the first such array: ~0.5-1.5 s once per process, loading the cached machine code). Callers that
  make very many small calls, such as CatBoost's objective on chunks of a few hundred rows, pass ``small=True`` to
  take it at any size.
- The numba kernels release the GIL; arrays of ``2 * SWITCH.parallel_min_rows`` rows or more are split in equal row
  ranges over the calling thread and a few worker threads (``SWITCH.threads``, default: the CPUs this process may
  use). Plain Python threads, not numba's OpenMP pool: idle workers sleep instead of spinning, which matters beside
  an engine that brings its own OpenMP runtime (XGBoost's wheel bundles a libgomp of its own). The exception is
  LightGBM, whose wheel uses the system ``libgomp.so.1``, the library numba's OpenMP layer runs on: there the
  rows go to that one OpenMP team (``omp=True``, :func:`omp_shared`), whose workers are still spinning from
  LightGBM's last parallel region when the objective is called, so a Python worker thread would have to fight
  them for the core (measured: on 2 cores a second Python thread bought nothing inside LightGBM's training).
- Without numba, or with ``FOCAL_BOOST_DISABLE_NUMBA=1``, ``AVAILABLE`` is False and numpy is used everywhere.
  ``set_enabled(False)`` switches numba off at run time (the tests compare both paths).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _math
from ._math import Hessian

__all__ = ["AVAILABLE", "SWITCH", "binary_grad_hess", "binary_soft_grad_hess", "set_enabled", "softmax_grad_hess",
           "uses_compiled"]

AVAILABLE = importlib.util.find_spec("numba") is not None and os.environ.get(
    "FOCAL_BOOST_DISABLE_NUMBA", ""
) in ("", "0")


@dataclass
class Switch:
    """When the numba path runs. ``min_size``: below this many raw scores numpy costs about the same per call and
    loading numba is not worth it. ``parallel_min_rows``: each worker thread gets at least this many rows.
    ``threads``: worker threads for large arrays, the calling thread included (None: the CPUs this process may
    run on). ``omp_lightgbm``: LightGBM's objective splits rows on numba's OpenMP layer where it shares
    LightGBM's libgomp (:func:`omp_shared`)."""

    enabled: bool = AVAILABLE
    min_size: int = 50_000
    parallel_min_rows: int = 50_000
    threads: int | None = None
    omp_lightgbm: bool = True


SWITCH = Switch()


def set_enabled(flag: bool) -> bool:
    """Turn the numba path on/off (only on when numba is installed); returns the previous setting."""
    previous = SWITCH.enabled
    SWITCH.enabled = bool(flag) and AVAILABLE
    return previous


def uses_compiled(size: int, small: bool = False) -> bool:
    """Whether an array of ``size`` raw scores takes the numba path (``small``: at any size)."""
    return SWITCH.enabled and (small or size >= SWITCH.min_size)


def _kernel_raw(raw: np.ndarray) -> np.ndarray:
    # The numba kernels read float32/float64, C-ordered (or Fortran-ordered 2-D) arrays without a copy.
    if raw.dtype != np.float32 and raw.dtype != np.float64:
        raw = raw.astype(np.float64)
    if not (raw.flags.c_contiguous or (raw.ndim == 2 and raw.flags.f_contiguous)):
        raw = np.ascontiguousarray(raw)
    return raw


def _numpy_result(grad: np.ndarray, hess: np.ndarray, dtype: Any, out: Any = None) -> tuple[np.ndarray, np.ndarray]:
    if out is not None:
        np.copyto(out[0], grad)  # one rounding to out's dtype, as astype
        np.copyto(out[1], hess)
        return out[0], out[1]
    if dtype is np.float64:
        return grad, hess
    return grad.astype(dtype), hess.astype(dtype)


def _numpy_raw(raw: np.ndarray, offset: Any) -> np.ndarray:
    raw = np.asarray(raw, dtype=np.float64)
    return raw if offset is None else raw + np.asarray(offset, dtype=np.float64)


def binary_grad_hess(raw: np.ndarray, sign: np.ndarray, weight: np.ndarray | None, gamma: float, hessian: Hessian,
                     dtype: Any = np.float64, small: bool = False, offset: Any = None, omp: bool = False,
                     out: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``_math.binary_grad_hess`` on the chosen backend; ``dtype=np.float32`` rounds the float64 results once
    (what LightGBM's ``score_t`` and XGBoost's ``GradientPair`` store anyway). ``offset`` (None or a float, e.g.
    an init score the engine does not hold): the derivatives at ``raw + offset``, added inside the numba loop.
    ``omp``: the caller's engine runs on the libgomp that numba's OpenMP layer uses (LightGBM): split the rows on
    that OpenMP team where it is shared (see :func:`omp_shared`), else on the Python threads. ``out``: None or
    the (grad, hess) arrays of ``dtype`` to write into (not ``raw``)."""
    if uses_compiled(raw.size, small):
        return _compiled().binary_grad_hess(_kernel_raw(raw), sign, weight, gamma, hessian, dtype, _runner(omp),
                                            None if offset is None else np.atleast_1d(offset), out)
    return _numpy_result(*_math.binary_grad_hess(_numpy_raw(raw, offset), sign, weight, gamma, hessian), dtype, out)


def softmax_grad_hess(raw: np.ndarray, labels: np.ndarray, weight: np.ndarray | None, gamma: float,
                      hessian: Hessian, dtype: Any = np.float64, small: bool = False, offset: Any = None,
                      omp: bool = False, out: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``_math.softmax_grad_hess`` on the chosen backend (the numba outputs are Fortran-ordered); ``offset`` (None
    or K floats): the derivatives at ``raw + offset`` (each row), added inside the numba loop, no temporary;
    ``omp`` as in :func:`binary_grad_hess`; ``out``: None or the (grad, hess) arrays of ``dtype`` to write into,
    ``grad`` possibly ``raw`` itself."""
    if uses_compiled(raw.size, small):
        kernel_raw = _kernel_raw(raw)
        if out is not None and out[0] is raw and kernel_raw is not raw:
            out = None  # raw had to be converted: new arrays (the caller uses what is returned)
        return _compiled().softmax_grad_hess(kernel_raw, labels, weight, gamma, hessian, dtype, _runner(omp), offset,
                                             out)
    return _numpy_result(*_math.softmax_grad_hess(_numpy_raw(raw, offset), labels, weight, gamma, hessian), dtype,
                         out)


def binary_soft_grad_hess(raw: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray, gamma: float, hessian: Hessian,
                          dtype: Any = np.float64, offset: Any = None, out: Any = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``_math.binary_soft_grad_hess`` (soft labels: numpy only), ``dtype``, ``offset`` and ``out`` as in
    :func:`binary_grad_hess`."""
    return _numpy_result(*_math.binary_soft_grad_hess(_numpy_raw(raw, offset), w_pos, w_neg, gamma, hessian), dtype,
                         out)


def _compiled() -> Any:
    from . import _fast_kernels  # imports numba (~0.5 s) and loads the cached machine code

    return _fast_kernels


# -- threads ------------------------------------------------------------------------------------------------------
class _Pool:
    """Worker threads for the row ranges, started on first use; a forked child starts its own (it has none of the
    parent's threads)."""

    def __init__(self) -> None:
        self.executor: ThreadPoolExecutor | None = None
        self.size = 0
        self.lock = threading.Lock()

    def get(self, n_threads: int) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None or self.size != n_threads:
                if self.executor is not None:
                    self.executor.shutdown(wait=False)
                self.size = n_threads
                # Idle workers wait on a lock (no spinning), so they cost nothing between rounds.
                self.executor = ThreadPoolExecutor(max_workers=max(1, n_threads - 1), thread_name_prefix="focal_boost")
            return self.executor

    def forget(self) -> None:
        self.executor, self.size, self.lock = None, 0, threading.Lock()


_POOL = _Pool()
_OMP: dict[str, bool] = {}  # "shared": whether numba's OpenMP layer shares LightGBM's libgomp (decided once)


def _after_fork_in_child() -> None:
    _POOL.forget()
    # GNU OpenMP is not fork-safe (numba aborts a forked child that starts its OpenMP layer after the parent did):
    # a forked child splits rows on Python threads only.
    _OMP["shared"] = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _mapped_libgomps() -> set[str]:
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "libgomp" in line and "/" in line}
    except OSError:
        return set()
    return {os.path.realpath(p) for p in paths}


def omp_shared() -> bool:
    """Whether LightGBM's row splits run on numba's OpenMP threading layer: ``SWITCH.omp_lightgbm``, Linux, numba's
    threading layer is OpenMP (its default when TBB is not installed; never forced here) and it runs on the same
    libgomp as LightGBM (the wheel's ``libgomp.so.1``), so LightGBM's own OpenMP team, whose idle workers are still
    spinning on the cores when the objective is called, computes the row ranges. Decided on the first call (which
    starts numba's OpenMP layer)."""
    if not SWITCH.omp_lightgbm:
        return False
    shared = _OMP.get("shared")
    if shared is None:
        shared = _OMP["shared"] = _check_omp()
    return shared


def _check_omp() -> bool:
    if not os.path.exists("/proc/self/maps"):
        return False
    try:
        import lightgbm  # noqa: F401  (loads its libgomp)
        import numba

        before = _mapped_libgomps()
        grad = np.empty(2)
        hess = np.empty(2)
        fast = _compiled()
        fast.binary_omp(np.zeros(2), np.ones(2, np.int8), fast._EMPTY, fast._EMPTY, 2.0, 1, grad, hess, 2)
        layer = numba.threading_layer()
    except Exception:  # numba without an OpenMP layer, lightgbm missing, ...
        return False
    # numba's omppool needs libgomp.so.1, which the loader resolves to LightGBM's (same soname) when it is loaded:
    # starting the layer must not have mapped another libgomp.
    return layer == "omp" and bool(before) and _mapped_libgomps() == before


def _n_threads() -> int:
    if SWITCH.threads is not None:
        return max(1, int(SWITCH.threads))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _runner(omp: bool) -> Any:
    return _run_rows_omp if omp and omp_shared() else _run_rows


def _split(n: int) -> int:
    return min(_n_threads(), max(1, n // SWITCH.parallel_min_rows))


def _run_rows_omp(kernel: Any, n: int, args: tuple[Any, ...]) -> None:
    """:func:`_run_rows` on numba's OpenMP layer: one ``parallel=True`` call over the same equal row ranges."""
    n_threads = _split(n)
    if n_threads <= 1:
        kernel(*args, 0, n)
        return
    import numba

    previous = numba.get_num_threads()  # the calling thread's numba setting, restored for the user's own code
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        _compiled().OMP[kernel](*args, n_threads)
    finally:
        numba.set_num_threads(previous)


def _run_rows(kernel: Any, n: int, args: tuple[Any, ...]) -> None:
    """Run ``kernel(*args, start, stop)`` over rows ``0:n``: in one call below ``2 * parallel_min_rows`` rows,
    else in equal ranges over the calling thread and the workers, each at least ``parallel_min_rows`` rows."""
    n_threads = _split(n)
    if n_threads <= 1:
        kernel(*args, 0, n)
        return
    bounds = [n * i // n_threads for i in range(n_threads + 1)]
    pool = _POOL.get(_n_threads())
    futures = [pool.submit(kernel, *args, bounds[i], bounds[i + 1]) for i in range(1, n_threads)]
    kernel(*args, bounds[0], bounds[1])  # the calling thread takes the first range
    for future in futures:
        future.result()
