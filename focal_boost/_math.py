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

No validation and no engine imports: callers validate once, at the boundary. ``_fast`` holds an optional numba
version of :func:`margin_grad_hess` whose numbers match these to a few ulps.
"""

from __future__ import annotations

import numpy as np

# Smallest positive normal float64: the floor that keeps safeguarded hessians strictly positive where the exact
# value underflows (|s| beyond ~745/(gamma+1)).
TINY = float(np.finfo(np.float64).tiny)

HESSIANS = ("bound", "abs", "exact")  # the order is the numba kernels' mode code


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
    is subnormal). ``_fast`` makes the same choice, so both paths give the same numbers."""
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


def _hess_from_logs(p, q, logp, qg, gamma: float, hessian: str) -> np.ndarray:
    curvature_term = gamma * logp * (q - gamma * p)
    if hessian == "bound":
        # Drop the term that turns the curvature negative: an upper bound of f'' that is > 0 for finite s.
        curvature_term = np.maximum(curvature_term, 0.0)
    h = p * qg * (curvature_term + (2.0 * gamma + 1.0) * q)
    if hessian == "abs":
        h = np.abs(h)
    if hessian != "exact":
        h = np.maximum(h, TINY)
    return h


def margin_grad_hess(s: np.ndarray, gamma: float, hessian: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``f'(s), f''(s)`` (``f''`` under the ``hessian`` safeguard) of margins ``s`` (any shape)."""
    p, q, logp, logq, _ = sigmoid_logs(s, with_ratio=False)
    qg = _q_pow(q, logq, gamma)
    g = qg * (gamma * p * logp - q)
    return g, _hess_from_logs(p, q, logp, qg, gamma, hessian)


def margin_pair(s: np.ndarray, gamma: float, hessian: str) -> tuple[np.ndarray, ...]:
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
