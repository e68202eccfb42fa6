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
from numba.core import types
from numba.extending import intrinsic

from ._math import TINY, Hessian

# numba freezes module globals as compile-time constants.
_BOUND = int(Hessian.BOUND)
_ABS = int(Hessian.ABS)
_EXACT = int(Hessian.EXACT)
_EMPTY = np.empty(0)


# -- exp and log1p in plain arithmetic, so that LLVM vectorises the binary row loop -------------------------------
# libm's exp and log1p are opaque calls: a loop calling them runs one row at a time (~17 ns per row here, most of it
# in log1p). The same two functions written as polynomials with bit-level scaling are plain arithmetic, which LLVM
# vectorises (4 float64 rows per AVX2 instruction): ~5 ns per row on one thread, measured on 1M rows of the 2-core
# development machine, within 1 ulp of libm (max relative difference 2.2e-16 on 2M points over the whole domain).
# Rows whose margin is too large for them (denormal results) are recomputed with libm by ``_binary_rows``.
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: x + _SHIFTER rounds x to an integer kept in the low mantissa bits
_SHIFTER_BITS = 0x4338000000000000
_SQRT2 = 1.4142135623730951
# Taylor coefficients 1/j! of exp for j = 2..13 (|r| <= ln(2)/2: the truncation error is below 4e-18)
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = (1.0 / math.factorial(j) for j in range(2, 14))
# fdlibm's log polynomial (e_log.c, Lg1..Lg7) for log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| <= 0.1716
_LG1, _LG2, _LG3, _LG4, _LG5, _LG6, _LG7 = (6.666666666666735130e-01, 3.999999999940941908e-01,
                                            2.857142874366239149e-01, 2.222219843214978396e-01,
                                            1.818357216161805012e-01, 1.531383769920937332e-01,
                                            1.479819860511658591e-01)
_POLY_MIN = -708.0  # exp(x) >= 2**-1021 (a normal number) for x >= this
_POLY_MAX_MARGIN = 700.0  # |margin| * max(gamma, 1) above this: libm (see _binary_rows)


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE bit pattern is the int64 ``bits`` (an LLVM bitcast: free, and vectorisable)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@intrinsic
def _bits_of_float(typingctx, value):
    """The IEEE bit pattern of the float64 ``value`` as an int64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@njit(cache=True, inline="always", error_model="numpy")
def _exp_nonpositive(x):
    """``exp(x)`` for ``_POLY_MIN <= x <= 0`` (NaN gives NaN): Cody-Waite reduction ``x = k ln 2 + r``, the
    degree-13 Taylor polynomial of ``exp(r)``, and ``2**k`` built from its bits."""
    shifted = x * _INV_LN2 + _SHIFTER
    k = shifted - _SHIFTER  # round(x / ln 2), as a float
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = _E13
    p = p * r + _E12
    p = p * r + _E11
    p = p * r + _E10
    p = p * r + _E9
    p = p * r + _E8
    p = p * r + _E7
    p = p * r + _E6
    p = p * r + _E5
    p = p * r + _E4
    p = p * r + _E3
    p = p * r + _E2
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _float_from_bits((_bits_of_float(shifted) - _SHIFTER_BITS + 1023) << 52)


@njit(cache=True, inline="always", error_model="numpy")
def _log1p_unit(t, u):
    """``log1p(t)`` for ``0 <= t <= 1`` given ``u = 1 + t`` (rounded): fdlibm's ``log(u)`` with ``u`` halved above
    sqrt 2, plus ``c = (t - (u - 1)) / u``, the first-order term of the rounding of ``1 + t`` (as fdlibm's log1p)."""
    big = u > _SQRT2
    m = u * 0.5 if big else u
    k = 1.0 if big else 0.0
    f = m - 1.0  # exact (Sterbenz)
    c = (t - (u - 1.0)) / u
    s = f / (2.0 + f)
    z = s * s
    r = z * (_LG1 + z * (_LG2 + z * (_LG3 + z * (_LG4 + z * (_LG5 + z * (_LG6 + z * _LG7))))))
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + (k * _LN2_LO + c))) - f)


@njit(cache=True, inline="always", error_model="numpy")
def _margin(s: float, gamma: float, mode: int, poly: bool = False) -> tuple[float, float]:
    """``f'(s), f''(s)`` of one margin (see ``_math.margin_grad_hess``); ``mode`` is a ``Hessian`` value.

    ``poly`` (a constant at each call site, so the unused branch compiles away): exp and log1p by the polynomials
    above instead of libm, valid while ``|s| * max(gamma, 1) <= _POLY_MAX_MARGIN``.
    """
    a = abs(s)
    if poly:
        t = _exp_nonpositive(_POLY_MIN if a > -_POLY_MIN else -a)  # NaN stays NaN
        lg = _log1p_unit(t, 1.0 + t)
    else:
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
    elif poly:
        e = gamma * logq
        qg = _exp_nonpositive(_POLY_MIN if e < _POLY_MIN else e)
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
def _binary_row(raw, sign, weight, shift, gamma, mode, grad, hess, i, weighted, poly):
    """Row ``i``: ``grad[i], hess[i]`` of the margin ``(raw[i] + shift) * sign[i]``, sample weight applied."""
    sg = float(sign[i])  # float64 whatever the dtypes of sign (int8) and raw (float32)
    g, h = _margin((raw[i] + shift) * sg, gamma, mode, poly)
    g *= sg
    if weighted:
        g *= weight[i]
        h *= weight[i]
    grad[i] = g
    hess[i] = h


@njit(cache=True, inline="always", error_model="numpy")
def _binary_pass(raw, sign, weight, shift, gamma, mode, grad, hess, start, stop, weighted):
    """The vectorised pass of ``_binary_rows``; ``weighted`` (and ``gamma`` where it is 2.0) is a constant at
    each call site, so that each copy of the loop is branch-free arithmetic. The loop runs over views from 0: an
    index starting at an unknown ``start`` could be negative for LLVM, and its wraparound check stops the
    vectoriser (measured: 35 ms instead of 5 ms per 1M rows)."""
    raw = raw[start:stop]
    sign = sign[start:stop]
    grad = grad[start:stop]
    hess = hess[start:stop]
    if weighted:
        weight = weight[start:stop]
    for i in range(raw.shape[0]):
        _binary_row(raw, sign, weight, shift, gamma, mode, grad, hess, i, weighted, True)


@njit(cache=True, inline="always", error_model="numpy")
def _binary_rows(raw, sign, weight, offset, gamma, mode, grad, hess, start, stop):
    """Rows ``start:stop``: one vectorised pass with the polynomial exp/log1p (a copy of the loop per case that
    LLVM would not vectorise with a branch inside: weighted or not, gamma 2 (the default) or not), then the rare
    rows beyond the polynomials' range (``|margin| * max(gamma, 1) > _POLY_MAX_MARGIN``, inf, NaN) again with
    libm."""
    weighted = weight.shape[0] > 0
    shift = offset[0] if offset.shape[0] > 0 else 0.0  # float64; adding 0.0 changes no margin's grad/hess
    if weighted:
        if gamma == 2.0:
            _binary_pass(raw, sign, weight, shift, 2.0, mode, grad, hess, start, stop, True)
        else:
            _binary_pass(raw, sign, weight, shift, gamma, mode, grad, hess, start, stop, True)
    elif gamma == 2.0:
        _binary_pass(raw, sign, weight, shift, 2.0, mode, grad, hess, start, stop, False)
    else:
        _binary_pass(raw, sign, weight, shift, gamma, mode, grad, hess, start, stop, False)
    limit = _POLY_MAX_MARGIN / max(gamma, 1.0)
    for i in range(start, stop):
        if not abs((raw[i] + shift) * float(sign[i])) <= limit:
            _binary_row(raw, sign, weight, shift, gamma, mode, grad, hess, i, weighted, False)


@njit(cache=True, inline="always", error_model="numpy")
def _softmax_row(z, y, w, gamma, mode, e, grad, hess):
    """One row of the softmax focal grad/hess (see ``_math.softmax_grad_hess``): ``z`` its K float64 raw scores,
    ``y`` its class, ``w`` its row weight; ``e`` (K,) float64 scratch; writes ``grad``/``hess`` (K,).

    With ``m`` the largest other-class score (class ``top``) and ``e_j = exp(z_j - m)``: ``acc = sum_{j != y} e_j``
    (``e_top = 1``), ``logsumexp_{j != y} z = m + log(acc)`` and ``r_j = e_j / acc``, so each row takes K - 1 exps
    and one log besides the margin's exp and log1p. ``1 - r_top`` is the sum of the other ``r_j`` (no cancellation).
    The batch kernels below and CatBoost's per-object kernel (``_catboost_numba``) both call this.
    """
    k = z.shape[0]
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
    gw = g * w
    for j in range(k):
        if j == y:
            grad[j] = gw
            hess[j] = h * w
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
            grad[j] = -r * gw
            hess[j] = hj * w


@njit(cache=True, inline="always", error_model="numpy")
def _softmax_rows(raw, labels, weight, offset, gamma, mode, grad, hess, start, stop):
    """Rows ``start:stop`` of the softmax focal grad/hess, one ``_softmax_row`` each on a float64 copy of the row
    (plus the per-class offset, if any)."""
    k = raw.shape[1]
    weighted = weight.shape[0] > 0
    shifted = offset.shape[0] > 0
    z = np.empty(k)  # the current row's raw scores (plus the per-class offset), float64
    e = np.empty(k)
    for i in range(start, stop):
        if shifted:
            for j in range(k):
                z[j] = raw[i, j] + offset[j]
        else:
            for j in range(k):
                z[j] = raw[i, j]
        _softmax_row(z, labels[i], weight[i] if weighted else 1.0, gamma, mode, e, grad[i], hess[i])


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


def binary_grad_hess(raw, sign, weight, gamma, hessian, dtype=np.float64, run_rows=_serial, offset=None, out=None):
    """``_math.binary_grad_hess`` compiled: ``raw`` (n,) float64 or float32, ``sign`` (n,), ``weight`` (n,) or
    None -> (grad, hess) of ``dtype`` (float32: the float64 values rounded once, as an engine would round them).
    ``offset``: None or a float added to every raw score inside the loop (the derivatives at ``raw + offset``).
    ``run_rows(kernel, n, args)`` runs ``kernel(*args, start, stop)`` over the rows (serially by default).
    ``out``: None, or the (grad, hess) arrays to write (n,) of ``dtype``, neither of them ``raw`` (the libm pass of
    ``_binary_rows`` reads ``raw`` again)."""
    grad, hess = (np.empty(raw.shape[0], dtype=dtype), np.empty(raw.shape[0], dtype=dtype)) if out is None else out
    run_rows(binary, raw.shape[0], (raw, sign, _EMPTY if weight is None else weight, _offset(offset), gamma,
                                    int(hessian), grad, hess))
    return grad, hess


def softmax_grad_hess(raw, labels, weight, gamma, hessian, dtype=np.float64, run_rows=_serial, offset=None,
                      out=None):
    """``_math.softmax_grad_hess`` compiled: ``raw`` (n, K) float64 or float32, C- or Fortran-ordered, integer
    ``labels`` (n,), ``weight`` (n,) or None -> (grad, hess) (n, K) of ``dtype``. ``offset``: None or K floats
    added to each row inside the loop (the derivatives at ``raw + offset``).

    The outputs are column-major (Fortran order): LightGBM 4.7 ravels multiclass gradients in that order, which is
    then free; XGBoost 3.2 reads them through their strides. ``out``: None, or the (grad, hess) (n, K) arrays of
    ``dtype`` to write; ``grad`` may be ``raw`` itself (each row is copied before its derivatives are written).
    """
    n, k = raw.shape
    grad, hess = (np.empty((k, n), dtype=dtype).T, np.empty((k, n), dtype=dtype).T) if out is None else out
    run_rows(softmax, n, (raw, labels, _EMPTY if weight is None else weight, _offset(offset), gamma, int(hessian),
                          grad, hess))
    return grad, hess
