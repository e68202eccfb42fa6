"""The focal loss on raw scores: binary (sigmoid), multiclass (softmax) and multi-label (one sigmoid per label).

References
----------
T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár. "Focal Loss for Dense Object Detection", ICCV 2017.
N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul, M. Sugiyama. "On Focal Loss for Class-Posterior Probability
Estimation: A Theoretical Perspective", CVPR 2021.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, logsumexp, softmax

from . import _kernels, _math
from ._math import Hessian
from ._validation import (
    as_float_array,
    check_alpha,
    check_binary_labels,
    check_gamma,
    check_hessian,
    check_multiclass_labels,
    check_multilabel_labels,
    check_raw,
    check_sample_weight,
)

__all__ = ["FocalLoss"]

class FocalLoss:
    r"""Focal loss of raw scores (logits), binary, softmax multiclass or multi-label, with exact derivatives.

    Binary, raw ``z`` of shape ``(n_samples,)``, ``p = sigmoid(z)``, label ``y`` in [0, 1] (soft labels allowed)::

        FL(y, z) = y * alpha_1 * f(z) + (1 - y) * alpha_0 * f(-z),   f(s) = -(1 - sigmoid(s))^gamma log sigmoid(s)

    with ``alpha_1 = alpha`` and ``alpha_0 = 1 - alpha`` (both 1 when ``alpha is None``). Multiclass, raw ``z`` of
    shape ``(n_samples, K)``, ``p = softmax(z)``, integer ``y`` in 0..K-1::

        FL(y, z) = -alpha_y * (1 - p_y)^gamma * log p_y

    Multi-label over L labels (RetinaNet's form: one sigmoid per label), raw ``Z`` of shape ``(n_samples, L)``,
    labels ``Y`` of shape ``(n_samples, L)`` in [0, 1]: the sum over labels of the binary term,
    ``FL(Y_i, Z_i) = sum_j FL_binary(Y_ij, Z_ij; alpha_j)``. This task is declared, never guessed from ``alpha``:
    ``task(n_labels=L)``, ``prepare_target(Y, w, n_labels=L)``, or a 2-D ``y`` of raw's shape in :meth:`loss`,
    :meth:`grad_hess` and :meth:`eval`.

    ``gamma = 0`` is (alpha-weighted) cross-entropy. All derivatives are with respect to the raw scores and are exact
    and finite for every finite raw score (see ``focal_boost._math``).

    Parameters
    ----------
    gamma : float >= 0, default 2.0
        Focusing parameter.
    alpha : None, float in (0, 1), or sequence of K non-negative floats, default None
        Class weights. A float is the weight of the positive class in the binary loss (negatives get ``1 - alpha``).
        A sequence makes the loss multiclass with ``K = len(alpha)``. ``None`` weights every class 1. In the
        multi-label task a float is the weight of every label's positives (negatives ``1 - alpha``) and a sequence
        of L floats in (0, 1) gives each label its own.
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

    # -- the task, resolved once ------------------------------------------------------------------------------------
    def task(self, n_classes: int | None = None, n_labels: int | None = None) -> Task:
        """The binary, softmax(K) or multi-label(L) task of this loss: ``n_classes=None`` is binary unless ``alpha``
        is a sequence (then K = len(alpha)); ``n_classes=K`` is softmax over K >= 2 classes (alpha must agree);
        ``n_labels=L`` is multi-label over L >= 2 labels (alpha None, a float, or L per-label floats). Trainers
        resolve it once per training and pass it (or the targets it prepares) down."""
        if n_labels is not None:
            if n_classes is not None:
                raise ValueError(f"give n_classes (softmax) or n_labels (multi-label), not both; got "
                                 f"n_classes={n_classes!r}, n_labels={n_labels!r}")
            return _MultiLabel(self, n_labels)
        if n_classes is None:
            n_classes = self.n_classes
        if n_classes is None:
            return _Binary(self)
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got n_classes={n_classes!r}")
        return _Softmax(self, int(n_classes))

    def _task_of_raw(self, raw: Any, multi_label: bool = False) -> tuple[Task, np.ndarray]:
        """The public methods' rule: 1-D raw is binary, ``(n, K)`` raw is softmax over K classes, or multi-label
        over its L columns when ``multi_label``."""
        arr = np.asarray(raw)
        if multi_label:
            if arr.ndim != 2:
                raise ValueError(f"raw must have shape (n_samples, n_labels) for multi-label focal loss, got shape "
                                 f"{arr.shape}")
            task = self.task(n_labels=arr.shape[1])
            return task, task.check_raw(raw)
        if self.n_classes is not None and arr.ndim == 2 and arr.shape[1] != self.n_classes:
            raise ValueError(f"raw has {arr.shape[1]} columns but alpha has {self.n_classes} class weights "
                             f"(alpha={self.alpha!r}); they must agree")
        task = self.task(arr.shape[1] if arr.ndim == 2 else None)
        return task, task.check_raw(raw)

    def prepare_target(self, y: ArrayLike, sample_weight: ArrayLike | None = None, n_classes: int | None = None,
                       n_labels: int | None = None) -> Target:
        """Validate labels ``y`` ((n,), or (n, L) with ``n_labels=L``) and ``sample_weight`` (n,) once for the task
        ``self.task(n_classes, n_labels)``.

        The returned target owns the unchecked per-round math the adapters call: ``loss(raw)``,
        ``grad_hess(raw)``, ``weighted_sum(raw)``, ``eval(raw)``, ``class_totals()`` and ``init_score()``.
        """
        return self.task(n_classes, n_labels).prepare_target(y, sample_weight)

    def _checked(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None) -> tuple[Target, np.ndarray]:
        # A 2-D y declares the multi-label task: its labels must match raw's shape.
        multi_label = np.ndim(y) == 2
        if multi_label and np.shape(y) != np.shape(raw):
            raise ValueError(f"a 2-D y (multi-label) must have raw's shape, got y of shape {np.shape(y)} and raw of "
                             f"shape {np.shape(raw)}")
        task, raw_arr = self._task_of_raw(raw, multi_label)
        target = task.prepare_target(y, sample_weight)
        if target.n_samples != raw_arr.shape[0]:
            raise ValueError(f"y and raw must have the same number of samples, got len(y)={target.n_samples} "
                             f"and len(raw)={raw_arr.shape[0]}")
        return target, raw_arr

    # -- public, validated ----------------------------------------------------------------------------------------
    def loss(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> np.ndarray:
        """Per-sample focal loss, shape ``(n_samples,)``, times ``sample_weight`` if given.

        ``y``: labels, shape ``(n_samples,)``, or a label matrix ``(n_samples, L)`` (multi-label: the loss is summed
        over the labels); ``raw``: raw scores (logits), ``(n_samples,)`` binary or ``(n_samples, K)`` multiclass, or
        ``(n_samples, L)`` multi-label.
        """
        target, raw_arr = self._checked(y, raw, sample_weight)
        return target.loss(raw_arr)

    def grad_hess(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and hessian (diagonal for multiclass) of the loss with respect to ``raw``, same shape as raw.

        A 2-D ``y`` of raw's shape ``(n_samples, L)`` is the multi-label task (elementwise binary derivatives).
        The hessian follows the ``hessian`` setting. Both are multiplied by ``sample_weight`` if given.
        """
        target, raw_arr = self._checked(y, raw, sample_weight)
        return target.grad_hess(raw_arr)

    def grad(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> np.ndarray:
        """Gradient of the per-sample loss with respect to ``raw`` (raw scores), same shape as ``raw``."""
        return self.grad_hess(y, raw, sample_weight)[0]

    def hess(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> np.ndarray:
        """Second derivative (diagonal for multiclass) w.r.t. ``raw``, same shape as ``raw``; see ``hessian``."""
        return self.grad_hess(y, raw, sample_weight)[1]

    def eval(self, y: ArrayLike, raw: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Weighted mean focal loss ``sum(w * FL) / sum(w)`` of raw scores ``raw``; a float."""
        target, raw_arr = self._checked(y, raw, sample_weight)
        return target.eval(raw_arr)

    # -- init score ---------------------------------------------------------------------------------------------
    def init_score(self, y: ArrayLike, sample_weight: ArrayLike | None = None, n_classes: int | None = None
                   ) -> float | np.ndarray:
        """The constant raw score that minimises the (weighted) total focal loss over ``y``.

        Binary: a float ``z*``; multi-label (``y`` a label matrix (n, L)): the length-L array of each label's binary
        optimum; multiclass: the length-K array of log-probabilities ``log softmax(z*)``
        (``logsumexp`` of it is 0). K comes from ``alpha`` when it is a sequence, else from ``n_classes``, else
        from the labels (any label above 1 means multiclass with K = max label + 1; ``n_classes=2`` is binary).

        The binary minimiser solves ``A f'(z) = B f'(-z)`` with ``A = sum w alpha_1 y`` and
        ``B = sum w alpha_0 (1 - y)`` (unique: the loss is convex in ``p = sigmoid(z)``), by bracketed root finding;
        gamma = 0 gives the closed form ``log(A / B)``. Multiclass minimises ``sum_k c_k f(s_k)`` over z, with
        ``c_k`` the alpha-weighted class totals (closed form ``log(c_k / sum c)`` at gamma = 0). It depends on the
        data only through the class totals: see :meth:`init_score_from_totals`.
        """
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[0] > 0 and n_classes is None:
            # a label matrix (n, L): the multi-label task, one binary init score per label
            return self.prepare_target(y_arr, sample_weight, n_labels=y_arr.shape[1]).init_score()
        if y_arr.ndim != 1 or y_arr.shape[0] == 0:
            raise ValueError(f"init_score needs a non-empty 1-D y (or a 2-D label matrix), got shape {y_arr.shape}")
        if n_classes is None and self.n_classes is None and y_arr.dtype.kind in "fiub":
            finite = y_arr[np.isfinite(y_arr.astype(np.float64))]
            if finite.size and finite.max() > 1:
                n_classes = int(finite.max()) + 1
        if n_classes == 2 and self.n_classes is None:
            n_classes = None
        return self.prepare_target(y_arr, sample_weight, n_classes).init_score()

    def init_score_from_totals(self, totals: ArrayLike, n_classes: int | None = None, n_labels: int | None = None
                               ) -> float | np.ndarray:
        """:meth:`init_score` from the sample weight of each class alone (alpha is applied here).

        ``totals``: binary (``n_classes=None`` and alpha not a sequence) ``[negatives, positives]``; softmax ``(K,)``
        with ``n_classes=K`` (or K = len(alpha)); multi-label ``(L, 2)``, one ``[negatives, positives]`` row per
        label, with ``n_labels=L``. Partial totals add up, so a distributed training sums each partition's
        ``class_totals()`` and solves once.
        """
        task = self.task(n_classes, n_labels)
        if isinstance(task, _MultiLabel):
            arr = as_float_array(totals, "totals", (2,))
            if arr.shape != (task.n_labels, 2) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"totals must be ({task.n_labels}, 2) finite weights >= 0 (per label: negatives, "
                                 f"positives), got totals={arr.tolist()!r}")
            return task.init_score_from_totals(arr)
        arr = as_float_array(totals, "totals", (1,))
        expected = 2 if task.n_classes is None else task.n_classes
        if arr.shape[0] != expected or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"totals must be {expected} finite weights >= 0 (one per class"
                             f"{', negatives first' if task.n_classes is None else ''}), got totals={arr.tolist()!r}")
        return task.init_score_from_totals(arr)

    # -- probabilities -------------------------------------------------------------------------------------------
    def predict_proba(self, raw: ArrayLike, calibrate: bool = True, multi_label: bool = False) -> np.ndarray:
        r"""Class probabilities from raw scores: shape ``(n_samples, 2)`` for binary raw ``(n_samples,)``,
        ``(n_samples, K)`` for multiclass raw ``(n_samples, K)``; with ``multi_label=True``, raw ``(n_samples, L)``
        gives the ``(n_samples, L)`` probabilities of each label's positive class (the binary map per label, with
        that label's alpha; rows need not sum to 1).

        ``calibrate=False`` returns ``sigmoid``/``softmax`` of raw. ``calibrate=True`` (default) returns the class
        posterior ``eta`` for which ``raw`` minimises the expected focal loss (Charoenphakdee et al., 2021): focal
        loss is classification-calibrated but not proper, so ``softmax(raw)`` is not the posterior. With
        ``p = softmax(raw)`` (or ``sigmoid``) and ``phi(p) = -(1-p)^gamma log p``, the first-order condition
        ``eta_k alpha_k phi'(p_k) = lambda`` for all k gives

            eta_k = (1 / (alpha_k |phi'(p_k)|)) / sum_j (1 / (alpha_j |phi'(p_j)|)),
            |phi'(p)| = (1-p)^(gamma-1) ((1-p)/p - gamma log p).

        Binary: ``logit(eta) = log(alpha_0 / alpha_1) + log|phi'(1-p)| - log|phi'(p)|``. The logs are evaluated from
        the class margins (``focal_boost._math.log_abs_dphi``), so the map is finite at the ends of (0, 1) and the
        identity at gamma = 0 with ``alpha=None``. Binary and multi-label: strictly increasing in the raw score, so
        rankings (ROC/PR curves) are unchanged. Multiclass: ``eta_k`` increases with ``p_k``, so with
        ``alpha=None`` the argmax is unchanged, but the normalisation mixes the classes: one class's ranking across
        samples can change (macro PR-AUC moved by up to 0.009 either way on the benchmark's real tables,
        ``benchmarks/results/calibration_multiclass.md``), and with per-class ``alpha`` the argmax can change too.
        """
        task, raw_arr = self._task_of_raw(raw, multi_label)
        return task.predict_proba(raw_arr, calibrate)


# -- the three tasks, fixed when resolved ----------------------------------------------------------------------------
class _Task:
    """Binary (sigmoid), softmax(K) or multi-label(L) focal loss: made once by :meth:`FocalLoss.task` and then never
    re-decided.

    ``n_classes`` is K for softmax and None otherwise; ``n_labels`` is L for multi-label and None otherwise;
    ``n_outputs`` is the number of raw scores per sample (1 binary: raw is 1-D). ``prepare_target`` validates labels
    and weights into a target object that owns the per-round math.
    """

    n_classes: int | None
    n_labels: int | None = None

    @property
    def n_outputs(self) -> int:
        return self.n_classes or self.n_labels or 1

    def __init__(self, loss: FocalLoss) -> None:
        self.loss = loss
        self.gamma = loss.gamma
        self.mode = Hessian[loss.hessian.upper()]

    def __repr__(self) -> str:
        size = f"n_labels={self.n_labels!r}" if self.n_labels is not None else f"n_classes={self.n_classes!r}"
        return f"{type(self).__name__}({self.loss!r}, {size})"


class _Binary(_Task):
    n_classes = None

    def __init__(self, loss: FocalLoss) -> None:
        super().__init__(loss)
        self.alpha_pos, self.alpha_neg = (1.0, 1.0) if loss.alpha is None else (loss.alpha, 1.0 - loss.alpha)

    def check_raw(self, raw: Any) -> np.ndarray:
        return check_raw(raw, None)

    def prepare_target(self, y: Any, sample_weight: Any) -> _BinaryTarget | _SoftBinaryTarget:
        y_arr, hard = check_binary_labels(y)
        w = check_sample_weight(sample_weight, y_arr.shape[0])
        if not hard:
            return _SoftBinaryTarget(self, y_arr, w)
        # int8: 1 byte per row instead of 8; the kernels multiply by it exactly.
        sign = np.where(y_arr > 0, np.int8(1), np.int8(-1))
        return _BinaryTarget(self, sign, self.row_weight(sign, w), w)

    def row_weight(self, sign: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray | None:
        """``alpha_t * sample_weight`` per row of hard labels (None when every row weighs 1)."""
        if self.loss.alpha is None:
            return sample_weight
        row_weight = np.where(sign > 0, self.alpha_pos, self.alpha_neg)
        if sample_weight is not None:
            row_weight *= sample_weight
        return row_weight

    def init_score_from_totals(self, totals: np.ndarray) -> float:
        """The constant raw score minimising ``A f(z) + B f(-z)``: ``A = alpha_1 * totals[1]`` (positives),
        ``B = alpha_0 * totals[0]`` (negatives); solves ``A f'(z) = B f'(-z)`` (unique: the loss is convex in
        ``p = sigmoid(z)``) by bracketed root finding; gamma = 0 gives ``log(A / B)``."""
        a = self.alpha_pos * float(totals[1])
        b = self.alpha_neg * float(totals[0])
        if not (a > 0 and b > 0):
            raise ValueError(
                "init_score needs positive (alpha- and sample-) weight on both classes; the loss-minimising score is "
                f"infinite otherwise. Got weighted positives={a!r}, weighted negatives={b!r}"
            )
        z0 = float(np.log(a) - np.log(b))
        if self.gamma == 0.0:
            return z0

        def slope(z: float) -> float:
            _, g1, _, _, g0, _ = _math.margin_pair(np.array([z]), self.gamma, Hessian.EXACT)
            return float(a * g1[0] - b * g0[0])

        lo, hi = z0 - 1.0, z0 + 1.0
        while slope(lo) > 0:
            lo -= 2.0 * (hi - lo)
        while slope(hi) < 0:
            hi += 2.0 * (hi - lo)
        from scipy import optimize  # imported here: it costs ~0.5 s, and `import focal_boost` should not

        return float(optimize.brentq(slope, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500))

    def predict_proba(self, raw: np.ndarray, calibrate: bool) -> np.ndarray:
        if not calibrate:
            return np.column_stack([expit(-raw), expit(raw)])
        logit = _math.log_abs_dphi(-raw, self.gamma) - _math.log_abs_dphi(raw, self.gamma)
        if self.loss.alpha is not None:
            logit += np.log(1.0 - self.loss.alpha) - np.log(self.loss.alpha)
        return np.column_stack([expit(-logit), expit(logit)])


class _Softmax(_Task):
    def __init__(self, loss: FocalLoss, n_classes: int) -> None:
        super().__init__(loss)
        if isinstance(loss.alpha, float):
            raise ValueError(
                f"alpha={loss.alpha!r} is a binary weight; multiclass focal loss (K={n_classes}) needs alpha=None "
                "or a sequence of K class weights"
            )
        if loss.alpha is not None and len(loss.alpha) != n_classes:
            raise ValueError(f"alpha must have one weight per class (K={n_classes}), got alpha={loss.alpha!r}")
        self.n_classes = n_classes
        self.class_alpha = np.ones(n_classes) if loss.alpha is None else np.asarray(loss.alpha)

    def check_raw(self, raw: Any) -> np.ndarray:
        return check_raw(raw, self.n_classes)

    def prepare_target(self, y: Any, sample_weight: Any) -> _SoftmaxTarget:
        labels = check_multiclass_labels(y, self.n_classes)
        w = check_sample_weight(sample_weight, labels.shape[0])
        return _SoftmaxTarget(self, labels, self.row_weight(labels, w), w)

    def row_weight(self, labels: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray | None:
        """``alpha[label] * sample_weight`` per row (None when every row weighs 1)."""
        if self.loss.alpha is None and sample_weight is None:
            return None
        return self.class_alpha[labels] * (1.0 if sample_weight is None else sample_weight)

    def init_score_from_totals(self, totals: np.ndarray) -> np.ndarray:
        """Log-probabilities ``log softmax(z*)`` of the constant raw score minimising ``sum_k c_k f(s_k)``, with
        ``c_k = alpha_k * totals[k]`` (closed form ``log(c_k / sum c)`` at gamma = 0)."""
        k = self.n_classes
        weighted = self.class_alpha * totals
        if np.any(weighted <= 0):
            missing = [int(i) for i in np.flatnonzero(weighted <= 0)]
            raise ValueError(
                f"init_score needs positive (alpha- and sample-) weight on every class; classes {missing} have none, "
                "so the loss-minimising score is -inf for them"
            )
        c = weighted / weighted.sum()
        start = np.log(c)
        if self.gamma == 0.0:
            return start - logsumexp(start)
        labels = np.arange(k)
        grid = _SoftmaxTarget(self, labels, c, None)

        def total_and_grad(free: np.ndarray) -> tuple[float, np.ndarray]:
            raw = np.tile(np.concatenate([[0.0], free]), (k, 1))
            grad = _math.softmax_grad_hess(raw, labels, c, self.gamma, self.mode)[0]
            return float(np.sum(grid.loss(raw))), grad.sum(axis=0)[1:]

        free0 = start[1:] - start[0]
        from scipy import optimize

        res = optimize.minimize(total_and_grad, free0, jac=True, method="BFGS", options={"gtol": 1e-13})
        # Polish: the stationarity equations have a unique root; hybr reaches it to ~1e-14.
        root = optimize.root(lambda x: total_and_grad(x)[1], res.x, method="hybr", options={"xtol": 1e-14})
        best = root.x if root.success else res.x
        z = np.concatenate([[0.0], best])
        return z - logsumexp(z)

    def predict_proba(self, raw: np.ndarray, calibrate: bool) -> np.ndarray:
        if not calibrate:
            return softmax(raw, axis=1)
        if np.any(self.class_alpha == 0):
            raise ValueError(
                f"calibrated probabilities need every alpha > 0 (a class of weight 0 carries no information), "
                f"got alpha={self.loss.alpha!r}; use calibrate=False"
            )
        logits = -_math.log_abs_dphi(_math.softmax_all_margins(raw), self.gamma) - np.log(self.class_alpha)
        return softmax(logits, axis=1)


class _MultiLabel(_Task):
    """L binary focal terms per sample, one per label (label j: alpha ``alpha_pos[j]`` on positives and
    ``alpha_neg[j] = 1 - alpha_pos[j]`` on negatives, both 1 with ``alpha=None``). Everything per element is the
    binary task's: ``label_tasks[j]`` is the binary task of label j."""

    n_classes = None

    def __init__(self, loss: FocalLoss, n_labels: int) -> None:
        super().__init__(loss)
        if isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)) or n_labels < 2:
            raise ValueError(f"n_labels must be an integer >= 2 (one label is the binary task), got "
                             f"n_labels={n_labels!r}")
        self.n_labels = int(n_labels)
        alpha = loss.alpha
        if isinstance(alpha, tuple):
            if len(alpha) != self.n_labels or not all(0.0 < a < 1.0 for a in alpha):
                raise ValueError(f"alpha for multi-label focal loss must be None, a float in (0, 1) or one float in "
                                 f"(0, 1) per label (L={self.n_labels}), got alpha={alpha!r}")
            per_label: list[float | None] = list(alpha)
        else:
            per_label = [alpha] * self.n_labels
        self.label_tasks = [_Binary(FocalLoss(loss.gamma, a, loss.hessian)) for a in per_label]
        self.alpha_pos = np.array([t.alpha_pos for t in self.label_tasks])
        self.alpha_neg = np.array([t.alpha_neg for t in self.label_tasks])

    def check_raw(self, raw: Any) -> np.ndarray:
        return check_raw(raw, self.n_labels, "multi-label")

    def prepare_target(self, y: Any, sample_weight: Any) -> _MultiLabelTarget | _SoftMultiLabelTarget:
        y_arr, hard = check_multilabel_labels(y, self.n_labels)
        w = check_sample_weight(sample_weight, y_arr.shape[0])
        if not hard:
            return _SoftMultiLabelTarget(self, y_arr, w)
        sign = np.where(y_arr > 0, np.int8(1), np.int8(-1))
        return _MultiLabelTarget(self, sign, self.element_weight(sign, w), w)

    def element_weight(self, sign: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray | None:
        """``alpha_t[j] * sample_weight[i]`` per element (n, L), C order; None when every element weighs 1. The same
        products, in the same order, as the binary task's ``row_weight`` of each column."""
        if self.loss.alpha is None:
            if sample_weight is None:
                return None
            return np.repeat(sample_weight[:, None], self.n_labels, axis=1)
        weight = np.where(sign > 0, self.alpha_pos, self.alpha_neg)
        if sample_weight is not None:
            weight *= sample_weight[:, None]
        return weight

    def init_score_from_totals(self, totals: np.ndarray) -> np.ndarray:
        """Each label's binary optimum from its ``[negatives, positives]`` row of ``totals`` (L, 2)."""
        scores = []
        for j, task in enumerate(self.label_tasks):
            try:
                scores.append(task.init_score_from_totals(totals[j]))
            except ValueError as exc:
                raise ValueError(f"label {j}: {exc}") from exc
        return np.array(scores)

    def predict_proba(self, raw: np.ndarray, calibrate: bool) -> np.ndarray:
        """``(n, L)``: column j is the binary task's positive-class probability of ``raw[:, j]``."""
        out = np.empty(raw.shape)
        for j, task in enumerate(self.label_tasks):
            out[:, j] = task.predict_proba(np.ascontiguousarray(raw[:, j]), calibrate)[:, 1]
        return out


# -- validated targets: what a training computes every round --------------------------------------------------------
class _TargetBase:
    """Validated labels and weights of one task, made once per training by :meth:`FocalLoss.prepare_target` and
    reused every boosting round. Methods take raw scores of the task's shape (``(n,)`` binary, ``(n, K)`` softmax,
    ``(n, L)`` multi-label) that the caller has checked (float64, or float32 for :meth:`grad_hess`), and do no
    validation."""

    task: _Task
    n_samples: int
    sample_weight: np.ndarray | None

    @property
    def n_classes(self) -> int | None:
        return self.task.n_classes

    @property
    def n_labels(self) -> int | None:
        return self.task.n_labels

    def loss(self, raw: np.ndarray) -> np.ndarray:
        """Per-row focal loss times alpha and sample weight, ``(n,)``."""
        raise NotImplementedError

    def grad_hess(self, raw: np.ndarray, dtype: Any = np.float64, small: bool = False, offset: Any = None,
                  omp: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and (diagonal) hessian w.r.t. ``raw``, raw's shape, weights applied, in ``dtype`` (float32:
        the float64 values rounded once). ``small``: the numba kernels even for small arrays (see ``_kernels``).
        ``offset``: None, or the constant raw score (binary: a float; softmax: K floats; multi-label: L floats) to
        add to ``raw`` first (an init score the engine does not hold); the numba kernels add it inside their loop.
        ``omp``: split large arrays on numba's OpenMP layer where it shares the engine's libgomp (LightGBM; see
        ``_kernels``)."""
        raise NotImplementedError

    def weight_total(self) -> float:
        return float(self.n_samples) if self.sample_weight is None else float(np.sum(self.sample_weight))

    def weighted_sum(self, raw: np.ndarray) -> tuple[float, float]:
        """``(sum of w * FL, sum of w)``: the two numbers whose ratio is :meth:`eval`, additive over chunks and
        workers."""
        return float(np.sum(self.loss(raw))), self.weight_total()

    def eval(self, raw: np.ndarray) -> float:
        """Weighted mean focal loss ``sum(w * FL) / sum(w)``."""
        total, weight = self.weighted_sum(raw)
        if not weight > 0:
            raise ValueError(f"sample_weight must have a positive sum to average the loss, got sum={weight!r}")
        return total / weight

    def class_totals(self) -> np.ndarray:
        """Sample weight of each class (alpha not applied): binary ``[negatives, positives]`` (soft labels count
        ``w (1 - y)`` and ``w y``), softmax ``(K,)``, multi-label ``(L, 2)`` (a binary row per label).
        :meth:`FocalLoss.init_score_from_totals` takes these."""
        raise NotImplementedError

    def init_score(self) -> float | np.ndarray:
        """The loss-minimising constant raw score of these labels and weights (see :meth:`FocalLoss.init_score`)."""
        return self.task.init_score_from_totals(self.class_totals())

    def split_sample_weight(self, dtype: Any) -> tuple[_TargetBase, np.ndarray | None]:
        """``(the same labels with alpha but no sample weight, the sample weight in dtype)``, made once: for engines
        that weight a gradient after rounding it (XGBoost's builtin objectives do, in float32)."""
        key = np.dtype(dtype).str
        cached = self.__dict__.setdefault("_split", {})
        if key not in cached:
            cached[key] = (self._alpha_only(), None if self.sample_weight is None
                           else self.sample_weight.astype(dtype))
        return cached[key]

    def _alpha_only(self) -> _TargetBase:
        raise NotImplementedError


class _BinaryTarget(_TargetBase):
    """Hard 0/1 labels: ``sign = 2y - 1`` (int8) and ``row_weight = alpha_t * sample_weight`` (None when all 1)."""

    def __init__(self, task: _Binary, sign: np.ndarray, row_weight: np.ndarray | None,
                 sample_weight: np.ndarray | None) -> None:
        self.task, self.sign, self.row_weight, self.sample_weight = task, sign, row_weight, sample_weight
        self.n_samples = sign.shape[0]

    def loss(self, raw: np.ndarray) -> np.ndarray:
        out = _math.margin_loss(raw * self.sign, self.task.gamma)
        return out if self.row_weight is None else out * self.row_weight

    def grad_hess(self, raw: np.ndarray, dtype: Any = np.float64, small: bool = False, offset: Any = None,
                  omp: bool = False, out: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return _kernels.binary_grad_hess(raw, self.sign, self.row_weight, self.task.gamma, self.task.mode, dtype,
                                         small, offset, omp, out)

    def _alpha_only(self) -> _BinaryTarget:
        if self.sample_weight is None:
            return self
        return _BinaryTarget(self.task, self.sign, self.task.row_weight(self.sign, None), None)

    def class_totals(self) -> np.ndarray:
        positive = self.sign > 0
        if self.sample_weight is None:
            n_pos = float(np.count_nonzero(positive))
            return np.array([self.n_samples - n_pos, n_pos])
        return np.array([np.sum(self.sample_weight[~positive]), np.sum(self.sample_weight[positive])])


class _SoftBinaryTarget(_TargetBase):
    """Soft labels in [0, 1]: ``w_pos = y alpha_1 w`` and ``w_neg = (1 - y) alpha_0 w``."""

    def __init__(self, task: _Binary, y: np.ndarray, sample_weight: np.ndarray | None) -> None:
        self.task, self.sample_weight, self.n_samples, self.y = task, sample_weight, y.shape[0], y
        ones = np.ones_like(y) if sample_weight is None else sample_weight
        self.w_pos = ones * y * task.alpha_pos
        self.w_neg = ones * (1.0 - y) * task.alpha_neg
        self._totals = np.array([np.sum(ones * (1.0 - y)), np.sum(ones * y)])

    def loss(self, raw: np.ndarray) -> np.ndarray:
        f1, _, _, f0, _, _ = _math.margin_pair(raw, self.task.gamma, self.task.mode)
        return self.w_pos * f1 + self.w_neg * f0

    def grad_hess(self, raw: np.ndarray, dtype: Any = np.float64, small: bool = False, offset: Any = None,
                  omp: bool = False, out: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return _kernels.binary_soft_grad_hess(raw, self.w_pos, self.w_neg, self.task.gamma, self.task.mode, dtype,
                                              offset, out)

    def _alpha_only(self) -> _SoftBinaryTarget:
        return self if self.sample_weight is None else _SoftBinaryTarget(self.task, self.y, None)

    def class_totals(self) -> np.ndarray:
        return self._totals.copy()


class _SoftmaxTarget(_TargetBase):
    """Integer labels 0..K-1 and ``row_weight = alpha[label] * sample_weight`` (None when all 1)."""

    def __init__(self, task: _Softmax, labels: np.ndarray, row_weight: np.ndarray | None,
                 sample_weight: np.ndarray | None) -> None:
        self.task, self.labels, self.row_weight, self.sample_weight = task, labels, row_weight, sample_weight
        self.n_samples = labels.shape[0]

    def loss(self, raw: np.ndarray) -> np.ndarray:
        s, _ = _math.softmax_margins(raw, self.labels)
        out = _math.margin_loss(s, self.task.gamma)
        return out if self.row_weight is None else out * self.row_weight

    def grad_hess(self, raw: np.ndarray, dtype: Any = np.float64, small: bool = False, offset: Any = None,
                  omp: bool = False, out: Any = None) -> tuple[np.ndarray, np.ndarray]:
        return _kernels.softmax_grad_hess(raw, self.labels, self.row_weight, self.task.gamma, self.task.mode, dtype,
                                          small, offset, omp, out)

    def _alpha_only(self) -> _SoftmaxTarget:
        if self.sample_weight is None:
            return self
        return _SoftmaxTarget(self.task, self.labels, self.task.row_weight(self.labels, None), None)

    def class_totals(self) -> np.ndarray:
        return np.bincount(self.labels, weights=self.sample_weight, minlength=self.task.n_classes).astype(np.float64)


class _MultiLabelTarget(_TargetBase):
    """Hard 0/1 label matrix: ``sign = 2Y - 1`` (n, L) int8 and ``weight = alpha_t * sample_weight`` per element
    (None when all 1), both C order. Every per-round call is the binary kernel on the flattened elements: the
    numbers of the binary task on each column, bit for bit, on either kernel path."""

    def __init__(self, task: _MultiLabel, sign: np.ndarray, weight: np.ndarray | None,
                 sample_weight: np.ndarray | None) -> None:
        self.task, self.sign, self.weight, self.sample_weight = task, sign, weight, sample_weight
        self.n_samples = sign.shape[0]
        self._transposed: tuple[np.ndarray, np.ndarray | None] | None = None

    def label_loss(self, raw: np.ndarray) -> np.ndarray:
        """Per-element focal loss times alpha and sample weight, ``(n, L)``."""
        out = _math.margin_loss(raw * self.sign, self.task.gamma)
        return out if self.weight is None else out * self.weight

    def loss(self, raw: np.ndarray) -> np.ndarray:
        return np.sum(self.label_loss(raw), axis=1)

    def grad_hess(self, raw: np.ndarray, dtype: Any = np.float64, small: bool = False, offset: Any = None,
                  omp: bool = False, out: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """A Fortran-ordered ``raw`` (LightGBM's) gives Fortran-ordered results, without a copy of ``raw``.
        ``out``: None or (grad, hess) (n, L) of ``dtype`` to copy the results into."""
        if offset is not None:
            # float64 sums, as the binary kernels' ``raw[i] + offset`` (float32 raw is widened exactly first)
            raw = raw + np.asarray(offset, dtype=np.float64)
        column_major = raw.flags.f_contiguous and not raw.flags.c_contiguous
        if column_major:
            sign, weight = self._column_major()
            flat = raw.T.reshape(-1)
        else:
            raw = np.ascontiguousarray(raw)
            sign, weight = self.sign.reshape(-1), None if self.weight is None else self.weight.reshape(-1)
            flat = raw.reshape(-1)
        grad, hess = _kernels.binary_grad_hess(flat, sign, weight, self.task.gamma, self.task.mode, dtype, small,
                                               None, omp)
        n, n_labels = raw.shape
        if column_major:
            grad, hess = grad.reshape(n_labels, n).T, hess.reshape(n_labels, n).T
        else:
            grad, hess = grad.reshape(n, n_labels), hess.reshape(n, n_labels)
        if out is not None:
            np.copyto(out[0], grad)
            np.copyto(out[1], hess)
            return out[0], out[1]
        return grad, hess

    def _column_major(self) -> tuple[np.ndarray, np.ndarray | None]:
        # label-major copies of sign and weight, made once, for engines that hold scores column by column
        if self._transposed is None:
            self._transposed = (np.ascontiguousarray(self.sign.T).reshape(-1),
                                None if self.weight is None else np.ascontiguousarray(self.weight.T).reshape(-1))
        return self._transposed

    def _alpha_only(self) -> _MultiLabelTarget:
        if self.sample_weight is None:
            return self
        return _MultiLabelTarget(self.task, self.sign, self.task.element_weight(self.sign, None), None)

    def class_totals(self) -> np.ndarray:
        # column by column, as the binary task sums each column (the same rounding of weighted totals)
        return np.array([_BinaryTarget(self.task.label_tasks[j], self.sign[:, j], None, self.sample_weight)
                         .class_totals() for j in range(self.task.n_labels)])


class _SoftMultiLabelTarget(_TargetBase):
    """A label matrix with soft labels (in [0, 1], not all 0/1): the binary task's target of each column (soft or
    hard), run column by column; soft labels are a slower path in the binary task too (numpy only)."""

    def __init__(self, task: _MultiLabel, y: np.ndarray, sample_weight: np.ndarray | None) -> None:
        self.task, self.sample_weight, self.n_samples, self.y = task, sample_weight, y.shape[0], y
        self.columns = [label_task.prepare_target(y[:, j], sample_weight)
                        for j, label_task in enumerate(task.label_tasks)]

    def label_loss(self, raw: np.ndarray) -> np.ndarray:
        out = np.empty(raw.shape)
        for j, column in enumerate(self.columns):
            out[:, j] = column.loss(np.ascontiguousarray(raw[:, j], dtype=np.float64))
        return out

    def loss(self, raw: np.ndarray) -> np.ndarray:
        return np.sum(self.label_loss(raw), axis=1)

    def grad_hess(self, raw: np.ndarray, dtype: Any = np.float64, small: bool = False, offset: Any = None,
                  omp: bool = False, out: Any = None) -> tuple[np.ndarray, np.ndarray]:
        n, n_labels = raw.shape
        # column-major results: each label's column is written in one piece
        grad, hess = (np.empty((n_labels, n), dtype=dtype).T, np.empty((n_labels, n), dtype=dtype).T) \
            if out is None else out
        shifts = None if offset is None else np.broadcast_to(np.asarray(offset, dtype=np.float64), (n_labels,))
        for j, column in enumerate(self.columns):
            g, h = column.grad_hess(np.ascontiguousarray(raw[:, j]), dtype, small,
                                    None if shifts is None else shifts[j], omp)
            grad[:, j] = g
            hess[:, j] = h
        return grad, hess

    def _alpha_only(self) -> _SoftMultiLabelTarget:
        return self if self.sample_weight is None else _SoftMultiLabelTarget(self.task, self.y, None)

    def class_totals(self) -> np.ndarray:
        return np.array([column.class_totals() for column in self.columns])


Target = _BinaryTarget | _SoftBinaryTarget | _SoftmaxTarget | _MultiLabelTarget | _SoftMultiLabelTarget
Task = _Binary | _Softmax | _MultiLabel


