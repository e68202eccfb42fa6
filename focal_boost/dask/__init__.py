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

Layout: ``_partitions`` (partition helpers shared by both engines), ``_xgboost`` (imports xgboost) and ``_lightgbm``
(imports lightgbm); this facade loads an engine's module on first access to one of its names, so
``focal_boost[dask,xgboost]`` suffices for :func:`xgb_train`.
"""


from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._partitions import predict_proba

if TYPE_CHECKING:  # pragma: no cover
    from ._lightgbm import FocalDaskLGBMClassifier, FocalLGBMSklearnMetric, FocalLGBMSklearnObjective
    from ._xgboost import FocalDaskXGBMetric, xgb_train

__all__ = [
    "FocalDaskLGBMClassifier",
    "FocalDaskXGBMetric",
    "FocalLGBMSklearnMetric",
    "FocalLGBMSklearnObjective",
    "predict_proba",
    "xgb_train",
]

_LAZY = {
    "FocalDaskLGBMClassifier": "_lightgbm",
    "FocalLGBMSklearnMetric": "_lightgbm",
    "FocalLGBMSklearnObjective": "_lightgbm",
    "FocalDaskXGBMetric": "_xgboost",
    "xgb_train": "_xgboost",
}


def __getattr__(name: str) -> Any:
    # Each engine's module imports that engine: load it only when one of its names is asked for.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
