"""Argument and array checks. Every failure is a ``ValueError`` that names the argument and shows the bad value."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._math import HESSIANS


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_gamma(gamma: Any) -> float:
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not np.isfinite(gamma) or gamma < 0:
        raise ValueError(f"gamma must be a finite real number >= 0, got gamma={_show(gamma)}")
    return float(gamma)


def check_alpha(alpha: Any) -> float | tuple[float, ...] | None:
    """``None``, a float in (0, 1) (binary, weight of positives) or a sequence of K >= 2 class weights."""
    if alpha is None:
        return None
    if isinstance(alpha, numbers.Real) and not isinstance(alpha, bool):
        if not (np.isfinite(alpha) and 0.0 < alpha < 1.0):
            raise ValueError(f"alpha must lie in the open interval (0, 1) for binary focal loss, "
                             f"got alpha={float(alpha)!r}")
        return float(alpha)
    if isinstance(alpha, (Sequence, np.ndarray)) and not isinstance(alpha, str):
        arr = np.asarray(alpha, dtype=np.float64) if len(alpha) else np.empty(0)
        if arr.ndim != 1 or arr.size < 2:
            raise ValueError(f"alpha as class weights must be a 1-D sequence of length >= 2, got alpha={_show(alpha)}")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"alpha class weights must be finite and >= 0, got alpha={_show(alpha)}")
        if not np.any(arr > 0):
            raise ValueError(f"alpha class weights must not all be zero, got alpha={_show(alpha)}")
        return tuple(float(a) for a in arr)
    raise ValueError(f"alpha must be None, a float in (0, 1) or a sequence of class weights, got alpha={_show(alpha)}")


def check_hessian(hessian: Any) -> str:
    if hessian not in HESSIANS:
        raise ValueError(f"hessian must be one of {HESSIANS}, got hessian={_show(hessian)}")
    return str(hessian)


def as_float_array(value: Any, name: str, ndim: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {name}={_show(value)}") from exc
    if arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {arr.shape}")
    return arr


def check_raw(raw: Any, n_classes: int | None, task_name: str = "multiclass") -> np.ndarray:
    """Raw scores: shape (n,) for binary (``n_classes is None``), (n, K) for multiclass (or (n, L) for the
    multi-label task, ``task_name="multi-label"``); all finite."""
    arr = as_float_array(raw, "raw", (1, 2))
    if n_classes is None and arr.ndim != 1:
        raise ValueError(f"raw must be 1-D (n_samples,) for binary focal loss, got shape {arr.shape}")
    if n_classes is not None and (arr.ndim != 2 or arr.shape[1] != n_classes):
        raise ValueError(f"raw must have shape (n_samples, {n_classes}) for {task_name} focal loss, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[0]
        raise ValueError(f"raw must be finite, got a value raw={float(bad)!r}")
    return arr


def check_binary_labels(y: Any) -> tuple[np.ndarray, bool]:
    """Labels in [0, 1] (soft labels allowed). Returns the array and whether every label is exactly 0 or 1."""
    arr = as_float_array(y, "y", (1,))
    if np.any(np.isnan(arr)):
        raise ValueError("y must not contain NaN, got y=nan")
    outside = (arr < 0) | (arr > 1)
    if np.any(outside):
        raise ValueError(f"y must lie in [0, 1] for binary focal loss, got y={float(arr[outside][0])!r}")
    hard = bool(np.all((arr == 0) | (arr == 1)))
    return arr, hard


def check_multilabel_labels(y: Any, n_labels: int) -> tuple[np.ndarray, bool]:
    """A label matrix (n, L) in [0, 1] (soft labels allowed). Returns the float64 array (C order) and whether every
    label is exactly 0 or 1."""
    arr = as_float_array(y, "y", (2,))
    if arr.shape[1] != n_labels:
        raise ValueError(f"y must have shape (n_samples, {n_labels}) for multi-label focal loss over {n_labels} "
                         f"labels, got shape {arr.shape}")
    if np.any(np.isnan(arr)):
        raise ValueError("y must not contain NaN, got y=nan")
    outside = (arr < 0) | (arr > 1)
    if np.any(outside):
        raise ValueError(f"y must lie in [0, 1] for multi-label focal loss, got y={float(arr[outside][0])!r}")
    hard = bool(np.all((arr == 0) | (arr == 1)))
    return np.ascontiguousarray(arr), hard


def check_multiclass_labels(y: Any, n_classes: int) -> np.ndarray:
    arr = as_float_array(y, "y", (1,))
    if np.any(np.isnan(arr)):
        raise ValueError("y must not contain NaN, got y=nan")
    bad = (arr != np.round(arr)) | (arr < 0) | (arr >= n_classes)
    if np.any(bad):
        raise ValueError(f"y must hold integer class labels in 0..{n_classes - 1}, got y={float(arr[bad][0])!r}")
    # the smallest integer type of 0..K-1: a prepared target keeps its labels for the whole training (1 byte per
    # row instead of 8 up to 127 classes)
    return arr.astype(np.int8 if n_classes <= 127 else np.int16 if n_classes <= 32767 else np.intp)


def check_same_length(y: np.ndarray, raw: np.ndarray) -> None:
    if y.shape[0] != raw.shape[0]:
        raise ValueError(f"y and raw must have the same number of samples, got len(y)={y.shape[0]} "
                         f"and len(raw)={raw.shape[0]}")


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    arr = as_float_array(sample_weight, "sample_weight", (1,))
    if arr.shape[0] != n_samples:
        raise ValueError(f"sample_weight must have length n_samples={n_samples}, got length {arr.shape[0]}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        raise ValueError(f"sample_weight must be finite and >= 0, got sample_weight={float(arr[bad][0])!r}")
    return arr
