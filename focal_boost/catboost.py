"""CatBoost adapter: the focal loss as CatBoost's Python objective and metric, and a scikit-learn classifier.

- :class:`FocalObjective` implements CatBoost's user-defined objective protocol (``calc_ders_range`` for binary,
  ``calc_ders_multi`` for softmax multiclass);
- :class:`FocalMetric` implements the user-defined metric protocol (usable as ``eval_metric`` with early stopping);
- :class:`FocalMultiLabelObjective` / :class:`FocalMultiLabelMetric` are the multi-label pair (one sigmoid focal term
  per label) on CatBoost's multi-target protocol, and :func:`train` trains them on a Pool with an ``(n, L)`` label;
- :class:`FocalCatBoostClassifier` is a scikit-learn classifier over ``catboost.CatBoost``; it stores the init score
  in the model, so a model saved with ``save_model`` predicts the same raw scores in plain CatBoost.

CatBoost quirks handled here (catboost 1.2.10):

- CatBoost *maximises* a user-defined objective: ``calc_ders_range`` returns ``(-grad, -hess)`` of the loss.
- The derivatives are requested on chunks of a few hundred rows (binary) or one row at a time (multiclass), each
  time with fresh numpy views, so the prepared labels cannot be cached on the identity of a label array. They are
  cached on the *content* of the chunk's labels and weights instead: the labels are validated once per distinct
  chunk and every later call is a dictionary look-up (see ``_TargetCache``).
- CatBoost tries to ``numba.njit`` the protocol methods; methods that use ``self`` (all of ours) only give a
  warning ("Can't optimze method ... because self argument is used") and run as Python. The ``no_jit`` attribute
  (checked with ``hasattr`` by ``catboost._catboost._try_jit_methods``) skips the attempt, quietly.
- A user-defined objective requires an ``eval_metric``; the metric is also evaluated on the learn set every
  iteration.
- ``Pool(baseline=...)`` is per row, held as float32, and not stored in the model; the classifier trains from the
  init score rounded to float32 and stores that value with ``set_scale_and_bias`` (scalar bias for binary, one bias
  per class for multiclass) after training.
- With several eval sets, early stopping and ``use_best_model`` follow the *last* one.
- Multi-label: CatBoost takes an objective as multi-target only when it subclasses
  ``catboost.MultiTargetCustomObjective`` (checked by class), and it refuses a Pool baseline with one ("baselines data
  size (3) is not equal to expected dimension (1)"; builtin ``MultiLogloss`` refuses it too, and
  ``boost_from_average``): the init score is an offset inside the objective and metric, then the model's L-valued
  bias. ``prediction_type="Probability"`` of such a model is a softmax across the labels; ``RawFormulaVal`` is the
  raw score.

The builtin ``Focal:focal_alpha=A;focal_gamma=G`` loss (``TFocalError`` in
``catboost/private/libs/algo_helpers/error_functions.h``) returns the exact first and second derivatives of the
binary focal loss with ``alpha`` on positives, its second derivative negative values included (our
``hessian="exact"``); it clamps ``p = sigmoid(raw)`` to ``[1e-13, 1 - 1e-13]``, which changes the derivatives only for
``|raw| > 29.9`` and there by less than ~1e-11 per row. See :func:`builtin_loss_function` for when the classifier uses
it instead of the Python objective.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from catboost import CatBoost, MultiTargetCustomMetric, MultiTargetCustomObjective, Pool
from sklearn.utils.validation import check_is_fitted

from . import _catboost_kernels, _kernels
from ._adapter import LossCallable, TargetCache
from ._adapter import check_loss as _check_loss
from ._frames import CATEGORICAL, STRING, FrameColumns, column_kind_error, columns_with_missing
from ._sklearn import EngineFit, EngineSettings, FitData, FocalClassifierBase, check_rounds
from .loss import FocalLoss, Target

__all__ = ["FocalCatBoostClassifier", "FocalMetric", "FocalMultiLabelMetric", "FocalMultiLabelObjective",
           "FocalObjective", "builtin_defaults", "builtin_learning_rate", "builtin_loss_function", "train"]

# Rows (summed over cached chunks) after which a cache is emptied, to bound its memory on very large data.
_CACHE_MAX_ROWS = 4_000_000
# When the classifier's Python objective uses the compiled kernels (numba installed): loading numba costs ~0.5-1.5 s
# once per process; they save ~0.1 us per row and iteration on binary chunks (so from this many rows x iterations)
# and ~150 us per row and iteration on multiclass, where CatBoost calls the objective once per row (so always).
_COMPILED_MIN_WORK = 10_000_000


def _unchanged(old: tuple[Any, Any], new: tuple[Any, Any]) -> bool:
    return True  # the key is the chunk's content


class _CatBoostCallable(LossCallable):
    """Shared state of the objective and the metric: the loss, its task (``n_classes``: None binary, K softmax)
    and a prepared-target cache keyed on the CONTENT of a chunk's labels and weights (not pickled).

    CatBoost hands the same chunks of the same label buffer to the objective every iteration, as new numpy views,
    so identity or address cannot key them; the key costs one copy of the chunk, far less than re-validating it.
    ``compiled=True`` asks for the numba kernels at any chunk size (see ``focal_boost._kernels``).
    """

    # catboost 1.2.10 tries numba.njit on protocol methods unless the object has a ``no_jit`` attribute; ours use
    # ``self``, so the attempt could only fail (with a warning per method).
    no_jit = True

    def __init__(self, loss: FocalLoss, n_classes: int | None = None, compiled: bool = False,
                 n_labels: int | None = None) -> None:
        super().__init__(loss, n_classes, n_labels)
        self.compiled = bool(compiled)

    def _new_cache(self) -> TargetCache:
        return TargetCache(self.loss, self.task.n_classes, _unchanged, max_rows=_CACHE_MAX_ROWS,
                           n_labels=self.task.n_labels)

    def _target(self, targets: np.ndarray, weights: np.ndarray | None) -> Target:
        key = (targets.tobytes(), None if weights is None else weights.tobytes())
        return self._cache.get(key, targets, weights)

    def _check_dimension(self, n_dims: int) -> None:
        expected = 1 if self.task.n_classes is None else self.task.n_classes
        if n_dims != expected:
            fix = (f"pass classes_count={expected} to CatBoost" if n_dims == 1
                   else f"make the objective/metric with n_classes={n_dims}")
            raise ValueError(f"CatBoost is training a model with {n_dims} raw score(s) per row but the loss is "
                             f"{'binary' if self.task.n_classes is None else f'{expected}-class'}: {fix}")

    def clear_cache(self) -> None:
        """Drop the prepared targets (they are rebuilt on demand)."""
        self._cache.clear()

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "compiled": self.compiled}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.compiled = bool(state.get("compiled", False))


class FocalObjective(_CatBoostCallable):
    """Focal loss as a CatBoost user-defined objective: ``CatBoost({"loss_function": FocalObjective(loss), ...})``.

    Binary models (one raw score per row, labels in [0, 1]) use :meth:`calc_ders_range`; multiclass models (give
    CatBoost ``classes_count=K``, labels 0..K-1) use :meth:`calc_ders_multi` with the loss's diagonal hessian.
    Training starts from raw score 0 unless the ``Pool`` has a ``baseline`` (e.g. ``loss.init_score(y, w)``).
    Needs an ``eval_metric`` (e.g. :class:`FocalMetric`), as every CatBoost user-defined objective does.
    """

    def calc_ders_range(self, approxes: np.ndarray, targets: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """Derivatives of the quantity CatBoost maximises (minus the focal loss) for a chunk of rows.

        ``approxes``: raw scores, shape ``(n,)``; ``targets``: labels ``(n,)``; ``weights``: ``(n,)`` or ``None``.
        Returns an ``(n, 2)`` float64 array of ``(-grad, -hess)``, sample weights applied.

        When the objective was made with ``compiled=True`` (the classifier does on large trainings) and numba is
        on, the first call installs a function of one kernel call on the instance under this method's name
        (``_catboost_kernels.binary_range_ders``: no target cache, no temporaries, GIL released), which CatBoost
        then calls without this frame; ``clear_cache()`` (and pickling) drops it. Soft labels and bad weights take
        the validated path below, which names a bad value.
        """
        self._check_dimension(1)
        if self.compiled and _kernels.SWITCH.enabled:
            loss = self.loss
            ders = _catboost_kernels.binary_range_ders(loss.alpha, loss.gamma, loss.hessian, self._validated_range)
            self.__dict__["calc_ders_range"] = ders  # shadows the method for this instance only
            return ders(approxes, targets, weights)
        return self._validated_range(approxes, targets, weights)

    def _validated_range(self, approxes: np.ndarray, targets: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        grad, hess = self._target(targets, weights).grad_hess(approxes, small=self.compiled)
        out = np.empty((grad.shape[0], 2))
        np.negative(grad, out=out[:, 0])
        np.negative(hess, out=out[:, 1])
        return out

    def calc_ders_multi(
        self, approx: np.ndarray, target: float, weight: float
    ) -> tuple[list[float], list[list[float]]]:
        """Derivatives of minus the softmax focal loss for one row.

        ``approx``: raw scores of the row, float64 shape ``(K,)``; ``target``: its class index; ``weight``: its
        weight. Returns ``-grad`` (length K) and ``-diag(hess)`` (K x K; CatBoost reads the upper triangle) as
        Python lists, the core's ``FocalLoss.grad_hess`` to a few ulps.

        catboost 1.2.10 calls this once per object, twice per iteration, holding the GIL, and its fixed cost per
        call is about a microsecond. With numba, the work is one call of a per-object function built for this K
        (``_catboost_kernels``: the compiled kernel, no numpy temporaries, no per-row target cache); the first
        call stores it on the instance under this method's name, so CatBoost's ``obj.calc_ders_multi(...)`` reaches
        it without this extra Python frame, and ``clear_cache()`` (and pickling) drops it again. That function
        returns the same K x K lists (rewritten) on every call from one thread: CatBoost copies them at once, a
        caller keeping them must copy them. Without numba (or with it switched off) each row takes the core's
        validated numpy path.
        """
        n_classes = int(approx.shape[0])
        self._check_dimension(n_classes)
        if not _kernels.SWITCH.enabled:
            prepared = self._target(np.array([target]), np.array([weight]))
            grad, hess = prepared.grad_hess(approx.reshape(1, n_classes))
            return (-grad[0]).tolist(), np.diag(-hess[0]).tolist()
        return self._row_ders(n_classes)(approx, target, weight)

    def _row_ders(self, n_classes: int) -> _catboost_kernels.RowDers:
        """Build the compiled per-object function for this objective's K and install it on the instance."""
        loss = self.loss
        class_alpha = None if loss.alpha is None else self.task.class_alpha.tolist()
        ders = _catboost_kernels.softmax_row_ders(n_classes, loss.gamma, loss.hessian, class_alpha,
                                                  on_other_length=self._other_length)
        self.__dict__["calc_ders_multi"] = ders  # shadows the method for this instance only
        return ders

    def _other_length(self, approx: np.ndarray, target: float, weight: float
                      ) -> tuple[list[float], list[list[float]]]:
        """The installed function met another number of raw scores: the task check names the mismatch."""
        self._check_dimension(int(np.shape(approx)[0]))
        raise AssertionError("unreachable: the dimension check raises")  # pragma: no cover

    def clear_cache(self) -> None:
        """Drop the prepared targets and the installed per-chunk or per-object function (rebuilt on demand)."""
        super().clear_cache()
        self.__dict__.pop("calc_ders_range", None)
        self.__dict__.pop("calc_ders_multi", None)


class FocalMetric(_CatBoostCallable):
    """Focal loss as a CatBoost user-defined metric (lower is better): ``eval_metric=FocalMetric(loss)``.

    The value is the weighted mean focal loss ``sum(w * FL) / sum(w)`` of the raw scores, as ``FocalLoss.eval``.
    Works for binary and multiclass models and with early stopping (``early_stopping_rounds`` / ``od_wait``).
    """

    def is_max_optimal(self) -> bool:
        """False: a smaller focal loss is better."""
        return False

    def evaluate(
        self, approxes: Sequence[np.ndarray], target: np.ndarray, weight: np.ndarray | None
    ) -> tuple[float, float]:
        """``(sum of weighted focal losses, sum of weights)`` over a chunk.

        ``approxes``: one array of raw scores per model dimension (1 for binary, K for multiclass), each ``(n,)``;
        ``target``: labels ``(n,)``; ``weight``: ``(n,)`` or ``None``.
        """
        self._check_dimension(len(approxes))
        raw = approxes[0] if len(approxes) == 1 else np.column_stack(approxes)
        return self._target(target, weight).weighted_sum(raw)

    def get_final_error(self, error: float, weight: float) -> float:
        """The weighted mean ``error / weight``."""
        if not weight > 0:
            raise ValueError(f"the eval data must have a positive total sample weight, got weight={weight!r}")
        return error / weight


# --- multi-label: one sigmoid focal term per label (CatBoost's multi-target protocol) ------------------------------
class _MultiLabelCallable(_CatBoostCallable):
    """Shared state of the multi-label objective and metric: the loss over L labels and the ``offset`` (L raw
    scores, the init score) both add to the raw scores CatBoost passes them. catboost 1.2.10 refuses a Pool
    baseline with a ``MultiTargetCustomObjective`` ("baselines data size (3) is not equal to expected dimension
    (1)"), so the init score cannot travel as a baseline, as it does for binary and multiclass."""

    def __init__(self, loss: FocalLoss, n_labels: int, offset: Any = None) -> None:
        super().__init__(loss, None, n_labels=n_labels)
        self.offset = _check_offset(offset, self.task.n_labels)

    def _check_dimension(self, n_dims: int) -> None:
        n_labels = self.task.n_labels
        if n_dims != n_labels:
            raise ValueError(f"CatBoost is training a model with {n_dims} raw score(s) per row but the loss is "
                             f"multi-label over {n_labels} labels: give the Pool an (n, {n_labels}) label matrix, or "
                             f"make the objective/metric with n_labels={n_dims}")

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "offset": None if self.offset is None else self.offset.tolist()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.offset = _check_offset(state.get("offset"), self.task.n_labels)


def _check_offset(offset: Any, n_labels: int) -> np.ndarray | None:
    if offset is None:
        return None
    arr = np.array(offset, dtype=np.float64)
    if arr.shape != (n_labels,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"offset must be None or {n_labels} finite raw scores (one per label), got offset={offset!r}")
    return arr


class FocalMultiLabelObjective(_MultiLabelCallable, MultiTargetCustomObjective):
    """Multi-label focal loss (one sigmoid per label) as a CatBoost multi-target objective:
    ``CatBoost({"loss_function": FocalMultiLabelObjective(loss, n_labels=L), "eval_metric": FocalMultiLabelMetric(
    loss, n_labels=L), ...}).fit(Pool(X, label=Y))`` with ``Y`` an ``(n, L)`` label matrix in [0, 1].

    A subclass of ``catboost.MultiTargetCustomObjective``: catboost 1.2.10 recognises a multi-target objective by
    that base class (it then reads the Pool's 2-D label and keeps L raw scores per row). ``offset``: the L raw
    scores added to CatBoost's before the derivatives (the init score, ``loss.init_score(Y, w)``); None starts from
    0. :func:`train` sets it and stores it in the model; a model trained by hand with an offset predicts without it
    until ``model.set_scale_and_bias(1.0, list(offset))``.
    """

    def calc_ders_multi(self, approx: np.ndarray, target: np.ndarray, weight: float
                        ) -> tuple[list[float], list[list[float]]]:
        """Derivatives of minus the multi-label focal loss for one row.

        ``approx``: the row's L raw scores, float64 ``(L,)``; ``target``: its L labels ``(L,)``; ``weight``: its
        weight. Returns ``-grad`` (length L) and ``-diag(hess)`` (L x L; CatBoost reads the upper triangle) as
        Python lists: label j's binary focal derivatives at ``approx[j] + offset[j]``, the core's
        ``FocalLoss.grad_hess`` on the ``(1, L)`` label matrix to a few ulps.

        catboost 1.2.10 calls this once per object, twice per iteration, holding the GIL, as for multiclass. With
        numba the work is one call of a compiled per-object function (``_catboost_kernels.multilabel_row_ders``:
        all L labels in one kernel call, no loop over labels in Python), installed on the instance under this
        method's name on the first call; soft labels and bad weights take the validated path below (per object,
        numpy), which names a bad value. ``clear_cache()`` (and pickling) drops the installed function.
        """
        if not _kernels.SWITCH.enabled:
            return self._validated_row(approx, target, weight)
        task = self.task
        ders = _catboost_kernels.multilabel_row_ders(task.n_labels, task.gamma, self.loss.hessian,
                                                     task.alpha_pos.tolist(), task.alpha_neg.tolist(),
                                                     None if self.offset is None else self.offset.tolist(),
                                                     on_other_length=self._validated_row,
                                                     on_bad_input=self._validated_row)
        self.__dict__["calc_ders_multi"] = ders  # shadows the method for this instance only
        return ders(approx, target, weight)

    def _validated_row(self, approx: np.ndarray, target: np.ndarray, weight: float
                       ) -> tuple[list[float], list[list[float]]]:
        self._check_dimension(int(np.shape(approx)[0]))
        labels = np.asarray(target, dtype=np.float64).reshape(1, -1)
        if labels.shape[1] != self.task.n_labels:
            raise ValueError(f"CatBoost passed {labels.shape[1]} labels for a row of {self.task.n_labels} raw scores")
        prepared = self._target(labels, np.array([weight], dtype=np.float64))
        grad, hess = prepared.grad_hess(np.asarray(approx, dtype=np.float64).reshape(1, -1), offset=self.offset)
        return (-grad[0]).tolist(), np.diag(-hess[0]).tolist()

    def clear_cache(self) -> None:
        """Drop the prepared targets and the installed per-object function (rebuilt on demand)."""
        super().clear_cache()
        self.__dict__.pop("calc_ders_multi", None)


class FocalMultiLabelMetric(_MultiLabelCallable, MultiTargetCustomMetric):
    """Multi-label focal loss as a CatBoost multi-target metric (lower is better), the weighted mean over rows of
    the summed per-label focal loss of ``raw + offset`` (as ``FocalLoss.eval`` on the label matrix); works with
    early stopping. Give it the objective's ``offset``."""

    def is_max_optimal(self) -> bool:
        """False: a smaller focal loss is better."""
        return False

    def evaluate(self, approxes: Sequence[np.ndarray], target: Sequence[np.ndarray], weight: np.ndarray | None
                 ) -> tuple[float, float]:
        """``(sum of weighted focal losses, sum of weights)`` over a chunk.

        ``approxes``: L arrays of raw scores ``(n,)``, one per label; ``target``: L label arrays ``(n,)`` (catboost
        1.2.10 passes both as tuples); ``weight``: ``(n,)`` or ``None``.
        """
        self._check_dimension(len(approxes))
        if len(target) != len(approxes):
            raise ValueError(f"CatBoost passed {len(target)} label columns for {len(approxes)} raw score columns")
        raw = np.column_stack(approxes).astype(np.float64, copy=False)
        if self.offset is not None:
            raw = raw + self.offset
        labels = np.column_stack(target).astype(np.float64, copy=False)
        return self._target(labels, None if weight is None else np.asarray(weight)).weighted_sum(raw)

    def get_final_error(self, error: float, weight: float) -> float:
        """The weighted mean ``error / weight``."""
        if not weight > 0:
            raise ValueError(f"the eval data must have a positive total sample weight, got weight={weight!r}")
        return error / weight


# --- when the builtin Focal loss is the same objective ------------------------------------------------------------
# Leaf-estimation settings of catboost 1.2.10 under which the second derivative is never read: Gradient leaves
# (sum of first derivatives over sum of weights) with a score function built on first derivatives only. Bootstrap
# (MVS, Bernoulli, Bayesian) and random strength also read first derivatives only.
_FIRST_ORDER_SCORES = (None, "Cosine", "L2")


def builtin_loss_function(loss: FocalLoss, params: dict[str, Any] | None = None) -> str | None:
    """The builtin ``"Focal:focal_alpha=A;focal_gamma=G"`` loss string when it trains the same model, else None.

    That is when the loss is binary with a scalar ``alpha`` in (0, 1) and ``gamma > 0`` (the builtin's domain;
    ``alpha=None`` weights both classes 1, twice the builtin's ``alpha=0.5``: the same model only with
    ``l2_leaf_reg=0`` and ``random_strength=0``, or with Gradient leaves, ``random_strength=0`` and twice the
    learning rate for the builtin, so it is not used for ``alpha=None``), the
    labels are hard 0/1 (the caller's responsibility), it runs on CPU, and the builtin's second derivative is the
    one the loss would use: either ``hessian="exact"`` (the builtin's), or CatBoost never reads the second
    derivative (``leaf_estimation_method="Gradient"`` with a first-order ``score_function``). ``params`` are the
    CatBoost training parameters.
    """
    params = {} if params is None else params
    name = _builtin_focal_name(loss, params)
    if name is None:
        return None
    method = params.get("leaf_estimation_method", "Newton")
    first_order = method == "Gradient" and params.get("score_function") in _FIRST_ORDER_SCORES
    if not (first_order or (loss.hessian == "exact" and method == "Newton")):
        return None
    return name


def _builtin_focal_name(loss: FocalLoss, params: dict[str, Any]) -> str | None:
    """``"Focal:focal_alpha=A;focal_gamma=G"`` when CatBoost's builtin Focal is this loss's value (the hessian
    setting aside): binary, float alpha in (0, 1), gamma > 0, on CPU."""
    if not isinstance(loss.alpha, float) or not loss.gamma > 0:
        return None
    if str(params.get("task_type", "CPU")).upper() != "CPU":
        return None
    return f"Focal:focal_alpha={loss.alpha!r};focal_gamma={loss.gamma!r}"


# --- native training of the multi-label task --------------------------------------------------------------------
# Parameters that would bypass or contradict the focal objective, metric and init score of train().
_TRAIN_RESERVED = {
    "loss_function": "train sets FocalMultiLabelObjective",
    "objective": "train sets FocalMultiLabelObjective",
    "eval_metric": "train sets FocalMultiLabelMetric (builtin metrics read CatBoost's raw scores, which lack the "
                   "init score during training)",
    "custom_metric": "builtin metrics read CatBoost's raw scores, which lack the init score during training",
    "classes_count": "the labels are the Pool's (n, L) label matrix",
    "class_names": "the labels are the Pool's (n, L) label matrix",
    "class_weights": "use alpha (one weight per label) or the Pool's weights",
    "auto_class_weights": "use alpha (one weight per label) or the Pool's weights",
    "scale_pos_weight": "use alpha or the Pool's weights",
}
_FIT_RESERVED = ("y", "baseline", "init_model", "sample_weight", "cat_features", "text_features",
                 "embedding_features")


def _pool_label_matrix(pool: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A Pool's (n, L) label matrix and its weights (None when every weight is 1: the same numbers)."""
    if not isinstance(pool, Pool):
        raise ValueError(f"{name} must be a catboost.Pool, got {type(pool).__name__}")
    if not pool.has_label():
        raise ValueError(f"{name} has no label; the multi-label focal loss needs an (n, L) label matrix")
    labels = np.asarray(pool.get_label(), dtype=np.float64)
    if labels.ndim != 2 or labels.shape[1] < 2:
        raise ValueError(f"{name} must have an (n, L) label matrix with L >= 2 (focal_boost.catboost.train trains "
                         f"the multi-label task; for binary and multiclass use FocalCatBoostClassifier or "
                         f"FocalObjective/FocalMetric), got labels of shape {labels.shape}")
    baseline = pool.get_baseline()
    if baseline is not None and np.size(baseline) and np.any(np.asarray(baseline) != 0):
        raise ValueError(f"{name} has a baseline; train starts from the focal init score (catboost 1.2.10 refuses "
                         "a baseline with a multi-target objective anyway)")
    weight = np.asarray(pool.get_weight(), dtype=np.float64)
    return labels, (None if np.all(weight == 1.0) else weight)


def _per_object_threads(params: dict[str, Any], task: str, stacklevel: int) -> None:
    """One CatBoost thread by default for a per-object Python objective; a warning when more are asked for."""
    if params.get("thread_count") is None:
        # one thread: the per-object Python calls would otherwise queue for the GIL (class docstring)
        params["thread_count"] = 1
    elif params["thread_count"] == -1 or params["thread_count"] > 1:
        warnings.warn(_PER_OBJECT_THREADS_WARNING.format(threads=params["thread_count"], task=task), UserWarning,
                      stacklevel=stacklevel + 1)


def _train_multilabel(loss: FocalLoss, params: dict[str, Any], pool: Any, eval_pools: list[Any],
                      fit_kwargs: dict[str, Any]) -> tuple[Any, np.ndarray]:
    """Train the multi-label task on ``pool`` (labels (n, L)); returns the model, its init score stored as the
    model's bias, and the init score (float64, (L,))."""
    labels, weight = _pool_label_matrix(pool, "pool")
    n_labels = labels.shape[1]
    loss.task(n_labels=n_labels)  # alpha against L, before any work
    try:
        init = loss.prepare_target(labels, weight, n_labels=n_labels).init_score()
    except ValueError as exc:
        raise ValueError(f"pool: {exc}") from exc
    for i, eval_pool in enumerate(eval_pools):
        eval_labels, eval_weight = _pool_label_matrix(eval_pool, f"eval_set[{i}]")
        if eval_labels.shape[1] != n_labels:
            raise ValueError(f"eval_set[{i}] has {eval_labels.shape[1]} label columns but pool has {n_labels}")
        try:
            loss.prepare_target(eval_labels, eval_weight, n_labels=n_labels)
        except ValueError as exc:
            raise ValueError(f"eval_set[{i}]: {exc}") from exc
    objective = FocalMultiLabelObjective(loss, n_labels, offset=init)
    metric = FocalMultiLabelMetric(loss, n_labels, offset=init)
    model = CatBoost({**params, "loss_function": objective, "eval_metric": metric, "boost_from_average": False})
    try:
        model.fit(pool, eval_set=eval_pools or None, **fit_kwargs)
    finally:
        objective.clear_cache()
        metric.clear_cache()
    # The init score was an offset inside the objective and metric; store it as the model's bias (L float64
    # values, kept through save_model/load_model in catboost 1.2.10) so that plain CatBoost's RawFormulaVal includes
    # it. Training used boost_from_average=False, so the bias was 0 and the scale 1.
    scale, bias = model.get_scale_and_bias()
    model.set_scale_and_bias(scale, (np.asarray(bias, dtype=np.float64) + init).tolist())
    return model, init


def train(loss: FocalLoss, params: dict[str, Any], pool: Any, eval_set: Any = None, **fit_kwargs: Any) -> Any:
    """Train a multi-label CatBoost model with the focal loss; returns an ordinary ``catboost.CatBoost`` model.

    ``pool``: a ``catboost.Pool`` whose label is an ``(n, L)`` matrix in [0, 1] (L >= 2; 0/1 or soft labels) with
    optional weights; ``eval_set``: a Pool or a list of Pools with the same L (early stopping and
    ``use_best_model`` follow the last one, as in CatBoost). ``loss.alpha``: None, a float (every label's
    positives) or L floats, one per label. ``params``: CatBoost training parameters without a loss function, eval
    metric or class settings (the focal ones are set here). ``fit_kwargs`` go to ``CatBoost.fit``
    (``early_stopping_rounds``, ``verbose``, ...).

    The model trains with :class:`FocalMultiLabelObjective` and :class:`FocalMultiLabelMetric` from the per-label
    init score ``loss.init_score(Y, w)`` (added inside the objective and metric: catboost 1.2.10 refuses a Pool
    baseline here), which is then stored as the model's L-valued bias (``set_scale_and_bias``):
    ``model.predict(X, prediction_type="RawFormulaVal")`` returns the ``(n, L)`` raw scores, init score included,
    also after ``save_model`` in a process without focal_boost. Apply a sigmoid per label, or
    ``loss.predict_proba(raw, multi_label=True)`` for calibrated probabilities; CatBoost's
    ``prediction_type="Probability"`` is a softmax across the L labels for such a model, not what you want.

    Trains on one thread unless ``params`` give ``thread_count`` (catboost 1.2.10 calls the Python objective once
    per object from each of its threads, which then queue for the GIL; see :class:`FocalCatBoostClassifier`).
    """
    loss = _check_loss(loss)
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of CatBoost parameters, got params={params!r}")
    params = dict(params)
    for name, reason in _TRAIN_RESERVED.items():
        if name in params:
            raise ValueError(f"params must not set {name}={params[name]!r}: {reason}")
    if params.get("boost_from_average"):
        raise ValueError("boost_from_average=True is not accepted: train starts from the focal init score")
    for name in _FIT_RESERVED:
        if name in fit_kwargs:
            raise ValueError(f"{name} is not accepted by train: put labels, weights, features and the start in the "
                             "Pool (train sets the start from the focal init score)")
    eval_pools = [] if eval_set is None else [eval_set] if isinstance(eval_set, Pool) else list(eval_set)
    _per_object_threads(params, "multi-label", stacklevel=2)
    return _train_multilabel(loss, params, pool, eval_pools, fit_kwargs)[0]


# --- CatBoostClassifier's defaults for the matching builtin loss ---------------------------------------------------
# catboost 1.2.10 chooses some defaults by loss and data (catboost/private/libs/options/catboost_options.cpp
# SetLeavesEstimationDefault, catboost/libs/train_lib/options_helper.cpp SetDataDependentDefaults); a Python objective
# gets none of them. The classifier gives the focal loss those of Logloss (binary) or MultiClass, checked against
# get_all_params() of CatBoostClassifier in tests/test_catboost.py.
_BUILTIN_LOSS = {False: "Logloss", True: "MultiClass"}  # keyed on multiclass
# Leaf-estimation iterations by (loss, method) (SetLeavesEstimationDefault).
_LEAF_ITERATIONS = {("Logloss", "Newton"): 10, ("Logloss", "Gradient"): 40,
                    ("MultiClass", "Newton"): 1, ("MultiClass", "Gradient"): 10}
# UpdateLeavesEstimationIterations: 1 iteration when iterations < 200 (IsSmallIterationCount) and < 20 features.
_SMALL_ITERATIONS, _FEW_FEATURES = 200, 20
# TAutoLRParamsGuesser, CPU, boost_from_average=False (CatBoostClassifier's for both losses), keyed on
# (loss, use_best_model): (A, B, C, D) of lr = min(exp(A log n + B) * exp(C log it + D) / exp(C log 1000 + D), 0.5),
# rounded to 6 decimals. Applied only when learning_rate, leaf_estimation_method, leaf_estimation_iterations and
# l2_leaf_reg are all left unset, as CatBoost does.
_AUTO_LEARNING_RATE = {("Logloss", True): (0.247, -5.158, -0.435, 0.934),
                       ("Logloss", False): (0.427, -7.525, -0.917, 2.63),
                       ("MultiClass", True): (0.02, -2.364, -0.382, 0.924),
                       ("MultiClass", False): (0.051, -2.889, -0.845, 2.928)}
_AUTO_LEARNING_RATE_BLOCKERS = ("learning_rate", "leaf_estimation_method", "leaf_estimation_iterations", "l2_leaf_reg")


def builtin_learning_rate(multiclass: bool, n_rows: int, iterations: int, use_best_model: bool) -> float:
    """The learning rate catboost 1.2.10 picks on CPU for ``CatBoostClassifier()`` with Logloss (binary) or MultiClass
    on ``n_rows`` training rows, ``iterations`` rounds, with or without ``use_best_model`` (True by default when an
    eval set with more than one label value is given)."""
    a, b, c, d = _AUTO_LEARNING_RATE[(_BUILTIN_LOSS[multiclass], bool(use_best_model))]
    custom = math.exp(c * math.log(iterations) + d)
    default = math.exp(c * math.log(1000) + d)
    rate = min(math.exp(a * math.log(n_rows) + b) * custom / default, 0.5)
    return math.floor(rate * 1e6 + 0.5) / 1e6  # CatBoost's Round(x, 6): C round(), halves away from zero (x > 0)


def builtin_defaults(params: dict[str, Any], n_rows: int, n_features: int, multiclass: bool,
                     eval_labels: Sequence[np.ndarray]) -> dict[str, Any]:
    """The parameters ``CatBoostClassifier`` (catboost 1.2.10, CPU) would add to ``params`` for Logloss (binary) or
    MultiClass on this data, which a Python objective does not get: leaf-estimation iterations, the automatic
    learning rate and, for MultiClass, Bayesian bootstrap. Backtracking is decided by the caller (it needs the
    focal loss as the eval metric). Parameters the user set are left as they are."""
    out: dict[str, Any] = {}
    loss = _BUILTIN_LOSS[multiclass]
    iterations = int(params.get("iterations", 1000))
    if params.get("leaf_estimation_iterations") is None:
        method = params.get("leaf_estimation_method", "Newton")
        default = _LEAF_ITERATIONS.get((loss, method))
        if default is not None:
            few = iterations < _SMALL_ITERATIONS and n_features < _FEW_FEATURES
            out["leaf_estimation_iterations"] = 1 if few else default
    on_cpu = str(params.get("task_type", "CPU")).upper() == "CPU"
    if on_cpu and all(params.get(name) is None for name in _AUTO_LEARNING_RATE_BLOCKERS):
        use_best_model = params.get("use_best_model")
        if use_best_model is None:
            labels = [np.asarray(y) for y in eval_labels]
            use_best_model = bool(labels) and np.unique(np.concatenate(labels)).size > 1
        out["learning_rate"] = builtin_learning_rate(multiclass, n_rows, iterations, bool(use_best_model))
    if multiclass and params.get("bootstrap_type") is None and params.get("subsample") is None:
        out["bootstrap_type"] = "Bayesian"  # MultiClass's default; a Python objective gets MVS with subsample 0.8
    return out


def _engine_fit(model: Any, fit: FitData, init: Any, builtin: str | None, predict_threads: int) -> EngineFit:
    """The classifier's view of a trained model: the last round used, the eval history, the init score."""
    best = model.get_best_iteration() if fit.evals else model.tree_count_ - 1
    history = {name: {"focal_loss": list(next(iter(metrics.values())))}
               for name, metrics in model.get_evals_result().items() if name != "learn" and metrics}
    return EngineFit(model, best, history, init, {"builtin_loss": builtin, "thread_count": predict_threads,
                                                  "importance_type": fit.settings.extra["importance_type"]})


# --- scikit-learn classifier --------------------------------------------------------------------------------------
# sklearn spellings accepted for the three engines alike, translated to CatBoost's names.
_SKLEARN_ALIASES = {"n_estimators": "iterations", "random_state": "random_seed", "n_jobs": "thread_count"}
# Set by the classifier; weights go through alpha and sample_weight, the init score through FocalLoss.
_RESERVED = {
    "loss_function": "the classifier sets the focal loss",
    "objective": "the classifier sets the focal loss",
    "classes_count": "the classifier takes the classes from y",
    "class_names": "the classifier takes the classes from y",
    "class_weights": "use alpha (per-class weights) or sample_weight",
    "auto_class_weights": "use alpha (per-class weights) or sample_weight",
    "scale_pos_weight": "use alpha or sample_weight",
    "boost_from_average": "the classifier starts from FocalLoss.init_score",
}
_LOGGING = ("verbose", "silent", "logging_level", "verbose_eval")
# The figures are the CatBoost multiclass rows of benchmarks/results/speed/speed.md (2-core machine, catboost 1.2.10).
_PER_OBJECT_THREADS_WARNING = (
    "thread_count={threads} (n_jobs) with a {task} focal objective: catboost 1.2.10 calls a Python {task} "
    "objective once per object from each of its threads, and the calls queue for the GIL. Measured on 2 cores "
    "(multiclass, 10,000 x 20, 5 classes, 100 iterations): thread_count=2 trained 6.7x slower than 1 thread (39.1 s "
    "against 5.8 s). Leave thread_count and n_jobs unset: the classifier then trains {task} on 1 thread and predicts "
    "on all cores."
)


class FocalCatBoostClassifier(FocalClassifierBase):
    """CatBoost classifier trained with the focal loss; scikit-learn API.

    Parameters
    ----------
    gamma, alpha, hessian
        Focal loss parameters, see :class:`focal_boost.FocalLoss`. Two classes use the binary (sigmoid) loss unless
        alpha is a sequence of per-class weights; more classes use the softmax loss. An ``(n, L)`` 0/1 indicator
        ``y`` trains the multi-label loss (alpha None, a float, or one float per label), as :func:`train` does:
        ``predict_proba``/``decision_function`` ``(n, L)``, ``predict`` the 0/1 matrix, ``classes_ = arange(L)``;
        on one thread unless ``thread_count`` is given (as multiclass, below); ``eval_metric`` is not accepted
        there (the focal metric is the eval metric).
    calibrate : bool, default True
        ``predict_proba`` returns calibrated posteriors (see ``FocalLoss.predict_proba``); False gives
        sigmoid/softmax of the raw scores.
    **params
        ``catboost.CatBoost`` training parameters under CatBoost's names (``iterations``, ``learning_rate``,
        ``depth``, ``random_seed``, ``thread_count``, ``early_stopping_rounds``, ``verbose``, ...); the sklearn
        names ``n_estimators``, ``random_state`` and ``n_jobs`` are accepted for ``iterations``, ``random_seed`` and
        ``thread_count``. Defaults are ``CatBoostClassifier()``'s for Logloss / MultiClass (below), and
        ``verbose=False``, ``allow_writing_files=False`` and, for more than two classes, ``thread_count=1`` during
        training (see below). ``eval_metric`` defaults to the focal loss (:class:`FocalMetric`, or the
        builtin ``Focal`` metric, which skips the learn set, whenever alpha is a float and gamma > 0); early stopping
        follows it on the last eval set.

    When CatBoost's builtin ``Focal`` loss trains the same model (:func:`builtin_loss_function`) it is used instead
    of the Python objective (faster: ~1.3x on 50,000 rows here); ``builtin_loss_`` tells which was used.

    CatBoost chooses some defaults by loss, which a Python objective does not get; the classifier gives the focal
    loss those of ``CatBoostClassifier()`` for the matching builtin loss, Logloss (binary) or MultiClass, unless they
    are set (:func:`builtin_defaults`; catboost 1.2.10, CPU):

    - ``leaf_estimation_iterations``: binary 10 (Newton; 40 with ``leaf_estimation_method="Gradient"``), multiclass 1
      (Gradient: 10); 1 when ``iterations < 200`` and there are fewer than 20 features;
    - ``leaf_estimation_backtracking="AnyImprovement"``. With a Python objective CatBoost backtracks on the
      ``eval_metric`` (it refuses a builtin metric there), so this default applies only when ``eval_metric`` is left
      to the classifier, which then uses :class:`FocalMetric`; with another ``eval_metric`` it is ``"No"``;
    - ``learning_rate``: the rate CatBoost picks for Logloss/MultiClass from the number of training rows, of
      ``iterations`` and whether the best model is kept (an eval set), when none of ``learning_rate``,
      ``leaf_estimation_method``, ``leaf_estimation_iterations`` and ``l2_leaf_reg`` is given
      (:func:`builtin_learning_rate`); a Python objective alone would train at 0.03;
    - multiclass: ``bootstrap_type="Bayesian"`` (MultiClass's) unless ``bootstrap_type`` or ``subsample`` is given.

    At gamma=0 the classifier then trains with ``CatBoostClassifier()``'s settings (``get_all_params()`` agree). It
    starts from the init score (log-odds / log priors) where CatBoostClassifier starts from 0, and its multiclass
    hessian is the diagonal where MultiClass uses the full softmax hessian; held-out log losses on real tables and
    the training-time cost of the leaf estimation are in the README ("Defaults").

    Multiclass training runs on one CatBoost thread unless ``thread_count`` (or ``n_jobs``) is given: catboost
    1.2.10 calls a Python multiclass objective once per object, from each of its worker threads, each call taking
    the GIL, and on several threads those calls queue for the GIL instead of running. Measured on the 2-core
    development machine (10,000 x 20, K=5, 100 iterations, depth 6; ``benchmarks/speed.py``, CatBoost rows of
    ``benchmarks/results/speed/speed.md``): 5.8 s on 1 thread, 39.1 s with ``thread_count=2``, where even a no-op
    Python objective took 18.4 s against 1.3 s for builtin MultiClass on 2 threads; a multiclass fit given more
    than one thread warns with these figures. Prediction uses CatBoost's
    default threads (or the ``thread_count`` given); binary training (chunked calls, GIL released inside the
    kernel) keeps CatBoost's default.

    Attributes
    ----------
    booster_ : catboost.CatBoost
        The trained model (also ``model_``); its raw predictions (``prediction_type="RawFormulaVal"``) include the
        init score, stored as the model's bias rounded to float32 (CatBoost keeps Pool baselines, which training
        starts from, in float32).
    best_iteration_ : int
        0-based index of the best iteration on the last eval set (CatBoost's ``get_best_iteration``); without eval
        sets, of the last tree.
    builtin_loss_ : str or None
        The builtin loss string used, or None for the Python :class:`FocalObjective`.
    evals_result_, best_score_
        ``{eval set name: {"focal_loss": [value per round]}}`` and its value at ``best_iteration_``.
    feature_importances_
        ``get_feature_importance(type=importance_type)``: ``"FeatureImportance"`` (default) or
        ``"PredictionValuesChange"``.
    classes_, n_classes_, n_features_in_, feature_names_in_, init_score_, loss_
        As for the other focal classifiers; a scalar ``alpha`` is the weight of ``classes_[1]``.
    """

    _sparse_formats = ("csr",)
    _multi_label = True
    _IMPORTANCE_TYPES = ("FeatureImportance", "PredictionValuesChange")

    def _engine_settings(self) -> EngineSettings:
        params = dict(self._engine_params)
        for name, reason in _RESERVED.items():
            if name in params and not (name == "boost_from_average" and params[name] is False):
                raise ValueError(f"{name}={params[name]!r} is not accepted by {type(self).__name__}: {reason}")
        for alias, name in _SKLEARN_ALIASES.items():
            if alias in params:
                if name in params:
                    raise ValueError(
                        f"give either {alias}={params[alias]!r} or {name}={params[name]!r}, not both (same parameter)"
                    )
                params[name] = params.pop(alias)
        importance_type = params.pop("importance_type", "FeatureImportance")
        if importance_type not in self._IMPORTANCE_TYPES:
            raise ValueError(f"importance_type must be one of {self._IMPORTANCE_TYPES}, got "
                             f"importance_type={importance_type!r}")
        iterations = check_rounds(params.get("iterations", 1000), "iterations", allow_none=False)
        stops = {k: params[k] for k in ("early_stopping_rounds", "od_wait") if params.get(k) is not None}
        if len(set(stops.values())) > 1:
            raise ValueError(f"conflicting early stopping settings: {stops!r}")
        rounds = check_rounds(next(iter(stops.values()), None), "early_stopping_rounds", allow_none=True)
        if not any(name in params for name in _LOGGING):
            params["verbose"] = False
        params.setdefault("allow_writing_files", False)
        params["boost_from_average"] = False
        return EngineSettings(params, iterations, rounds, {"importance_type": importance_type})

    def _fit_engine(self, fit: FitData) -> EngineFit:
        if fit.n_labels is not None:
            return self._fit_multilabel_engine(fit)
        params = dict(fit.settings.params)
        n_classes = fit.n_classes
        if n_classes == 2:
            # catboost 1.2.10 gives a two-class model one raw score whatever classes_count says, so the two-column
            # softmax loss that a 2-element alpha selects cannot be trained.
            raise ValueError(
                f"alpha={self.alpha!r} selects the softmax loss for 2 classes, which CatBoost cannot train (it keeps "
                "one raw score for two classes); give alpha as a float (weight of the positive class) or None"
            )
        predict_threads = -1 if params.get("thread_count") is None else params["thread_count"]
        if n_classes is not None:
            params["classes_count"] = n_classes
            _per_object_threads(params, "multiclass", stacklevel=4)  # a warning at the caller of fit()
        params.update(builtin_defaults(params, fit.X.shape[0], fit.X.shape[1], n_classes is not None,
                                       [y_val for _, y_val, _ in fit.evals]))
        user_metric = params.get("eval_metric") is not None
        if params.get("leaf_estimation_backtracking") is None:
            # Logloss's and MultiClass's default. With a Python objective catboost 1.2.10 backtracks on the eval
            # metric (it refuses a builtin one): only the focal metric makes it backtrack on the loss trained.
            params["leaf_estimation_backtracking"] = "No" if user_metric else "AnyImprovement"
        builtin = None if n_classes is not None else builtin_loss_function(fit.loss, params)
        # CatBoost 1.2.10 calls a Python objective on chunks of a few hundred rows (binary) or on one row at a time
        # (multiclass), about twice per row and iteration: per-call overhead dominates, which the single-threaded
        # numba kernels cut (see focal_boost._kernels). Loading numba costs ~0.5-1.5 s once per process, so they
        # are only asked for when the training is large enough to earn it back.
        compiled = n_classes is not None or fit.X.shape[0] * fit.settings.n_estimators >= _COMPILED_MIN_WORK
        objective = builtin if builtin is not None else FocalObjective(fit.loss, n_classes, compiled=compiled)
        metric = params.pop("eval_metric", None)
        if metric is None:
            # The builtin Focal metric is the same weighted mean focal loss (checked in the tests), also beside the
            # Python objective (the metric does not depend on the hessian setting); unlike a Python metric it can
            # skip the learn set, which CatBoost 1.2.10 otherwise evaluates in Python every iteration (~6% of a
            # training's time with the Python objective).
            # A Python objective that backtracks needs the Python metric (catboost 1.2.10 backtracks on it).
            python_backtracks = builtin is None and params["leaf_estimation_backtracking"] != "No"
            builtin_metric = None if n_classes is not None or python_backtracks else _builtin_focal_name(fit.loss,
                                                                                                          params)
            metric = (FocalMetric(fit.loss, n_classes) if builtin_metric is None
                      else f"{builtin_metric};hints=skip_train~true")
        params["loss_function"] = objective
        params["eval_metric"] = metric

        # The init score of the labels and weights, validated once here; catboost 1.2.10 stores Pool baselines as
        # float32, so training starts from the init score rounded to float32, and that rounded value is what the
        # model stores as its bias (|difference| <= 6e-8 * |init_score_|).
        exact_init = fit.loss.prepare_target(fit.y, fit.sample_weight, n_classes).init_score()
        init = np.asarray(exact_init, dtype=np.float32).astype(np.float64)

        def pool(x: Any, labels: np.ndarray, w: np.ndarray | None) -> Any:
            rows = x.shape[0]
            baseline = np.tile(init, (rows, 1)) if n_classes is not None else np.full(rows, float(init))
            return Pool(x, label=labels.astype(np.float64), weight=w, baseline=baseline,
                        cat_features=params.get("cat_features"), text_features=params.get("text_features"))

        train_pool = pool(fit.X, fit.y, fit.sample_weight)
        eval_pools = [pool(x_val, y_val, w_val) for x_val, y_val, w_val in fit.evals]
        model = CatBoost({k: v for k, v in params.items() if k not in ("cat_features", "text_features")})
        try:
            model.fit(train_pool, eval_set=eval_pools or None)
        finally:
            for obj in (objective, metric):
                if isinstance(obj, _CatBoostCallable):
                    obj.clear_cache()
        # Pool baselines are not part of a CatBoost model (1.2.10): store the init score (the baseline training
        # started from) as the model's bias, so plain CatBoost's RawFormulaVal includes it. Training used
        # boost_from_average=False, so the bias was 0 and the scale 1.
        scale, bias = model.get_scale_and_bias()
        model.set_scale_and_bias(scale, (np.asarray(bias, dtype=np.float64) + init).tolist()
                                 if n_classes is not None else float(bias) + float(init))
        return _engine_fit(model, fit, exact_init, builtin, predict_threads)

    def _fit_multilabel_engine(self, fit: FitData) -> EngineFit:
        """The multi-label task: native :func:`train`'s route (init score as an offset inside the objective and
        metric, then the model's bias), on Pools with the (n, L) label matrices."""
        params = dict(fit.settings.params)
        if params.get("eval_metric") is not None:
            raise ValueError(f"eval_metric={params['eval_metric']!r} is not accepted for a multi-label target: the "
                             "classifier evaluates the multi-label focal loss (a builtin metric would read CatBoost's "
                             "raw scores, which lack the init score during training)")
        params.pop("eval_metric", None)
        predict_threads = -1 if params.get("thread_count") is None else params["thread_count"]
        _per_object_threads(params, "multi-label", stacklevel=6)  # a warning at the caller of fit()
        features = {name: params.pop(name, None) for name in ("cat_features", "text_features")}

        def pool(x: Any, labels: np.ndarray, w: np.ndarray | None) -> Any:
            return Pool(x, label=labels, weight=w, **features)

        eval_pools = [pool(x_val, y_val, w_val) for x_val, y_val, w_val in fit.evals]
        model, init = _train_multilabel(fit.loss, params, pool(fit.X, fit.y, fit.sample_weight), eval_pools, {})
        return _engine_fit(model, fit, init, None, predict_threads)

    @property
    def builtin_loss_(self) -> str | None:
        """The builtin loss string used, or None for the Python :class:`FocalObjective`."""
        check_is_fitted(self)
        return self._engine_state["builtin_loss"]

    @property
    def model_(self) -> Any:
        """The fitted ``catboost.CatBoost`` model: the same object as ``booster_``."""
        check_is_fitted(self)
        return self.booster_

    def _check_frame_columns(self, X: Any, columns: FrameColumns) -> None:
        cat_features, text_features = (self._listed_columns(option, columns.names)
                                       for option in ("cat_features", "text_features"))
        unlisted = [name for name in columns.named(STRING, CATEGORICAL)
                    if name not in cat_features and name not in text_features]
        if unlisted:
            raise column_kind_error(
                unlisted, "string or categorical", "CatBoost (1.2.10) reads them only when they are listed in "
                "cat_features (or text_features)", f"List them: {type(self).__name__}(..., cat_features={unlisted!r})")
        missing = columns_with_missing(X, columns, cat_features)
        if missing:
            # catboost 1.2.10 raises "cat_features must be integer or string, ... NaN values should be converted to
            # string" when it meets one: what a missing category is, is the user's to say.
            raise column_kind_error(
                missing, "categorical", "they hold missing values, and CatBoost (1.2.10) takes none in cat_features",
                f"Make missing a category of its own, e.g. X[{missing!r}] = X[{missing!r}].astype(object)"
                f".fillna('NA') (polars: X.with_columns(pl.col({missing!r}).fill_null('NA')))")

    def _listed_columns(self, option: str, names: list[Any]) -> list[Any]:
        """The column names an option such as ``cat_features`` lists (CatBoost takes positions or names)."""
        listed = self._engine_params.get(option) or ()
        return [names[f] if isinstance(f, (int, np.integer)) and -len(names) <= f < len(names) else f for f in listed]

    def _engine_input(self, X: Any) -> Any:
        import scipy.sparse as sp

        if not sp.issparse(X):
            return X
        # catboost 1.2.10 reads scipy sparse *matrices* with 32-bit indices only (not sparse arrays, not int64).
        X = sp.csr_matrix(X)
        if X.indices.dtype != np.int32 and X.nnz < np.iinfo(np.int32).max:
            X.indices = X.indices.astype(np.int32)
            X.indptr = X.indptr.astype(np.int32)
        return X

    def _predict_raw(self, X: Any) -> np.ndarray:
        raw = self.booster_.predict(X, prediction_type="RawFormulaVal", thread_count=self._engine_state["thread_count"])
        return np.asarray(raw, dtype=np.float64)

    def _engine_importances(self) -> np.ndarray:
        return np.asarray(self.booster_.get_feature_importance(type=self._engine_state["importance_type"]))
