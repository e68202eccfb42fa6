"""XGBoost adapter: focal objective, focal metric, a ``train`` wrapper and :class:`FocalXGBClassifier`.

Everything here takes and returns RAW MARGINS: ``(n_samples,)`` for binary models and ``(n_samples, K)`` for
multiclass models. The math lives in :class:`focal_boost.FocalLoss`; this module only reshapes, attaches weights and
works around XGBoost behaviours (checked with xgboost 3.2):

- a custom ``obj`` receives margins and must apply the DMatrix weights itself (XGBoost passes custom gradients to
  the tree updater unweighted);
- ``base_score`` is only estimated for builtin objectives and is interpreted through the objective's link. Without
  an ``objective`` in params the booster objective is ``reg:squarederror`` (binary) or ``multi:softmax`` (when
  ``num_class`` is set), whose intercept is used as a margin as is; a length-K ``base_score`` is accepted with
  ``num_class=K``. :func:`train` therefore stores the focal init score as ``base_score``: it is part of the saved
  model, so a plain ``xgboost.Booster(model_file=...)`` predicts the same margins (``output_margin=True``), and
  every evaluation set is scored from it too.
"""

from __future__ import annotations

import copy
import json
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xgboost as xgb
from numpy.typing import ArrayLike

from ._adapter import METRIC_NAME, LossCallable, as_raw, n_classes_of
from ._adapter import check_loss as _check_loss
from ._sklearn import FocalClassifierBase, n_rows_cols
from .loss import FocalLoss, _Target

__all__ = ["FocalXGBClassifier", "FocalXGBMetric", "FocalXGBObjective", "metric", "objective", "train"]

def _label_weight(dmatrix: xgb.DMatrix) -> tuple[np.ndarray, np.ndarray | None]:
    label = dmatrix.get_label()
    weight = dmatrix.get_weight()
    # xgboost returns an empty array when no weight is set.
    return label, (weight if weight.size else None)


class _TargetCache:
    """The loss's prepared target for one DMatrix. ``get_label``/``get_weight`` return fresh copies every call
    (xgboost 3.2), so a hit needs the same DMatrix object AND equal label/weight values (a cheap comparison, not a
    re-validation); ``set_label``/``set_weight`` on the DMatrix therefore trigger a re-preparation."""

    __slots__ = ("dmatrix", "label", "n_classes", "target", "weight")

    def __init__(self, dmatrix: xgb.DMatrix, label: np.ndarray, weight: np.ndarray | None, n_classes: int | None,
                 target: _Target) -> None:
        self.dmatrix = weakref.ref(dmatrix)
        self.label, self.weight, self.n_classes, self.target = label, weight, n_classes, target

    def matches(self, dmatrix: xgb.DMatrix, label: np.ndarray, weight: np.ndarray | None,
                n_classes: int | None) -> bool:
        if self.dmatrix() is not dmatrix or self.n_classes != n_classes:
            return False
        if (weight is None) != (self.weight is None):
            return False
        return np.array_equal(label, self.label) and (weight is None or np.array_equal(weight, self.weight))


def _prepared(loss: FocalLoss, cache: dict[int, _TargetCache], dmatrix: xgb.DMatrix, n_classes: int | None
              ) -> _Target:
    label, weight = _label_weight(dmatrix)
    entry = cache.get(id(dmatrix))
    if entry is None or not entry.matches(dmatrix, label, weight, n_classes):
        target = loss.prepare_target(label, weight, n_classes)
        entry = _TargetCache(dmatrix, label, weight, n_classes, target)
        cache[id(dmatrix)] = entry
    return entry.target


class FocalXGBObjective(LossCallable):
    """Focal objective for ``obj=`` of ``xgboost.train``: ``(preds, dtrain) -> (grad, hess)``.

    ``preds`` are RAW MARGINS, ``(n_samples,)`` for binary or ``(n_samples, K)`` for multiclass (xgboost 3.2 passes
    2-D margins when ``num_class`` is set); ``grad`` and ``hess`` are returned with the same shape (required since
    xgboost 2.1), in float32 (what XGBoost's gradient pairs hold). The DMatrix weights are applied here. Labels and
    weights are validated once per DMatrix, not every round. Picklable (e.g. for ``xgboost.dask``); the cache is
    not pickled.
    """

    def __call__(self, preds: np.ndarray, dtrain: xgb.DMatrix) -> tuple[np.ndarray, np.ndarray]:
        raw = as_raw(preds, keep_float32=True)
        target = _prepared(self.loss, self._cache, dtrain, n_classes_of(raw))
        return self.loss._grad_hess(target, raw, np.float32)


class FocalXGBMetric(LossCallable):
    """Focal metric for ``custom_metric=`` of ``xgboost.train``: ``(preds, dmatrix) -> ("focal_loss", value)``.

    ``preds`` must be RAW MARGINS (xgboost passes margins to the custom metric when ``obj`` is custom),
    ``(n_samples,)`` or ``(n_samples, K)``, including ``base_score``; the value is the weighted mean focal loss
    ``sum(w * FL) / sum(w)``. Lower is better (xgboost's early stopping minimises a metric named like this one).
    Picklable; the per-DMatrix cache is not pickled.
    """

    name = METRIC_NAME

    def __call__(self, preds: np.ndarray, dmatrix: xgb.DMatrix) -> tuple[str, float]:
        raw = as_raw(preds)
        target = _prepared(self.loss, self._cache, dmatrix, n_classes_of(raw))
        return METRIC_NAME, self.loss._eval(target, raw)


def objective(loss: FocalLoss) -> FocalXGBObjective:
    """The focal objective callable for ``obj=`` of ``xgboost.train`` (raw margins in, grad/hess out)."""
    return FocalXGBObjective(loss)


def metric(loss: FocalLoss) -> FocalXGBMetric:
    """The focal ``custom_metric`` for ``xgboost.train``: weighted mean focal loss of margins, ``"focal_loss"``."""
    return FocalXGBMetric(loss)


# -- train ---------------------------------------------------------------------------------------------------------
def _resolve_n_classes(loss: FocalLoss, params: dict[str, Any]) -> int | None:
    k_params = params.get("num_class")
    if k_params is not None:
        if isinstance(k_params, bool) or not isinstance(k_params, (int, np.integer)) or k_params < 1:
            raise ValueError(f"num_class must be an integer >= 1, got num_class={k_params!r}")
        k_params = int(k_params)
    if loss.n_classes is not None:
        if k_params not in (None, 1, loss.n_classes):
            raise ValueError(
                f"params num_class={k_params} does not match the loss's {loss.n_classes} class weights "
                f"(alpha={loss.alpha!r})"
            )
        return loss.n_classes
    return k_params if k_params is not None and k_params > 1 else None


def _has_base_margin(dmatrix: xgb.DMatrix) -> bool:
    return dmatrix.get_base_margin().size > 0


def _train_params(loss: Any, params: Any, kwargs: dict[str, Any], caller: str
                  ) -> tuple[FocalLoss, dict[str, Any], int | None]:
    """Check what a focal training call was given (also for ``focal_boost.dask.xgb_train``): returns the loss, the
    params with ``num_class`` resolved against ``loss.alpha``, and K (None for binary). Pops ``obj`` /
    ``custom_metric`` placeholders from ``kwargs``; refuses the settings focal_boost makes itself."""
    loss = _check_loss(loss)
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of XGBoost parameters, got params={params!r}")
    for name in ("obj", "custom_metric"):
        if kwargs.get(name) is not None:
            raise ValueError(f"{name}= is set by {caller}, got {name}={kwargs[name]!r}")
        kwargs.pop(name, None)
    params = dict(params)
    for name in ("objective", "base_score"):
        if params.get(name) is not None:
            raise ValueError(f"params must not set {name} (focal_boost sets it), got {name}={params[name]!r}")
        params.pop(name, None)
    n_classes = _resolve_n_classes(loss, params)
    params.pop("num_class", None)
    if n_classes is not None:
        params["num_class"] = n_classes
    if "eval_metric" not in params:
        params.setdefault("disable_default_eval_metric", True)
    return loss, params, n_classes


def _declare_objective(booster: xgb.Booster, n_classes: int | None) -> xgb.Booster:
    """Declare ``multi:softprob`` as a multiclass model's objective, in place; binary models are left alone.

    xgboost 3.2 stores a custom-objective model as ``reg:squarederror`` (binary) or ``multi:softmax`` (with
    ``num_class``). For softmax objectives ``base_score`` is a margin as is, so switching to ``multi:softprob`` keeps
    every ``output_margin=True`` margin bit-identical and makes plain ``predict()`` return softmax of the margins
    (not class indices). ``binary:logistic`` would store ``base_score`` as a probability, turned back into a margin by
    float32 ``-log(1/p - 1)``: only about 40% of float32 margins can be reached that way (measured), so the binary
    margins would change by an ulp or more; binary models stay ``reg:squarederror``, whose margin is the raw score.
    """
    if n_classes is None:
        return booster
    model = json.loads(bytes(booster.save_raw("json")))
    model["learner"]["objective"] = {"name": "multi:softprob",
                                     "softmax_multiclass_param": {"num_class": str(n_classes)}}
    booster.load_model(bytearray(json.dumps(model).encode()))
    return booster


def train(
    loss: FocalLoss,
    params: Mapping[str, Any],
    dtrain: xgb.DMatrix,
    num_boost_round: int = 10,
    evals: Sequence[tuple[xgb.DMatrix, str]] = (),
    **kwargs: Any,
) -> xgb.Booster:
    """Train an XGBoost model with focal loss; returns an ordinary ``xgboost.Booster``.

    The weighted init score ``loss.init_score(labels, weights, K)`` is stored in the model as ``base_score`` (a
    float for binary, a length-K list for multiclass), so ``booster.predict(dmat, output_margin=True)`` returns RAW
    MARGINS including it (``(n,)`` binary, ``(n, K)`` multiclass) in any process, also after ``save_model``; the
    ``evals`` are scored from the same intercept. Probabilities come from ``loss.predict_proba(margins)``.
    Training uses :func:`objective` and :func:`metric` (named ``"focal_loss"``, reported last, so
    ``early_stopping_rounds=`` stops on it; ``booster.best_iteration`` is set and
    ``predict(..., iteration_range=(0, booster.best_iteration + 1))`` still includes the intercept).

    Parameters
    ----------
    loss : FocalLoss
    params : mapping
        XGBoost parameters without ``objective`` and ``base_score`` (both are set here). ``num_class`` (K > 1) makes
        the model multiclass; it must agree with ``loss.alpha`` when that is a sequence (and is set from it if
        absent). ``disable_default_eval_metric`` defaults to True unless ``eval_metric`` is given (builtin metrics
        see margins through the placeholder objective's link, so they are rarely meaningful here).
    dtrain, evals : xgboost.DMatrix
        With labels (and optional weights, applied by the objective and metric); no ``base_margin``.
    num_boost_round : int
    **kwargs
        Passed to ``xgboost.train`` (``early_stopping_rounds``, ``evals_result``, ``verbose_eval``, ``callbacks``...).
        With ``xgb_model`` the intercept of that model is kept: boosting continues from its margins.
    """
    if not isinstance(dtrain, xgb.DMatrix):
        raise ValueError(f"dtrain must be an xgboost.DMatrix, got {type(dtrain).__name__}")
    loss, params, n_classes = _train_params(loss, params, kwargs, "focal_boost.xgboost.train")

    evals = list(evals) if evals else []
    named = [(dtrain, "dtrain")] + [(d, f"evals[{i}] ({name!r})") for i, (d, name) in enumerate(evals)]
    for dmat, what in named:
        if not isinstance(dmat, xgb.DMatrix):
            raise ValueError(f"{what} must be an xgboost.DMatrix, got {type(dmat).__name__}")
        if _has_base_margin(dmat):
            raise ValueError(f"{what} has a base_margin; focal_boost stores the init score in the model instead")
        label, weight = _label_weight(dmat)
        if label.size == 0:
            raise ValueError(f"{what} has no label; focal loss needs labels")
        try:
            target = loss.prepare_target(label, weight, n_classes)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from exc
        if dmat is dtrain and kwargs.get("xgb_model") is None:
            init = loss.init_score(label, target.sample_weight, n_classes)
            # base_score must be plain floats (xgboost serialises it to JSON).
            params["base_score"] = float(init) if n_classes is None else [float(v) for v in np.asarray(init)]
    booster = xgb.train(params, dtrain, num_boost_round=num_boost_round, evals=evals, obj=objective(loss),
                        custom_metric=metric(loss), **kwargs)
    return _declare_objective(booster, n_classes)


# -- scikit-learn classifier ---------------------------------------------------------------------------------------
class FocalXGBClassifier(FocalClassifierBase):
    """XGBoost classifier trained with focal loss, scikit-learn style.

    ``gamma``, ``alpha``, ``hessian`` define the :class:`FocalLoss` (XGBoost's own ``gamma`` is available as
    ``min_split_loss``); ``calibrate`` chooses calibrated posteriors (default) or plain sigmoid/softmax in
    ``predict_proba``. Other keyword arguments are XGBoost parameters under ``XGBClassifier``'s names:
    ``n_estimators`` (default 100), ``learning_rate``, ``max_depth``, ``random_state``, ``n_jobs``,
    ``early_stopping_rounds`` (int or None), ``tree_method``, ``missing`` (default NaN) and ``enable_categorical``
    (DMatrix options), ``callbacks`` (for ``xgboost.train``) and any other XGBoost parameter (``subsample``,
    ``reg_lambda``, ``eval_metric``, ...). ``objective``, ``base_score`` and ``num_class`` are refused.

    Fitted attributes: ``booster_`` (a plain ``xgboost.Booster`` whose margins include the init score),
    ``best_iteration_`` (0-based index of the last tree round used for prediction, as xgboost's
    ``best_iteration``), ``evals_result_``, ``n_features_in_``, ``classes_``, ``n_classes_``, ``loss_``,
    ``init_score_``.
    """

    def _xgb_params(self) -> tuple[dict[str, Any], int, int | None, dict[str, Any], list[Any] | None]:
        params = dict(self._engine_params)
        for refused in ("objective", "base_score", "num_class"):
            if params.get(refused) is not None:
                raise ValueError(f"{refused}={params[refused]!r} is not supported by FocalXGBClassifier; the focal "
                                 "loss sets it (use gamma, alpha and sample_weight)")
            params.pop(refused, None)
        n_estimators = params.pop("n_estimators", 100)
        if isinstance(n_estimators, bool) or not isinstance(n_estimators, (int, np.integer)) or n_estimators < 1:
            raise ValueError(f"n_estimators must be an integer >= 1, got n_estimators={n_estimators!r}")
        rounds = params.pop("early_stopping_rounds", None)
        if rounds is not None and (isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer))
                                   or rounds < 1):
            raise ValueError(f"early_stopping_rounds must be None or an integer >= 1, got {rounds!r}")
        # XGBClassifier arguments that are not booster parameters: DMatrix options and train callbacks.
        dmatrix_kwargs = {"missing": params.pop("missing", np.nan),
                          "enable_categorical": params.pop("enable_categorical", False)}
        callbacks = params.pop("callbacks", None)
        renames = {"random_state": "seed", "n_jobs": "nthread"}
        for sk_name, native in renames.items():
            value = params.pop(sk_name, None)
            if value is not None:
                params[native] = value
        if self._softmax:
            params["num_class"] = self.n_classes_
        callbacks = None if callbacks is None else copy.deepcopy(list(callbacks))
        return params, int(n_estimators), None if rounds is None else int(rounds), dmatrix_kwargs, callbacks

    def fit(
        self,
        X: Any,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        eval_set: Sequence[tuple[Any, ArrayLike]] | None = None,
        eval_sample_weight: Sequence[ArrayLike | None] | None = None,
    ) -> FocalXGBClassifier:
        """Fit on features ``X`` (n_samples, n_features) and labels ``y`` (any hashable labels).

        ``eval_set``: list of ``(X_val, y_val)``; with ``early_stopping_rounds`` set, training stops when the focal
        loss of the LAST eval set has not improved for that many rounds and predictions use the best iteration.
        """
        n_rows, n_features = n_rows_cols(X)
        if n_rows != np.shape(y)[0]:
            raise ValueError(f"X and y must have the same number of samples, got {n_rows} and {np.shape(y)[0]}")
        y_enc, weight = self._prepare_fit(y, sample_weight)
        params, n_estimators, rounds, dmatrix_kwargs, callbacks = self._xgb_params()
        evals_enc = self._encode_eval_set(eval_set, eval_sample_weight)
        if rounds is not None and not evals_enc:
            raise ValueError(f"early_stopping_rounds={rounds} needs an eval_set to stop on")
        dmatrix_kwargs["nthread"] = params.get("nthread")
        dtrain = xgb.DMatrix(X, label=y_enc, weight=weight, **dmatrix_kwargs)
        evals = []
        for i, (x_val, y_val, w_val) in enumerate(evals_enc):
            cols = n_rows_cols(x_val, f"eval_set[{i}] X")[1]
            if cols != n_features:
                raise ValueError(f"eval_set[{i}] has {cols} features, X has {n_features}")
            evals.append((xgb.DMatrix(x_val, label=y_val, weight=w_val, **dmatrix_kwargs), f"validation_{i}"))
        evals_result: dict[str, Any] = {}
        booster = train(self.loss_, params, dtrain, num_boost_round=n_estimators, evals=evals,
                        early_stopping_rounds=rounds, evals_result=evals_result, verbose_eval=False,
                        callbacks=callbacks)
        self.booster_ = booster
        self.best_iteration_ = booster.best_iteration if rounds is not None else booster.num_boosted_rounds() - 1
        self.evals_result_ = evals_result
        self.n_features_in_ = n_features
        self._dmatrix_kwargs = dmatrix_kwargs
        return self

    def _predict_raw(self, X: Any) -> np.ndarray:
        cols = n_rows_cols(X)[1]
        if cols != self.n_features_in_:
            raise ValueError(f"X has {cols} features, but the classifier was fitted with {self.n_features_in_}")
        dmat = xgb.DMatrix(X, **self._dmatrix_kwargs)
        raw = self.booster_.predict(dmat, output_margin=True, iteration_range=(0, self.best_iteration_ + 1))
        return np.asarray(raw, dtype=np.float64)
