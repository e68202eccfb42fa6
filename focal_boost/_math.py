"""Per-element focal-loss kernels on raw scores (logits).

Everything here works on the *margin* ``s`` of the true class: ``s = z`` for a binary positive, ``s = -z`` for a
binary negative and ``s = z_y - logsumexp_{j != y} z_j`` for softmax multiclass, so that ``p_t = sigmoid(s)`` in all
three cases. The focal loss of one sample as a function of ``s`` is

    f(s) = -(1 - p)^gamma * log p,          p = sigmoid(s), q = 1 - p = sigmoid(-s)

with the exact derivatives (derived by hand, checked against mpmath in the tests)

    f'(s)  = q^gamma * (gamma * p * log p - q)
    f''(s) = p * q^gamma * (gamma * log p * (q - gamma * p) + (2 * gamma + 1) * q)

Only ``t = exp(-|s|)`` and ``log1p(t)`` are evaluated, from which p, q, log p and log q follow without cancellation,
so every quantity is finite and accurate for any finite ``s`` (p and q may underflow to 0, their logs never do).

No validation and no engine imports: callers validate once, at the boundary. :func:`binary_grad_hess` and
:func:`softmax_grad_hess` are the per-round kernels; ``_fast_kernels`` has numba versions with the same signatures
and numbers, and ``_kernels`` picks one of the two.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

# Smallest positive normal float64: the floor that keeps safeguarded hessians strictly positive where the exact
# value underflows (|s| beyond ~745/(gamma+1)).
TINY = float(np.finfo(np.float64).tiny)


class Hessian(IntEnum):
    """Which second derivative the kernels return (see ``FocalLoss``, parameter ``hessian``); shared by the numpy
    and the numba kernels."""

    BOUND = 0
    ABS = 1
    EXACT = 2

    @property
    def label(self) -> str:
        return self.name.lower()


HESSIANS = tuple(mode.label for mode in Hessian)  # ("bound", "abs", "exact"): the public names


def sigmoid_logs(s: np.ndarray, with_ratio: bool = True
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Return ``p, q, log p, log q, r`` for ``p = sigmoid(s)``, with ``r = -log(p) / q`` (finite everywhere).

    ``r`` lets ``q - gamma * p * log p = q * (1 + gamma * p * r)`` be taken in log space without ``log(0)``;
    it is only computed (else ``None``) when ``with_ratio``.
    """
    a = np.abs(s)
    t = np.exp(-a)
    lg = np.log1p(t)
    inv = 1.0 / (1.0 + t)
    pos = s >= 0
    t_inv = t * inv
    p = np.where(pos, inv, t_inv)
    q = np.where(pos, t_inv, inv)
    logp = np.where(pos, -lg, s - lg)
    logq = np.where(pos, -s - lg, -lg)
    if not with_ratio:
        return p, q, logp, logq, None
    # log1p(t)/t -> 1 as t -> 0; the series 1 - t/2 is exact to float precision below 1e-8.
    with np.errstate(divide="ignore", invalid="ignore"):
        l_over_t = np.where(t > 1e-8, lg / t, 1.0 - 0.5 * t)
    r = np.where(pos, (1.0 + t) * l_over_t, (1.0 + t) * (lg - s))
    return p, q, logp, logq, r


def _q_pow(q: np.ndarray, logq: np.ndarray, gamma: float) -> np.ndarray:
    """``q ** gamma``: exact products for the common integer gammas, else ``exp(gamma * log q)`` (accurate where q
    is subnormal). ``_fast_kernels`` makes the same choice, so both paths give the same numbers."""
    if gamma == 0.0:
        return np.ones_like(logq)
    if gamma == 1.0:
        return q.copy()
    if gamma == 2.0:
        return q * q
    return np.exp(gamma * logq)


def margin_loss(s: np.ndarray, gamma: float) -> np.ndarray:
    """Focal loss ``f(s) = -(1-p)^gamma log p`` of margins ``s`` (any shape)."""
    _, q, logp, logq, _ = sigmoid_logs(s)
    return -_q_pow(q, logq, gamma) * logp


def _hess_from_logs(p, q, logp, qg, gamma: float, hessian: Hessian) -> np.ndarray:
    curvature_term = gamma * logp * (q - gamma * p)
    if hessian == Hessian.BOUND:
        # Drop the term that turns the curvature negative: an upper bound of f'' that is > 0 for finite s.
        curvature_term = np.maximum(curvature_term, 0.0)
    h = p * qg * (curvature_term + (2.0 * gamma + 1.0) * q)
    if hessian == Hessian.ABS:
        h = np.abs(h)
    if hessian != Hessian.EXACT:
        h = np.maximum(h, TINY)
    return h


def margin_grad_hess(s: np.ndarray, gamma: float, hessian: Hessian) -> tuple[np.ndarray, np.ndarray]:
    """Return ``f'(s), f''(s)`` (``f''`` under the ``hessian`` safeguard) of margins ``s`` (any shape)."""
    p, q, logp, logq, _ = sigmoid_logs(s, with_ratio=False)
    qg = _q_pow(q, logq, gamma)
    g = qg * (gamma * p * logp - q)
    return g, _hess_from_logs(p, q, logp, qg, gamma, hessian)


def margin_pair(s: np.ndarray, gamma: float, hessian: Hessian) -> tuple[np.ndarray, ...]:
    """Loss, gradient and hessian at the margin ``s`` *and* at its mirror ``-s``, from one exp/log1p pass.

    Returns ``f(s), f'(s), f''(s), f(-s), f'(-s), f''(-s)``; soft binary labels need both sides.
    """
    p, q, logp, logq, _ = sigmoid_logs(s, with_ratio=False)
    qg = _q_pow(q, logq, gamma)
    pg = _q_pow(p, logp, gamma)
    return (
        -qg * logp,
        qg * (gamma * p * logp - q),
        _hess_from_logs(p, q, logp, qg, gamma, hessian),
        -pg * logq,
        pg * (gamma * q * logq - p),
        _hess_from_logs(q, p, logq, pg, gamma, hessian),
    )


def log_abs_dphi(s: np.ndarray, gamma: float) -> np.ndarray:
    """``log |phi'(p)|`` at ``p = sigmoid(s)``, where ``phi(p) = -(1-p)^gamma log p`` is the loss in probability space.

    ``|phi'(p)| = (1-p)^(gamma-1) * ((1-p)/p - gamma * log p)`` ; in logs, with ``r = -log p / q``,
    ``log|phi'(p)| = gamma * log q - log p + log1p(gamma * p * r)`` — finite for every finite ``s``.
    """
    p, _, logp, logq, r = sigmoid_logs(s)
    return gamma * logq - logp + np.log1p(gamma * p * r)


def softmax_margins(raw: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Margins ``s = z_y - logsumexp_{j != y} z_j`` and ``log r_j = z_j - logsumexp_{j != y} z_j``.

    ``r_j = p_j / (1 - p_y)`` is the softmax among the classes other than ``y`` (``r_y`` is meaningless and set to
    ``-inf``). Taking ``s`` this way, rather than ``log p_y = z_y - logsumexp z``, keeps ``1 - p_y`` accurate when
    ``p_y`` is close to 1.
    """
    rows = np.arange(raw.shape[0])
    masked = raw.copy()
    masked[rows, y] = -np.inf
    lse_other = _logsumexp_rows(masked)
    s = raw[rows, y] - lse_other
    masked -= lse_other[:, None]
    return s, masked


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise logsumexp of finite-or-``-inf`` rows with at least one finite entry; plain numpy because scipy's
    general version costs ~300 us per call on the few-row chunks CatBoost's multiclass objective sends."""
    top = np.max(x, axis=1)
    return top + np.log(np.sum(np.exp(x - top[:, None]), axis=1))


def softmax_all_margins(raw: np.ndarray) -> np.ndarray:
    """Margins ``s_k = z_k - logsumexp_{j != k} z_j`` of every class, shape ``(n, K)``, without O(K^2) work.

    For a class that is not the row's argmax, ``p_k <= 1/2`` so ``log(1 - p_k) = log1p(-p_k)`` is accurate; the
    argmax class takes the masked logsumexp.
    """
    lse = _logsumexp_rows(raw)[:, None]
    logp = raw - lse
    with np.errstate(divide="ignore"):  # the argmax class may give log1p(-1); it is replaced just below
        logq = np.log1p(-np.exp(logp))
    top = np.argmax(raw, axis=1)
    s_top, _ = softmax_margins(raw, top)
    s = logp - logq
    s[np.arange(raw.shape[0]), top] = s_top
    return s


# -- per-round kernels: the same signatures as ``_fast_kernels.binary_grad_hess`` / ``softmax_grad_hess`` ---------
def binary_grad_hess(raw: np.ndarray, sign: np.ndarray, weight: np.ndarray | None, gamma: float, hessian: Hessian
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Hard binary labels: gradient and hessian w.r.t. ``raw`` (n,) of ``weight * f(sign * raw)``, float64.

    ``sign = 2y - 1`` (any numeric dtype), ``weight`` (n,) or None; the chain rule through ``s = sign * raw`` flips
    the gradient's sign and leaves the hessian as it is.
    """
    g, h = margin_grad_hess(raw * sign, gamma, hessian)
    g *= sign
    if weight is not None:
        g *= weight
        h *= weight
    return g, h


def binary_soft_grad_hess(raw: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray, gamma: float, hessian: Hessian
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Soft binary labels: ``w_pos * f(raw) + w_neg * f(-raw)`` differentiated w.r.t. ``raw`` (n,)."""
    _, g1, h1, _, g0, h0 = margin_pair(raw, gamma, hessian)
    return w_pos * g1 - w_neg * g0, w_pos * h1 + w_neg * h0


def softmax_grad_hess(raw: np.ndarray, labels: np.ndarray, weight: np.ndarray | None, gamma: float,
                      hessian: Hessian) -> tuple[np.ndarray, np.ndarray]:
    """Softmax: gradient and diagonal hessian w.r.t. ``raw`` (n, K) of ``weight * f(s)``, ``s`` the true-class
    margin (see :func:`softmax_margins`), float64 (n, K).

    With ``r_j = p_j / (1 - p_y)`` (softmax over the other classes) and ``g, h = f'(s), f''(s)``::

        dFL/dz_y = g,          dFL/dz_j = -r_j g
        d2FL/dz_y2 = h,        d2FL/dz_j2 = r_j^2 h - r_j (1 - r_j) g      (g <= 0, so >= 0 whenever h >= 0)

    The safeguard (``hessian``) applies to ``f''`` and the other classes' diagonal is floored at ``TINY`` unless
    ``hessian`` is EXACT.
    """
    rows = np.arange(raw.shape[0])
    s, log_r = softmax_margins(raw, labels)
    g, h = margin_grad_hess(s, gamma, hessian)
    r = np.exp(log_r)
    # 1 - r_j cancels for the one class that can have r_j > 1/2; sum the other r_i for it instead.
    top = np.argmax(log_r, axis=1)
    one_minus_r = 1.0 - r
    r[rows, top] = 0.0
    one_minus_r[rows, top] = r.sum(axis=1)
    r[rows, top] = np.exp(log_r[rows, top])
    gcol, hcol = g[:, None], h[:, None]
    grad = -r * gcol
    hess = r * (r * hcol - one_minus_r * gcol)
    grad[rows, labels] = g
    hess[rows, labels] = h
    if hessian != Hessian.EXACT:
        np.maximum(hess, TINY, out=hess)
    if weight is not None:
        grad *= weight[:, None]
        hess *= weight[:, None]
    return grad, hess
