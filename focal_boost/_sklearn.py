"""The classifier contract shared by ``FocalLGBMClassifier``, ``FocalXGBClassifier`` and ``FocalCatBoostClassifier``.

The base class owns everything that is not the engine: parameter and input validation (scikit-learn's
``validate_data``, ``type_of_target``), label encoding, the alpha rule, the focal loss, eval sets, early-stopping
checks, fitted state (set only when a fit succeeds), the common attributes and the tags. An engine's classifier
supplies four things:

- ``_engine_settings()``: its parameters checked and translated (:class:`EngineSettings`);
- ``_fit_engine(fit)``: train on a validated :class:`FitData` and return a :class:`EngineFit`;
- ``_predict_raw(X)``: raw scores of validated ``X`` (init score included), ``(n,)`` binary, ``(n, K)`` softmax or
  ``(n, L)`` multi-label;
- ``_engine_importances()``: ``feature_importances_`` as the engine computes them.

No engine is imported here.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from ._frames import (
    FrameColumns,
    check_array_finite,
    check_frame_finite,
    engine_frame,
    frame_library,
    other_columns_error,
    read_columns,
)
from ._validation import check_alpha
from .loss import FocalLoss

_FOCAL_PARAMS = ("gamma", "alpha", "hessian", "calibrate")
# Attributes a fit sets besides the trailing-underscore ones; removed, with those, when a fit fails.
_PRIVATE_FIT_STATE = ("_softmax", "_engine_state", "_label_dtype")


@dataclass
class EngineSettings:
    """An engine's checked parameters: what goes to the engine, the number of rounds and early stopping."""

    params: dict[str, Any]
    n_estimators: int
    early_stopping_rounds: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FitData:
    """What ``_fit_engine`` trains on: validated X (array, sparse matrix or DataFrame), labels encoded 0..K-1 (or the
    0/1 label matrix (n, L), float64, for the multi-label task), checked weights (None when not given), eval sets in
    the same form, the loss and its task (``n_classes``: None binary, K softmax; ``n_labels``: L multi-label)."""

    X: Any
    y: np.ndarray
    sample_weight: np.ndarray | None
    evals: list[tuple[Any, np.ndarray, np.ndarray | None]]
    loss: FocalLoss
    n_classes: int | None
    settings: EngineSettings
    n_labels: int | None = None


@dataclass
class EngineFit:
    """What an engine's fit returns: the model, the 0-based best iteration, the eval history
    ``{set_name: {"focal_loss": [value per round]}}``, the init score, and state the engine needs to predict."""

    booster: Any
    best_iteration: int
    evals_result: dict[str, dict[str, list[float]]]
    init_score: float | np.ndarray
    state: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds, for messages (``0``, not ``np.int64(0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def check_rounds(value: Any, name: str, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 1:
        raise ValueError(f"{name} must be {'None or ' if allow_none else ''}an integer >= 1, got {name}={value!r}")
    return int(value)


def resolve_alpha(alpha: Any, classes: np.ndarray) -> float | tuple[float, ...] | None:
    """The FocalLoss alpha for encoded labels 0..K-1 (positions in ``classes``).

    - ``None``: every class weighs 1;
    - a float (two classes only): the weight of ``classes[1]``, scikit-learn's positive class (the column
      ``predict_proba[:, 1]``); ``classes[0]`` weighs ``1 - alpha``;
    - a mapping ``{class label: weight}`` naming every class: with two classes the weights must sum to 1 (the
      binary loss weighs positives alpha and negatives 1 - alpha) and give ``alpha = mapping[classes[1]]``; with
      more, the per-class weights in the order of ``classes``;
    - a sequence of K weights, in the order of ``classes`` (softmax, also for K = 2).
    """
    k = len(classes)
    if isinstance(alpha, Mapping):
        keys = list(alpha.keys())
        known = set(classes.tolist())
        unknown = [key for key in keys if key not in known]
        missing = [c for c in classes.tolist() if c not in alpha]
        if unknown or missing:
            raise ValueError(f"alpha as a mapping must give one weight per class of y ({classes.tolist()!r}); "
                             f"got alpha={alpha!r} (unknown labels {unknown!r}, missing {missing!r})")
        weights = [alpha[c] for c in classes.tolist()]
        if k == 2:
            total = sum(float(v) for v in weights)
            if not np.isclose(total, 1.0, rtol=0, atol=1e-12):
                raise ValueError(f"alpha as a mapping over two classes must sum to 1 (the binary focal loss weighs "
                                 f"the positive class {classes[1]!r} by alpha and the other by 1 - alpha), got "
                                 f"alpha={alpha!r}")
            return check_alpha(float(weights[1]))
        return check_alpha(weights)
    checked = check_alpha(alpha)
    if isinstance(checked, float) and k > 2:
        raise ValueError(f"alpha={alpha!r} is a binary weight but y has {k} classes; give alpha=None, {k} per-class "
                         "weights or a mapping {class label: weight}")
    if isinstance(checked, tuple) and len(checked) != k:
        raise ValueError(f"alpha must have one weight per class ({k} classes found in y: {classes.tolist()}), "
                         f"got alpha={alpha!r}")
    return checked


def resolve_multilabel_alpha(alpha: Any, n_labels: int) -> float | tuple[float, ...] | None:
    """The FocalLoss alpha of the multi-label task over ``n_labels`` labels: ``None`` (every label's positives and
    negatives weigh 1), a float in (0, 1) (the weight of every label's positives; negatives ``1 - alpha``), or a
    sequence of one such float per label (columns of y)."""
    if isinstance(alpha, Mapping):
        raise ValueError(f"alpha as a mapping names classes; a multi-label y takes None, a float in (0, 1) or one "
                         f"float per label ({n_labels} labels), got alpha={alpha!r}")
    checked = check_alpha(alpha)
    FocalLoss(2.0, checked).task(n_labels=n_labels)  # one weight in (0, 1) per label
    return checked


def _is_label_matrix(y: Any) -> bool:
    """Whether ``y`` has the 2-D form of a multi-label target (a column vector (n, 1) is not: it is raveled)."""
    if sp.issparse(y):
        return True
    shape = np.shape(y) if hasattr(y, "shape") else np.shape(np.asarray(y, dtype=object))
    return len(shape) == 2 and shape[1] != 1


class FocalClassifierBase(ClassifierMixin, BaseEstimator):
    """Shared scikit-learn behaviour of the focal classifiers; ``**params`` are engine parameters.

    ``predict_proba`` returns probabilities of shape ``(n_samples, n_classes)``: calibrated posteriors by default
    (``calibrate=True``, see :meth:`FocalLoss.predict_proba`), plain sigmoid/softmax of the raw scores otherwise.
    ``decision_function`` returns RAW SCORES (init score included): ``(n_samples,)`` for two classes,
    ``(n_samples, n_classes)`` otherwise. Two classes use the binary (sigmoid) loss with a scalar, mapping or
    ``None`` alpha; more classes, or alpha given as a sequence of per-class weights, use softmax.
    A scalar ``alpha`` is the weight of ``classes_[1]``, the positive class (``predict_proba[:, 1]``).

    Multi-label: ``y`` an ``(n_samples, L)`` 0/1 indicator matrix (``type_of_target`` "multilabel-indicator")
    trains one sigmoid focal term per label; ``alpha`` is then None, one float in (0, 1) for every label's positives
    or L such floats. ``classes_`` is ``arange(L)`` (the columns, as ``MLPClassifier`` and ``OneVsRestClassifier``
    expose it) and ``n_classes_`` is L; ``predict_proba`` returns ``(n_samples, L)`` per-label probabilities of the
    positive class (calibrated per label unless ``calibrate=False``), ``decision_function`` the ``(n_samples, L)``
    raw scores and ``predict`` the ``(n_samples, L)`` 0/1 matrix (probability above 1/2) in y's dtype.
    """

    # Engines whose classifier trains the multi-label task (the tags say so).
    _multi_label = False

    # Input the engine takes: scipy sparse formats (converted to the first listed), NaN as missing.
    _sparse_formats: tuple[str, ...] = ("csr", "csc")

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | Mapping[Any, float] | None = None,
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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # trees send missing values down a learned branch
        tags.input_tags.sparse = bool(self._sparse_formats)
        tags.classifier_tags.multi_label = self._multi_label
        return tags

    # -- engine hooks ----------------------------------------------------------------------------------------------
    def _engine_settings(self) -> EngineSettings:  # pragma: no cover - engines override
        raise NotImplementedError

    def _fit_engine(self, fit: FitData) -> EngineFit:  # pragma: no cover - engines override
        raise NotImplementedError

    def _predict_raw(self, X: Any) -> np.ndarray:  # pragma: no cover - engines override
        raise NotImplementedError

    def _engine_importances(self) -> np.ndarray:  # pragma: no cover - engines override
        raise NotImplementedError

    # -- validation ------------------------------------------------------------------------------------------------
    def _check_X(self, X: Any, reset: bool) -> Any:
        """``validate_data`` and the input contract (README, "input"), every check before any work:

        - pandas and polars DataFrames: names and width checked, column kinds read from the schema, each engine's
          column rules (``_check_frame_columns``) and the infinity check applied without converting the frame;
          then the frame in the form the engine takes (``focal_boost._frames.engine_frame``), same column names;
        - anything else: a numeric array or a sparse matrix of a format the engine takes (``_engine_input``).

        NaN (null) is a missing value; infinity raises the same ``ValueError``, naming the column, for every input.
        """
        library = frame_library(X)
        if library is not None:
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(f"X must have at least one sample, got shape {X.shape}")
            columns = read_columns(X, library)
            other = other_columns_error(X, columns)
            if other is not None:
                raise other
            self._check_frame_columns(X, columns)
            check_frame_finite(X, columns)
            return engine_frame(X, columns)
        X = validate_data(self, X, reset=reset, accept_sparse=list(self._sparse_formats) or False, dtype="numeric",
                          ensure_all_finite=False)
        check_array_finite(X, getattr(self, "feature_names_in_", None))
        return self._engine_input(X)

    def _check_frame_columns(self, X: Any, columns: FrameColumns) -> None:
        """Raise where the engine does not read a column of this DataFrame as it is: which columns, and the one-line
        fix (engines override; ``columns`` gives the names and kinds, ``X`` is the frame as the user gave it)."""

    def _engine_input(self, X: Any) -> Any:
        """Validated array or sparse ``X`` in a form the engine reads (engines override to convert what they cannot)."""
        return X

    def _check_calibrate(self) -> bool:
        if not isinstance(self.calibrate, (bool, np.bool_)):
            raise ValueError(f"calibrate must be True or False, got calibrate={self.calibrate!r}")
        return bool(self.calibrate)

    def _check_params(self) -> EngineSettings:
        self._check_calibrate()
        FocalLoss(self.gamma, None, self.hessian)  # gamma and hessian checks, before any work
        return self._engine_settings()

    def _check_weight(self, sample_weight: Any, X: Any, name: str) -> np.ndarray | None:
        if sample_weight is None:
            return None
        try:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
        if not np.all(np.isfinite(w)):
            raise ValueError(f"{name} must be finite, got {name}={float(w[~np.isfinite(w)][0])!r}")
        if not np.any(w > 0):
            raise ValueError(f"{name} must contain at least one non-zero weight, got all zero")
        return w

    def _check_y(self, y: Any, n_rows: int) -> np.ndarray:
        """Class labels (n,), or for a multi-label target the (n, L) indicator matrix as given (dtype kept)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        if _is_label_matrix(y):
            return self._check_label_matrix(y, n_rows)
        y_arr = column_or_1d(y, warn=True)
        check_classification_targets(y_arr)
        if y_arr.shape[0] != n_rows:
            raise ValueError(f"X and y must have the same number of samples, got {n_rows} and {y_arr.shape[0]}")
        return y_arr

    def _check_label_matrix(self, y: Any, n_rows: int) -> np.ndarray:
        kind = type_of_target(y, input_name="y")
        if kind != "multilabel-indicator":
            raise ValueError(f"a 2-D y must be a multi-label indicator matrix (0/1, at least 2 columns; "
                             f"type_of_target 'multilabel-indicator'), got type_of_target(y)={kind!r}")
        if not self._multi_label:
            raise ValueError(f"{type(self).__name__} does not support multi-label targets (y of shape "
                             f"{np.shape(y)})")
        y_arr = y.toarray() if sp.issparse(y) else np.asarray(y)
        # type_of_target calls any two integer values an indicator ({0, 2} too)
        bad = (y_arr != 0) & (y_arr != 1)
        if np.any(bad):
            raise ValueError(f"a multi-label indicator matrix y must hold only 0 and 1, got y={y_arr[bad][0]!r}")
        if y_arr.shape[0] != n_rows:
            raise ValueError(f"X and y must have the same number of samples, got {n_rows} and {y_arr.shape[0]}")
        return y_arr

    # -- fit ---------------------------------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        eval_set: Sequence[tuple[Any, ArrayLike]] | None = None,
        eval_sample_weight: Sequence[ArrayLike | None] | None = None,
    ) -> FocalClassifierBase:
        """Fit on features ``X`` (n_samples, n_features) and class labels ``y`` (n_samples,), any sortable labels.

        ``sample_weight``: non-negative row weights (n_samples,). ``eval_set``: a list of ``(X_val, y_val)``
        scored every round with the focal loss (``evals_result_``); with ``early_stopping_rounds`` training stops
        when the focal loss of the LAST eval set has not improved for that many rounds, and predictions use the
        best iteration. ``eval_sample_weight``: one weight array (or None) per eval set.

        Every check runs before any training; a fit that raises leaves the estimator unfitted.
        """
        try:
            self._fit(X, y, sample_weight, eval_set, eval_sample_weight)
        except BaseException:
            self._forget_fit()
            raise
        return self

    def _forget_fit(self) -> None:
        for name in list(vars(self)):
            if (name.endswith("_") and not name.startswith("__")) or name in _PRIVATE_FIT_STATE:
                delattr(self, name)

    def _fit(self, X: Any, y: Any, sample_weight: Any, eval_set: Any, eval_sample_weight: Any) -> None:
        settings = self._check_params()
        X = self._check_X(X, reset=True)
        y_arr = self._check_y(y, X.shape[0])
        weight = self._check_weight(sample_weight, X, "sample_weight")
        if y_arr.ndim == 2:
            self._fit_multilabel(X, y_arr, weight, eval_set, eval_sample_weight, settings)
            return
        encoder = LabelEncoder().fit(y_arr)
        loss, n_classes = self._loss_for(encoder.classes_)
        evals = self._check_eval_sets(eval_set, eval_sample_weight, encoder)
        if settings.early_stopping_rounds is not None and not evals:
            raise ValueError(f"early_stopping_rounds={settings.early_stopping_rounds} needs an eval_set to stop on")
        fitted = self._fit_engine(FitData(X, encoder.transform(y_arr), weight, evals, loss, n_classes, settings))
        self._set_fitted(encoder.classes_, loss, n_classes, fitted)

    def _fit_multilabel(self, X: Any, y: np.ndarray, weight: np.ndarray | None, eval_set: Any,
                        eval_sample_weight: Any, settings: EngineSettings) -> None:
        n_labels = y.shape[1]
        loss = FocalLoss(self.gamma, resolve_multilabel_alpha(self.alpha, n_labels), self.hessian)
        evals = self._check_eval_sets(eval_set, eval_sample_weight, None, n_labels)
        if settings.early_stopping_rounds is not None and not evals:
            raise ValueError(f"early_stopping_rounds={settings.early_stopping_rounds} needs an eval_set to stop on")
        fitted = self._fit_engine(FitData(X, y.astype(np.float64), weight, evals, loss, None, settings, n_labels))
        self._set_fitted(np.arange(n_labels), loss, None, fitted)
        self._label_dtype = y.dtype

    def _loss_for(self, classes: np.ndarray) -> tuple[FocalLoss, int | None]:
        """The loss and its task for these classes (sorted labels): binary (None) or softmax (K)."""
        if len(classes) < 2:
            raise ValueError(f"y has 1 class ({_plain(classes[0])!r}): a classifier needs at least 2 classes")
        loss = FocalLoss(self.gamma, resolve_alpha(self.alpha, classes), self.hessian)
        softmax = len(classes) > 2 or loss.n_classes is not None
        return loss, (len(classes) if softmax else None)

    def _set_fitted(self, classes: np.ndarray, loss: FocalLoss, n_classes: int | None, fitted: EngineFit) -> None:
        self.classes_, self.n_classes_, self._softmax, self.loss_ = classes, len(classes), n_classes is not None, loss
        self.booster_ = fitted.booster
        self.best_iteration_ = int(fitted.best_iteration)
        self.evals_result_ = fitted.evals_result
        self.best_score_ = {name: {metric: float(values[self.best_iteration_])
                                   for metric, values in metrics.items() if len(values) > self.best_iteration_}
                            for name, metrics in fitted.evals_result.items()}
        self.init_score_ = fitted.init_score
        self._engine_state = fitted.state
        self._label_dtype = None

    def _check_eval_sets(self, eval_set: Any, eval_sample_weight: Any, encoder: LabelEncoder | None,
                         n_labels: int | None = None) -> list[tuple[Any, np.ndarray, np.ndarray | None]]:
        """Eval sets as (X, encoded labels, weight); for a multi-label fit (``n_labels=L``, no encoder) the labels
        are (n, L) float64 indicator matrices."""
        if eval_set is None:
            if eval_sample_weight is not None:
                raise ValueError("eval_sample_weight is given but eval_set is not")
            return []
        if isinstance(eval_set, tuple):
            eval_set = [eval_set]
        if eval_sample_weight is not None and len(eval_sample_weight) != len(eval_set):
            raise ValueError(
                f"eval_sample_weight must have one entry per eval set ({len(eval_set)}), got {len(eval_sample_weight)}"
            )
        out = []
        for i, pair in enumerate(eval_set):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise ValueError(f"eval_set[{i}] must be a pair (X_val, y_val), got {type(pair).__name__}")
            x_val = self._check_X(pair[0], reset=False)
            y_val = self._check_y(pair[1], x_val.shape[0])
            if (y_val.ndim == 2) != (n_labels is not None) or (n_labels is not None and y_val.shape[1] != n_labels):
                want = f"an (n, {n_labels}) label matrix" if n_labels is not None else "class labels (n,)"
                raise ValueError(f"eval_set[{i}] must have {want} like y, got y_val of shape {y_val.shape}")
            if n_labels is None:
                unseen = np.setdiff1d(np.unique(y_val), encoder.classes_)
                if unseen.size:
                    raise ValueError(f"eval_set[{i}] has labels not seen in y at fit time: {unseen.tolist()!r}")
                y_val = encoder.transform(y_val)
            else:
                y_val = y_val.astype(np.float64)
            w = None if eval_sample_weight is None else eval_sample_weight[i]
            out.append((x_val, y_val, self._check_weight(w, x_val, f"eval_sample_weight[{i}]")))
        return out

    # -- prediction ------------------------------------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """RAW SCORES (logits) including the init score: ``(n_samples,)`` binary, ``(n_samples, K)`` softmax,
        ``(n_samples, L)`` multi-label."""
        check_is_fitted(self)
        return self._predict_raw(self._check_X(X, reset=False))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in the order of ``classes_``; calibrated
        unless ``calibrate=False``. Multi-label: ``(n_samples, L)``, each label's probability of being present."""
        raw = self.decision_function(X)
        return self.loss_.predict_proba(raw, calibrate=self._check_calibrate(),
                                        multi_label=getattr(self, "_label_dtype", None) is not None)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (from ``classes_``) of the highest probability, shape ``(n_samples,)``; multi-label: the
        ``(n_samples, L)`` 0/1 matrix of labels whose probability is above 1/2, in the dtype of y at fit."""
        proba = self.predict_proba(X)
        label_dtype = getattr(self, "_label_dtype", None)
        if label_dtype is not None:
            return (proba > 0.5).astype(label_dtype)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def feature_importances_(self) -> np.ndarray:
        """Importance of each feature, ``(n_features_in_,)``, as the engine computes it (``importance_type``)."""
        check_is_fitted(self)
        return self._engine_importances()
