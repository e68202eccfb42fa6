"""Engine-free pieces every adapter shares: the loss check, raw-score shaping, the one prepared-target cache, and
the base class of the picklable objective/metric objects handed to the engines."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from .loss import FocalLoss, Target

METRIC_NAME = "focal_loss"


def check_loss(loss: Any) -> FocalLoss:
    if not isinstance(loss, FocalLoss):
        raise ValueError(f"loss must be a focal_boost.FocalLoss, got loss={loss!r}")
    return loss


def as_raw(preds: Any, keep_float32: bool = False) -> np.ndarray:
    """Engine predictions as float64 raw scores: ``(n,)`` for binary, ``(n, K)`` for multiclass (``(n, L)``
    multi-label). With
    ``keep_float32`` float32 predictions stay float32 (the kernels read them exactly, no copy)."""
    raw = np.asarray(preds)
    if not (keep_float32 and raw.dtype == np.float32):
        raw = raw.astype(np.float64, copy=False)
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    return raw


def same_objects(old: tuple[Any, Any], new: tuple[Any, Any]) -> bool:
    """Cache check for engines that hand back the same label/weight array objects until they change."""
    return old[0] is new[0] and old[1] is new[1]


def equal_values(old: tuple[Any, Any], new: tuple[Any, Any]) -> bool:
    """Cache check for engines that hand out fresh copies: equal labels and weights (a comparison, not a
    re-validation)."""
    (label, weight), (new_label, new_weight) = old, new
    if (weight is None) != (new_weight is None):
        return False
    return np.array_equal(label, new_label) and (weight is None or np.array_equal(weight, new_weight))


class TargetCache:
    """Prepared targets (``FocalLoss.prepare_target``) of one loss and task, one per engine container.

    Each engine supplies the ``key`` of a container (a Dataset, a DMatrix, a chunk's content) and ``unchanged``,
    which says whether the labels/weights it holds now are still those the target was prepared from; the target
    is prepared again only when they are not. ``max_rows`` bounds the memory: past it the cache empties.
    """

    def __init__(self, loss: FocalLoss, n_classes: int | None,
                 unchanged: Callable[[tuple[Any, Any], tuple[Any, Any]], bool] = same_objects,
                 max_rows: int | None = None, n_labels: int | None = None) -> None:
        self.loss, self.n_classes, self.unchanged, self.max_rows = loss, n_classes, unchanged, max_rows
        self.n_labels = n_labels
        self._items: dict[Any, tuple[Any, tuple[Any, Any], Target]] = {}
        self._rows = 0

    def get(self, key: Any, label: Any, weight: Any, holder: Any = None) -> Target:
        """The target of ``label``/``weight`` held by container ``key``; ``holder`` (the container, or a weak
        reference to it) must be the same object as when the entry was made, so a reused id never hits."""
        entry = self._items.get(key)
        if entry is None or entry[0] is not holder or not self.unchanged(entry[1], (label, weight)):
            target = (self.loss.prepare_target(label, weight, self.n_classes) if self.n_labels is None
                      else self.loss.prepare_target(label, weight, n_labels=self.n_labels))
            if self.max_rows is not None and self._rows + target.n_samples > self.max_rows:
                self.clear()
            self._items[key] = (holder, (label, weight), target)
            self._rows += target.n_samples
            return target
        return entry[2]

    def put(self, key: Any, label: Any, weight: Any, target: Target, holder: Any = None) -> None:
        """Record an already validated target for container ``key``."""
        self._items[key] = (holder, (label, weight), target)
        self._rows += target.n_samples

    def clear(self) -> None:
        self._items.clear()
        self._rows = 0

    def copy(self) -> TargetCache:
        new = copy.copy(self)
        new._items = dict(self._items)
        return new


class LossCallable:
    """Base of the objective/metric objects: the :class:`FocalLoss`, its task (``n_classes``: None binary, K
    softmax; or ``n_labels=L``: multi-label; fixed at construction) and a cache of prepared targets (labels and
    weights validated once per engine container, not every round).

    The cache never travels: pickling (Dask ships these objects to workers) keeps only the loss and the task, and
    each worker builds its own. Engines deep-copy their params (LightGBM 4.7 does, objective included): a deep copy
    shares the loss and starts from a copy of the cache.
    """

    def __init__(self, loss: FocalLoss, n_classes: int | None = None, n_labels: int | None = None) -> None:
        self.loss = check_loss(loss)
        self.task = self.loss.task(n_classes, n_labels)
        self._cache = self._new_cache()

    @property
    def n_classes(self) -> int | None:
        return self.task.n_classes

    @property
    def n_labels(self) -> int | None:
        return self.task.n_labels

    def _new_cache(self) -> TargetCache:
        return TargetCache(self.loss, self.task.n_classes, n_labels=self.task.n_labels)

    def _check_shape(self, raw: np.ndarray) -> None:
        k = self.task.n_classes or self.task.n_labels
        if (raw.ndim != 1) if k is None else (raw.ndim != 2 or raw.shape[1] != k):
            want = "(n_samples,) for the binary loss" if k is None else f"(n_samples, {k})"
            raise ValueError(f"the engine passed raw scores of shape {raw.shape}, expected {want}; give the "
                             f"objective/metric n_classes=K for a K-class model (n_labels=L for L labels)")

    def __repr__(self) -> str:
        size = (f"n_labels={self.task.n_labels!r}" if self.task.n_labels is not None
                else f"n_classes={self.task.n_classes!r}")
        return f"{type(self).__name__}({self.loss!r}, {size})"

    def __deepcopy__(self, memo: dict[int, Any]) -> LossCallable:
        new = copy.copy(self)
        new._cache = self._cache.copy()
        return new

    def __getstate__(self) -> dict[str, Any]:
        return {"loss": self.loss, "n_classes": self.task.n_classes, "n_labels": self.task.n_labels}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.loss = state["loss"]
        self.task = self.loss.task(state["n_classes"], state.get("n_labels"))
        self._cache = self._new_cache()


def resolve_n_classes(loss: FocalLoss, k_params: Any) -> int | None:
    """The task of a training from the engine's ``num_class``-like parameter and ``loss.alpha``: K > 1 classes
    (they must agree when alpha is a sequence), or None for binary."""
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
