"""LightGBM adapter: focal objective, focal metric, a ``train`` wrapper and :class:`FocalLGBMClassifier`.

Everything here takes and returns RAW SCORES (logits): ``(n_samples,)`` for binary models and
``(n_samples, K)`` for multiclass models. The math lives in :class:`focal_boost.FocalLoss`; this module only
reshapes, attaches weights and works around LightGBM 4.x behaviours:

- a callable ``params["objective"]`` gets the Dataset's raw scores and must apply the Dataset weights itself
  (LightGBM 4.7 passes its gradients to the tree learner unweighted);
- a custom objective starts from raw score 0 (``boost_from_average`` only applies to builtin objectives), and a
  Dataset ``init_score`` is never stored in the saved model. :func:`train` therefore has the focal objective and
  metric add the focal init score to the scores LightGBM passes them (a per-class offset inside the gradient loop:
  no per-row n x K init score on the Datasets) and then adds it to the leaves of the first iteration's tree(s), so
  the returned ``lightgbm.Booster`` predicts the full raw score on its own, also after ``save_model`` and a reload
  in a process that has never imported focal_boost.
- a Dataset label is 1-D (LightGBM 4.7 refuses a 2-D one), while the multi-label task needs an ``(n, L)`` label
  matrix: :func:`train` takes the matrices as ``label_matrix`` / ``valid_label_matrices`` (the Datasets carry
  none) and registers the validated targets with the objective and metric, which look them up by Dataset. With
  ``num_class=L`` and a custom objective LightGBM grows L trees per iteration from ``(n, L)`` gradients; the saved
  model declares ``multiclassova num_class:L sigmoid:1``, whose plain ``predict()`` is the sigmoid of each raw score.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _ConfigAliases  # LightGBM's own parameter-alias table (private, stable since 3.x)

from ._adapter import METRIC_NAME, LossCallable, TargetCache, equal_values, resolve_n_classes, same_objects
from ._adapter import check_loss as _check_loss
from ._frames import STRING, FrameColumns, category_dtype_fix, column_kind_error
from ._sklearn import EngineFit, EngineSettings, FitData, FocalClassifierBase, check_rounds
from .loss import FocalLoss, Target

__all__ = ["FocalLGBMClassifier", "FocalLGBMMetric", "FocalLGBMObjective", "metric", "objective", "train"]


def _same_or_equal(old: tuple[Any, Any], new: tuple[Any, Any]) -> bool:
    # LightGBM 4.7 returns the same cached arrays from get_label()/get_weight() every round and replaces them on
    # set_label/set_weight or construction; train() records the target under the values LightGBM will hold, so
    # the first call after construction is a value comparison and every later one an identity check.
    return same_objects(old, new) or equal_values(old, new)


def engine_grad_hess(target: Target, raw: np.ndarray, offset: np.ndarray | None = None, omp: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and hessian of ``raw`` (``(n,)`` or ``(n, K)``) in float32, scaled as LightGBM scales its builtin
    objective's: a multiclass hessian is the loss's diagonal times ``K / (K - 1)`` (lightgbm 4.7 ``MulticlassSoftmax``,
    ``factor_ * p * (1 - p) * w`` rounded once to float32). The factor is applied before that one rounding: scaling
    the float32 hessian instead moved it by an ulp, enough for LightGBM's leaf-count estimate (from hessian sums,
    ``min_data_in_leaf``) to accept a leaf the builtin refused. Multi-label hessians are the binary ones per label,
    unscaled (one sigmoid per label, as LightGBM's ``binary`` objective)."""
    if target.n_classes is None:
        return target.grad_hess(raw, np.float32, offset=offset, omp=omp)
    grad, hess = target.grad_hess(raw, np.float64, offset=offset, omp=omp)
    k = raw.shape[1]
    hess *= k / (k - 1)
    return grad.astype(np.float32), hess.astype(np.float32)


class _LightGBMCallable(LossCallable):
    # The init score that LightGBM does not hold, added to the raw scores it passes (None: add nothing). train()
    # sets it instead of a per-row Dataset init_score: no n x K float64 copy in Python or in LightGBM.
    offset: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "offset": self.offset}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.offset = state.get("offset")

    def _new_cache(self) -> TargetCache:
        return TargetCache(self.loss, self.task.n_classes, _same_or_equal, n_labels=self.task.n_labels)

    def add_label_matrix(self, dataset: lgb.Dataset, label_matrix: Any) -> Target:
        """Multi-label only: validate the ``(n, L)`` label matrix of ``dataset`` (with the Dataset's weights) once
        and keep it for this Dataset; :func:`train` does this for its Datasets. Returns the prepared target."""
        if self.task.n_labels is None:
            raise ValueError("label_matrix is for the multi-label task (n_labels=L); binary and multiclass labels "
                             "are the Dataset's own")
        label, weight = _label_weight(dataset)
        # LightGBM 4.7 gives a constructed Dataset without a label an all-zero one
        if label is not None and (not _constructed(dataset) or np.any(np.asarray(label) != 0)):
            raise ValueError("a multi-label Dataset must not have a label of its own (its labels are the "
                             "label_matrix), got a Dataset with label set")
        weight = _as_stored(weight)
        target = self.loss.prepare_target(label_matrix, weight, n_labels=self.task.n_labels)
        rows = dataset.num_data() if _constructed(dataset) else (
            np.shape(dataset.data)[0] if hasattr(dataset.data, "shape") else None)
        if rows is not None and rows != target.n_samples:
            raise ValueError(f"label_matrix has {target.n_samples} rows but the Dataset has {rows}")
        self._cache.put(id(dataset), None, weight, target, holder=dataset)
        return target

    def _target(self, dataset: lgb.Dataset) -> Target:
        if self.task.n_labels is not None:
            return self._label_matrix_target(dataset)
        label = dataset.get_label()
        if label is None:
            raise ValueError("the LightGBM Dataset has no label; focal loss needs labels")
        return self._cache.get(id(dataset), label, dataset.get_weight(), holder=dataset)

    def _label_matrix_target(self, dataset: lgb.Dataset) -> Target:
        entry = self._cache._items.get(id(dataset))
        if entry is None or entry[0] is not dataset:
            raise ValueError("no label matrix for this Dataset: a multi-label objective/metric gets each Dataset's "
                             "(n, L) labels from add_label_matrix (focal_boost.lightgbm.train's label_matrix / "
                             "valid_label_matrices)")
        weight, now = entry[1][1], dataset.get_weight()
        if (weight is None) != (now is None) or (weight is not None and not np.array_equal(weight, now)):
            raise ValueError("the Dataset's weights changed after its label matrix was added; add it again")
        if dataset.num_data() != entry[2].n_samples:
            raise ValueError(f"the label matrix has {entry[2].n_samples} rows but the Dataset has "
                             f"{dataset.num_data()}")
        return entry[2]


class FocalLGBMObjective(_LightGBMCallable):
    """Focal objective for ``params["objective"]`` of ``lightgbm.train``: ``(preds, train_data) -> (grad, hess)``.

    ``preds`` are RAW SCORES, ``(n_samples,)`` for binary or ``(n_samples, K)`` for multiclass (LightGBM 4.7 passes
    a 2-D array when ``num_class > 1``; give ``n_classes=K``), or ``(n_samples, L)`` for multi-label (``num_class=L``
    and ``n_labels=L``; each Dataset's label matrix given by :meth:`add_label_matrix`); ``grad`` and ``hess`` have
    the same shape, in float32
    (LightGBM stores gradients as float32 and would otherwise convert a float64 copy every round). The Dataset's
    weights are applied here because LightGBM does not weight custom gradients. Labels and weights are validated
    once per Dataset rather than every round. A multiclass hessian is the loss's diagonal times ``K / (K - 1)``,
    the factor of LightGBM's own ``multiclass`` objective (lightgbm 4.7; Friedman's multiclass step: the softmax
    gradients sum to 0 over the classes, so the one-class Newton step of the bare diagonal overshoots): gamma=0 then
    trains ``multiclass``'s model at any ``learning_rate`` and ``min_sum_hessian_in_leaf``. Picklable; the cache is
    not pickled.

    Use with a Dataset ``init_score`` (or :func:`train`, which adds the init score itself) so boosting starts from
    the focal optimum.
    """

    def __call__(self, preds: np.ndarray, train_data: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        raw = np.asarray(preds, dtype=np.float64)  # LightGBM 4.7 passes float64: no copy
        self._check_shape(raw)
        # omp: LightGBM's wheel runs on the libgomp of numba's OpenMP layer; its own team computes the row ranges
        return engine_grad_hess(self._target(train_data), raw, self.offset, omp=True)


class FocalLGBMMetric(_LightGBMCallable):
    """Focal metric for ``feval`` of ``lightgbm.train``: ``(preds, eval_data) -> ("focal_loss", value, False)``.

    ``preds`` must be RAW SCORES (what LightGBM passes to ``feval`` when the objective is custom),
    ``(n_samples,)`` or ``(n_samples, K)``; they include the eval Dataset's ``init_score`` (LightGBM 4.7 starts
    each validation score from it; :func:`train` adds its init score here instead), so the value is the weighted
    mean focal loss of the full raw score,
    ``sum(w * FL) / sum(w)``. Lower is better. Picklable; the per-Dataset cache is not pickled.
    """

    name = METRIC_NAME

    def __call__(self, preds: np.ndarray, eval_data: lgb.Dataset) -> tuple[str, float, bool]:
        raw = np.asarray(preds, dtype=np.float64)
        self._check_shape(raw)
        if self.offset is not None:
            raw = raw + self.offset
        return METRIC_NAME, self._target(eval_data).eval(raw), False


def objective(loss: FocalLoss, n_classes: int | None = None, n_labels: int | None = None) -> FocalLGBMObjective:
    """The focal objective for ``params["objective"]`` of ``lightgbm.train`` (raw scores in, grad/hess out);
    ``n_classes=K`` for a K-class model (``num_class=K``), ``n_labels=L`` for a multi-label model (``num_class=L``,
    label matrices from ``add_label_matrix``), neither for binary."""
    return FocalLGBMObjective(loss, n_classes, n_labels)


def metric(loss: FocalLoss, n_classes: int | None = None, n_labels: int | None = None) -> FocalLGBMMetric:
    """The focal ``feval`` for ``lightgbm.train``: weighted mean focal loss of raw scores, named ``"focal_loss"``;
    ``n_classes=K`` for a K-class model, ``n_labels=L`` for a multi-label model."""
    return FocalLGBMMetric(loss, n_classes, n_labels)


# -- train ---------------------------------------------------------------------------------------------------------
def _alias_values(params: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: params[key] for key in _ConfigAliases.get(name) if key in params}


def _params_n_classes(loss: FocalLoss, params: dict[str, Any]) -> int | None:
    given = _alias_values(params, "num_class")
    values = {v for v in given.values() if v is not None}
    if len(values) > 1:
        raise ValueError(f"conflicting num_class values in params: {given!r}")
    return resolve_n_classes(loss, values.pop() if values else None)


def _current_init_score(dataset: lgb.Dataset) -> Any:
    if dataset.init_score is not None:
        return dataset.init_score
    if _constructed(dataset):
        return dataset.get_field("init_score")
    return None


def _constructed(dataset: lgb.Dataset) -> bool:
    # LightGBM 4.7 sets _handle to an empty ctypes.c_void_p() before building a Dataset: a construction that failed
    # (bad X) leaves that NULL handle behind, and set_field/get_field on it crash the process.
    handle = getattr(dataset, "_handle", None)
    return handle is not None and bool(getattr(handle, "value", handle))


def _label_weight(dataset: lgb.Dataset) -> tuple[Any, Any]:
    # LightGBM 4.7: get_label()/get_weight() raise on a Dataset that is not constructed yet when the field is
    # None, so read the attributes given at creation until LightGBM has constructed it.
    if not _constructed(dataset):
        return dataset.label, dataset.weight
    return dataset.get_label(), dataset.get_weight()


def _as_stored(values: Any) -> Any:
    """Labels/weights as LightGBM 4.7 stores them (float32), so the target validated here is the one the objective
    finds after construction; values that are not numeric are returned as they are, for prepare_target's error."""
    if values is None:
        return None
    try:
        return np.asarray(values, dtype=np.float32).ravel()
    except (TypeError, ValueError):
        return values


def _clear_init_score(dataset: lgb.Dataset) -> None:
    # LightGBM 4.7: set_init_score(None) only resets the Python attribute; a constructed Dataset keeps the C-side
    # values until set_field(..., None) clears them.
    dataset.init_score = None
    if _constructed(dataset):
        dataset.set_field("init_score", None)


def _bake_init_score(booster: lgb.Booster, init: float | np.ndarray, n_classes: int | None) -> None:
    """Add the init score to every leaf of the first iteration's tree(s) (tree k is class or label k)."""
    per_class = [float(init)] if np.ndim(init) == 0 else [float(v) for v in np.asarray(init)]
    tree_info = booster.dump_model(num_iteration=1, start_iteration=0)["tree_info"]
    if len(tree_info) != len(per_class):
        raise RuntimeError(f"expected {len(per_class)} tree(s) in the first iteration, found {len(tree_info)}")
    for tree_id, (info, value) in enumerate(zip(tree_info, per_class, strict=True)):
        for leaf_id in range(int(info["num_leaves"])):
            booster.set_leaf_output(tree_id, leaf_id, booster.get_leaf_output(tree_id, leaf_id) + value)

def _declare_objective(booster: lgb.Booster, n_classes: int | None, n_labels: int | None = None) -> lgb.Booster:
    """Declare ``binary sigmoid:1`` (``n_classes=None``), ``multiclass num_class:K`` or, for a multi-label model,
    ``multiclassova num_class:L sigmoid:1`` as the model's objective, in place, and return the booster.

    LightGBM 4.7 writes no ``objective=`` line into the model text of a booster trained with a callable objective
    (its parameters block says ``[objective: custom]``, ``booster.params`` says ``"none"``), so plain
    ``Booster.predict`` returns raw scores where users expect probabilities, and converters refuse the model
    (onnxmltools: "Unsupported LightGbm objective"). Here the header line is added, the parameters block and
    ``booster.params`` name the builtin objective, and the booster is reloaded from that text in place
    (``model_from_string``, as ``lightgbm.train`` itself does before returning): the Python object, its
    ``best_iteration`` and ``best_score`` stay, the trees are written with round-trip precision so
    ``predict(raw_score=True)`` is bit-identical, and ``predict()`` returns sigmoid/softmax of the raw score (one
    sigmoid per label for ``multiclassova``, LightGBM 4.7's one-vs-all objective: ``1 / (1 + exp(-raw))``). A
    booster that still holds its training data (``keep_training_booster=True``) is returned untouched: reloading
    would end its training state.
    """
    if booster.__dict__.get("train_set") is not None:
        return booster
    if n_labels is not None:
        name, header_line = "multiclassova", f"objective=multiclassova num_class:{n_labels} sigmoid:1"
    elif n_classes is None:
        name, header_line = "binary", "objective=binary sigmoid:1"
    else:
        name, header_line = "multiclass", f"objective=multiclass num_class:{n_classes}"
    text = booster.model_to_string(num_iteration=-1)
    head, sep, rest = text.partition("\n\n")
    lines = [line for line in head.split("\n") if not line.startswith("objective=")]
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("max_feature_idx=")), None)
    if at is None or not sep:
        raise RuntimeError("unexpected LightGBM model text: no max_feature_idx= line in its header")
    lines.insert(at, header_line)
    rest = "\n".join(f"[objective: {name}]" if line.startswith("[objective: ") else line
                     for line in rest.split("\n"))
    booster.model_from_string("\n".join(lines) + sep + rest)
    booster.params["objective"] = name
    return booster


def _names_metric(value: Any) -> bool:
    """Whether a LightGBM ``metric`` parameter value names a builtin metric (not "None"/"" or an empty list)."""
    items = value if isinstance(value, (list, tuple, set)) else str(value).split(",")
    return any(str(v).strip().lower() not in ("", "none", "null", "na", "custom") for v in items)


class _ShiftedFeval:
    """A user ``feval`` given the full raw score: LightGBM's scores plus the init score it does not hold."""

    def __init__(self, feval: Callable[..., Any], offset: np.ndarray) -> None:
        self.feval, self.offset = feval, offset

    def __call__(self, preds: np.ndarray, eval_data: lgb.Dataset) -> Any:
        return self.feval(np.asarray(preds) + self.offset, eval_data)


def _train(loss: Any, params: Any, train_set: Any, num_boost_round: int, valid_sets: Any, kwargs: dict[str, Any],
           label_matrix: Any = None, valid_label_matrices: Any = None
           ) -> tuple[lgb.Booster, float | np.ndarray | None]:
    """:func:`train`, also returning the init score added to the model (None with ``init_model``)."""
    loss = _check_loss(loss)
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of LightGBM parameters, got params={params!r}")
    if not isinstance(train_set, lgb.Dataset):
        raise ValueError(f"train_set must be a lightgbm.Dataset, got {type(train_set).__name__}")
    params = dict(params)
    given_objective = _alias_values(params, "objective")
    if given_objective:
        raise ValueError(f"params must not set an objective (the focal objective is used), got {given_objective!r}")
    if any(bool(v) for v in _alias_values(params, "linear_tree").values()):
        raise ValueError("linear_tree=True is not supported: the init score cannot be stored in linear leaves")
    boosting = _alias_values(params, "boosting")
    if any(v in ("rf", "random_forest") for v in boosting.values()):
        raise ValueError(f"boosting={boosting!r} is not supported: random forests average their trees")

    n_labels = None
    if label_matrix is not None:
        n_labels = _label_matrix_width(label_matrix)
        given = {v for v in _alias_values(params, "num_class").values() if v is not None}
        if given - {n_labels}:
            raise ValueError(f"params num_class={sorted(given)!r} does not match the label matrix's {n_labels} "
                             "labels")
        loss.task(n_labels=n_labels)  # alpha against L, before any work
        n_classes = None
    else:
        if valid_label_matrices is not None:
            raise ValueError("valid_label_matrices is given but label_matrix is not")
        n_classes = _params_n_classes(loss, params)
    for key in _alias_values(params, "num_class"):
        del params[key]
    if n_classes is not None or n_labels is not None:
        params["num_class"] = n_classes or n_labels
    if not _alias_values(params, "metric"):
        params["metric"] = "None"
    if n_labels is not None and any(_names_metric(v) for v in _alias_values(params, "metric").values()):
        raise ValueError(f"builtin LightGBM metrics read the Dataset's label, which a multi-label training does not "
                         f"set; got metric={_alias_values(params, 'metric')!r} (use metric='None' and feval)")
    focal_objective, focal_metric = objective(loss, n_classes, n_labels), metric(loss, n_classes, n_labels)
    params["objective"] = focal_objective

    feval = kwargs.pop("feval", None)
    user_feval: list[Callable[..., Any]] = [] if feval is None else (list(feval) if isinstance(feval, Sequence)
                                                                      else [feval])
    if valid_sets is None:
        valid_list: list[lgb.Dataset] = []
    elif isinstance(valid_sets, lgb.Dataset):
        valid_list = [valid_sets]
    else:
        valid_list = list(valid_sets)
    for i, ds in enumerate(valid_list):
        if not isinstance(ds, lgb.Dataset):
            raise ValueError(f"valid_sets[{i}] must be a lightgbm.Dataset, got {type(ds).__name__}")

    datasets, names, matrices = [train_set], ["train_set"], [label_matrix]
    if n_labels is not None:
        valid_matrices = _valid_label_matrices(valid_label_matrices, len(valid_list))
    for i, ds in enumerate(valid_list):
        if all(ds is not seen for seen in datasets):
            datasets.append(ds)
            names.append(f"valid_sets[{i}]")
            matrices.append(None if n_labels is None else valid_matrices[i])
    # Validate every Dataset's labels and weights once, before any training; the objective and metric find these
    # targets again when LightGBM has constructed the Datasets (see _same_or_equal).
    targets = []
    for ds, name, matrix in zip(datasets, names, matrices, strict=True):
        if n_labels is not None:
            try:
                targets.append(focal_objective.add_label_matrix(ds, matrix))
                focal_metric.add_label_matrix(ds, matrix)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from exc
            continue
        label, weight = (_as_stored(v) for v in _label_weight(ds))
        if label is None:
            raise ValueError(f"{name} has no label; focal loss needs labels on every Dataset")
        try:
            target = loss.prepare_target(label, weight, n_classes)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
        targets.append(target)
        for callable_ in (focal_objective, focal_metric):
            callable_._cache.put(id(ds), label, weight, target, holder=ds)
    with_init = kwargs.get("init_model") is None
    init: float | np.ndarray | None = None
    on_datasets = False
    if with_init:
        for ds, name in zip(datasets, names, strict=True):
            if _current_init_score(ds) is not None:
                raise ValueError(f"{name} already has an init_score; focal_boost.lightgbm.train sets its own")
        init = targets[0].init_score()
        offset = np.atleast_1d(np.asarray(init, dtype=np.float64))
        # LightGBM's builtin metrics read its own scores, which then lack the init score: only for them is it
        # set on the Datasets (n x K float64 per Dataset); otherwise the focal objective and metric (and any
        # user feval) add it to the scores they are given.
        on_datasets = any(_names_metric(v) for v in _alias_values(params, "metric").values())
        if on_datasets:
            for ds, target in zip(datasets, targets, strict=True):
                rows = target.n_samples
                ds.set_init_score(np.full(rows, init) if n_classes is None else np.tile(init, (rows, 1)))
        else:
            focal_objective.offset = focal_metric.offset = offset
            user_feval = [_ShiftedFeval(f, offset) for f in user_feval]
    try:
        booster = lgb.train(params, train_set, num_boost_round=num_boost_round, valid_sets=valid_list or None,
                            feval=[focal_metric, *user_feval], **kwargs)
    finally:
        if on_datasets:
            for ds in datasets:
                _clear_init_score(ds)
    if init is not None:
        _bake_init_score(booster, init, n_classes)
    if n_labels is None:
        _declare_objective(booster, n_classes)
    else:
        _declare_objective(booster, None, n_labels)
    return booster, init


def _label_matrix_width(label_matrix: Any) -> int:
    shape = np.shape(label_matrix)
    if len(shape) != 2:
        raise ValueError(f"label_matrix must be an (n_samples, n_labels) matrix, got shape {shape}")
    return int(shape[1])


def _valid_label_matrices(matrices: Any, n_valid: int) -> list[Any]:
    """One label matrix per valid set (a valid set that is ``train_set`` takes ``label_matrix``)."""
    if n_valid == 0:
        if matrices is not None and len(matrices) > 0:
            raise ValueError("valid_label_matrices is given but valid_sets is not")
        return []
    if matrices is None or isinstance(matrices, np.ndarray) or len(matrices) != n_valid:
        raise ValueError(f"valid_label_matrices must be a list of one (n, L) label matrix per valid set "
                         f"({n_valid}), got {type(matrices).__name__}"
                         f"{'' if matrices is None or isinstance(matrices, np.ndarray) else f' of {len(matrices)}'}")
    return list(matrices)


def train(
    loss: FocalLoss,
    params: dict[str, Any],
    train_set: lgb.Dataset,
    num_boost_round: int = 100,
    valid_sets: lgb.Dataset | Sequence[lgb.Dataset] | None = None,
    *,
    label_matrix: Any = None,
    valid_label_matrices: Sequence[Any] | None = None,
    **kwargs: Any,
) -> lgb.Booster:
    """Train a LightGBM model with focal loss; returns an ordinary ``lightgbm.Booster``.

    ``booster.predict(X, raw_score=True)`` returns RAW SCORES including the focal init score (``(n,)`` binary,
    ``(n, K)`` multiclass); probabilities come from ``loss.predict_proba(raw)``. Steps: the weighted init score
    ``loss.init_score(labels, weights, K)`` is added by the objective and metric to the scores LightGBM passes
    them (and by a wrapper to those any extra ``feval`` gets); only when ``params`` name a builtin ``metric``,
    which reads LightGBM's own scores, is it set as ``init_score`` on ``train_set`` and every valid set for the
    duration of training (and removed afterwards). LightGBM trains with :func:`objective` and :func:`metric`
    (named ``"focal_loss"``, so early stopping via ``callbacks=[lightgbm.early_stopping(...)]`` or
    ``params["early_stopping_round"]`` works on it), then the init score is added to the leaves of the first
    iteration's tree(s) so that predictions, ``best_iteration`` predictions and ``save_model`` files include it.

    Parameters
    ----------
    loss : FocalLoss
    params : dict
        LightGBM parameters without an objective (the focal objective is set here). ``num_class`` (K > 1) makes the
        model multiclass; it must agree with ``loss.alpha`` when that is a sequence (and is set from it if absent).
        ``metric`` defaults to ``"None"`` so only the focal metric is reported.
    train_set, valid_sets : lightgbm.Dataset
        With labels (and optional weights, applied by the objective and metric); they must not carry an
        ``init_score`` of their own.
    label_matrix, valid_label_matrices : (n, L) arrays, optional
        The multi-label task over L labels (one sigmoid focal term per label; a sequence ``loss.alpha`` is one
        positive weight per label): ``label_matrix`` holds ``train_set``'s labels in [0, 1] and
        ``valid_label_matrices`` one matrix per entry of ``valid_sets``; these Datasets then carry no label of
        their own (LightGBM's label is 1-D). ``num_class`` is set to L; builtin metrics are refused (they would read
        the Datasets' empty labels). ``booster.predict(X, raw_score=True)`` returns the ``(n, L)`` raw scores and the
        model is saved as ``multiclassova`` with ``sigmoid:1``, so plain ``predict(X)`` returns each label's sigmoid
        (uncalibrated; ``loss.predict_proba(raw, multi_label=True)`` gives the calibrated ones).
    num_boost_round : int
    **kwargs
        Passed to ``lightgbm.train`` (``valid_names``, ``callbacks``, extra ``feval`` after the focal one,
        ``keep_training_booster``...). With ``init_model`` the init score is not added again: boosting continues
        from the init model's raw scores, which already include it.

    Notes
    -----
    With ``keep_training_booster=True``, continue training through ``train(..., init_model=booster)``, not
    ``booster.update()``: the booster's internal training scores do not include the init baked into its leaves.
    Not supported: ``linear_tree`` (leaf outputs are not the whole leaf prediction) and ``boosting="rf"``
    (predictions average the trees).
    """
    return _train(loss, params, train_set, num_boost_round, valid_sets, kwargs, label_matrix,
                  valid_label_matrices)[0]


# -- scikit-learn classifier ---------------------------------------------------------------------------------------
class _EarlyStoppingOnSet:
    """``lightgbm.early_stopping`` restricted to one metric of one validation set.

    LightGBM 4.7's callback stops when ANY (valid set, metric) pair stalls; the classifier stops on the focal
    metric of the LAST eval set (XGBoost's convention), so the other results are filtered out of its view.
    """

    def __init__(self, stopping_rounds: int, dataset_name: str, metric_name: str = METRIC_NAME,
                 min_delta: float = 0.0, verbose: bool = False) -> None:
        self.order = 30
        self.before_iteration = False
        self.dataset_name = dataset_name
        self.metric_name = metric_name
        self._inner = lgb.early_stopping(stopping_rounds, first_metric_only=False, verbose=verbose,
                                         min_delta=min_delta)

    def __call__(self, env: Any) -> None:
        results = [r for r in env.evaluation_result_list or []
                   if r.dataset_name == self.dataset_name and r.metric_name == self.metric_name]
        self._inner(dataclasses.replace(env, evaluation_result_list=results))


class FocalLGBMClassifier(FocalClassifierBase):
    """LightGBM classifier trained with focal loss, scikit-learn style.

    ``gamma``, ``alpha``, ``hessian`` define the :class:`FocalLoss`; ``calibrate`` chooses calibrated posteriors
    (default) or plain sigmoid/softmax in ``predict_proba``. Other keyword arguments are LightGBM parameters under
    ``LGBMClassifier``'s names: ``n_estimators`` (default 100), ``learning_rate``, ``num_leaves``, ``max_depth``,
    ``random_state``, ``n_jobs``, ``early_stopping_rounds`` (int or None), ``verbose``/``verbosity`` (default -1)
    and any other LightGBM parameter (``LGBMClassifier`` names such as ``min_child_samples`` or ``subsample`` are
    LightGBM aliases). ``objective`` and ``class_weight`` are refused: use ``gamma``/``alpha``/``sample_weight``.

    Fitted attributes: ``booster_`` (a plain ``lightgbm.Booster`` whose raw scores include the init score),
    ``best_iteration_`` (0-based index of the last iteration used for prediction, the same convention in all three
    focal_boost classifiers; LightGBM's own ``best_iteration`` is that plus one), ``evals_result_`` (``{eval set
    name: {"focal_loss": [value per round]}}``), ``best_score_`` (the same at ``best_iteration_``),
    ``feature_importances_`` (``importance_type``: ``"split"`` (default) or ``"gain"``), ``n_features_in_``,
    ``feature_names_in_`` (DataFrame input), ``classes_``, ``n_classes_``, ``loss_`` (the :class:`FocalLoss`; a
    scalar ``alpha`` is the weight of ``classes_[1]``, a mapping ``{label: weight}`` names the classes),
    ``init_score_``.
    The shared contract (validation, labels, alpha, fitted state, tags) is ``focal_boost._sklearn``.
    """

    _IMPORTANCE_TYPES = ("split", "gain")
    _multi_label = True

    def _engine_settings(self) -> EngineSettings:
        params = dict(self._engine_params)
        for refused in ("objective", "class_weight"):
            if params.get(refused) is not None:
                raise ValueError(f"{refused}={params[refused]!r} is not supported by {type(self).__name__}; the "
                                 "focal loss is the objective (use gamma, alpha and sample_weight)")
            params.pop(refused, None)
        n_estimators = check_rounds(params.pop("n_estimators", 100), "n_estimators", allow_none=False)
        stops = {k: params.pop(k) for k in _ConfigAliases.get("early_stopping_round") if k in params}
        stop_values = {v for v in stops.values() if v is not None}
        if len(stop_values) > 1:
            raise ValueError(f"conflicting early stopping settings: {stops!r}")
        rounds = check_rounds(stop_values.pop() if stop_values else None, "early_stopping_rounds", allow_none=True)
        # early_stopping_min_delta would only reach LightGBM's own callback: hand it to the classifier's.
        min_delta = float(params.pop("early_stopping_min_delta", 0.0))
        importance_type = params.pop("importance_type", "split")
        if importance_type not in self._IMPORTANCE_TYPES:
            raise ValueError(f"importance_type must be one of {self._IMPORTANCE_TYPES}, got "
                             f"importance_type={importance_type!r}")
        for key in ("random_state", "n_jobs"):
            if key in params and params[key] is None:
                del params[key]
        if not _alias_values(params, "verbosity"):
            params["verbosity"] = -1
        pre_filter_given = bool(_alias_values(params, "feature_pre_filter"))
        return EngineSettings(params, n_estimators, rounds, {"min_delta": min_delta, "importance_type": importance_type,
                                                              "pre_filter_given": pre_filter_given})

    def _fit_engine(self, fit: FitData) -> EngineFit:
        params = dict(fit.settings.params)
        if fit.n_classes is not None:
            params["num_class"] = fit.n_classes
        try:
            return self._fit_lightgbm(fit, params)
        except lgb.basic.LightGBMError as exc:
            # LightGBM 4.7 stops a custom-objective training ("Check failed: (train_data->num_features()) > (0)")
            # when its feature pre-filter removes every feature (data too small for min_child_samples), where a
            # builtin objective trains constant trees. Without the pre-filter the unsplittable features stay unused:
            # the same constant trees. The pre-filter stays on otherwise: it changes the bins, so turning it off
            # always would train another model than LGBMClassifier() (measured on openintro email: 0.33 in
            # probability, benchmarks/results/defaults_identity.md).
            if fit.settings.extra["pre_filter_given"] or "num_features()" not in str(exc):
                raise
            return self._fit_lightgbm(fit, dict(params, feature_pre_filter=False))

    def _fit_lightgbm(self, fit: FitData, params: dict[str, Any]) -> EngineFit:
        # multi-label: the label matrices go to train() (a LightGBM Dataset label is 1-D)
        multi = fit.n_labels is not None
        train_set = lgb.Dataset(fit.X, label=None if multi else fit.y, weight=fit.sample_weight)
        valid_sets, valid_names = [], []
        for i, (x_val, y_val, w_val) in enumerate(fit.evals):
            valid_sets.append(lgb.Dataset(x_val, label=None if multi else y_val, weight=w_val, reference=train_set))
            valid_names.append(f"valid_{i}")
        evals_result: dict[str, Any] = {}
        callbacks: list[Any] = [lgb.record_evaluation(evals_result)]
        rounds = fit.settings.early_stopping_rounds
        if rounds is not None:
            callbacks.append(_EarlyStoppingOnSet(rounds, valid_names[-1], min_delta=fit.settings.extra["min_delta"]))
        booster, init = _train(fit.loss, params, train_set, fit.settings.n_estimators, valid_sets or None,
                               {"valid_names": valid_names or None, "callbacks": callbacks},
                               fit.y if multi else None, [y_val for _, y_val, _ in fit.evals] if multi else None)
        # LightGBM's best_iteration is a 1-based count (0 without early stopping); ours is the 0-based index.
        n_used = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        history = {name: {metric: list(values) for metric, values in metrics.items()}
                   for name, metrics in evals_result.items()}
        return EngineFit(booster, n_used - 1, history, init,
                         {"importance_type": fit.settings.extra["importance_type"]})

    def _check_frame_columns(self, X: Any, columns: FrameColumns) -> None:
        strings = columns.named(STRING)
        if strings:
            raise column_kind_error(
                strings, "string", "LightGBM (4.7) reads categorical features from the 'category' dtype and refuses "
                "strings", category_dtype_fix(strings))

    def _predict_raw(self, X: Any) -> np.ndarray:
        return np.asarray(self.booster_.predict(X, raw_score=True, num_iteration=self.best_iteration_ + 1))

    def _engine_importances(self) -> np.ndarray:
        return self.booster_.feature_importance(importance_type=self._engine_state["importance_type"],
                                                iteration=self.best_iteration_ + 1)
