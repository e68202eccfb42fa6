"""Partition helpers shared by the Dask adapters: row partitions, input checks, per-partition label work (run
on the workers), per-row collections built from partitions, and probabilities of a Dask array of raw scores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._adapter import check_loss as _check_loss
from .._validation import check_sample_weight
from ..loss import FocalLoss

if TYPE_CHECKING:  # pragma: no cover
    import dask.array

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



def class_totals(loss: FocalLoss, label: Any, weight: Any, n_classes: int | None) -> tuple[int, np.ndarray]:
    """On the worker that holds a partition: validate its labels and weights (the core's checks) and return
    ``(n_rows, class totals)`` (see ``class_totals()`` of a prepared target); an empty partition gives zeros."""
    y = _column(label, "label")
    if y is None or y.shape[0] == 0:
        return 0, np.zeros(2 if n_classes is None else n_classes)
    target = loss.prepare_target(y, _column(weight, "weight"), n_classes)
    return target.n_samples, target.class_totals()


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


