"""ONNX export of fitted focal_boost classifiers, calibration map included (extra ``focal_boost[onnx]``).

:func:`to_onnx` turns a fitted :class:`~focal_boost.lightgbm.FocalLGBMClassifier`,
:class:`~focal_boost.xgboost.FocalXGBClassifier` or :class:`~focal_boost.catboost.FocalCatBoostClassifier` into an
``onnx.ModelProto`` whose ``"probabilities"`` output, shape ``(n_samples, n_classes)``, is ``clf.predict_proba(X)``:
calibrated posteriors when ``clf.calibrate`` (the default), sigmoid/softmax of the raw scores otherwise. A ``"label"``
output, shape ``(n_samples,)``, holds the class of the highest probability (``clf.predict``).

How the graph is built:

1. the engine's own converter writes the trees (onnxmltools ``convert_lightgbm`` / ``convert_xgboost``, CatBoost's
   ``save_model(format="onnx")``); its tree-ensemble node is kept as a ``TreeEnsembleRegressor`` with no
   post-transform, so it returns the RAW SCORES ``clf.decision_function(X)`` (init score included), in float32;
2. the inverse focal link of :meth:`focal_boost.FocalLoss.predict_proba` follows in ONNX operators, in float64 and in
   log space as in ``focal_boost._math`` (``log |phi'(p)|`` from ``t = exp(-|s|)``), so it stays finite for any raw
   score: ``probabilities = softmax(-log|phi'(p_k)| - log alpha_k)`` over the class margins ``s_k``.

Importing this module also registers the classifiers with skl2onnx (``update_registered_converter``, options
``zipmap`` and ``nocl`` like skl2onnx's own classifiers), so ``skl2onnx.to_onnx(pipeline, X)`` converts pipelines
that end in a focal classifier. The saved model is scored by onnxruntime alone; focal_boost is not needed there.

CatBoost: the trees come from CatBoost's own ONNX export (numeric features only; CatBoost exports no categorical or
text features to ONNX). Its output for a focal model is the raw score (a ``TreeEnsembleRegressor``, or a softmax
classifier for multiclass whose post-transform is dropped here), so the calibration map is composed after it.
Models of CatBoost's builtin ``Focal`` loss (``clf.builtin_loss_`` set), which catboost 1.2.10 refuses to export
("ONNX format does not support floating-point labels"), are exported through ``catboost.sum_models([model])``, the
same trees without class labels.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import tempfile
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["DEFAULT_OPSET", "to_onnx"]

DEFAULT_OPSET = 17  # the default opset of the main ONNX domain (onnxruntime >= 1.15 runs it)
_TREE_OPS = ("TreeEnsembleClassifier", "TreeEnsembleRegressor")
_RENAMED = {"class_treeids": "target_treeids", "class_nodeids": "target_nodeids", "class_ids": "target_ids",
            "class_weights": "target_weights", "class_weights_as_tensor": "target_weights_as_tensor"}


# -- emitters: one graph builder for stand-alone models and for skl2onnx containers ---------------------------------
class _Emitter:
    """Collects nodes and initializers with unique names (stand-alone model)."""

    def __init__(self, prefix: str = "fb_") -> None:
        self.prefix = prefix
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{self.prefix}{hint}_{self._count}"

    def node(self, op_type: str, inputs: list[str], output: str | None = None, domain: str = "",
             op_version: int | None = None, **attrs: Any) -> str:
        out = output if output is not None else self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=self.name(op_type), domain=domain, **attrs))
        return out

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name


class _SklEmitter(_Emitter):
    """Writes into a skl2onnx ``(scope, container)`` pair."""

    def __init__(self, scope: Any, container: Any) -> None:
        super().__init__()
        self.scope, self.container = scope, container

    def name(self, hint: str) -> str:
        return self.scope.get_unique_variable_name(f"fb_{hint}")

    def node(self, op_type: str, inputs: list[str], output: str | None = None, domain: str = "",
             op_version: int | None = None, **attrs: Any) -> str:
        out = output if output is not None else self.name(op_type.lower())
        self.container.add_node(op_type, inputs, [out], op_domain=domain, op_version=op_version,
                                name=self.scope.get_unique_operator_name(f"fb_{op_type}"), **attrs)
        return out

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self.name(hint)
        self.container.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name


# -- the fitted classifier's raw-score trees -------------------------------------------------------------------------
def _engine(clf: Any) -> tuple[str, Any]:
    booster = getattr(clf, "booster_", None)
    if booster is None:
        booster = getattr(clf, "model_", None)
    if booster is None or not hasattr(clf, "loss_"):
        raise TypeError(f"clf must be a fitted focal_boost classifier, got {type(clf).__name__} (no booster_/loss_)")
    engine = type(booster).__module__.split(".")[0]
    if engine not in ("lightgbm", "xgboost", "catboost"):
        raise TypeError(f"clf.booster_ must be a LightGBM, XGBoost or CatBoost model, got {type(booster).__name__}")
    return engine, booster


def _n_outputs(clf: Any) -> int:
    """Raw scores per row: 1 for the binary (sigmoid) loss, K for softmax."""
    softmax = clf.n_classes_ > 2 or clf.loss_.n_classes is not None
    return int(clf.n_classes_) if softmax else 1


def _converted_trees(clf: Any, n_features: int) -> onnx.ModelProto:
    """The engine converter's ONNX model of the trees that ``clf.decision_function`` uses."""
    engine, booster = _engine(clf)
    n_used = int(clf.best_iteration_) + 1
    if engine == "catboost":
        if getattr(clf, "builtin_loss_", None) is not None:
            # catboost 1.2.10 refuses to export a model of its builtin Focal loss ("ONNX format does not support
            # floating-point labels"); the same trees summed once (weight 1) form a model without labels that it
            # exports, with the same raw scores.
            import catboost

            booster = catboost.sum_models([booster], weights=[1.0])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.onnx")
            booster.save_model(path, format="onnx")
            return onnx.load(path)

    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    initial_types = [("X", FloatTensorType([None, n_features]))]
    if engine == "lightgbm":
        if n_used < booster.current_iteration() or "objective" not in booster.dump_model(num_iteration=1):
            from .lightgbm import _declare_objective

            booster = _declare_objective(type(booster)(model_str=booster.model_to_string(num_iteration=n_used)),
                                         None if _n_outputs(clf) == 1 else _n_outputs(clf))
        return onnxmltools.convert_lightgbm(booster, initial_types=initial_types, zipmap=False)
    booster = booster[:n_used] if n_used < booster.num_boosted_rounds() else booster.copy()
    booster.feature_names = None  # onnxmltools reads the trees' feature indices from names f0, f1, ...
    booster.feature_types = None
    return onnxmltools.convert_xgboost(booster, initial_types=initial_types)


def _tree_node(converted: onnx.ModelProto, n_outputs: int) -> tuple[dict[str, Any], int]:
    """The attributes of a ``TreeEnsembleRegressor`` that outputs the raw scores, and its ai.onnx.ml opset."""
    trees = [node for node in converted.graph.node if node.op_type in _TREE_OPS]
    if len(trees) != 1:
        raise RuntimeError(f"expected one tree-ensemble node in the converted model, found {len(trees)}")
    found = {a.name: helper.get_attribute_value(a) for a in trees[0].attribute}
    attrs: dict[str, Any] = {}
    for key, value in found.items():
        if key.startswith("nodes_") or key.startswith("base_values"):
            attrs[key] = value
        elif key in _RENAMED:
            attrs[_RENAMED[key]] = value
        elif key.startswith("target_"):
            attrs[key] = value
    ids = attrs.get("target_ids", [])
    if len(ids) and (min(ids) < 0 or max(ids) >= n_outputs):
        raise RuntimeError(f"tree outputs {sorted(set(ids))} do not fit {n_outputs} raw score(s) per row")
    attrs["n_targets"] = n_outputs
    attrs["post_transform"] = "NONE"
    attrs["aggregate_function"] = "SUM"
    ml = [o.version for o in converted.opset_import if o.domain == "ai.onnx.ml"]
    return attrs, max(ml[0] if ml else 1, 1)


# -- the inverse focal link in ONNX operators --------------------------------------------------------------------------
def _reduce(em: _Emitter, op: str, x: str, axis: int, keepdims: int, opset: int) -> str:
    """ReduceMax/ReduceSum over one axis; the axes moved from an attribute to an input in opset 18 (13 for Sum)."""
    if opset >= (13 if op == "ReduceSum" else 18):
        return em.node(op, [x, em.const(np.array([axis], dtype=np.int64), "axes")], keepdims=keepdims)
    return em.node(op, [x], axes=[axis], keepdims=keepdims)


def _log_abs_dphi(em: _Emitter, s: str, gamma: float) -> str:
    """``log |phi'(sigmoid(s))|`` elementwise (float64), as ``focal_boost._math.log_abs_dphi``."""
    def c(v: float) -> str:
        return em.const(np.array(v, dtype=np.float64))

    neg = em.node("Less", [s, c(0.0)])
    t = em.node("Exp", [em.node("Neg", [em.node("Abs", [s])])])
    lg = em.node("Log", [em.node("Add", [c(1.0), t])])  # log1p(t), t in [0, 1]
    minus_lg = em.node("Neg", [lg])
    logp = em.node("Where", [neg, em.node("Sub", [s, lg]), minus_lg])
    if gamma == 0.0:
        return em.node("Neg", [logp])
    logq = em.node("Where", [neg, minus_lg, em.node("Sub", [em.node("Neg", [s]), lg])])
    # p * r with r = -log(p) / q: lg / t for s >= 0 (-> 1 - t/2 as t -> 0), t * (lg - s) for s < 0
    l_over_t = em.node("Where", [em.node("Greater", [t, c(1e-8)]), em.node("Div", [lg, t]),
                                 em.node("Sub", [c(1.0), em.node("Mul", [c(0.5), t])])])
    pr = em.node("Where", [neg, em.node("Mul", [t, em.node("Sub", [lg, s])]), l_over_t])
    log1p_term = em.node("Log", [em.node("Add", [c(1.0), em.node("Mul", [c(gamma), pr])])])
    return em.node("Add", [em.node("Sub", [em.node("Mul", [c(gamma), logq]), logp]), log1p_term])


def _softmax_margins(em: _Emitter, z: str, k: int, opset: int) -> str:
    """``s_k = z_k - logsumexp_{j != k} z_j`` for raw ``z`` of shape (n, K), float64."""
    mask = np.zeros((k, k))
    np.fill_diagonal(mask, -np.inf)
    others = em.node("Add", [em.node("Reshape", [z, em.const(np.array([-1, 1, k], dtype=np.int64), "shape")]),
                             em.const(mask, "mask")])  # [n, k, j] = z_j, -inf where j == k
    top = _reduce(em, "ReduceMax", others, 2, 1, opset)
    total = _reduce(em, "ReduceSum", em.node("Exp", [em.node("Sub", [others, top])]), 2, 0, opset)
    lse = em.node("Add", [em.node("Log", [total]),
                          em.node("Reshape", [top, em.const(np.array([-1, k], dtype=np.int64), "shape")])])
    return em.node("Sub", [z, lse])


def _class_alpha(loss: Any, n_classes: int) -> np.ndarray:
    if loss.alpha is None:
        return np.ones(n_classes)
    if isinstance(loss.alpha, float):
        return np.array([1.0 - loss.alpha, loss.alpha])
    return np.asarray(loss.alpha, dtype=np.float64)


def _probabilities(em: _Emitter, raw: str, loss: Any, n_outputs: int, n_classes: int, calibrate: bool,
                   opset: int) -> str:
    """float64 probabilities (n, n_classes) from float64 raw scores (n, n_outputs): ``loss.predict_proba``."""
    if n_outputs == 1:  # binary: class margins (-z, z)
        margins = em.node("Mul", [raw, em.const(np.array([[-1.0, 1.0]]), "sign")])
        if not calibrate:
            return em.node("Softmax", [em.node("Mul", [margins, em.const(np.array(0.5), "half")])], axis=1)
    else:
        if not calibrate:
            return em.node("Softmax", [raw], axis=1)
        margins = _softmax_margins(em, raw, n_outputs, opset)
    alpha = _class_alpha(loss, n_classes)
    if np.any(alpha <= 0):
        raise ValueError(f"calibrated probabilities need every alpha > 0, got alpha={loss.alpha!r}; "
                         "use calibrate=False")
    logits = em.node("Sub", [em.node("Neg", [_log_abs_dphi(em, margins, loss.gamma)]),
                             em.const(np.log(alpha).reshape(1, -1), "log_alpha")])
    return em.node("Softmax", [logits], axis=1)


def _labels(em: _Emitter, proba: str, classes: np.ndarray | None, output: str) -> None:
    index = em.node("ArgMax", [proba], axis=1, keepdims=0)
    if classes is None:
        em.node("Identity", [index], output)
    else:
        em.node("Gather", [em.const(classes, "classes"), index], output, axis=0)


def _class_tensor(classes: Any) -> tuple[np.ndarray, int]:
    arr = np.asarray(classes)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64), TensorProto.INT64
    if arr.dtype.kind in "UO" and all(isinstance(v, str) for v in arr.tolist()):
        return np.array(arr.tolist(), dtype=object), TensorProto.STRING
    raise TypeError(f"ONNX labels must be integers or strings, got clf.classes_={arr!r} (dtype {arr.dtype})")


def _emit(em: _Emitter, clf: Any, x: str, n_features: int, label_out: str, proba_out: str, opset: int,
          nocl: bool = False, double_input: bool = False) -> int:
    """Write the whole classifier (trees, raw scores, probabilities, labels) into ``em``; returns the ml opset.

    A float64 input (a skl2onnx pipeline converted with float64 data) is rounded to float32 first, as XGBoost's
    DMatrix and the converters' float32 thresholds do; the probabilities are then float64 too (skl2onnx's
    convention: a classifier's probabilities have its input's type).
    """
    n_outputs = _n_outputs(clf)
    attrs, ml_opset = _tree_node(_converted_trees(clf, n_features), n_outputs)
    if double_input:
        x = em.node("Cast", [x], to=TensorProto.FLOAT)
    raw32 = em.node("TreeEnsembleRegressor", [x], domain="ai.onnx.ml", op_version=min(ml_opset, 3), **attrs)
    raw = em.node("Cast", [raw32], to=TensorProto.DOUBLE)
    proba = _probabilities(em, raw, clf.loss_, n_outputs, int(clf.n_classes_), bool(clf.calibrate), opset)
    em.node("Cast", [proba], proba_out, to=TensorProto.DOUBLE if double_input else TensorProto.FLOAT)
    _labels(em, proba_out, None if nocl else _class_tensor(clf.classes_)[0], label_out)
    return min(ml_opset, 3)


def to_onnx(clf: Any, X_sample: Any = None, *, target_opset: int | None = None, input_name: str = "X",
            name: str = "focal_boost") -> onnx.ModelProto:
    """Export a fitted focal_boost classifier to ONNX, its probabilities (calibrated or not) included.

    Parameters
    ----------
    clf : FocalLGBMClassifier, FocalXGBClassifier or FocalCatBoostClassifier, fitted
        Binary or multiclass. ``clf.calibrate`` decides what ``"probabilities"`` holds, as in ``clf.predict_proba``.
    X_sample : array-like (n_samples, n_features), optional
        Only its number of columns is used (checked against ``clf.n_features_in_``); numeric features only.
    target_opset : int, optional
        Opset of the main ONNX domain (default :data:`DEFAULT_OPSET`, at least 13); the trees use ``ai.onnx.ml``.
    input_name : str
        Name of the float32 input of shape ``(n_samples, n_features)``.

    Returns
    -------
    onnx.ModelProto
        Outputs ``"label"`` (n_samples,), the predicted class (int64 or string, from ``clf.classes_``), and
        ``"probabilities"`` (n_samples, n_classes) float32, equal to ``clf.predict_proba(X)`` (to float32 rounding
        of the tree sums: about 1e-6 here). Raw scores are not an output; they are ``clf.decision_function(X)``.
    """
    if not hasattr(clf, "classes_") or not hasattr(clf, "n_features_in_"):
        raise TypeError(f"clf must be a fitted focal_boost classifier, got {type(clf).__name__}")
    if getattr(clf, "_label_dtype", None) is not None:
        # the converters below build binary/softmax graphs; a multi-label model would export as the wrong one
        raise ValueError(f"{type(clf).__name__} was fitted on a multi-label target ({len(clf.classes_)} labels); "
                         "to_onnx exports binary and multiclass classifiers only")
    n_features = int(clf.n_features_in_)
    if X_sample is not None:
        shape = getattr(X_sample, "shape", None) or np.shape(X_sample)
        if len(shape) != 2 or int(shape[1]) != n_features:
            raise ValueError(f"X_sample must have shape (n_samples, {n_features}), got X_sample shape {tuple(shape)}")
    opset = DEFAULT_OPSET if target_opset is None else target_opset
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or opset < 13:
        raise ValueError(f"target_opset must be an integer >= 13, got target_opset={target_opset!r}")
    labels, label_type = _class_tensor(clf.classes_)
    em = _Emitter()
    ml_opset = _emit(em, clf, input_name, n_features, "label", "probabilities", int(opset))
    graph = helper.make_graph(
        em.nodes, name,
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("label", label_type, [None]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(labels)])],
        em.initializers,
    )
    opsets = [helper.make_opsetid("", int(opset)), helper.make_opsetid("ai.onnx.ml", ml_opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="focal_boost")
    model.ir_version = helper.find_min_ir_version_for(opsets, ignore_unknown=True)
    onnx.checker.check_model(model)
    return model


def _calibration_model(loss: Any, n_outputs: int, n_classes: int, calibrate: bool = True,
                       opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """The probability map alone: input ``"raw"`` float64 (n, n_outputs) -> ``"probabilities"`` float64 (n, K).
    For tests at raw scores no tree reaches."""
    em = _Emitter()
    proba = _probabilities(em, "raw", loss, n_outputs, n_classes, calibrate, opset)
    em.node("Identity", [proba], "probabilities")
    graph = helper.make_graph(em.nodes, "focal_calibration",
                              [helper.make_tensor_value_info("raw", TensorProto.DOUBLE, [None, n_outputs])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, [None, n_classes])],
                              em.initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


# -- skl2onnx registration ------------------------------------------------------------------------------------------
def _skl2onnx_converter(scope: Any, operator: Any, container: Any) -> None:
    clf = operator.raw_operator
    options = container.get_options(clf, {"nocl": False})
    shape = operator.inputs[0].type.shape
    n_features = int(shape[1]) if len(shape) == 2 and isinstance(shape[1], (int, np.integer)) else int(
        clf.n_features_in_)
    opset = container.target_opset
    if opset < 13:
        raise ValueError(f"target_opset must be >= 13 for focal_boost classifiers, got target_opset={opset!r}")
    from skl2onnx.common.data_types import DoubleTensorType

    _emit(_SklEmitter(scope, container), clf, operator.inputs[0].full_name, n_features,
          operator.outputs[0].full_name, operator.outputs[1].full_name, opset, nocl=bool(options["nocl"]),
          double_input=isinstance(operator.inputs[0].type, DoubleTensorType))


def _register() -> list[str]:
    """Register every installed engine's focal classifier with skl2onnx; returns the aliases registered (none when
    skl2onnx is not installed: :func:`to_onnx` itself needs only onnx and onnxmltools)."""
    if importlib.util.find_spec("skl2onnx") is None:
        return []
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    done = []
    for engine, module, cls in (("lightgbm", "focal_boost.lightgbm", "FocalLGBMClassifier"),
                                ("xgboost", "focal_boost.xgboost", "FocalXGBClassifier"),
                                ("catboost", "focal_boost.catboost", "FocalCatBoostClassifier")):
        if importlib.util.find_spec(engine) is None:
            continue
        model = getattr(importlib.import_module(module), cls)
        alias = f"FocalBoost{cls}"
        update_registered_converter(model, alias, calculate_linear_classifier_output_shapes, _skl2onnx_converter,
                                    options={"nocl": [True, False], "zipmap": [True, False, "columns"]})
        done.append(alias)
    return done


REGISTERED: list[str] = _register()
"""The skl2onnx aliases registered on import (one per installed engine)."""
