"""Independent oracles: the focal loss written directly from its definition in mpmath (50 digits), differentiated
numerically at that precision. Nothing here uses focal_boost's derivations (margins, log-space tricks)."""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 50


def _sigmoids(z):
    # p and 1 - p each computed directly, so neither loses digits at large |z|
    return 1 / (1 + mp.exp(-z)), 1 / (1 + mp.exp(z))


def binary_loss(y: float, z, gamma: float, alpha: float | None):
    """y * alpha * FL(label 1) + (1 - y) * (1 - alpha) * FL(label 0), as an mpf function of z."""
    a1, a0 = (1, 1) if alpha is None else (mp.mpf(alpha), 1 - mp.mpf(alpha))
    p, q = _sigmoids(z)
    g = mp.mpf(gamma)
    y = mp.mpf(y)
    return -(y * a1 * q**g * mp.log(p) + (1 - y) * a0 * p**g * mp.log(q))


def binary_derivs(y: float, z: float, gamma: float, alpha: float | None) -> tuple[float, float, float]:
    f = lambda t: binary_loss(y, t, gamma, alpha)  # noqa: E731
    z = mp.mpf(z)
    return float(f(z)), float(mp.diff(f, z, 1)), float(mp.diff(f, z, 2))


def softmax_loss(y: int, z, gamma: float, alpha):
    """-alpha_y (1 - p_y)^gamma log p_y with p = softmax(z); 1 - p_y summed from the other classes."""
    ez = [mp.exp(v - max(z)) for v in z]
    total = mp.fsum(ez)
    p_y = ez[y] / total
    q_y = mp.fsum(e for j, e in enumerate(ez) if j != y) / total
    a = 1 if alpha is None else mp.mpf(alpha[y])
    return -a * q_y ** mp.mpf(gamma) * mp.log(p_y)


def softmax_derivs(y: int, z: list[float], gamma: float, alpha) -> tuple[float, list[float], list[float]]:
    k = len(z)
    zm = [mp.mpf(v) for v in z]
    f = lambda *t: softmax_loss(y, list(t), gamma, alpha)  # noqa: E731
    grad, hess = [], []
    for j in range(k):
        order = [0] * k
        order[j] = 1
        grad.append(float(mp.diff(f, zm, tuple(order))))
        order[j] = 2
        hess.append(float(mp.diff(f, zm, tuple(order))))
    return float(f(*zm)), grad, hess
