"""What the three scikit-learn style classifiers share: parameters, label encoding, the loss, probabilities.

An engine's classifier subclasses :class:`FocalClassifierBase` and implements ``_fit_engine`` (train the engine's
model with the focal objective, the init score baked into the model) and ``_predict_raw`` (raw scores, init score
included, shape ``(n,)`` for binary or ``(n, K)`` for multiclass). No engine is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

from .loss import FocalLoss

_FOCAL_PARAMS = ("gamma", "alpha", "hessian", "calibrate")


def n_rows_cols(X: Any, name: str = "X") -> tuple[int, int]:
    """``(n_samples, n_features)`` of a 2-D feature matrix (array, DataFrame, sparse matrix) without copying it."""
    shape = getattr(X, "shape", None)
    if shape is None:
        shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {tuple(shape)}")
    return int(shape[0]), int(shape[1])


class FocalClassifierBase(ClassifierMixin, BaseEstimator):
    """Shared scikit-learn behaviour; ``**params`` are passed to the engine untouched.

    ``predict_proba`` returns probabilities of shape ``(n_samples, n_classes)``: calibrated posteriors by default
    (``calibrate=True``, see :meth:`FocalLoss.predict_proba`), plain sigmoid/softmax of the raw scores otherwise.
    ``best_iteration_`` is the 0-based index of the last boosting round used for prediction (in all three engines).
    ``decision_function`` returns raw scores (init score included): ``(n_samples,)`` for two classes,
    ``(n_samples, n_classes)`` otherwise. Two classes use the binary (sigmoid) loss with a scalar or ``None``
    alpha; more classes, or alpha given as a sequence of per-class weights, use softmax.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | None = None,
        hessian: str = "abs",
        calibrate: bool = True,
        **params: Any,
    ) -> None:
        self.gamma = gamma
        self.alpha = alpha
        self.hessian = hessian
        self.calibrate = calibrate
        self._engine_params = dict(params)

    # scikit-learn's BaseEstimator only sees named __init__ arguments; engine params travel in **params.
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in _FOCAL_PARAMS}
        out.update(self._engine_params)
        return out

    def set_params(self, **params: Any) -> FocalClassifierBase:
        for name, value in params.items():
            if name in _FOCAL_PARAMS:
                setattr(self, name, value)
            else:
                self._engine_params[name] = value
        return self

    @property
    def engine_params(self) -> dict[str, Any]:
        """The parameters handed to the engine (a copy)."""
        return dict(self._engine_params)

    # -- fit-time plumbing shared by the engines -----------------------------------------------------------------
    def _prepare_fit(self, y: ArrayLike, sample_weight: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Encode labels, build ``self.loss_`` and ``self.init_score_``. Returns encoded y and checked weights."""
        y_arr = np.asarray(y)
        if y_arr.ndim != 1:
            raise ValueError(f"y must be 1-D (n_samples,), got shape {y_arr.shape}")
        if y_arr.dtype.kind == "f" and np.any(np.isnan(y_arr)):
            raise ValueError("y must not contain NaN, got y=nan")
        encoder = LabelEncoder().fit(y_arr)
        self.classes_ = encoder.classes_
        self._label_encoder = encoder
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(f"y must contain at least 2 classes to train a classifier, got classes {self.classes_!r}")
        self.n_classes_ = n_classes
        self.loss_ = FocalLoss(self.gamma, self.alpha, self.hessian)
        softmax = n_classes > 2 or self.loss_.n_classes is not None
        if softmax and self.loss_.n_classes not in (None, n_classes):
            raise ValueError(
                f"alpha must have one weight per class ({n_classes} classes found in y: {list(self.classes_)}), "
                f"got alpha={self.alpha!r}"
            )
        if softmax and isinstance(self.loss_.alpha, float):
            raise ValueError(
                f"alpha={self.alpha!r} is a binary weight but y has {n_classes} classes; give alpha=None or "
                f"{n_classes} per-class weights"
            )
        self._softmax = softmax
        y_enc = encoder.transform(y_arr)
        target = self.loss_.prepare_target(y_enc, sample_weight, n_classes if softmax else None)
        self.init_score_ = self.loss_.init_score(y_enc, target.sample_weight, n_classes if softmax else None)
        return y_enc, target.sample_weight

    def _encode_eval_set(
        self, eval_set: Sequence[tuple[Any, ArrayLike]] | None, eval_sample_weight: Sequence[Any] | None
    ) -> list[tuple[Any, np.ndarray, np.ndarray | None]]:
        """Eval sets as ``[(X, y_encoded, weight)]``; labels unseen at fit time raise ``ValueError``."""
        if eval_set is None:
            return []
        if isinstance(eval_set, tuple):
            eval_set = [eval_set]
        if eval_sample_weight is not None and len(eval_sample_weight) != len(eval_set):
            raise ValueError(
                f"eval_sample_weight must have one entry per eval set ({len(eval_set)}), got {len(eval_sample_weight)}"
            )
        out = []
        for i, (x_val, y_val) in enumerate(eval_set):
            y_val = np.asarray(y_val)
            unseen = np.setdiff1d(np.unique(y_val), self.classes_)
            if unseen.size:
                raise ValueError(f"eval_set[{i}] has labels not seen in y at fit time: {unseen.tolist()!r}")
            y_enc = self._label_encoder.transform(y_val)
            w = None if eval_sample_weight is None else eval_sample_weight[i]
            n_classes = self.n_classes_ if self._softmax else None
            target = self.loss_.prepare_target(y_enc, w, n_classes)
            out.append((x_val, y_enc, target.sample_weight))
        return out

    # -- prediction ------------------------------------------------------------------------------------------------
    def _predict_raw(self, X: Any) -> np.ndarray:  # pragma: no cover - engines override
        raise NotImplementedError

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw scores (logits) including the init score: ``(n_samples,)`` binary, ``(n_samples, K)`` softmax."""
        check_is_fitted(self, "loss_")
        return self._predict_raw(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``; calibrated unless ``calibrate=False``."""
        raw = self.decision_function(X)
        return self.loss_.predict_proba(raw, calibrate=self.calibrate)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (from ``classes_``) of the highest probability, shape ``(n_samples,)``."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
