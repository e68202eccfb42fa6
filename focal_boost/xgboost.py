"""XGBoost adapter: focal objective, focal metric, a ``train`` wrapper and :class:`FocalXGBClassifier`.

Everything here takes and returns RAW MARGINS: ``(n_samples,)`` for binary models, ``(n_samples, K)`` for multiclass
models and ``(n_samples, L)`` for multi-label models (``num_target=L``, labels an ``(n, L)`` matrix). The math lives in
:class:`focal_boost.FocalLoss`; this module only reshapes, attaches weights and works around XGBoost behaviours (checked
with xgboost 3.2):

- a custom ``obj`` receives margins and must apply the DMatrix weights itself (XGBoost passes custom gradients to
  the tree updater unweighted);
- ``base_score`` is only estimated for builtin objectives and is interpreted through the objective's link. Without
  an ``objective`` in params the booster objective is ``reg:squarederror`` (binary) or ``multi:softmax`` (when
  ``num_class`` is set), whose intercept is used as a margin as is; a length-K ``base_score`` is accepted with
  ``num_class=K``. :func:`train` therefore stores the focal init score as ``base_score``: it is part of the saved
  model, so a plain ``xgboost.Booster(model_file=...)`` predicts the same margins (``output_margin=True``), and
  every evaluation set is scored from it too. A multi-label model (``num_target=L``, either ``multi_strategy``) keeps
  ``reg:squarederror`` and a length-L ``base_score``, which xgboost 3.2 adds to the margins as is.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xgboost as xgb

from ._adapter import METRIC_NAME, LossCallable, TargetCache, as_raw, equal_values, resolve_n_classes
from ._adapter import check_loss as _check_loss
from ._frames import CATEGORICAL, STRING, FrameColumns, category_dtype_fix, column_kind_error
from ._sklearn import EngineFit, EngineSettings, FitData, FocalClassifierBase, check_rounds
from .loss import FocalLoss, Target

__all__ = ["FocalXGBClassifier", "FocalXGBMetric", "FocalXGBObjective", "metric", "objective", "train"]

# xgboost 3.2's multi:softprob hessian is 2 p (1 - p) (src/objective/multiclass_obj.cu): the multiclass focal
# objective scales the loss's diagonal hessian by the same factor.
_MULTICLASS_HESSIAN_FACTOR = np.float32(2.0)


def _label_weight(dmatrix: xgb.DMatrix) -> tuple[np.ndarray, np.ndarray | None]:
    label = dmatrix.get_label()
    weight = dmatrix.get_weight()
    # xgboost returns an empty array when no weight is set.
    return label, (weight if weight.size else None)


class _XGBoostCallable(LossCallable):
    def _new_cache(self) -> TargetCache:
        # xgboost 3.2: get_label()/get_weight() return fresh copies every call, so a hit needs the same DMatrix
        # AND equal values (set_label/set_weight therefore trigger a re-preparation).
        return TargetCache(self.loss, self.task.n_classes, equal_values, n_labels=self.task.n_labels)

    def _target(self, dmatrix: xgb.DMatrix) -> Target:
        label, weight = _label_weight(dmatrix)
        return self._cache.get(id(dmatrix), label, weight, holder=dmatrix)


class FocalXGBObjective(_XGBoostCallable):
    """Focal objective for ``obj=`` of ``xgboost.train``: ``(preds, dtrain) -> (grad, hess)``.

    ``preds`` are RAW MARGINS, ``(n_samples,)`` for binary, ``(n_samples, K)`` for multiclass (xgboost 3.2 passes 2-D
    margins when ``num_class`` is set) or ``(n_samples, L)`` for multi-label (``num_target=L``, give ``n_labels=L``; the
    DMatrix label is then the ``(n, L)`` matrix); ``grad`` and ``hess`` are returned with the same shape (required since
    xgboost 2.1), in float32 (what XGBoost's gradient pairs hold). The DMatrix weights are applied here. A
    multiclass hessian is the loss's diagonal times 2, the factor of XGBoost's own ``multi:softprob`` (xgboost 3.2,
    ``2 p (1 - p)``; the softmax gradients sum to 0 over the classes, so the one-class Newton step of the bare
    diagonal overshoots): gamma=0 then trains ``multi:softprob``'s model at any ``eta``, ``reg_lambda`` and
    ``min_child_weight``. Labels and weights are validated once per DMatrix, not every round. Picklable (e.g. for
    ``xgboost.dask``); the cache is not pickled. With ``overwrite_preds = True`` (what :func:`train` sets) a
    multiclass gradient is written over ``preds`` itself, which is then returned as ``grad``.
    """

    # Set by :func:`train` (not pickled): multiclass gradients are written over ``preds``. xgboost 3.2's
    # ``Booster.boost`` hands the objective a fresh float32 copy of the margins and never reads it again, so this
    # saves one n x K float32 array per round (20 MB at 1M rows x 5 classes; the peak-memory rows of
    # benchmarks/results/speed/speed.md). Binary gradients are not: the vectorised kernel re-reads the margins.
    overwrite_preds = False

    def __call__(self, preds: np.ndarray, dtrain: xgb.DMatrix) -> tuple[np.ndarray, np.ndarray]:
        raw = as_raw(preds, keep_float32=True)
        self._check_shape(raw)
        # xgboost 3.2's builtin objectives compute g and h in float32 and then multiply by the float32 weight;
        # weighting after the rounding too makes integer weights train exactly the model of repeated rows
        # (rounding w * g once differs by an ulp, enough to move a split).
        unweighted, weight = self._target(dtrain).split_sample_weight(np.float32)
        out = None
        # softmax only: the binary kernel (also multi-label's) re-reads the margins after writing the gradients
        if (self.overwrite_preds and self.task.n_classes is not None and raw.dtype == np.float32
                and raw.flags.c_contiguous and raw.flags.writeable):
            out = (raw, np.empty_like(raw))
        grad, hess = unweighted.grad_hess(raw, np.float32, out=out)
        if self.task.n_classes is not None:  # softmax; multi-label hessians are binary:logistic's, unscaled
            hess *= _MULTICLASS_HESSIAN_FACTOR  # exact in float32
        if weight is not None:
            column = weight if grad.ndim == 1 else weight[:, None]
            grad *= column
            hess *= column
        return grad, hess


class FocalXGBMetric(_XGBoostCallable):
    """Focal metric for ``custom_metric=`` of ``xgboost.train``: ``(preds, dmatrix) -> ("focal_loss", value)``.

    ``preds`` must be RAW MARGINS (xgboost passes margins to the custom metric when ``obj`` is custom),
    ``(n_samples,)``, ``(n_samples, K)`` or ``(n_samples, L)``, including ``base_score``; the value is the weighted mean
    focal loss ``sum(w * FL) / sum(w)`` (multi-label: FL summed over the labels). Lower is better (xgboost's early
    stopping minimises a metric named like this one). Picklable; the per-DMatrix cache is not pickled.
    """

    name = METRIC_NAME

    def __call__(self, preds: np.ndarray, dmatrix: xgb.DMatrix) -> tuple[str, float]:
        raw = as_raw(preds)
        self._check_shape(raw)
        return METRIC_NAME, self._target(dmatrix).eval(raw)


def objective(loss: FocalLoss, n_classes: int | None = None, n_labels: int | None = None) -> FocalXGBObjective:
    """The focal objective callable for ``obj=`` of ``xgboost.train`` (raw margins in, grad/hess out);
    ``n_classes=K`` for a K-class model (``num_class=K``), ``n_labels=L`` for a multi-label model
    (``num_target=L``), neither for binary."""
    return FocalXGBObjective(loss, n_classes, n_labels)


def metric(loss: FocalLoss, n_classes: int | None = None, n_labels: int | None = None) -> FocalXGBMetric:
    """The focal ``custom_metric`` for ``xgboost.train``: weighted mean focal loss of margins, ``"focal_loss"``;
    ``n_classes=K`` for a K-class model, ``n_labels=L`` for a multi-label model."""
    return FocalXGBMetric(loss, n_classes, n_labels)


# -- train ---------------------------------------------------------------------------------------------------------
def _has_base_margin(dmatrix: xgb.DMatrix) -> bool:
    return dmatrix.get_base_margin().size > 0


def check_train_args(loss: Any, params: Any, kwargs: dict[str, Any], caller: str
                     ) -> tuple[FocalLoss, dict[str, Any], int | None]:
    """Check what a focal training call was given (also for ``focal_boost.dask.xgb_train``): returns the loss, the
    params with ``num_class`` resolved against ``loss.alpha``, and K (None for binary). Pops ``obj`` /
    ``custom_metric`` placeholders from ``kwargs``; refuses the settings focal_boost makes itself, and the
    multi-label task (``num_target`` > 1), which only :func:`train` supports."""
    loss, params, n_classes, n_labels = _check_train_task(loss, params, kwargs, caller)
    if n_labels is not None:
        raise ValueError(f"num_target={n_labels} (multi-label) is not supported by {caller}; use "
                         "focal_boost.xgboost.train")
    return loss, params, n_classes


def _check_num_target(value: Any) -> int | None:
    """L from XGBoost's ``num_target`` (L > 1: multi-label; 1 or absent: not)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"num_target must be an integer >= 1, got num_target={value!r}")
    return int(value) if value > 1 else None


def _check_train_task(loss: Any, params: Any, kwargs: dict[str, Any], caller: str
                      ) -> tuple[FocalLoss, dict[str, Any], int | None, int | None]:
    """:func:`check_train_args` for :func:`train`: also returns L (``num_target`` > 1: multi-label, with alpha
    None, a float or L per-label floats), else None."""
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
    n_labels = _check_num_target(params.get("num_target"))
    if n_labels is not None:
        if params.get("num_class") is not None:
            raise ValueError(f"params set both num_class={params['num_class']!r} (softmax) and "
                             f"num_target={n_labels} (multi-label); give one")
        params.pop("num_class", None)
        loss.task(n_labels=n_labels)  # alpha against L, before any work
        n_classes = None
    else:
        n_classes = resolve_n_classes(loss, params.pop("num_class", None))
        if n_classes is not None:
            params["num_class"] = n_classes
    if "eval_metric" not in params:
        params.setdefault("disable_default_eval_metric", True)
    return loss, params, n_classes, n_labels


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
    float for binary, a length-K list for multiclass, a length-L list for multi-label), so
    ``booster.predict(dmat, output_margin=True)`` returns RAW MARGINS including it (``(n,)`` binary, ``(n, K)``
    multiclass, ``(n, L)`` multi-label) in any process, also after ``save_model``; the
    ``evals`` are scored from the same intercept. Probabilities come from ``loss.predict_proba(margins)``.
    Training uses :func:`objective` and :func:`metric` (named ``"focal_loss"``, reported last, so
    ``early_stopping_rounds=`` stops on it; ``booster.best_iteration`` is set and
    ``predict(..., iteration_range=(0, booster.best_iteration + 1))`` still includes the intercept).

    Parameters
    ----------
    loss : FocalLoss
    params : mapping
        XGBoost parameters without ``objective`` and ``base_score`` (both are set here). ``num_class`` (K > 1) makes the
        model multiclass; it must agree with ``loss.alpha`` when that is a sequence (and is set from it if absent).
        ``num_target`` (L > 1) makes it multi-label over L labels, one sigmoid focal term per label (``multi_strategy``
        ``"one_output_per_tree"`` or ``"multi_output_tree"``; a sequence ``loss.alpha`` is then one positive weight per
        label); the DMatrix labels are ``(n, L)`` matrices in [0, 1]. A multi-label model keeps XGBoost's
        ``reg:squarederror`` objective, so its plain ``predict()`` also returns the margins; per-label probabilities are
        ``loss.predict_proba(margins, multi_label=True)``. ``disable_default_eval_metric`` defaults to True unless
        ``eval_metric`` is given (builtin metrics see margins through the placeholder objective's link, so they are
        rarely meaningful here).
    dtrain, evals : xgboost.DMatrix
        With labels (and optional weights, applied by the objective and metric); no ``base_margin``.
    num_boost_round : int
    **kwargs
        Passed to ``xgboost.train`` (``early_stopping_rounds``, ``evals_result``, ``verbose_eval``, ``callbacks``...).
        With ``xgb_model`` the intercept of that model is kept: boosting continues from its margins.
    """
    return _train(loss, params, dtrain, num_boost_round, evals, kwargs)[0]


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
    # set_param, not a JSON round trip of the whole model (~0.25 s for 100 rounds x 5 classes): xgboost 3.2 then
    # saves the same model, byte for byte, as editing the objective in its JSON and reloading it did.
    booster.set_param({"objective": "multi:softprob", "num_class": n_classes})
    return booster


def _train(loss: Any, params: Any, dtrain: Any, num_boost_round: int, evals: Any, kwargs: dict[str, Any]
           ) -> tuple[xgb.Booster, float | np.ndarray | None]:
    """:func:`train`, also returning the init score stored as ``base_score`` (None with ``xgb_model``)."""
    if not isinstance(dtrain, xgb.DMatrix):
        raise ValueError(f"dtrain must be an xgboost.DMatrix, got {type(dtrain).__name__}")
    loss, params, n_classes, n_labels = _check_train_task(loss, params, kwargs, "focal_boost.xgboost.train")
    focal_objective, focal_metric = objective(loss, n_classes, n_labels), metric(loss, n_classes, n_labels)
    focal_objective.overwrite_preds = True  # xgb.train's margins are a fresh copy per round (see the class)
    init: float | np.ndarray | None = None

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
            target = loss.prepare_target(label, weight, n_classes, n_labels)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from exc
        # Validated once: the objective and metric find these targets again by DMatrix and values.
        for callable_ in (focal_objective, focal_metric):
            callable_._cache.put(id(dmat), label, weight, target, holder=dmat)
        if dmat is dtrain and kwargs.get("xgb_model") is None:
            init = target.init_score()
            # base_score must be plain floats (xgboost serialises it to JSON).
            params["base_score"] = float(init) if np.ndim(init) == 0 else [float(v) for v in np.asarray(init)]
    booster = xgb.train(params, dtrain, num_boost_round=num_boost_round, evals=evals, obj=focal_objective,
                        custom_metric=focal_metric, **kwargs)
    return _declare_objective(booster, n_classes), init


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
    ``best_iteration_`` (0-based index of the last tree round used for prediction, as xgboost's ``best_iteration``),
    ``evals_result_`` (``{eval set name: {"focal_loss": [value per round]}}``), ``best_score_`` (the same at
    ``best_iteration_``), ``feature_importances_`` (``importance_type``: ``"gain"`` (default), ``"weight"``,
    ``"cover"``, ``"total_gain"`` or ``"total_cover"``, normalised to sum 1 as in ``XGBClassifier``),
    ``n_features_in_``, ``feature_names_in_`` (DataFrame input), ``classes_``, ``n_classes_``, ``loss_`` (the
    :class:`FocalLoss`; a scalar ``alpha`` is the weight of ``classes_[1]``, a mapping ``{label: weight}`` names the
    classes), ``init_score_``.
    The shared contract (validation, labels, alpha, fitted state, tags) is ``focal_boost._sklearn``.
    """

    _IMPORTANCE_TYPES = ("weight", "gain", "cover", "total_gain", "total_cover")
    _multi_label = True

    def _engine_settings(self) -> EngineSettings:
        params = dict(self._engine_params)
        for refused in ("objective", "base_score", "num_class", "num_target"):
            if params.get(refused) is not None:
                raise ValueError(f"{refused}={params[refused]!r} is not supported by {type(self).__name__}; the "
                                 "focal loss sets it (use gamma, alpha and sample_weight)")
            params.pop(refused, None)
        n_estimators = check_rounds(params.pop("n_estimators", 100), "n_estimators", allow_none=False)
        rounds = check_rounds(params.pop("early_stopping_rounds", None), "early_stopping_rounds", allow_none=True)
        importance_type = params.pop("importance_type", None) or "gain"  # XGBClassifier's default for trees
        if importance_type not in self._IMPORTANCE_TYPES:
            raise ValueError(f"importance_type must be one of {self._IMPORTANCE_TYPES}, got "
                             f"importance_type={importance_type!r}")
        # XGBClassifier arguments that are not booster parameters: DMatrix options and train callbacks.
        dmatrix_kwargs = {"missing": params.pop("missing", np.nan),
                          "enable_categorical": params.pop("enable_categorical", False)}
        callbacks = params.pop("callbacks", None)
        renames = {"random_state": "seed", "n_jobs": "nthread"}
        for sk_name, native in renames.items():
            value = params.pop(sk_name, None)
            if value is not None:
                params[native] = value
        dmatrix_kwargs["nthread"] = params.get("nthread")
        return EngineSettings(params, n_estimators, rounds,
                              {"dmatrix": dmatrix_kwargs, "callbacks": callbacks, "importance_type": importance_type})

    def _fit_engine(self, fit: FitData) -> EngineFit:
        params = dict(fit.settings.params)
        if fit.n_classes is not None:
            params["num_class"] = fit.n_classes
        if fit.n_labels is not None:
            params["num_target"] = fit.n_labels  # multi_strategy as given (xgboost's default: one_output_per_tree)
        dmatrix_kwargs = fit.settings.extra["dmatrix"]
        callbacks = fit.settings.extra["callbacks"]
        dtrain = xgb.DMatrix(fit.X, label=fit.y, weight=fit.sample_weight, **dmatrix_kwargs)
        evals = [(xgb.DMatrix(x_val, label=y_val, weight=w_val, **dmatrix_kwargs), f"validation_{i}")
                 for i, (x_val, y_val, w_val) in enumerate(fit.evals)]
        evals_result: dict[str, Any] = {}
        rounds = fit.settings.early_stopping_rounds
        booster, init = _train(fit.loss, params, dtrain, fit.settings.n_estimators, evals,
                               {"early_stopping_rounds": rounds, "evals_result": evals_result, "verbose_eval": False,
                                "callbacks": None if callbacks is None else copy.deepcopy(list(callbacks))})
        best = booster.best_iteration if rounds is not None else booster.num_boosted_rounds() - 1
        history = {name: {metric: list(values) for metric, values in metrics.items()}
                   for name, metrics in evals_result.items()}
        return EngineFit(booster, best, history, init,
                         {"dmatrix": dmatrix_kwargs, "importance_type": fit.settings.extra["importance_type"]})

    def _check_frame_columns(self, X: Any, columns: FrameColumns) -> None:
        strings = columns.named(STRING)
        if strings:
            raise column_kind_error(
                strings, "string", "XGBoost (3.2) reads categorical features from the 'category' dtype with "
                "enable_categorical=True and refuses strings",
                category_dtype_fix(strings) + ", and pass enable_categorical=True")
        categorical = columns.named(CATEGORICAL)
        if categorical and not self._engine_params.get("enable_categorical", False):
            raise column_kind_error(
                categorical, "categorical", "XGBoost (3.2) reads them only with enable_categorical=True",
                f"Pass it: {type(self).__name__}(..., enable_categorical=True)")

    def _predict_raw(self, X: Any) -> np.ndarray:
        dmat = xgb.DMatrix(X, **self._engine_state["dmatrix"])
        raw = self.booster_.predict(dmat, output_margin=True, iteration_range=(0, self.best_iteration_ + 1))
        return np.asarray(raw, dtype=np.float64)

    def _engine_importances(self) -> np.ndarray:
        # XGBClassifier.feature_importances_: the booster's score per feature, normalised to sum 1 (0 if unused).
        score = self.booster_.get_score(importance_type=self._engine_state["importance_type"])
        names = self.booster_.feature_names or [f"f{i}" for i in range(self.n_features_in_)]
        values = np.array([score.get(name, 0.0) for name in names], dtype=np.float32)
        total = values.sum()
        return values / total if total > 0 else values
