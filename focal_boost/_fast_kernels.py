"""numba versions of ``_math.binary_grad_hess`` and ``_math.softmax_grad_hess`` (same arguments, same numbers);
imported only by :mod:`focal_boost._kernels`, lazily, since importing this module imports numba.

The functions are defined at module level so that ``cache=True`` works: numba keys a cached function on its source
file and on the pickled contents of its closure cells, and a kernel defined inside a function that closes over
another jitted function gets a new closure key in every process, so it was recompiled (seconds) on every first call.

Same formulas as ``focal_boost._math`` (margin ``s``, ``t = exp(-|s|)``, ``log1p(t)``), fused into one pass over the
rows with no temporaries. ``error_model="numpy"`` drops Python's division-by-zero checks (no division here can be by
zero); ``fastmath`` stays off so the numbers match the numpy path (the tests check 1e-12 relative).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._math import TINY, Hessian

# numba freezes module globals as compile-time constants.
_BOUND = int(Hessian.BOUND)
_ABS = int(Hessian.ABS)
_EXACT = int(Hessian.EXACT)
_EMPTY = np.empty(0)


@njit(cache=True, inline="always", error_model="numpy")
def _margin(s: float, gamma: float, mode: int) -> tuple[float, float]:
    """``f'(s), f''(s)`` of one margin (see ``_math.margin_grad_hess``); ``mode`` is a ``Hessian`` value."""
    a = abs(s)
    t = math.exp(-a)
    lg = math.log1p(t)
    inv = 1.0 / (1.0 + t)
    if s >= 0:
        p = inv
        q = t * inv
        logp = -lg
        logq = -s - lg
    else:
        p = t * inv
        q = inv
        logp = s - lg
        logq = -lg
    if gamma == 0.0:
        qg = 1.0
    elif gamma == 1.0:
        qg = q
    elif gamma == 2.0:
        qg = q * q
    else:
        qg = math.exp(gamma * logq)
    g = qg * (gamma * p * logp - q)
    ct = gamma * logp * (q - gamma * p)
    if mode == _BOUND and ct < 0.0:
        ct = 0.0
    h = p * qg * (ct + (2.0 * gamma + 1.0) * q)
    if mode == _ABS:
        h = abs(h)
    if mode != _EXACT and h < TINY:
        h = TINY
    return g, h


@njit(cache=True, inline="always", error_model="numpy")
def _binary_rows(raw, sign, weight, offset, gamma, mode, grad, hess, start, stop):
    weighted = weight.shape[0] > 0
    shift = offset[0] if offset.shape[0] > 0 else 0.0  # float64; adding 0.0 changes no margin's grad/hess
    for i in range(start, stop):
        sg = float(sign[i])  # float64 whatever the dtypes of sign (int8) and raw (float32)
        g, h = _margin((raw[i] + shift) * sg, gamma, mode)
        g *= sg
        if weighted:
            g *= weight[i]
            h *= weight[i]
        grad[i] = g
        hess[i] = h


@njit(cache=True, inline="always", error_model="numpy")
def _softmax_rows(raw, labels, weight, offset, gamma, mode, grad, hess, start, stop):
    """Rows ``start:stop`` of the softmax focal grad/hess (see ``_math.softmax_grad_hess``).

    With ``m`` the largest other-class score (class ``top``) and ``e_j = exp(z_j - m)``: ``acc = sum_{j != y} e_j``
    (``e_top = 1``), ``logsumexp_{j != y} z = m + log(acc)`` and ``r_j = e_j / acc``, so each row takes K - 1 exps
    and one log besides the margin's exp and log1p. ``1 - r_top`` is the sum of the other ``r_j`` (no cancellation).
    """
    k = raw.shape[1]
    weighted = weight.shape[0] > 0
    shifted = offset.shape[0] > 0
    z = np.empty(k)  # the current row's raw scores (plus the per-class offset), float64
    e = np.empty(k)  # e_j of the current row, in float64 whatever the output dtype
    for i in range(start, stop):
        if shifted:
            for j in range(k):
                z[j] = raw[i, j] + offset[j]
        else:
            for j in range(k):
                z[j] = raw[i, j]
        y = labels[i]
        top = -1
        m = -np.inf
        for j in range(k):
            if j != y and (top < 0 or z[j] > m):
                m = z[j]
                top = j
        rest = 0.0
        for j in range(k):
            if j != y and j != top:
                e[j] = math.exp(z[j] - m)
                rest += e[j]
        acc = 1.0 + rest
        g, h = _margin(z[y] - (m + math.log(acc)), gamma, mode)
        inv_acc = 1.0 / acc
        rest *= inv_acc
        w = weight[i] if weighted else 1.0
        gw = g * w
        for j in range(k):
            if j == y:
                grad[i, j] = gw
                hess[i, j] = h * w
            else:
                if j == top:
                    r = inv_acc
                    one_minus_r = rest
                else:
                    r = e[j] * inv_acc
                    one_minus_r = 1.0 - r
                hj = r * (r * h - one_minus_r * g)
                if mode != _EXACT and hj < TINY:
                    hj = TINY
                grad[i, j] = -r * gw
                hess[i, j] = hj * w


# The row kernels release the GIL: ``_kernels`` runs row ranges of one array on a few Python threads. (A numba
# ``parallel=True`` loop would start an OpenMP pool whose threads spin after each call; XGBoost bundles its own
# libgomp, so on a small machine the two pools' spinning threads took the cores from each other.)
@njit(cache=True, nogil=True, error_model="numpy")
def binary(raw, sign, weight, offset, gamma, mode, grad, hess, start, stop):
    """Rows ``start:stop`` into ``grad``/``hess`` (n,), float64 or float32 (one rounding of the float64 value);
    ``offset``: empty, or one float64 added to every raw score."""
    _binary_rows(raw, sign, weight, offset, gamma, mode, grad, hess, start, stop)


@njit(cache=True, nogil=True, error_model="numpy")
def softmax(raw, labels, weight, offset, gamma, mode, grad, hess, start, stop):
    """Rows ``start:stop`` into ``grad``/``hess`` (n, K); ``raw`` may be C- or Fortran-ordered, float64 or
    float32; ``offset``: empty, or K float64 added to each row's raw scores (no temporary array)."""
    _softmax_rows(raw, labels, weight, offset, gamma, mode, grad, hess, start, stop)


# The same kernels as one numba ``parallel=True`` loop over ``n_chunks`` equal row ranges, for numba's OpenMP
# threading layer (see ``_kernels``: only where that layer shares the engine's libgomp, as with LightGBM's wheel,
# so the engine's own idle OpenMP workers run the chunks instead of spinning beside extra threads). Same rows, same
# arithmetic: the same numbers as the serial and the threaded calls.
@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def binary_omp(raw, sign, weight, offset, gamma, mode, grad, hess, n_chunks):
    n = raw.shape[0]
    for c in prange(n_chunks):
        _binary_rows(raw, sign, weight, offset, gamma, mode, grad, hess, n * c // n_chunks, n * (c + 1) // n_chunks)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def softmax_omp(raw, labels, weight, offset, gamma, mode, grad, hess, n_chunks):
    n = raw.shape[0]
    for c in prange(n_chunks):
        _softmax_rows(raw, labels, weight, offset, gamma, mode, grad, hess, n * c // n_chunks,
                      n * (c + 1) // n_chunks)


OMP = {binary: binary_omp, softmax: softmax_omp}


def _serial(kernel, n, args):
    kernel(*args, 0, n)


def _offset(offset):
    return _EMPTY if offset is None else np.ascontiguousarray(offset, dtype=np.float64).ravel()


def binary_grad_hess(raw, sign, weight, gamma, hessian, dtype=np.float64, run_rows=_serial, offset=None):
    """``_math.binary_grad_hess`` compiled: ``raw`` (n,) float64 or float32, ``sign`` (n,), ``weight`` (n,) or
    None -> (grad, hess) of ``dtype`` (float32: the float64 values rounded once, as an engine would round them).
    ``offset``: None or a float added to every raw score inside the loop (the derivatives at ``raw + offset``).
    ``run_rows(kernel, n, args)`` runs ``kernel(*args, start, stop)`` over the rows (serially by default)."""
    grad = np.empty(raw.shape[0], dtype=dtype)
    hess = np.empty(raw.shape[0], dtype=dtype)
    run_rows(binary, raw.shape[0], (raw, sign, _EMPTY if weight is None else weight, _offset(offset), gamma,
                                    int(hessian), grad, hess))
    return grad, hess


def softmax_grad_hess(raw, labels, weight, gamma, hessian, dtype=np.float64, run_rows=_serial, offset=None):
    """``_math.softmax_grad_hess`` compiled: ``raw`` (n, K) float64 or float32, C- or Fortran-ordered, integer
    ``labels`` (n,), ``weight`` (n,) or None -> (grad, hess) (n, K) of ``dtype``. ``offset``: None or K floats
    added to each row inside the loop (the derivatives at ``raw + offset``).

    The outputs are column-major (Fortran order): LightGBM 4.7 ravels multiclass gradients in that order, which is
    then free; XGBoost 3.2 reads them through their strides.
    """
    n, k = raw.shape
    grad = np.empty((k, n), dtype=dtype).T
    hess = np.empty((k, n), dtype=dtype).T
    run_rows(softmax, n, (raw, labels, _EMPTY if weight is None else weight, _offset(offset), gamma, int(hessian),
                          grad, hess))
    return grad, hess
