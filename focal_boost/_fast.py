"""Optional numba kernels for the per-round gradient/hessian (hard binary labels and softmax multiclass).

Same formulas as ``_math`` (margin ``s``, ``t = exp(-|s|)``, ``log1p(t)``), fused into one pass over the rows with
no temporaries and run on all cores; the tests check that the numbers match the numpy path to 1e-12 relative.
If numba is not installed, or ``FOCAL_BOOST_DISABLE_NUMBA=1`` is set, ``AVAILABLE`` is False and the numpy
path in ``_math`` is used. ``set_enabled(False)`` switches it off at run time (the tests and the speed benchmark
compare both paths).
"""

from __future__ import annotations

import importlib.util
import math
import os

import numpy as np

from ._math import HESSIANS, TINY

AVAILABLE = importlib.util.find_spec("numba") is not None and os.environ.get(
    "FOCAL_BOOST_DISABLE_NUMBA", ""
) in ("", "0")

_enabled = AVAILABLE
# Below this many raw scores the numpy path costs about the same and numba (its import, its thread pool waking
# up beside the engine's own threads) is not worth it; numba is only imported once an array this large arrives.
MIN_SIZE = 50_000
_kernels: dict[str, object] = {}


def set_enabled(flag: bool) -> bool:
    """Turn the numba path on/off (only on when numba is installed); returns the previous setting."""
    global _enabled
    previous = _enabled
    _enabled = bool(flag) and AVAILABLE
    return previous


def enabled(size: int) -> bool:
    return _enabled and size >= MIN_SIZE


def hessian_code(hessian: str) -> int:
    return HESSIANS.index(hessian)  # 0 bound, 1 abs, 2 exact


def binary_grad_hess(raw, sign, weight, gamma, mode):
    """Hard binary labels: ``raw`` (n,), ``sign = 2y - 1`` (n,), ``weight`` (n,) or empty -> (grad, hess)."""
    return _compiled()["binary"](raw, sign, weight, gamma, mode)


def softmax_grad_hess(raw, labels, weight, gamma, mode):
    """Softmax: ``raw`` (n, K), integer ``labels`` (n,), ``weight`` (n,) or empty -> (grad, hess) of shape (n, K)."""
    return _compiled()["softmax"](raw, labels, weight, gamma, mode)


def _compiled() -> dict[str, object]:
    if not _kernels:
        _kernels.update(_build())
    return _kernels


def _build() -> dict[str, object]:  # pragma: no cover - compiled code is exercised through the wrappers
    from numba import njit, prange


    @njit(cache=True, inline="always")
    def _margin(s: float, gamma: float, mode: int) -> tuple[float, float]:
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
        if mode == 0 and ct < 0.0:
            ct = 0.0
        h = p * qg * (ct + (2.0 * gamma + 1.0) * q)
        if mode == 1:
            h = abs(h)
        if mode != 2 and h < TINY:
            h = TINY
        return g, h

    @njit(cache=True, parallel=True)
    def binary(raw, sign, weight, gamma, mode):
        n = raw.shape[0]
        grad = np.empty(n)
        hess = np.empty(n)
        weighted = weight.shape[0] > 0
        for i in prange(n):
            sg = sign[i]
            g, h = _margin(raw[i] * sg, gamma, mode)
            g *= sg
            if weighted:
                g *= weight[i]
                h *= weight[i]
            grad[i] = g
            hess[i] = h
        return grad, hess

    @njit(cache=True, parallel=True)
    def softmax(raw, labels, weight, gamma, mode):
        n, k = raw.shape
        grad = np.empty((n, k))
        hess = np.empty((n, k))
        weighted = weight.shape[0] > 0
        for i in prange(n):
            y = labels[i]
            top = -1
            m = -np.inf
            for j in range(k):
                if j != y and (top < 0 or raw[i, j] > m):
                    m = raw[i, j]
                    top = j
            acc = 0.0
            for j in range(k):
                if j != y:
                    acc += math.exp(raw[i, j] - m)
            lse_other = m + math.log(acc)
            g, h = _margin(raw[i, y] - lse_other, gamma, mode)
            rest = 0.0  # sum of r_j over j not in {y, top}: 1 - r_top without cancellation
            for j in range(k):
                if j != y:
                    r = math.exp(raw[i, j] - lse_other)
                    grad[i, j] = r
                    if j != top:
                        rest += r
            w = weight[i] if weighted else 1.0
            for j in range(k):
                if j == y:
                    grad[i, j] = g * w
                    hess[i, j] = h * w
                else:
                    r = grad[i, j]
                    one_minus_r = rest if j == top else 1.0 - r
                    hj = r * (r * h - one_minus_r * g)
                    if mode != 2 and hj < TINY:
                        hj = TINY
                    grad[i, j] = -r * g * w
                    hess[i, j] = hj * w
        return grad, hess

    return {"binary": binary, "softmax": softmax}
