"""CatBoost adapter: the focal loss as CatBoost's Python objective and metric, and a scikit-learn classifier.

- :class:`FocalObjective` implements CatBoost's user-defined objective protocol (``calc_ders_range`` for binary,
  ``calc_ders_multi`` for softmax multiclass);
- :class:`FocalMetric` implements the user-defined metric protocol (usable as ``eval_metric`` with early stopping);
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

The builtin ``Focal:focal_alpha=A;focal_gamma=G`` loss (``TFocalError`` in
``catboost/private/libs/algo_helpers/error_functions.h``) returns the exact first and second derivatives of the
binary focal loss with ``alpha`` on positives, its second derivative negative values included (our
``hessian="exact"``); it clamps ``p = sigmoid(raw)`` to ``[1e-13, 1 - 1e-13]``, which changes the derivatives only for
``|raw| > 29.9`` and there by less than ~1e-11 per row. See :func:`builtin_loss_function` for when the classifier uses
it instead of the Python objective.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _catboost_kernels, _fast
from ._sklearn import FocalClassifierBase
from .loss import FocalLoss

__all__ = ["FocalCatBoostClassifier", "FocalMetric", "FocalObjective", "builtin_loss_function"]

# Rows (summed over cached chunks) after which a cache is emptied, to bound its memory on very large data.
_CACHE_MAX_ROWS = 4_000_000
# When the classifier's Python objective uses the compiled kernels (numba installed): loading numba costs ~0.5-1.5 s
# once per process; they save ~0.1 us per row and iteration on binary chunks (so from this many rows x iterations)
# and ~150 us per row and iteration on multiclass, where CatBoost calls the objective once per row (so always).
_COMPILED_MIN_WORK = 10_000_000


class _TargetCache:
    """Prepared targets (``FocalLoss.prepare_target``) keyed on the bytes of a chunk's labels and weights.

    CatBoost hands the same chunks of the same label buffer to the objective every iteration, as new numpy views.
    Keying on content (not on identity or address) can never return a stale target; the key costs one copy of the
    chunk, far less than re-validating it.
    """

    __slots__ = ("_items", "_rows")

    def __init__(self) -> None:
        self._items: dict[Any, Any] = {}
        self._rows = 0

    def get(self, loss: FocalLoss, targets: np.ndarray, weights: np.ndarray | None, n_classes: int | None) -> Any:
        key = (targets.tobytes(), None if weights is None else weights.tobytes(), n_classes)
        hit = self._items.get(key)
        if hit is None:
            hit = loss.prepare_target(targets, weights, n_classes)
            if self._rows + hit.n_samples > _CACHE_MAX_ROWS:
                self.clear()
            self._items[key] = hit
            self._rows += hit.n_samples
        return hit

    def clear(self) -> None:
        self._items.clear()
        self._rows = 0


class _CatBoostCallable:
    """Shared state of the objective and the metric: the loss and a prepared-target cache (not pickled)."""

    # catboost 1.2.10 tries numba.njit on protocol methods unless the object has a ``no_jit`` attribute; ours use
    # ``self``, so the attempt could only fail (with a warning per method).
    no_jit = True

    def __init__(self, loss: FocalLoss) -> None:
        if not isinstance(loss, FocalLoss):
            raise ValueError(f"loss must be a focal_boost.FocalLoss, got loss={loss!r}")
        self.loss = loss
        self._cache = _TargetCache()

    def _target(self, targets: np.ndarray, weights: np.ndarray | None, n_classes: int | None) -> Any:
        if n_classes is None and self.loss.n_classes is not None:
            raise ValueError(
                f"loss has alpha={self.loss.alpha!r} (K={self.loss.n_classes} classes) but CatBoost is training a "
                f"one-dimensional (binary) model; pass classes_count={self.loss.n_classes} to CatBoost"
            )
        return self._cache.get(self.loss, targets, weights, n_classes)

    def clear_cache(self) -> None:
        """Drop the prepared targets (they are rebuilt on demand)."""
        self._cache.clear()

    def __getstate__(self) -> dict[str, Any]:
        return {"loss": self.loss}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.loss = state["loss"]
        self._cache = _TargetCache()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r})"


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

        When the numba path is on for such calls (``_fast.enabled``: the classifier asks for it on large trainings),
        hard 0/1 labels take one kernel call (``_catboost_kernels.binary_range_ders``: no target cache, no
        temporaries, GIL released) into the ``(n, 2)`` layout catboost 1.2.10 copies at C speed; soft labels and
        bad weights take the validated path below.
        """
        if self.loss.n_classes is None and _fast.enabled(approxes.shape[0]):
            loss = self.loss
            out = _catboost_kernels.binary_range_ders(loss.alpha, loss.gamma, loss.hessian, approxes, targets,
                                                      weights)
            if out is not None:
                return out
        target = self._target(targets, weights, None)
        grad, hess = self.loss._grad_hess(target, approxes)
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

        catboost 1.2.10 calls this once per object, twice per iteration, and its fixed cost per call is a few
        microseconds, so the work is one call of a per-object function built for this K (``_catboost_kernels``:
        numba when available, else plain Python; no numpy temporaries, no per-row target cache). The first call
        stores that function on the instance under this method's name, so CatBoost's ``obj.calc_ders_multi(...)``
        reaches it without this extra Python frame; ``clear_cache()`` (and pickling) drops it again.
        """
        ders = self._row_ders(int(approx.shape[0]))
        return ders(approx, target, weight)

    def _row_ders(self, n_classes: int) -> _catboost_kernels.RowDers:
        """Build the per-object function for K = ``n_classes`` and install it on the instance (see above)."""
        loss = self.loss
        if loss.n_classes is not None and loss.n_classes != n_classes:
            raise ValueError(f"raw has {n_classes} columns but alpha has {loss.n_classes} class weights "
                             f"(alpha={loss.alpha!r}); they must agree")
        class_alpha = loss._class_alpha(n_classes)  # raises for a binary (float) alpha
        # numba unless it is not installed or switched off (_fast.set_enabled(False), FOCAL_BOOST_DISABLE_NUMBA):
        # per object it costs about a third of plain Python; loading it (~1 s, once per process) is repaid after
        # a few hundred thousand objects x iterations, i.e. by any multiclass training worth timing.
        compiled = _fast.enabled(_fast.MIN_SIZE)
        ders = _catboost_kernels.softmax_row_ders(n_classes, loss.gamma, loss.hessian,
                                                  None if loss.alpha is None else class_alpha.tolist(), compiled,
                                                  on_other_length=self._rebuilt_row_ders)
        self.__dict__["calc_ders_multi"] = ders  # shadows the method for this instance only
        return ders

    def _rebuilt_row_ders(self, approx: np.ndarray, target: float, weight: float
                          ) -> tuple[list[float], list[list[float]]]:
        """The installed function met another K (the objective is reused for another model): rebuild for it."""
        return self._row_ders(int(np.shape(approx)[0]))(approx, target, weight)

    def clear_cache(self) -> None:
        """Drop the prepared targets and the installed per-object function (both are rebuilt on demand)."""
        super().clear_cache()
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
        if len(approxes) == 1:
            raw, n_classes = approxes[0], None
        else:
            raw, n_classes = np.column_stack(approxes), len(approxes)
        prepared = self._target(target, weight, n_classes)
        total = prepared.n_samples if prepared.sample_weight is None else np.sum(prepared.sample_weight)
        return float(np.sum(self.loss._loss(prepared, raw))), float(total)

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


class FocalCatBoostClassifier(FocalClassifierBase):
    """CatBoost classifier trained with the focal loss; scikit-learn API.

    Parameters
    ----------
    gamma, alpha, hessian
        Focal loss parameters, see :class:`focal_boost.FocalLoss`. Two classes use the binary (sigmoid) loss unless
        alpha is a sequence of per-class weights; more classes use the softmax loss.
    calibrate : bool, default True
        ``predict_proba`` returns calibrated posteriors (see ``FocalLoss.predict_proba``); False gives
        sigmoid/softmax of the raw scores.
    **params
        ``catboost.CatBoost`` training parameters under CatBoost's names (``iterations``, ``learning_rate``,
        ``depth``, ``random_seed``, ``thread_count``, ``early_stopping_rounds``, ``verbose``, ...); the sklearn
        names ``n_estimators``, ``random_state`` and ``n_jobs`` are accepted for ``iterations``, ``random_seed`` and
        ``thread_count``. Defaults differ from CatBoost's only in ``verbose=False`` and
        ``allow_writing_files=False``. ``eval_metric`` defaults to the focal loss (:class:`FocalMetric`, or the
        builtin ``Focal`` metric, which skips the learn set, whenever alpha is a float and gamma > 0); early stopping
        follows it on the last eval set.

    When CatBoost's builtin ``Focal`` loss trains the same model (:func:`builtin_loss_function`) it is used instead
    of the Python objective (faster: ~1.3x on 50,000 rows here); ``builtin_loss_`` tells which was used.

    Leaf estimation is CatBoost's default for a user-defined objective (catboost 1.2.10: Newton, 1 iteration, no
    backtracking), not ``CatBoostClassifier()``'s for Logloss (10 iterations, ``AnyImprovement`` backtracking):
    the classifier trains the model that native CatBoost trains with :class:`FocalObjective`, and each leaf
    iteration is one more call of the Python objective per object (multiclass: ~1-5 us each, issue 13). More
    iterations can pay off on binary data: measured (3 folds, depth 4, lr 0.15, 200 rounds with early stopping),
    ``leaf_estimation_iterations=10`` raised the focal PR-AUC from 0.366 to 0.544 on ``synth_pos1pct`` (1%
    positives) and from 0.752 to 0.768 on ``synth_pos10pct`` at about the same fit time; the benchmark
    (``focal_boost.bench``) gives every CatBoost method 10 for binary and 1 for multiclass.

    Attributes
    ----------
    model_ : catboost.CatBoost
        The trained model; its raw predictions (``prediction_type="RawFormulaVal"``) include the init score, stored
        as the model's bias rounded to float32 (CatBoost keeps Pool baselines, which training starts from, in
        float32).
    best_iteration_ : int
        0-based index of the best iteration on the last eval set (CatBoost's ``get_best_iteration``); without eval
        sets, of the last tree.
    builtin_loss_ : str or None
        The builtin loss string used, or None for the Python :class:`FocalObjective`.
    classes_, n_classes_, n_features_in_, init_score_, loss_
    """

    def fit(
        self,
        X: Any,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        eval_set: Sequence[tuple[Any, ArrayLike]] | None = None,
        eval_sample_weight: Sequence[ArrayLike | None] | None = None,
    ) -> FocalCatBoostClassifier:
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (any class labels); returns self.

        ``eval_set``: list of ``(X_val, y_val)``; with ``early_stopping_rounds`` training stops on the focal metric
        of the last one. ``sample_weight`` / ``eval_sample_weight``: non-negative row weights.
        """
        from catboost import CatBoost, Pool

        params = self._catboost_params()
        n_rows = _n_rows(X)
        if n_rows != len(y):
            raise ValueError(f"X and y must have the same number of samples, got len(X)={n_rows} and len(y)={len(y)}")
        y_enc, weight = self._prepare_fit(y, sample_weight)
        evals = self._encode_eval_set(eval_set, eval_sample_weight)
        self.n_features_in_ = _n_features(X)
        for i, (x_val, _, _) in enumerate(evals):
            if _n_features(x_val) != self.n_features_in_:
                raise ValueError(
                    f"eval_set[{i}] has {_n_features(x_val)} features, X has {self.n_features_in_}"
                )

        n_classes = self.n_classes_ if self._softmax else None
        if n_classes == 2:
            # catboost 1.2.10 gives a two-class model one raw score whatever classes_count says, so the two-column
            # softmax loss that a 2-element alpha selects cannot be trained.
            raise ValueError(
                f"alpha={self.alpha!r} selects the softmax loss for 2 classes, which CatBoost cannot train (it keeps "
                "one raw score for two classes); give alpha as a float (weight of the positive class) or None"
            )
        if n_classes is not None:
            params["classes_count"] = n_classes
        builtin = None if self._softmax else builtin_loss_function(self.loss_, params)
        if builtin is not None:
            # catboost 1.2.10 defaults leaf_estimation_backtracking to "AnyImprovement" for the builtin Focal loss but
            # to "No" for a Python objective; pin the Python objective's default so both paths train the same model.
            params.setdefault("leaf_estimation_backtracking", "No")
        objective = builtin if builtin is not None else FocalObjective(self.loss_)
        metric = params.pop("eval_metric", None)
        if metric is None:
            # The builtin Focal metric is the same weighted mean focal loss (checked in the tests), also beside the
            # Python objective (the metric does not depend on the hessian setting); unlike a Python metric it can
            # skip the learn set, which CatBoost 1.2.10 otherwise evaluates in Python every iteration (~6% of a
            # training's time with the Python objective).
            builtin_metric = None if self._softmax else _builtin_focal_name(self.loss_, params)
            metric = FocalMetric(self.loss_) if builtin_metric is None else f"{builtin_metric};hints=skip_train~true"
        params["loss_function"] = objective
        params["eval_metric"] = metric

        # catboost 1.2.10 stores Pool baselines as float32: training starts from the init score rounded to float32,
        # so that rounded value is what the model stores as its bias (|difference| <= 6e-8 * |init_score_|).
        init = np.asarray(self.init_score_, dtype=np.float32).astype(np.float64)

        def pool(x: Any, labels: np.ndarray, w: np.ndarray | None) -> Any:
            baseline = np.tile(init, (_n_rows(x), 1)) if n_classes is not None else np.full(_n_rows(x), float(init))
            return Pool(x, label=labels.astype(np.float64), weight=w, baseline=baseline,
                        cat_features=params.get("cat_features"), text_features=params.get("text_features"))

        train_pool = pool(X, y_enc, weight)
        eval_pools = [pool(x_val, y_val, w_val) for x_val, y_val, w_val in evals]
        fit_params = {k: v for k, v in params.items() if k not in ("cat_features", "text_features")}
        model = CatBoost(fit_params)
        # CatBoost 1.2.10 calls a Python objective on chunks of a few hundred rows (binary) or on one row at a time
        # (multiclass), about twice per row and iteration: per-call overhead dominates, which the single-threaded
        # numba kernels cut (see focal_boost._fast). Loading numba costs ~0.5-1.5 s once per process, so it is only
        # asked for when the training is large enough to earn it back.
        work = _n_rows(X) * int(params.get("iterations", 1000))
        compiled = (builtin is None and (self._softmax or work >= _COMPILED_MIN_WORK)
                    and _fast.use_for_small_arrays(True))
        try:
            model.fit(train_pool, eval_set=eval_pools or None)
        finally:
            if compiled:
                _fast.use_for_small_arrays(False)
            for obj in (objective, metric):
                if isinstance(obj, _CatBoostCallable):
                    obj.clear_cache()
        # Pool baselines are not part of a CatBoost model (1.2.10): store the init score (the baseline training
        # started from) as the model's bias, so plain CatBoost's RawFormulaVal includes it. Training used
        # boost_from_average=False, so the bias was 0 and the scale 1.
        scale, bias = model.get_scale_and_bias()
        model.set_scale_and_bias(scale, (np.asarray(bias, dtype=np.float64) + init).tolist()
                                 if n_classes is not None else float(bias) + float(init))
        self.model_ = model
        self.builtin_loss_ = builtin
        self.best_iteration_ = model.get_best_iteration() if evals else model.tree_count_ - 1
        return self

    def _catboost_params(self) -> dict[str, Any]:
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
        if not any(name in params for name in _LOGGING):
            params["verbose"] = False
        params.setdefault("allow_writing_files", False)
        params["boost_from_average"] = False
        return params

    def _predict_raw(self, X: Any) -> np.ndarray:
        n_features = _n_features(X)
        if n_features != self.n_features_in_:
            raise ValueError(f"X has {n_features} features, the model was fitted with {self.n_features_in_}")
        thread_count = self._catboost_params().get("thread_count", -1)
        raw = self.model_.predict(X, prediction_type="RawFormulaVal", thread_count=thread_count)
        return np.asarray(raw, dtype=np.float64)


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def _n_features(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is None:
        shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {tuple(shape)}")
    return int(shape[1])
