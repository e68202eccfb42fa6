"""The focal loss on raw scores: binary (sigmoid) and multiclass (softmax).

References
----------
T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár. "Focal Loss for Dense Object Detection", ICCV 2017.
N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul, M. Sugiyama. "On Focal Loss for Class-Posterior Probability
Estimation: A Theoretical Perspective", CVPR 2021.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy.special import expit, logsumexp, softmax

from . import _fast, _math
from ._validation import (
    check_alpha,
    check_binary_labels,
    check_gamma,
    check_hessian,
    check_multiclass_labels,
    check_raw,
    check_same_length,
    check_sample_weight,
)

__all__ = ["FocalLoss"]

_NO_WEIGHT = np.empty(0)


@dataclass(frozen=True)
class _Target:
    """Validated labels and per-row weights, computed once and reused every boosting round.

    Binary hard labels: ``sign = 2y - 1`` and ``row_weight = sample_weight * alpha_t`` (``None`` when all ones).
    Binary soft labels: ``w_pos = y * alpha * sample_weight``, ``w_neg = (1 - y) * (1 - alpha) * sample_weight``.
    Multiclass: integer ``labels`` and ``row_weight = sample_weight * alpha[labels]``.
    """

    n_samples: int
    n_classes: int | None
    sign: np.ndarray | None = None
    labels: np.ndarray | None = None
    row_weight: np.ndarray | None = None
    w_pos: np.ndarray | None = None
    w_neg: np.ndarray | None = None
    sample_weight: np.ndarray | None = None


class FocalLoss:
    r"""Focal loss of raw scores (logits), binary or softmax multiclass, with exact derivatives.

    Binary, raw ``z`` of shape ``(n_samples,)``, ``p = sigmoid(z)``, label ``y`` in [0, 1] (soft labels allowed)::

        FL(y, z) = y * alpha_1 * f(z) + (1 - y) * alpha_0 * f(-z),   f(s) = -(1 - sigmoid(s))^gamma log sigmoid(s)

    with ``alpha_1 = alpha`` and ``alpha_0 = 1 - alpha`` (both 1 when ``alpha is None``). Multiclass, raw ``z`` of
    shape ``(n_samples, K)``, ``p = softmax(z)``, integer ``y`` in 0..K-1::

        FL(y, z) = -alpha_y * (1 - p_y)^gamma * log p_y

    ``gamma = 0`` is (alpha-weighted) cross-entropy. All derivatives are with respect to the raw scores and are exact
    and finite for every finite raw score (see ``focal_boost._math``).

    Parameters
    ----------
    gamma : float >= 0, default 2.0
        Focusing parameter.
    alpha : None, float in (0, 1), or sequence of K non-negative floats, default None
        Class weights. A float is the weight of the positive class in the binary loss (negatives get ``1 - alpha``).
        A sequence makes the loss multiclass with ``K = len(alpha)``. ``None`` weights every class 1.
    hessian : {"abs", "bound", "exact"}, default "abs"
        Which second derivative :meth:`hess` returns. The exact second derivative of focal loss is negative for
        badly misclassified samples (gamma=2: true-class margin below about -2.8), which breaks Newton leaf values
        in gradient boosting (measured: LightGBM started from the log-odds stays at chance level). Writing
        ``f''(s) = p q^gamma (gamma log p (q - gamma p) + (2 gamma + 1) q)`` for the true-class margin ``s``:

        - ``"abs"`` (default) takes ``|f''|``: the exact curvature wherever it is positive, its magnitude where not;
        - ``"bound"`` drops the first term where it is negative: an upper bound of ``f''`` (damped Newton steps),
          equal to ``f''`` wherever ``p >= 1 / (1 + gamma)``, continuous and strictly positive;
        - ``"exact"`` returns ``f''`` itself, negative values included.

        The safeguarded values are floored at the smallest normal float64 so they stay > 0 where ``f''``
        underflows. For multiclass, the safeguard applies to ``f''`` before it is combined into the diagonal
        ``d^2 FL / d z_j^2``. With ``gamma = 0`` all three equal the logloss hessian.
        Why "abs" is the default (README, "Which hessian"; ``benchmarks/hessian_choice.py``): boosting from the
        focal init score, as every focal_boost trainer does, rarely reaches the negative region, and there "abs"
        equals the exact hessian while "bound" damps every sample with ``p < 1/(1+gamma)`` and ended with a higher
        held-out focal loss in 6 of 8 settings; started from the log-odds instead, "exact" failed to learn while
        "abs" and "bound" both trained (2 settings each).
    """

    def __init__(self, gamma: float = 2.0, alpha: float | ArrayLike | None = None, hessian: str = "abs") -> None:
        self.gamma = check_gamma(gamma)
        self.alpha = check_alpha(alpha)
        self.hessian = check_hessian(hessian)

    # -- description --------------------------------------------------------------------------------------------
    @property
    def n_classes(self) -> int | None:
        """K when ``alpha`` is a sequence of class weights, else ``None`` (binary, or K taken from the data)."""
        return len(self.alpha) if isinstance(self.alpha, tuple) else None

    def __repr__(self) -> str:
        return f"FocalLoss(gamma={self.gamma!r}, alpha={self.alpha!r}, hessian={self.hessian!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FocalLoss) and (self.gamma, self.alpha, self.hessian) == (
            other.gamma,
            other.alpha,
            other.hessian,
        )

    def __hash__(self) -> int:
        return hash((self.gamma, self.alpha, self.hessian))

    # -- validation, once -----------------------------------------------------------------------------------------
    def _class_alpha(self, n_classes: int) -> np.ndarray:
        if self.alpha is None:
            return np.ones(n_classes)
        if isinstance(self.alpha, float):
            raise ValueError(
                f"alpha={self.alpha!r} is a binary weight; multiclass focal loss (K={n_classes}) needs alpha=None "
                "or a sequence of K class weights"
            )
        if len(self.alpha) != n_classes:
            raise ValueError(f"alpha must have one weight per class (K={n_classes}), got alpha={self.alpha!r}")
        return np.asarray(self.alpha)

    def _raw_classes(self, raw: Any) -> np.ndarray:
        """Check raw scores; K comes from ``alpha`` when it is a sequence, else from raw's second dimension."""
        arr = np.asarray(raw)
        if self.n_classes is not None:
            if arr.ndim == 2 and arr.shape[1] != self.n_classes:
                raise ValueError(f"raw has {arr.shape[1]} columns but alpha has {self.n_classes} class weights "
                                 f"(alpha={self.alpha!r}); they must agree")
            return check_raw(raw, self.n_classes)
        if arr.ndim == 2:
            if isinstance(self.alpha, float):
                self._class_alpha(arr.shape[1])
            return check_raw(raw, arr.shape[1])
        return check_raw(raw, None)

    def prepare_target(self, y: ArrayLike, sample_weight: ArrayLike | None = None, n_classes: int | None = None
                       ) -> _Target:
        """Validate labels and weights once; the result feeds the unchecked per-round methods of the adapters.

        ``n_classes=None`` means binary unless ``alpha`` is a sequence.
        """
        n_classes = self.n_classes if n_classes is None else n_classes
        if n_classes is not None and n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got n_classes={n_classes!r}")
        if n_classes is None:
            y_arr, hard = check_binary_labels(y)
            w = check_sample_weight(sample_weight, y_arr.shape[0])
            a1, a0 = (1.0, 1.0) if self.alpha is None else (self.alpha, 1.0 - self.alpha)
            if hard:
                fused = _fast.binary_target(y_arr, w, None if self.alpha is None else (a1, a0))
                if fused is not None:
                    return _Target(y_arr.shape[0], None, sign=fused[0], row_weight=fused[1], sample_weight=w)
                # in place: at 1M rows every fresh temporary costs about a millisecond
                sign = y_arr * 2.0
                sign -= 1.0
                row_weight = None
                if self.alpha is not None:
                    row_weight = np.where(sign > 0, a1, a0)
                    if w is not None:
                        row_weight *= w
                elif w is not None:
                    row_weight = w
                return _Target(y_arr.shape[0], None, sign=sign, row_weight=row_weight, sample_weight=w)
            ones = np.ones_like(y_arr) if w is None else w
            return _Target(y_arr.shape[0], None, w_pos=ones * y_arr * a1, w_neg=ones * (1.0 - y_arr) * a0,
                           sample_weight=w)
        labels = check_multiclass_labels(y, n_classes)
        w = check_sample_weight(sample_weight, labels.shape[0])
        class_alpha = self._class_alpha(n_classes)
        row_weight = None
        if self.alpha is not None or w is not None:
            row_weight = class_alpha[labels] * (1.0 if w is None else w)
        return _Target(labels.shape[0], n_classes, labels=labels, row_weight=row_weight, sample_weight=w)

    def _checked(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None) -> tuple[_Target, np.ndarray]:
        raw_arr = self._raw_classes(raw)
        n_classes = raw_arr.shape[1] if raw_arr.ndim == 2 else None
        target = self.prepare_target(y, sample_weight, n_classes)
        check_same_length(np.empty(target.n_samples), raw_arr)
        return target, raw_arr

    # -- unchecked per-round kernels (inputs come from prepare_target and a float64 raw of the right shape) -------
    def _loss(self, t: _Target, raw: np.ndarray) -> np.ndarray:
        if t.n_classes is not None:
            s, _ = _math.softmax_margins(raw, t.labels)
            out = _math.margin_loss(s, self.gamma)
        elif t.sign is not None:
            out = _math.margin_loss(raw * t.sign, self.gamma)
        else:
            f1, _, _, f0, _, _ = _math.margin_pair(raw, self.gamma, self.hessian)
            return t.w_pos * f1 + t.w_neg * f0
        return out if t.row_weight is None else out * t.row_weight

    def _grad_hess(self, t: _Target, raw: np.ndarray, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Unchecked grad/hess. ``raw`` may be float32 (converted exactly); ``dtype=np.float32`` rounds the float64
        results once, which is what LightGBM (``score_t``) and XGBoost (``GradientPair``) store anyway: returning
        float32 saves the engine a conversion copy and halves the arrays."""
        if _fast.enabled(raw.size) and (t.n_classes is not None or t.sign is not None):
            weight = _NO_WEIGHT if t.row_weight is None else t.row_weight
            if raw.dtype != np.float32 and raw.dtype != np.float64:
                raw = raw.astype(np.float64)
            if not (raw.flags.c_contiguous or (raw.ndim == 2 and raw.flags.f_contiguous)):
                raw = np.ascontiguousarray(raw)
            code = _fast.hessian_code(self.hessian)
            if t.n_classes is not None:
                return _fast.softmax_grad_hess(raw, t.labels, weight, self.gamma, code, dtype)
            return _fast.binary_grad_hess(raw, t.sign, weight, self.gamma, code, dtype)
        grad, hess = self._grad_hess_numpy(t, np.asarray(raw, dtype=np.float64))
        if dtype is not np.float64:
            grad, hess = grad.astype(dtype), hess.astype(dtype)
        return grad, hess

    def _grad_hess_numpy(self, t: _Target, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if t.n_classes is not None:
            return self._softmax_grad_hess(t, raw)
        if t.sign is None:
            _, g1, h1, _, g0, h0 = _math.margin_pair(raw, self.gamma, self.hessian)
            return t.w_pos * g1 - t.w_neg * g0, t.w_pos * h1 + t.w_neg * h0
        g, h = _math.margin_grad_hess(raw * t.sign, self.gamma, self.hessian)
        g *= t.sign
        if t.row_weight is not None:
            g *= t.row_weight
            h *= t.row_weight
        return g, h

    def _softmax_grad_hess(self, t: _Target, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # With r_j = p_j / (1 - p_y) (softmax over the other classes) and g, h the margin derivatives f'(s), f''(s):
        #   dFL/dz_y = g,          dFL/dz_j = -r_j g
        #   d2FL/dz_y2 = h,        d2FL/dz_j2 = r_j^2 h - r_j (1 - r_j) g      (g <= 0, so >= 0 whenever h >= 0)
        rows = np.arange(raw.shape[0])
        s, log_r = _math.softmax_margins(raw, t.labels)
        g, h = _math.margin_grad_hess(s, self.gamma, self.hessian)
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
        grad[rows, t.labels] = g
        hess[rows, t.labels] = h
        if self.hessian != "exact":
            np.maximum(hess, _math.TINY, out=hess)
        if t.row_weight is not None:
            grad *= t.row_weight[:, None]
            hess *= t.row_weight[:, None]
        return grad, hess

    # -- public, validated ----------------------------------------------------------------------------------------
    def loss(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> np.ndarray:
        """Per-sample focal loss, shape ``(n_samples,)``, times ``sample_weight`` if given.

        ``y``: labels, shape ``(n_samples,)``; ``raw``: raw scores (logits), ``(n_samples,)`` binary or
        ``(n_samples, K)`` multiclass.
        """
        target, raw_arr = self._checked(y, raw, sample_weight)
        return self._loss(target, raw_arr)

    def grad_hess(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and hessian (diagonal for multiclass) of the loss with respect to ``raw``, same shape as raw.

        The hessian follows the ``hessian`` setting. Both are multiplied by ``sample_weight`` if given.
        """
        target, raw_arr = self._checked(y, raw, sample_weight)
        return self._grad_hess(target, raw_arr)

    def grad(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> np.ndarray:
        """Gradient of the per-sample loss with respect to ``raw`` (raw scores), same shape as ``raw``."""
        return self.grad_hess(y, raw, sample_weight)[0]

    def hess(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> np.ndarray:
        """Second derivative (diagonal for multiclass) w.r.t. ``raw``, same shape as ``raw``; see ``hessian``."""
        return self.grad_hess(y, raw, sample_weight)[1]

    def eval(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Weighted mean focal loss ``sum(w * FL) / sum(w)`` of raw scores ``raw``; a float."""
        target, raw_arr = self._checked(y, raw, sample_weight)
        return self._eval(target, raw_arr)

    def _eval(self, t: _Target, raw: np.ndarray) -> float:
        total = float(t.n_samples) if t.sample_weight is None else float(np.sum(t.sample_weight))
        if not total > 0:
            raise ValueError(f"sample_weight must have a positive sum to average the loss, got sum={total!r}")
        return float(np.sum(self._loss(t, raw)) / total)

    # -- init score ---------------------------------------------------------------------------------------------
    def init_score(self, y: ArrayLike, sample_weight: ArrayLike | None = None, n_classes: int | None = None
                   ) -> float | np.ndarray:
        """The constant raw score that minimises the (weighted) total focal loss over ``y``.

        Binary: a float ``z*``; multiclass: the length-K array of log-probabilities ``log softmax(z*)``
        (``logsumexp`` of it is 0). K comes from ``alpha`` when it is a sequence, else from ``n_classes``, else
        from the labels (any label above 1 means multiclass with K = max label + 1).

        The binary minimiser solves ``A f'(z) = B f'(-z)`` with ``A = sum w alpha_1 y`` and
        ``B = sum w alpha_0 (1 - y)`` (unique: the loss is convex in ``p = sigmoid(z)``), by bracketed root finding;
        gamma = 0 gives the closed form ``log(A / B)``. Multiclass minimises ``sum_k c_k f(s_k)`` over z, with
        ``c_k`` the alpha-weighted class totals (closed form ``log(c_k / sum c)`` at gamma = 0).
        """
        y_arr = np.asarray(y)
        if y_arr.ndim != 1 or y_arr.shape[0] == 0:
            raise ValueError(f"init_score needs a non-empty 1-D y, got shape {y_arr.shape}")
        if n_classes is None and self.n_classes is None and y_arr.dtype.kind in "fiub":
            finite = y_arr[np.isfinite(y_arr.astype(np.float64))]
            if finite.size and finite.max() > 1:
                n_classes = int(finite.max()) + 1
        if n_classes == 2 and self.n_classes is None:
            n_classes = None
        t = self.prepare_target(y_arr, sample_weight, n_classes)
        if t.n_classes is None:
            return self._binary_init(t)
        return self._softmax_init(t)

    def _binary_init(self, t: _Target) -> float:
        if t.sign is not None:
            w = np.ones(t.n_samples) if t.row_weight is None else t.row_weight
            a = float(np.sum(w[t.sign > 0]))
            b = float(np.sum(w[t.sign < 0]))
        else:
            a, b = float(np.sum(t.w_pos)), float(np.sum(t.w_neg))
        if not (a > 0 and b > 0):
            raise ValueError(
                "init_score needs positive (alpha- and sample-) weight on both classes; the loss-minimising score is "
                f"infinite otherwise. Got weighted positives={a!r}, weighted negatives={b!r}"
            )
        z0 = float(np.log(a) - np.log(b))
        if self.gamma == 0.0:
            return z0

        def slope(z: float) -> float:
            _, g1, _, _, g0, _ = _math.margin_pair(np.array([z]), self.gamma, "exact")
            return float(a * g1[0] - b * g0[0])

        lo, hi = z0 - 1.0, z0 + 1.0
        while slope(lo) > 0:
            lo -= 2.0 * (hi - lo)
        while slope(hi) < 0:
            hi += 2.0 * (hi - lo)
        return float(optimize.brentq(slope, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500))

    def _softmax_init(self, t: _Target) -> np.ndarray:
        k = t.n_classes
        w = np.ones(t.n_samples) if t.row_weight is None else t.row_weight
        totals = np.bincount(t.labels, weights=w, minlength=k)
        if np.any(totals <= 0):
            missing = [int(i) for i in np.flatnonzero(totals <= 0)]
            raise ValueError(
                f"init_score needs positive (alpha- and sample-) weight on every class; classes {missing} have none, "
                "so the loss-minimising score is -inf for them"
            )
        c = totals / totals.sum()
        start = np.log(c)
        if self.gamma == 0.0:
            return start - logsumexp(start)
        grid_target = _Target(k, k, labels=np.arange(k), row_weight=c)

        def total_and_grad(free: np.ndarray) -> tuple[float, np.ndarray]:
            raw = np.tile(np.concatenate([[0.0], free]), (k, 1))
            grad = self._softmax_grad_hess(grid_target, raw)[0]
            return float(np.sum(self._loss(grid_target, raw))), grad.sum(axis=0)[1:]

        free0 = start[1:] - start[0]
        res = optimize.minimize(total_and_grad, free0, jac=True, method="BFGS", options={"gtol": 1e-13})
        # Polish: the stationarity equations have a unique root; hybr reaches it to ~1e-14.
        root = optimize.root(lambda x: total_and_grad(x)[1], res.x, method="hybr", options={"xtol": 1e-14})
        best = root.x if root.success else res.x
        z = np.concatenate([[0.0], best])
        return z - logsumexp(z)

    # -- probabilities -------------------------------------------------------------------------------------------
    def predict_proba(self, raw: ArrayLike, calibrate: bool = True) -> np.ndarray:
        r"""Class probabilities from raw scores: shape ``(n_samples, 2)`` for binary raw ``(n_samples,)``,
        ``(n_samples, K)`` for multiclass raw ``(n_samples, K)``.

        ``calibrate=False`` returns ``sigmoid``/``softmax`` of raw. ``calibrate=True`` (default) returns the class
        posterior ``eta`` for which ``raw`` minimises the expected focal loss (Charoenphakdee et al., 2021): focal
        loss is classification-calibrated but not proper, so ``softmax(raw)`` is not the posterior. With
        ``p = softmax(raw)`` (or ``sigmoid``) and ``phi(p) = -(1-p)^gamma log p``, the first-order condition
        ``eta_k alpha_k phi'(p_k) = lambda`` for all k gives

            eta_k = (1 / (alpha_k |phi'(p_k)|)) / sum_j (1 / (alpha_j |phi'(p_j)|)),
            |phi'(p)| = (1-p)^(gamma-1) ((1-p)/p - gamma log p).

        Binary: ``logit(eta) = log(alpha_0 / alpha_1) + log|phi'(1-p)| - log|phi'(p)|``. The logs are evaluated from
        the class margins (``focal_boost._math.log_abs_dphi``), so the map is finite at the ends of (0, 1), strictly
        increasing in each class's raw score (``phi`` is convex, so rankings are unchanged) and the identity at
        gamma = 0 with ``alpha=None``.
        """
        raw_arr = self._raw_classes(raw)
        if raw_arr.ndim == 1:
            if not calibrate:
                return np.column_stack([expit(-raw_arr), expit(raw_arr)])
            logit = _math.log_abs_dphi(-raw_arr, self.gamma) - _math.log_abs_dphi(raw_arr, self.gamma)
            if self.alpha is not None:
                logit += np.log(1.0 - self.alpha) - np.log(self.alpha)
            return np.column_stack([expit(-logit), expit(logit)])
        if not calibrate:
            return softmax(raw_arr, axis=1)
        class_alpha = self._class_alpha(raw_arr.shape[1])
        if np.any(class_alpha == 0):
            raise ValueError(
                f"calibrated probabilities need every alpha > 0 (a class of weight 0 carries no information), "
                f"got alpha={self.alpha!r}; use calibrate=False"
            )
        logits = -_math.log_abs_dphi(_math.softmax_all_margins(raw_arr), self.gamma) - np.log(class_alpha)
        return softmax(logits, axis=1)
