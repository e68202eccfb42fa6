"""numba kernels behind :mod:`focal_boost._catboost_kernels` (imported only by it, lazily: importing this module
imports numba).

:func:`softmax_row`: one object's softmax focal derivatives for CatBoost's per-object ``calc_ders_multi``, by
``_fast_kernels._softmax_row`` (the same compiled row code as the batch kernels), negated, into the per-thread
``state`` buffer. Everything the call needs besides the object travels in that one float64 array, because numba's
dispatcher pays per argument (~0.04 us each here: 10 arguments cost 0.43 us a call, 4 cost 0.2 us):

    state = [gamma, hessian mode, alpha_0 .. alpha_{K-1}, scratch (K), -grad (K), -diag(hess) (K)]

The label, the weight and K are checked here too (a status code comes back), cheaper than Python comparisons
around the call.

:func:`multilabel_row`: one object's multi-label focal derivatives for CatBoost's per-object ``calc_ders_multi`` of
a ``MultiTargetCustomObjective``: label j is the binary focal term of ``raw[j] + offset[j]`` (``_fast_kernels._margin``,
the binary row code, libm's exp and log1p), negated, into its ``state`` buffer:

    state = [gamma, hessian mode, alpha_pos (L), alpha_neg (L), offset (L), -grad (L), -diag(hess) (L)]
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._fast_kernels import _binary_rows, _margin, _softmax_row

OK, BAD_LABEL, BAD_WEIGHT, BAD_LENGTH = 0, 1, 2, 3


def new_state(k: int, gamma: float, mode: int, alpha: np.ndarray) -> np.ndarray:
    """A ``state`` buffer for K classes (see the module docstring); its last ``2 K`` values are the output."""
    state = np.zeros(2 + 4 * k)
    state[0] = gamma
    state[1] = mode
    state[2:2 + k] = alpha
    return state


@njit(cache=True, error_model="numpy")
def softmax_row(raw, target, weight, state):
    """``raw``: the object's K raw scores (float64, as CatBoost passes them); ``target``: its class index (a float);
    ``weight``: its sample weight; ``state``: the buffer of :func:`new_state`, whose last ``2 K`` values receive
    ``-grad`` and ``-diag(hess)`` (the core's row weight ``alpha[label] * sample_weight`` applied). Returns ``OK`` or
    the code of the first bad input, then leaving the output unwritten."""
    k = raw.shape[0]
    if state.shape[0] != 2 + 4 * k:
        return BAD_LENGTH
    if not (target >= 0.0 and target < k and target == math.floor(target)):  # NaN fails the first comparison
        return BAD_LABEL
    if not (weight >= 0.0 and weight - weight == 0.0):  # NaN fails both, inf the second
        return BAD_WEIGHT
    y = int(target)
    grad = state[2 + 2 * k:2 + 3 * k]
    hess = state[2 + 3 * k:]
    _softmax_row(raw, y, state[2 + y] * weight, state[0], int(state[1]), state[2 + k:2 + 2 * k], grad, hess)
    for j in range(k):
        grad[j] = -grad[j]
        hess[j] = -hess[j]
    return OK


@njit(cache=True, nogil=True, error_model="numpy")
def binary_range(raw, y, weight, has_alpha, a1, a0, gamma, mode, out):
    """One ``calc_ders_range`` chunk of hard 0/1 labels straight from CatBoost's arrays into ``out`` (n, 2):
    ``(-grad, -hess)`` with the core's row weight ``alpha_t * sample_weight``: one pass that checks the labels and
    weights and builds the signs and row weights (``FocalLoss.prepare_target``'s), then ``_fast_kernels._binary_rows``
    (the vectorised rows). ``weight`` may be empty (no weights). Returns False, leaving ``out`` unwritten, at the
    first soft label or bad weight: the caller then takes the validated path, which names it. Releases the GIL:
    catboost 1.2.10 calls from each of its worker threads.
    """
    n = raw.shape[0]
    weighted = weight.shape[0] > 0
    scaled = has_alpha or weighted
    sign = np.empty(n, dtype=np.int8)
    row_weight = np.empty(n if scaled else 0)
    for i in range(n):
        yi = float(y[i])
        if yi == 1.0:
            sign[i] = 1
            a = a1
        elif yi == 0.0:
            sign[i] = -1
            a = a0
        else:
            return False
        if weighted:
            wi = float(weight[i])
            if not (wi >= 0.0 and wi - wi == 0.0):  # NaN fails both, inf the second
                return False
            row_weight[i] = a * wi if has_alpha else wi
        elif scaled:
            row_weight[i] = a
    grad = np.empty(n)
    hess = np.empty(n)
    _binary_rows(raw, sign, row_weight, np.empty(0), gamma, mode, grad, hess, 0, n)
    for i in range(n):
        out[i, 0] = -grad[i]
        out[i, 1] = -hess[i]
    return True


def new_multilabel_state(gamma: float, mode: int, alpha_pos: np.ndarray, alpha_neg: np.ndarray, offset: np.ndarray
                         ) -> np.ndarray:
    """A ``state`` buffer for L labels (see the module docstring); its last ``2 L`` values are the output."""
    n_labels = alpha_pos.shape[0]
    state = np.zeros(2 + 5 * n_labels)
    state[0] = gamma
    state[1] = mode
    state[2:2 + n_labels] = alpha_pos
    state[2 + n_labels:2 + 2 * n_labels] = alpha_neg
    state[2 + 2 * n_labels:2 + 3 * n_labels] = offset
    return state


@njit(cache=True, error_model="numpy")
def multilabel_row(raw, target, weight, state):
    """``raw``: the object's L raw scores (float64, as CatBoost passes them); ``target``: its L labels (float64);
    ``weight``: its sample weight; ``state``: the buffer of :func:`new_multilabel_state`, whose last ``2 L`` values
    receive ``-grad`` and ``-diag(hess)`` with the core's element weight ``alpha_t[j] * sample_weight``. Returns
    ``OK`` or the code of the first bad input (a label that is not 0 or 1, soft ones included, is ``BAD_LABEL``),
    then leaving the output unwritten."""
    k = raw.shape[0]
    if state.shape[0] != 2 + 5 * k or target.shape[0] != k:
        return BAD_LENGTH
    if not (weight >= 0.0 and weight - weight == 0.0):  # NaN fails both, inf the second
        return BAD_WEIGHT
    for j in range(k):
        if not (target[j] == 0.0 or target[j] == 1.0):
            return BAD_LABEL
    gamma = state[0]
    mode = int(state[1])
    grad = state[2 + 3 * k:2 + 4 * k]
    hess = state[2 + 4 * k:]
    for j in range(k):
        if target[j] == 1.0:
            sign = 1.0
            element_weight = state[2 + j] * weight
        else:
            sign = -1.0
            element_weight = state[2 + k + j] * weight
        g, h = _margin((raw[j] + state[2 + 2 * k + j]) * sign, gamma, mode)
        grad[j] = -(g * sign * element_weight)
        hess[j] = -(h * element_weight)
    return OK
