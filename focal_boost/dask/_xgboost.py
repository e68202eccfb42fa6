"""Focal loss through ``xgboost.dask``: :func:`xgb_train` and the global focal metric (public names in
``focal_boost.dask``, which loads this module when they are first used)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xgboost

from .._adapter import METRIC_NAME, as_raw
from ..loss import FocalLoss
from ..xgboost import _declare_objective, _XGBoostCallable, check_train_args, objective
from ._partitions import class_totals

if TYPE_CHECKING:  # pragma: no cover
    import distributed

__all__ = ["FocalDaskXGBMetric", "xgb_train"]


class FocalDaskXGBMetric(_XGBoostCallable):
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

        raw = as_raw(preds)
        sums = np.zeros(2)
        if dmatrix.num_row() > 0:
            self._check_shape(raw)
            sums[:] = self._target(dmatrix).weighted_sum(raw)
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
    n_rows, totals = class_totals(loss, part["label"], part.get("weight"), n_classes)
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

    if not isinstance(dtrain, dxgb.DaskDMatrix):
        raise ValueError(f"dtrain must be an xgboost.dask.DaskDMatrix, got {type(dtrain).__name__}")
    loss, params, n_classes = check_train_args(loss, params, kwargs, "focal_boost.dask.xgb_train")
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
        init = loss.init_score_from_totals(train_totals, n_classes)
        # base_score must be plain floats (xgboost serialises it to JSON).
        params["base_score"] = float(init) if n_classes is None else [float(v) for v in np.asarray(init)]
    result = dxgb.train(client, params, dtrain, num_boost_round=num_boost_round, evals=evals,
                        obj=objective(loss, n_classes), custom_metric=FocalDaskXGBMetric(loss, n_classes), **kwargs)
    _declare_objective(result["booster"], n_classes)
    return result


