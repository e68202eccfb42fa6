"""Focal loss through ``lightgbm.dask``: ``FocalDaskLGBMClassifier`` and the objective/metric in LightGBM's
scikit-learn form (public names in ``focal_boost.dask``, which loads this module when they are first used: it
imports lightgbm).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from lightgbm.basic import _ConfigAliases  # LightGBM's own parameter-alias table (private, stable since 3.x)

from .._adapter import METRIC_NAME, LossCallable
from .._sklearn import EngineFit
from ..lightgbm import FocalLGBMClassifier, _alias_values, _bake_init_score, _declare_objective, engine_grad_hess
from ..loss import FocalLoss
from ._partitions import (
    _check_frame,
    _check_vector,
    _constant_rows,
    _encode_partition,
    _from_partitions,
    _is_dask,
    _partition_labels,
    _partitions,
    _weight_partition,
)

if TYPE_CHECKING:  # pragma: no cover
    import dask.array
    import distributed

__all__ = ["FocalDaskLGBMClassifier", "FocalLGBMSklearnMetric", "FocalLGBMSklearnObjective"]


class FocalLGBMSklearnObjective(LossCallable):
    """Focal objective in LightGBM's scikit-learn form, ``(y_true, y_pred, weight) -> (grad, hess)``, for
    ``LGBMModel(objective=...)`` and therefore for ``lightgbm.dask`` estimators.

    ``y_pred`` are RAW SCORES, ``(n_samples,)`` or ``(n_samples, K)`` (``n_classes=K``); ``grad``/``hess`` have the
    same shape, are float32 (what LightGBM stores) and include ``weight`` (LightGBM 4.7 does not weight custom
    gradients). Labels must be 0/1 (or in [0, 1]) for binary and 0..K-1 for multiclass. Labels and weights are
    validated once per label array: LightGBM 4.7's scikit-learn wrappers hand over the constructed Dataset's cached
    ``get_label()``/``get_weight()`` arrays, the same objects every round (the cache holds them, so their ids stay
    unique). A multiclass hessian carries LightGBM's ``K / (K - 1)`` factor, as in
    :class:`focal_boost.lightgbm.FocalLGBMObjective`. Picklable; the cache is not pickled.
    """

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray]:
        raw = np.asarray(y_pred, dtype=np.float64)
        self._check_shape(raw)
        return engine_grad_hess(self._cache.get((id(y_true), id(weight)), y_true, weight), raw)


class FocalLGBMSklearnMetric(LossCallable):
    """Focal ``eval_metric`` in LightGBM's scikit-learn form: ``(y_true, y_pred, weight) -> ("focal_loss", value,
    False)``, the weighted mean focal loss of RAW SCORES ``y_pred`` (``(n,)`` or ``(n, K)``, including the eval
    set's ``init_score``). Lower is better. Validates each label array once. Picklable; the cache is not pickled.
    """

    name = METRIC_NAME

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None) -> tuple[str, float, bool]:
        raw = np.asarray(y_pred, dtype=np.float64)
        self._check_shape(raw)
        return METRIC_NAME, self._cache.get((id(y_true), id(weight)), y_true, weight).eval(raw), False


def _block_output(block: Any, booster: Any, num_iteration: int, loss: FocalLoss, calibrate: bool,
                  classes: np.ndarray, softmax: bool, what: str) -> np.ndarray:
    """On a worker: raw scores (``what="raw"``), probabilities (``"proba"``) or labels (``"label"``) of one
    partition of X."""
    k = classes.shape[0]
    if block.shape[0] == 0:
        raw = np.zeros((0, k) if softmax else (0,))
    else:
        raw = np.asarray(booster.predict(block, raw_score=True, num_iteration=num_iteration), dtype=np.float64)
    if what == "raw":
        return raw
    proba = loss.predict_proba(raw, calibrate=calibrate) if raw.shape[0] else np.zeros((0, k))
    if what == "proba":
        return proba
    return classes[np.argmax(proba, axis=1)]


class FocalDaskLGBMClassifier(FocalLGBMClassifier):
    """LightGBM classifier trained with focal loss on a Dask cluster (``lightgbm.dask``), scikit-learn style.

    Same parameters as :class:`focal_boost.lightgbm.FocalLGBMClassifier` (``gamma``, ``alpha``, ``hessian``,
    ``calibrate`` and LightGBM parameters such as ``n_estimators``, ``learning_rate``, ``num_leaves``,
    ``tree_learner``), except that early stopping is refused: lightgbm.dask 4.7 does not support it (each worker
    judges its own share of the eval set, they stop at different rounds and training hangs: LightGBM issues
    #3712, #6351).

    ``fit`` takes Dask collections (``X``: Dask Array chunked by rows, or Dask DataFrame; ``y``, ``sample_weight``:
    Dask Array or Series partitioned like ``X``). Labels may be any sortable values; they are encoded to 0..K-1 on
    the workers from the classes found in all partitions, so a worker that holds no row of some class still trains
    the same K-class model. Training goes through ``lightgbm.dask.DaskLGBMRegressor`` with the focal objective
    (:class:`focal_boost.dask.FocalLGBMSklearnObjective`), not ``DaskLGBMClassifier``: in lightgbm 4.7 every
    worker's ``LGBMClassifier.fit`` label-encodes its LOCAL labels again, which renumbers the classes (and changes
    K) on a worker that lacks one. The init score is handed to LightGBM as a per-row Dask collection (train and
    eval sets) and afterwards added to the first iteration's leaves, as on one machine, so ``booster_`` alone
    predicts the full raw score (also after ``save_model``).

    Prediction: ``decision_function`` (RAW SCORES, ``(n,)`` binary or ``(n, K)``), ``predict_proba`` (calibrated
    probabilities ``(n, n_classes)`` unless ``calibrate=False``) and ``predict`` (labels) return lazy Dask arrays
    for Dask input and NumPy arrays for in-memory input. :meth:`to_local` gives the equivalent single-machine
    :class:`FocalLGBMClassifier`.

    Fitted attributes: those of :class:`FocalLGBMClassifier` (``booster_``, ``best_iteration_``, ``classes_``,
    ``n_classes_``, ``loss_``, ``init_score_``, ``n_features_in_``, ``evals_result_``) and ``engine_model_`` (the
    fitted ``DaskLGBMRegressor``). ``evals_result_`` holds the focal loss that ONE worker measured on ITS share of
    each eval set: lightgbm.dask 4.7 does not aggregate validation metrics across workers.
    """

    _multi_label = False  # the Dask training takes class labels (n,) only

    def fit(  # type: ignore[override]
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Sequence[tuple[Any, Any]] | None = None,
        eval_sample_weight: Sequence[Any] | None = None,
        client: distributed.Client | None = None,
    ) -> FocalDaskLGBMClassifier:
        """Fit on Dask collections: ``X`` (n_samples, n_features), labels ``y`` (n_samples,), optional
        ``sample_weight`` (n_samples,) and ``eval_set``: a list of ``(X_val, y_val)`` Dask pairs (optionally
        ``eval_sample_weight``), scored every round with the focal metric.

        ``client``: the Dask client to train with (default: the current default client). Label and weight
        partitions are validated where they live before training; a bad value raises ``ValueError`` here.
        """
        try:
            self._fit_dask(X, y, sample_weight, eval_set, eval_sample_weight, client)
        except BaseException:
            self._forget_fit()
            raise
        return self

    def _fit_dask(self, X: Any, y: Any, sample_weight: Any, eval_set: Any, eval_sample_weight: Any,
                  client: Any) -> None:
        import dask
        from distributed import default_client
        from lightgbm.dask import DaskLGBMRegressor

        settings = self._check_params()
        stops = {k: v for k, v in self._engine_params.items()
                 if k in _ConfigAliases.get("early_stopping_round") and v is not None}
        if stops:
            raise ValueError(f"early stopping is not supported on Dask, got {stops!r}: lightgbm.dask 4.7 has none "
                             "(workers would stop at different rounds); set n_estimators instead")
        client = default_client() if client is None else client
        _check_frame(X, "X")
        n_parts = len(_partitions(X))
        _check_vector(y, "y", n_parts)
        if sample_weight is not None:
            _check_vector(sample_weight, "sample_weight", n_parts)
        if isinstance(eval_set, tuple):
            eval_set = [eval_set]
        eval_set = list(eval_set or [])
        if eval_sample_weight is not None and len(eval_sample_weight) != len(eval_set):
            raise ValueError(f"eval_sample_weight must have one entry per eval set ({len(eval_set)}), "
                             f"got {len(eval_sample_weight)}")
        eval_weights = list(eval_sample_weight) if eval_sample_weight is not None else [None] * len(eval_set)
        for i, ((x_val, y_val), w_val) in enumerate(zip(eval_set, eval_weights, strict=True)):
            _check_frame(x_val, f"eval_set[{i}] X")
            n_val = len(_partitions(x_val))
            _check_vector(y_val, f"eval_set[{i}] y", n_val)
            if w_val is not None:
                _check_vector(w_val, f"eval_sample_weight[{i}]", n_val)
            if x_val.shape[1] != X.shape[1]:
                raise ValueError(f"eval_set[{i}] has {x_val.shape[1]} features, X has {X.shape[1]}")

        # One pass over every label/weight partition, where it lives: validation, distinct labels, weight totals.
        sets = [(_partitions(y), None if sample_weight is None else _partitions(sample_weight))]
        sets += [(_partitions(y_val), None if w_val is None else _partitions(w_val))
                 for (_, y_val), w_val in zip(eval_set, eval_weights, strict=True)]
        tasks = [[dask.delayed(_partition_labels)(yp, wp)
                  for yp, wp in zip(y_parts, w_parts or [None] * len(y_parts), strict=True)]
                 for y_parts, w_parts in sets]
        stats = client.gather(client.compute(tasks))
        lengths = [[n for n, _, _ in part_stats] for part_stats in stats]

        train_stats = stats[0]
        classes = np.unique(np.concatenate([uniq for _, uniq, _ in train_stats]))
        totals = np.zeros(classes.shape[0])
        for _, uniq, tot in train_stats:
            np.add.at(totals, np.searchsorted(classes, uniq), tot)
        # The init score depends on the labels only through the class totals (binary: [negatives, positives]).
        loss, n_classes = self._loss_for(classes)
        init = loss.init_score_from_totals(totals, n_classes)
        for i, part_stats in enumerate(stats[1:]):
            unseen = np.setdiff1d(np.concatenate([uniq for _, uniq, _ in part_stats]), classes)
            if unseen.size:
                raise ValueError(f"eval_set[{i}] has labels not seen in y at fit time: {unseen.tolist()!r}")
        params = dict(settings.params)
        if n_classes is not None:
            params["num_class"] = n_classes
        if not _alias_values(params, "metric"):
            params["metric"] = "None"

        encoded = [_from_partitions(_encode_partition, y_parts, n, classes)
                   for (y_parts, _), n in zip(sets, lengths, strict=True)]
        init_rows = [_constant_rows(init, n) for n in lengths]
        weights = [None if w_parts is None else _from_partitions(_weight_partition, w_parts, n)
                   for (_, w_parts), n in zip(sets, lengths, strict=True)]
        fit_kwargs: dict[str, Any] = {}
        if eval_set:
            fit_kwargs.update(
                eval_X=tuple(x_val for x_val, _ in eval_set), eval_y=tuple(encoded[1:]),
                eval_init_score=init_rows[1:], eval_names=[f"valid_{i}" for i in range(len(eval_set))],
                eval_metric=FocalLGBMSklearnMetric(loss, n_classes))
            if any(w is not None for w in weights[1:]):
                # lightgbm.dask 4.7 splits every entry of eval_sample_weight: give unweighted eval sets ones.
                fit_kwargs["eval_sample_weight"] = [_constant_rows(1.0, n) if w is None else w
                                                    for w, n in zip(weights[1:], lengths[1:], strict=True)]

        engine = DaskLGBMRegressor(client=client, objective=FocalLGBMSklearnObjective(loss, n_classes),
                                   n_estimators=settings.n_estimators, **params)
        with warnings.catch_warnings():
            if "n_jobs" not in self._engine_params:
                # lightgbm.dask 4.7 warns "Parameter n_jobs will be ignored" for its own default n_jobs=None (it
                # sets num_threads from the workers' threads); say nothing when the user did not set it.
                warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored", category=UserWarning)
            engine.fit(X, encoded[0], sample_weight=weights[0], init_score=init_rows[0], **fit_kwargs)
        booster = engine.booster_
        _bake_init_score(booster, init, n_classes)
        _declare_objective(booster, n_classes)
        history = {name: {metric: list(values) for metric, values in metrics.items()}
                   for name, metrics in (getattr(engine, "evals_result_", None) or {}).items()}
        self.n_features_in_ = int(X.shape[1])
        # no early stopping on Dask: every tree is used, and best_iteration_ is the last one's 0-based index
        self._set_fitted(classes, loss, n_classes, EngineFit(booster, booster.current_iteration() - 1, history, init,
                                                             {"importance_type": settings.extra["importance_type"]}))
        self.engine_model_ = engine

    # -- prediction ------------------------------------------------------------------------------------------------
    def _dask_output(self, X: Any, what: str) -> dask.array.Array:
        import dask
        import dask.array as da
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "booster_")
        _check_frame(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but the classifier was fitted with {self.n_features_in_}")
        k = self.n_classes_
        one_column = what == "label" or (what == "raw" and not self._softmax)
        args = (self.booster_, self.best_iteration_ + 1, self.loss_, self.calibrate, self.classes_, self._softmax, what)
        dtype = self.classes_.dtype if what == "label" else np.dtype(np.float64)
        if isinstance(X, da.Array):
            if one_column:
                return X.map_blocks(_block_output, *args, dtype=dtype, drop_axis=1)
            return X.map_blocks(_block_output, *args, dtype=dtype, chunks=(X.chunks[0], (k,)))
        # Dask DataFrame: one block per partition (row counts unknown until computed).
        shape: tuple[float, ...] = (np.nan,) if one_column else (np.nan, k)
        blocks = [da.from_delayed(dask.delayed(_block_output)(part, *args), shape=shape, dtype=dtype)
                  for part in _partitions(X)]
        return da.concatenate(blocks, axis=0)

    def decision_function(self, X: Any) -> Any:
        """RAW SCORES including the init score: ``(n,)`` binary, ``(n, K)`` softmax; a Dask array for Dask X."""
        return self._dask_output(X, "raw") if _is_dask(X) else super().decision_function(X)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(n, n_classes)``, calibrated unless ``calibrate=False``; Dask array for Dask X."""
        return self._dask_output(X, "proba") if _is_dask(X) else super().predict_proba(X)

    def predict(self, X: Any) -> Any:
        """Labels (from ``classes_``) of the highest probability, ``(n,)``; a Dask array for Dask X."""
        return self._dask_output(X, "label") if _is_dask(X) else super().predict(X)

    def to_local(self) -> FocalLGBMClassifier:
        """The fitted model as a single-machine :class:`FocalLGBMClassifier` (same booster, classes and loss)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "booster_")
        local = FocalLGBMClassifier(**self.get_params())
        for name in ("booster_", "best_iteration_", "evals_result_", "best_score_", "n_features_in_", "classes_",
                     "n_classes_", "loss_", "init_score_", "_softmax", "_engine_state"):
            setattr(local, name, getattr(self, name))
        if hasattr(self, "feature_names_in_"):
            local.feature_names_in_ = self.feature_names_in_
        return local
