"""Engine-free pieces every adapter shares: the loss check, raw-score shaping, and the base class of the picklable
objective/metric objects handed to the engines."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .loss import FocalLoss

METRIC_NAME = "focal_loss"


def check_loss(loss: Any) -> FocalLoss:
    if not isinstance(loss, FocalLoss):
        raise ValueError(f"loss must be a focal_boost.FocalLoss, got loss={loss!r}")
    return loss


def as_raw(preds: Any, keep_float32: bool = False) -> np.ndarray:
    """Engine predictions as float64 raw scores: ``(n,)`` for binary, ``(n, K)`` for multiclass. With
    ``keep_float32`` float32 predictions stay float32 (``FocalLoss._grad_hess`` reads them exactly, no copy)."""
    raw = np.asarray(preds)
    if not (keep_float32 and raw.dtype == np.float32):
        raw = raw.astype(np.float64, copy=False)
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    return raw


def n_classes_of(raw: np.ndarray) -> int | None:
    return raw.shape[1] if raw.ndim == 2 else None


class LossCallable:
    """Base of the objective/metric objects: the :class:`FocalLoss` plus a cache of prepared targets (labels and
    weights validated once per engine container, not every round).

    The cache never travels: pickling (Dask ships these objects to workers) keeps only the loss, and each worker
    builds its own. Engines deep-copy their params (LightGBM 4.7 does, objective included): a deep copy shares the
    loss and starts from a copy of the cache.
    """

    def __init__(self, loss: FocalLoss) -> None:
        self.loss = check_loss(loss)
        self._cache: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> LossCallable:
        new = copy.copy(self)
        new._cache = dict(self._cache)
        return new

    def __getstate__(self) -> dict[str, Any]:
        return {"loss": self.loss}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.loss = state["loss"]
        self._cache = {}
