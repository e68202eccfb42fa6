"""Focal loss on a Dask cluster, through the engines' own distributed training (``xgboost.dask``,
``lightgbm.dask``).

- :func:`xgb_train`: ``xgboost.dask.train`` with the focal objective, a focal metric that is the exact global
  weighted mean over all workers, and the weighted init score stored in the model as ``base_score``.
- :class:`FocalDaskLGBMClassifier`: a :class:`focal_boost.lightgbm.FocalLGBMClassifier` that trains through
  ``lightgbm.dask`` on Dask collections; the init score is baked into the booster, ``predict_proba`` returns
  calibrated probabilities (a Dask array for Dask input).
- :func:`predict_proba`: probabilities from a Dask array of raw scores, block by block.

What ships to the workers: the objective and metric objects (plain classes holding only the :class:`FocalLoss`, so
they pickle by reference to ``focal_boost``: install focal_boost on every worker) and the data partitions. Each
worker validates its labels and weights once per training (the objects cache the prepared target for the label
array or DMatrix they are handed) and then only evaluates the loss every round.

The init score is solved on the client from K numbers: the focal loss of a constant raw score depends on the data
only through the weighted label totals (binary: ``sum(w * (1 - y))`` and ``sum(w * y)``; softmax: the weight of
each class), so every partition is validated where it lives and returns those totals, and
``FocalLoss.init_score`` is solved on the K-row summary. No labels travel to the client.

Dask, xgboost and lightgbm are imported when first used (``FocalDaskLGBMClassifier`` lives in
``focal_boost._dask_lightgbm`` and is loaded on first access), so ``focal_boost[dask,xgboost]`` suffices for
:func:`xgb_train`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._adapter import METRIC_NAME, LossCallable, as_raw, n_classes_of
from ._adapter import check_loss as _check_loss
from ._validation import check_sample_weight
from .loss import FocalLoss, _Target

if TYPE_CHECKING:  # pragma: no cover
    import dask.array
    import distributed
    import xgboost

    from ._dask_lightgbm import FocalDaskLGBMClassifier

__all__ = [
    "FocalDaskLGBMClassifier",
    "FocalDaskXGBMetric",
    "FocalLGBMSklearnMetric",
    "FocalLGBMSklearnObjective",
    "predict_proba",
    "xgb_train",
]

def _column(values: Any, name: str) -> np.ndarray | None:
    """A partition's labels/weights as a 1-D array (pandas Series, one-column frame, (n, 1) or (n,) array)."""
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,), got a partition of shape {arr.shape}")
    return arr


def _weighted_sum(loss: FocalLoss, target: _Target, raw: np.ndarray) -> tuple[float, float]:
    """``(sum of w * FL, sum of w)`` of one partition: the two numbers whose global ratio is the weighted mean
    loss that ``FocalLoss.eval`` returns on the whole data."""
    total = float(target.n_samples) if target.sample_weight is None else float(np.sum(target.sample_weight))
    return float(np.sum(loss._loss(target, raw))), total


def _label_totals(loss: FocalLoss, label: Any, weight: Any, n_classes: int | None) -> tuple[int, np.ndarray]:
    """Validate one partition's labels and weights (the core's checks) and return ``(n_rows, totals)``: the summed
    weight of each class (softmax, length K) or of negatives and positives (binary, length 2; soft labels count
    ``w * y`` and ``w * (1 - y)``). Runs on the worker that holds the partition."""
    y = _column(label, "label")
    w = _column(weight, "weight")
    k = 2 if n_classes is None else n_classes
    if y is None or y.shape[0] == 0:
        return 0, np.zeros(k)
    target = loss.prepare_target(y, w, n_classes)
    w_rows = np.ones(target.n_samples) if target.sample_weight is None else target.sample_weight
    if n_classes is None:
        y_float = y.astype(np.float64)
        return target.n_samples, np.array([np.sum(w_rows * (1.0 - y_float)), np.sum(w_rows * y_float)])
    return target.n_samples, np.bincount(target.labels, weights=w_rows, minlength=k).astype(np.float64)


def _init_from_totals(loss: FocalLoss, totals: np.ndarray, n_classes: int | None) -> float | np.ndarray:
    """``FocalLoss.init_score`` of the K-row summary ``y = 0..K-1`` weighted by the class totals (binary: K=2)."""
    return loss.init_score(np.arange(totals.shape[0], dtype=np.float64), totals, n_classes)


# == XGBoost ========================================================================================================
class FocalDaskXGBMetric(LossCallable):
    """Focal ``custom_metric`` for ``xgboost.dask.train``: ``(preds, dmatrix) -> ("focal_loss", value)``.

    ``preds`` are RAW MARGINS of the worker's share of the evaluation data, ``(n_local,)`` or ``(n_local, K)``,
    including ``base_score``. The value is the weighted mean focal loss over ALL workers, ``sum(w * FL) / sum(w)``:
    each worker computes its two sums and they are added with ``xgboost.collective.allreduce``. (xgboost 3.2 only
    averages a custom metric's per-worker values, which is the global mean only when every worker holds the same
    weight; every worker then sees the same value, so early stopping agrees.) A worker with no rows for this
    DMatrix contributes zeros. Lower is better. Picklable; the per-DMatrix target cache is not pickled.
    """

    name = METRIC_NAME

    def __call__(self, preds: np.ndarray, dmatrix: xgboost.DMatrix) -> tuple[str, float]:
        from xgboost import collective

        from .xgboost import _prepared

        raw = as_raw(preds)
        sums = np.zeros(2)
        if dmatrix.num_row() > 0:
            target = _prepared(self.loss, self._cache, dmatrix, n_classes_of(raw))
            sums[:] = _weighted_sum(self.loss, target, raw)
        if collective.is_distributed():
            sums = collective.allreduce(sums, collective.Op.SUM)
        if not sums[1] > 0:
            raise ValueError(f"the evaluation data must have a positive total weight, got sum(weight)={sums[1]!r}")
        return METRIC_NAME, float(sums[0] / sums[1])


def _xgb_part_totals(loss: FocalLoss, n_classes: int | None, part: dict[str, Any]
                     ) -> tuple[int, np.ndarray, bool, bool]:
    """On the worker: ``(n_rows, class totals, has label, has base_margin)`` of one DaskDMatrix partition."""
    has_label = part.get("label") is not None
    has_margin = part.get("base_margin") is not None
    if not has_label:
        return 0, np.zeros(2 if n_classes is None else n_classes), False, has_margin
    n_rows, totals = _label_totals(loss, part["label"], part.get("weight"), n_classes)
    return n_rows, totals, True, has_margin


def _xgb_totals(client: distributed.Client, loss: FocalLoss, dmat: Any, n_classes: int | None, what: str
                ) -> np.ndarray:
    # xgboost 3.2: a DaskDMatrix keeps its partitions as futures of {"data", "label", "weight", ...} dicts in
    # ``worker_map`` (worker address -> futures); the totals are computed where each partition lives.
    parts = [fut for futures in dmat.worker_map.values() for fut in futures]
    if not parts:
        raise ValueError(f"{what} has no partitions")
    futures = client.map(_xgb_part_totals, [loss] * len(parts), [n_classes] * len(parts), parts, pure=False)
    try:
        results = client.gather(futures)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from exc
    if not all(has_label for _, _, has_label, _ in results):
        raise ValueError(f"{what} has no label; focal loss needs labels")
    if any(has_margin for _, _, _, has_margin in results):
        raise ValueError(f"{what} has a base_margin; focal_boost stores the init score in the model instead")
    if sum(n for n, _, _, _ in results) == 0:
        raise ValueError(f"{what} has no rows")
    return np.sum([totals for _, totals, _, _ in results], axis=0)


def xgb_train(
    client: distributed.Client | None,
    loss: FocalLoss,
    params: Mapping[str, Any],
    dtrain: Any,
    num_boost_round: int = 10,
    evals: Sequence[tuple[Any, str]] = (),
    **kwargs: Any,
) -> dict[str, Any]:
    """Train an XGBoost model with focal loss on a Dask cluster (``xgboost.dask.train``).

    Returns what ``xgboost.dask.train`` returns: ``{"booster": xgboost.Booster, "history": dict}``. The booster is an
    ordinary one whose ``base_score`` holds the weighted focal init score (a float, or a length-K list for
    multiclass), so ``booster.predict(DMatrix(X), output_margin=True)`` and
    ``xgboost.dask.predict(client, booster, X, output_margin=True)`` return RAW MARGINS including it (``(n,)``
    binary, ``(n, K)`` multiclass), also after ``save_model`` in a process without focal_boost. Probabilities:
    ``loss.predict_proba(margins)`` or :func:`predict_proba` for a Dask array. ``history[name]["focal_loss"]`` is
    the global weighted mean focal loss of each evaluation set per round (see :class:`FocalDaskXGBMetric`).

    Steps: every partition of ``dtrain`` and of each eval DaskDMatrix is validated on its worker (labels, weights),
    which returns its class weight totals; the init score is solved from the totals of ``dtrain`` on the client;
    then ``xgboost.dask.train(client, params, dtrain, obj=focal objective, custom_metric=focal metric, ...)``.

    Parameters
    ----------
    client : distributed.Client or None
        None: the current default client.
    loss : FocalLoss
    params : mapping
        XGBoost parameters without ``objective`` and ``base_score``. ``num_class`` (K > 1) makes the model
        multiclass; it must agree with ``loss.alpha`` when that is a sequence (and is set from it if absent).
        ``disable_default_eval_metric`` defaults to True unless ``eval_metric`` is given.
    dtrain, evals : xgboost.dask.DaskDMatrix
        With labels (binary: in [0, 1]; multiclass: 0..K-1) and optional weights; no ``base_margin``.
    num_boost_round : int
    **kwargs
        Passed to ``xgboost.dask.train``: ``early_stopping_rounds`` (stops on the focal loss of the LAST eval set;
        ``booster.best_iteration`` is then set), ``verbose_eval``, ``callbacks``, ``xgb_model`` (boosting continues
        from that model's margins; its intercept is kept).
    """
    import xgboost.dask as dxgb
    from distributed import default_client

    from .xgboost import _declare_objective, _train_params, objective

    if not isinstance(dtrain, dxgb.DaskDMatrix):
        raise ValueError(f"dtrain must be an xgboost.dask.DaskDMatrix, got {type(dtrain).__name__}")
    loss, params, n_classes = _train_params(loss, params, kwargs, "focal_boost.dask.xgb_train")
    evals = list(evals) if evals else []
    for i, pair in enumerate(evals):
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], dxgb.DaskDMatrix)
                and isinstance(pair[1], str)):
            raise ValueError(f"evals[{i}] must be a (DaskDMatrix, name) pair, got {pair!r}")

    client = default_client() if client is None else client
    train_totals = _xgb_totals(client, loss, dtrain, n_classes, "dtrain")
    for i, (dmat, name) in enumerate(evals):
        if dmat is not dtrain:
            _xgb_totals(client, loss, dmat, n_classes, f"evals[{i}] ({name!r})")
    if kwargs.get("xgb_model") is None:
        init = _init_from_totals(loss, train_totals, n_classes)
        # base_score must be plain floats (xgboost serialises it to JSON).
        params["base_score"] = float(init) if n_classes is None else [float(v) for v in np.asarray(init)]
    result = dxgb.train(client, params, dtrain, num_boost_round=num_boost_round, evals=evals, obj=objective(loss),
                        custom_metric=FocalDaskXGBMetric(loss), **kwargs)
    _declare_objective(result["booster"], n_classes)
    return result


# == LightGBM =======================================================================================================
class _ArrayTargetCache:
    """The prepared target for one (label array, weight array) pair, matched by object identity: LightGBM 4.7's
    scikit-learn wrappers hand the objective/metric the constructed Dataset's cached ``get_label()`` /
    ``get_weight()`` arrays, the same objects every round. The arrays are held so their ids stay unique."""

    __slots__ = ("label", "n_classes", "target", "weight")

    def __init__(self, label: Any, weight: Any, n_classes: int | None, target: _Target) -> None:
        self.label, self.weight, self.n_classes, self.target = label, weight, n_classes, target


def _prepared_arrays(loss: FocalLoss, cache: dict[tuple[int, int], _ArrayTargetCache], label: Any, weight: Any,
                     n_classes: int | None) -> _Target:
    key = (id(label), id(weight))
    entry = cache.get(key)
    if entry is None or entry.label is not label or entry.weight is not weight or entry.n_classes != n_classes:
        entry = _ArrayTargetCache(label, weight, n_classes, loss.prepare_target(label, weight, n_classes))
        cache[key] = entry
    return entry.target


class FocalLGBMSklearnObjective(LossCallable):
    """Focal objective in LightGBM's scikit-learn form, ``(y_true, y_pred, weight) -> (grad, hess)``, for
    ``LGBMModel(objective=...)`` and therefore for ``lightgbm.dask`` estimators.

    ``y_pred`` are RAW SCORES, ``(n_samples,)`` or ``(n_samples, K)``; ``grad``/``hess`` have the same shape, are
    float32 (what LightGBM stores) and include ``weight`` (LightGBM 4.7 does not weight custom gradients). Labels
    must be 0/1 (or in [0, 1]) for binary and 0..K-1 for multiclass. Labels and weights are validated once per label
    array (see ``_ArrayTargetCache``), not every round. Picklable; the cache is not pickled.
    """

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray]:
        raw = np.asarray(y_pred, dtype=np.float64)
        target = _prepared_arrays(self.loss, self._cache, y_true, weight, n_classes_of(raw))
        return self.loss._grad_hess(target, raw, np.float32)


class FocalLGBMSklearnMetric(LossCallable):
    """Focal ``eval_metric`` in LightGBM's scikit-learn form: ``(y_true, y_pred, weight) -> ("focal_loss", value,
    False)``, the weighted mean focal loss of RAW SCORES ``y_pred`` (``(n,)`` or ``(n, K)``, including the eval
    set's ``init_score``). Lower is better. Validates each label array once. Picklable; the cache is not pickled.
    """

    name = METRIC_NAME

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None) -> tuple[str, float, bool]:
        raw = np.asarray(y_pred, dtype=np.float64)
        target = _prepared_arrays(self.loss, self._cache, y_true, weight, n_classes_of(raw))
        return METRIC_NAME, self.loss._eval(target, raw), False


# -- Dask collections ----------------------------------------------------------------------------------------------
def _is_dask(x: Any) -> bool:
    return hasattr(x, "__dask_graph__") and hasattr(x, "to_delayed")


def _partitions(coll: Any) -> list[Any]:
    """Row partitions of a Dask Array / DataFrame / Series as Delayed objects (as ``lightgbm.dask`` splits them)."""
    parts = coll.to_delayed()
    if isinstance(parts, np.ndarray):
        if parts.ndim == 2 and parts.shape[1] != 1:
            raise ValueError(f"Dask arrays must be chunked by rows only (chunks=(rows, -1)), got {parts.shape[1]} "
                             "column chunks")
        parts = parts.ravel().tolist()
    return list(parts)


def _check_frame(x: Any, name: str) -> None:
    import dask.array as da
    import dask.dataframe as dd

    if not isinstance(x, (da.Array, dd.DataFrame)) or len(x.shape) != 2:
        raise ValueError(f"{name} must be a 2-D Dask Array or Dask DataFrame, got {type(x).__name__}")


def _check_vector(v: Any, name: str, n_parts: int) -> None:
    import dask.array as da
    import dask.dataframe as dd

    if not (isinstance(v, dd.Series) or (isinstance(v, da.Array) and v.ndim == 1)):
        raise ValueError(f"{name} must be a 1-D Dask Array or Dask Series, got {type(v).__name__}")
    if v.npartitions != n_parts:
        raise ValueError(f"{name} must be partitioned like X ({n_parts} partitions), got {v.npartitions}")


def _partition_labels(y: Any, w: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """On a worker: ``(n_rows, distinct labels, summed weight of each)`` of one partition, weights validated."""
    y_arr = _column(y, "y")
    if y_arr.dtype.kind == "f" and np.any(np.isnan(y_arr)):
        raise ValueError("y must not contain NaN, got y=nan")
    weight = check_sample_weight(_column(w, "sample_weight"), y_arr.shape[0])
    uniq, inverse = np.unique(y_arr, return_inverse=True)
    totals = np.bincount(inverse.ravel(), weights=weight, minlength=uniq.shape[0]).astype(np.float64)
    return y_arr.shape[0], uniq, totals


def _encode_partition(y: Any, classes: np.ndarray) -> np.ndarray:
    """On a worker: labels -> float codes 0..K-1 (positions in the sorted ``classes``, as ``LabelEncoder``)."""
    return np.searchsorted(classes, _column(y, "y")).astype(np.float64)


def _weight_partition(w: Any) -> np.ndarray:
    return np.asarray(_column(w, "sample_weight"), dtype=np.float64)


def _from_partitions(func: Any, parts: list[Any], lengths: list[int], *args: Any) -> dask.array.Array:
    """A 1-D float Dask array with one block ``func(part, *args)`` per partition, chunked like the partitions."""
    import dask
    import dask.array as da

    blocks = [da.from_delayed(dask.delayed(func)(p, *args), shape=(n,), dtype=np.float64)
              for p, n in zip(parts, lengths, strict=True)]
    return da.concatenate(blocks)


def _constant_rows(init: float | np.ndarray, lengths: list[int]) -> dask.array.Array:
    """The init score repeated on every row: ``(n,)`` (binary) or ``(n, K)``, chunked like the partitions."""
    import dask.array as da

    init_arr = np.asarray(init, dtype=np.float64)
    n = int(sum(lengths))
    if init_arr.ndim == 0:
        return da.full((n,), float(init_arr), chunks=(tuple(lengths),), dtype=np.float64)
    return da.broadcast_to(da.from_array(init_arr), (n, init_arr.shape[0]),
                           chunks=(tuple(lengths), (init_arr.shape[0],)))


def _proba_block(raw: np.ndarray, loss: FocalLoss, calibrate: bool) -> np.ndarray:
    if raw.shape[0] == 0:
        return np.zeros((0, 2 if raw.ndim == 1 else raw.shape[1]))
    return loss.predict_proba(raw, calibrate=calibrate)


def predict_proba(loss: FocalLoss, raw: dask.array.Array, calibrate: bool = True) -> dask.array.Array:
    """Class probabilities from a Dask array of RAW SCORES, block by block (lazy).

    ``raw``: ``(n,)`` binary logits or ``(n, K)`` multiclass raw scores, chunked by rows (e.g. the output of
    ``xgboost.dask.predict(client, booster, X, output_margin=True)``). Returns a Dask array ``(n, 2)`` or
    ``(n, K)`` of ``loss.predict_proba(raw, calibrate)`` (calibrated posteriors by default).
    """
    import dask.array as da

    loss = _check_loss(loss)
    if not isinstance(raw, da.Array) or raw.ndim not in (1, 2):
        raise ValueError(f"raw must be a 1-D or 2-D Dask array of raw scores, got {type(raw).__name__}")
    if raw.ndim == 2 and raw.numblocks[1] != 1:
        raw = raw.rechunk({1: -1})
    n_out = 2 if raw.ndim == 1 else raw.shape[1]
    return raw.map_blocks(_proba_block, loss, calibrate, dtype=np.float64, chunks=(raw.chunks[0], (n_out,)),
                          new_axis=1 if raw.ndim == 1 else None)


def __getattr__(name: str) -> Any:
    # FocalDaskLGBMClassifier subclasses FocalLGBMClassifier, which imports lightgbm: load it only when asked for.
    if name == "FocalDaskLGBMClassifier":
        from ._dask_lightgbm import FocalDaskLGBMClassifier

        return FocalDaskLGBMClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
