"""numba kernel behind :mod:`focal_boost._catboost_kernels` (imported only by it, lazily: importing this module imports
numba).

One object's softmax focal derivatives for CatBoost's per-object ``calc_ders_multi``:
``_fast_kernels._softmax_rows`` on that one row (the same compiled code), negated and written into a ``(K + 1, K)``
float64 buffer: row 0 is minus the gradient, rows 1..K minus the diagonal hessian as a K x K matrix whose off-
diagonal entries stay 0 (only the diagonal is ever written). One ``tolist()`` of the buffer then gives CatBoost the
Python lists it reads fastest. The label, the weight and K are checked here too (a status code comes back), which is
cheaper than Python comparisons around the call.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._fast_kernels import _margin, _softmax_rows

OK, BAD_LABEL, BAD_WEIGHT, BAD_LENGTH = 0, 1, 2, 3
_NO_OFFSET = np.empty(0)  # the per-class offset of _softmax_rows: none


@njit(cache=True, error_model="numpy")
def softmax_row(raw, target, weight, alpha, gamma, mode, out, work, label, row_weight):
    """``raw``: the object's K raw scores; ``target``: its class index (a float, as CatBoost passes it);
    ``weight``: its sample weight; ``alpha``: the K class weights; ``mode``: a ``Hessian`` value; ``out``: the
    ``(K + 1, K)`` buffer (see the module docstring); ``work`` (3, K), ``label`` (1,) intp and ``row_weight`` (1,)
    float64: scratch. Returns ``OK`` or the code of the first bad input. The derivatives are those of
    ``_fast_kernels._softmax_rows`` on this one row (the same compiled code)."""
    k = out.shape[1]
    if raw.shape[0] != k:
        return BAD_LENGTH
    if not (target >= 0.0 and target < k and target == math.floor(target)):  # NaN fails the first comparison
        return BAD_LABEL
    if not (weight >= 0.0 and weight - weight == 0.0):  # NaN fails both, inf the second
        return BAD_WEIGHT
    y = int(target)
    label[0] = y
    row_weight[0] = alpha[y] * weight  # the core's row_weight = alpha[label] * sample_weight
    for j in range(k):
        work[0, j] = raw[j]
    _softmax_rows(work[0:1], label, row_weight, _NO_OFFSET, gamma, mode, work[1:2], work[2:3], 0, 1)
    for j in range(k):
        out[0, j] = -work[1, j]
        out[1 + j, j] = -work[2, j]
    return OK


@njit(cache=True, nogil=True, error_model="numpy")
def binary_range(raw, y, weight, has_alpha, a1, a0, gamma, mode, out):
    """One ``calc_ders_range`` chunk of hard 0/1 labels straight from CatBoost's arrays into ``out`` (n, 2):
    ``(-grad, -hess)`` with the core's row weight ``alpha_t * sample_weight`` (``_fast_kernels._binary_rows`` with
    ``FocalLoss.prepare_target``'s weights, in one pass, no target cache). ``weight`` may be empty (no weights).
    Returns False, leaving ``out`` partly written, at the first soft label or bad weight: the caller then takes the
    validated path, which names it. Releases the GIL: catboost 1.2.10 calls from each of its worker threads.
    """
    weighted = weight.shape[0] > 0
    scaled = has_alpha or weighted
    for i in range(raw.shape[0]):
        yi = float(y[i])
        if yi == 1.0:
            sg = 1.0
            a = a1
        elif yi == 0.0:
            sg = -1.0
            a = a0
        else:
            return False
        rw = a
        if weighted:
            wi = float(weight[i])
            if not (wi >= 0.0 and wi - wi == 0.0):
                return False
            rw = a * wi if has_alpha else wi
        g, h = _margin(raw[i] * sg, gamma, mode)
        g *= sg
        if scaled:
            g *= rw
            h *= rw
        out[i, 0] = -g
        out[i, 1] = -h
    return True
