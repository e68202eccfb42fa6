"""The Focal*Classifier on multi-label indicator targets: scikit-learn's multi-label estimator checks, shapes and
attributes, per-label alpha, eval sets and early stopping, agreement with the native trainers, and bad targets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse as sp
from scipy.special import expit
from sklearn.utils.estimator_checks import (
    check_classifiers_multilabel_output_format_decision_function,
    check_classifiers_multilabel_output_format_predict,
    check_classifiers_multilabel_output_format_predict_proba,
    check_classifiers_multilabel_representation_invariance,
)

from focal_boost import FocalLoss
from focal_boost.catboost import FocalCatBoostClassifier
from focal_boost.lightgbm import FocalLGBMClassifier
from focal_boost.xgboost import FocalXGBClassifier

from .conftest import integer_weights, make_multilabel

SMALL = {
    "lightgbm": dict(n_estimators=8, n_jobs=1),
    "xgboost": dict(n_estimators=8, n_jobs=1),
    "catboost": dict(n_estimators=8, thread_count=1, random_seed=0),
}
CLASSES = {"lightgbm": FocalLGBMClassifier, "xgboost": FocalXGBClassifier, "catboost": FocalCatBoostClassifier}
ENGINES = list(CLASSES)
MULTILABEL_CHECKS = [check_classifiers_multilabel_representation_invariance,
                     check_classifiers_multilabel_output_format_predict,
                     check_classifiers_multilabel_output_format_predict_proba,
                     check_classifiers_multilabel_output_format_decision_function]


def _clf(engine, **kw):
    return CLASSES[engine](**{**SMALL[engine], **kw})


@pytest.mark.parametrize("check", MULTILABEL_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("calibrate", [True, False])
def test_sklearn_multilabel_checks(engine, check, calibrate):
    clf = _clf(engine, calibrate=calibrate)
    assert clf.__sklearn_tags__().classifier_tags.multi_label
    check(type(clf).__name__, clf)


@pytest.mark.parametrize("engine", ENGINES)
def test_shapes_attributes_and_probabilities(engine):
    X, Y = make_multilabel()
    clf = _clf(engine, alpha=(0.25, 0.5, 0.75)).fit(X, Y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_classes_ == 3 and clf.loss_ == FocalLoss(2.0, (0.25, 0.5, 0.75))
    assert np.shape(clf.init_score_) == (3,)
    np.testing.assert_allclose(clf.init_score_, clf.loss_.init_score(Y), rtol=1e-12)
    raw = clf.decision_function(X)
    proba = clf.predict_proba(X)
    assert raw.shape == proba.shape == (len(X), 3) and raw.dtype.kind == "f"
    np.testing.assert_array_equal(proba, clf.loss_.predict_proba(raw, multi_label=True))
    assert not np.allclose(proba, expit(raw))  # calibrated per label (focal loss is not proper)
    pred = clf.predict(X)
    assert pred.dtype == Y.dtype
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(Y.dtype))
    assert np.mean(pred == Y) > 0.8  # it learned the labels
    uncalibrated = _clf(engine, alpha=(0.25, 0.5, 0.75), calibrate=False).fit(X, Y)
    np.testing.assert_array_equal(uncalibrated.decision_function(X), raw)
    np.testing.assert_allclose(uncalibrated.predict_proba(X), expit(raw), rtol=1e-15)
    # bool and sparse indicator matrices are the same target
    np.testing.assert_array_equal(_clf(engine, alpha=(0.25, 0.5, 0.75)).fit(X, Y.astype(bool)).decision_function(X),
                                  raw)
    np.testing.assert_array_equal(_clf(engine, alpha=(0.25, 0.5, 0.75)).fit(X, sp.csr_matrix(Y)).decision_function(X),
                                  raw)


def test_classifiers_train_the_native_models():
    import lightgbm as lgb
    import xgboost as xgb

    from focal_boost import lightgbm as flgb
    from focal_boost import xgboost as fxgb

    X, Y = make_multilabel()
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, 0.3)
    clf = FocalXGBClassifier(alpha=0.3, n_estimators=6, max_depth=3, n_jobs=1, multi_strategy="multi_output_tree")
    native = fxgb.train(loss, {"max_depth": 3, "nthread": 1, "num_target": 3, "multi_strategy": "multi_output_tree"},
                        xgb.DMatrix(X, label=Y, weight=w), 6)
    np.testing.assert_array_equal(clf.fit(X, Y, sample_weight=w).decision_function(X),
                                  native.predict(xgb.DMatrix(X), output_margin=True))
    lgbm = FocalLGBMClassifier(alpha=0.3, n_estimators=6, num_leaves=7, n_jobs=1).fit(X, Y, sample_weight=w)
    native = flgb.train(loss, {"num_leaves": 7, "num_threads": 1, "verbosity": -1, "feature_pre_filter": False},
                        lgb.Dataset(X, weight=w), 6, label_matrix=Y)
    np.testing.assert_array_equal(lgbm.decision_function(X), native.predict(X, raw_score=True))
    unweighted = FocalLGBMClassifier(alpha=0.3, n_estimators=6, num_leaves=7, n_jobs=1).fit(X, Y)
    assert not np.allclose(unweighted.decision_function(X), lgbm.decision_function(X))  # weights are applied


@pytest.mark.parametrize("engine", ENGINES)
def test_eval_set_and_early_stopping(engine):
    X, Y = make_multilabel(n_samples=900, noise=2.5, seed=5)
    w = integer_weights(len(Y))
    clf = _clf(engine, n_estimators=300, early_stopping_rounds=5, learning_rate=0.3).fit(
        X[:600], Y[:600], sample_weight=w[:600], eval_set=[(X[600:], Y[600:])], eval_sample_weight=[w[600:]])
    (name,) = clf.evals_result_
    curve = np.asarray(clf.evals_result_[name]["focal_loss"])
    assert clf.best_iteration_ == int(np.argmin(curve)) < 299
    assert clf.best_score_[name]["focal_loss"] == pytest.approx(
        clf.loss_.eval(Y[600:], clf.decision_function(X[600:]), w[600:]), rel=1e-5)


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_targets_and_alpha(engine):
    X, Y = make_multilabel()
    with pytest.raises(ValueError, match="only 0 and 1"):
        _clf(engine).fit(X, Y * 2)
    with pytest.raises(ValueError, match="multilabel-indicator"):
        _clf(engine).fit(X, Y * np.arange(3))
    with pytest.raises(ValueError, match="alpha"):
        _clf(engine, alpha=(0.2, 0.3)).fit(X, Y)
    with pytest.raises(ValueError, match="alpha"):
        _clf(engine, alpha=(0.2, 0.3, 1.5)).fit(X, Y)
    with pytest.raises(ValueError, match="mapping"):
        _clf(engine, alpha={0: 0.2, 1: 0.3, 2: 0.5}).fit(X, Y)
    with pytest.raises(ValueError, match=r"eval_set\[0\] must have an \(n, 3\) label matrix"):
        _clf(engine).fit(X, Y, eval_set=[(X, Y[:, 0])])
    with pytest.raises(ValueError, match=r"eval_set\[0\] must have class labels"):
        _clf(engine).fit(X, Y[:, 0], eval_set=[(X, Y)])
    empty = Y.copy()
    empty[:, 1] = 0
    with pytest.raises(ValueError, match="label 1"):
        _clf(engine).fit(X, empty)
    clf = _clf(engine)
    with pytest.raises(ValueError):
        clf.fit(X, Y[:-1])
    assert not hasattr(clf, "classes_")  # a failed fit leaves it unfitted
    # a single-label fit after a multi-label one predicts labels again
    y = Y[:, 0]
    assert _clf(engine).fit(X, Y).fit(X, y).predict(X).shape == (len(X),)


@pytest.mark.parametrize("engine", ENGINES)
def test_onnx_export_refuses_multilabel_models(engine):
    pytest.importorskip("onnx")
    from focal_boost.onnx import to_onnx

    X, Y = make_multilabel()
    with pytest.raises(ValueError, match="multi-label"):
        to_onnx(_clf(engine).fit(X, Y))
