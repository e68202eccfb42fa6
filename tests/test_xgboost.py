"""focal_boost.xgboost: objective/metric against the core, init score stored as base_score, weights, early
stopping, parity with XGBoost's builtin objectives, portable models and the scikit-learn classifier.

XGBoost keeps margins, leaf values and base_score in float32: comparisons between two models use rtol=atol=1e-6,
about 8 float32 ulps at the margins seen here (observed differences are 1-4 ulps, from float32 accumulation order).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, softmax

xgb = pytest.importorskip("xgboost")
sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from focal_boost import FocalLoss  # noqa: E402
from focal_boost import xgboost as fxgb  # noqa: E402

from .conftest import integer_weights, make_binary, make_multiclass  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
F32 = {"rtol": 1e-6, "atol": 1e-6}
BASE = {"nthread": 1, "tree_method": "exact", "max_depth": 4, "eta": 0.3}


def _margin(booster, X, **kw):
    return booster.predict(xgb.DMatrix(X), output_margin=True, **kw)


# -- objective and metric ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_objective_and_metric_match_core_with_weights(multiclass):
    X, y = make_multiclass() if multiclass else make_binary()
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, [0.2, 0.3, 0.5] if multiclass else 0.25)
    dmat = xgb.DMatrix(X, label=y, weight=w)
    raw = np.random.default_rng(3).normal(size=(len(y), 3) if multiclass else len(y))
    grad, hess = fxgb.objective(loss)(raw, dmat)
    assert grad.shape == raw.shape and hess.shape == raw.shape
    g_ref, h_ref = loss.grad_hess(dmat.get_label(), raw)
    # float32 out (what the engine stores): the core's float64 values rounded once, then times the float32 weight,
    # which is how XGBoost's builtin objectives weight their gradients
    assert grad.dtype == np.float32 and hess.dtype == np.float32
    w32 = dmat.get_weight() if not multiclass else dmat.get_weight()[:, None]
    factor = 2 if multiclass else 1  # multi:softprob's hessian 2 p (1 - p)
    np.testing.assert_array_equal(grad, g_ref.astype(np.float32) * w32)
    np.testing.assert_array_equal(hess, h_ref.astype(np.float32) * factor * w32)
    np.testing.assert_allclose(grad, loss.grad(y, raw, w), rtol=1e-6, atol=1e-30)
    assert not np.allclose(grad, loss.grad(y, raw))  # the weights are applied (XGBoost would not)
    name, value = fxgb.metric(loss)(raw, dmat)
    assert name == "focal_loss"
    assert value == pytest.approx(loss.eval(y, raw, w), rel=1e-12)


def test_custom_objective_gets_no_engine_weighting(binary_data):
    """Checks the engine behaviour the adapter relies on: XGBoost does not weight custom gradients itself."""
    X, y = binary_data
    w = integer_weights(len(y))

    def unweighted(preds, dtrain):
        return FocalLoss(0.0).grad_hess(dtrain.get_label(), preds)

    a = xgb.train(dict(BASE, base_score=0.0), xgb.DMatrix(X, label=y, weight=w), 5, obj=unweighted)
    b = xgb.train(dict(BASE, base_score=0.0), xgb.DMatrix(X, label=y), 5, obj=unweighted)
    np.testing.assert_array_equal(_margin(a, X), _margin(b, X))


def test_objective_validates_once_and_follows_label_changes(binary_data):
    X, y = binary_data

    class CountingLoss(FocalLoss):
        calls = 0

        def prepare_target(self, *args, **kwargs):
            CountingLoss.calls += 1
            return super().prepare_target(*args, **kwargs)

    loss = CountingLoss(2.0)
    obj = fxgb.objective(loss)
    dmat = xgb.DMatrix(X, label=y)
    raw = np.zeros(len(y))
    for _ in range(5):
        obj(raw, dmat)
    assert CountingLoss.calls == 1
    dmat.set_label(1 - y)
    grad, _ = obj(raw, dmat)
    assert CountingLoss.calls == 2
    np.testing.assert_array_equal(grad, loss.grad(1 - y, raw).astype(np.float32))
    CountingLoss.calls = 0
    fxgb.train(loss, BASE, xgb.DMatrix(X, label=y), num_boost_round=30)
    assert CountingLoss.calls == 1  # once, before training; the objective finds that target again


def test_objective_and_metric_pickle(binary_data):
    X, y = binary_data
    loss = FocalLoss(1.5, 0.3, "abs")
    dmat = xgb.DMatrix(X, label=y)
    raw = np.linspace(-3, 3, len(y))
    obj, met = fxgb.objective(loss), fxgb.metric(loss)
    expected = obj(raw, dmat)
    obj2, met2 = pickle.loads(pickle.dumps((obj, met)))
    assert obj2.loss == loss and met2.loss == loss
    np.testing.assert_array_equal(obj2(raw, dmat)[0], expected[0])
    assert met2(raw, dmat) == met(raw, dmat)


# -- train: init score, weights, parity ----------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_init_score_is_stored_as_base_score(multiclass):
    X, y = make_multiclass() if multiclass else make_binary()
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, [0.5, 1.0, 2.0] if multiclass else 0.25)
    k = 3 if multiclass else None
    # min_split_loss (XGBoost's gamma) so large that no split is made: the model is its intercept alone
    booster = fxgb.train(loss, dict(BASE, min_split_loss=1e12), xgb.DMatrix(X, label=y, weight=w), 3)
    expected = np.asarray(loss.init_score(y, w, k), dtype=np.float32)  # XGBoost stores base_score in float32
    margins = _margin(booster, X[:20])
    np.testing.assert_array_equal(margins, np.broadcast_to(expected, margins.shape))
    config = json.loads(booster.save_config())["learner"]
    stored = np.atleast_1d(json.loads(config["learner_model_param"]["base_score"]))
    np.testing.assert_allclose(stored, np.atleast_1d(expected), rtol=1e-7)
    assert config["objective"]["name"] == ("multi:softprob" if multiclass else "reg:squarederror")  # identity links


def test_train_refuses_bad_setups(binary_data):
    X, y = binary_data
    loss = FocalLoss()
    dmat = xgb.DMatrix(X, label=y)
    with_margin = xgb.DMatrix(X, label=y, base_margin=np.zeros(len(y)))
    with pytest.raises(ValueError, match="dtrain has a base_margin"):
        fxgb.train(loss, BASE, with_margin, 2)
    with pytest.raises(ValueError, match=r"evals\[0\].*base_margin"):
        fxgb.train(loss, BASE, dmat, 2, evals=[(with_margin, "val")])
    with pytest.raises(ValueError, match="objective"):
        fxgb.train(loss, dict(BASE, objective="binary:logistic"), dmat, 2)
    with pytest.raises(ValueError, match="base_score"):
        fxgb.train(loss, dict(BASE, base_score=0.5), dmat, 2)
    with pytest.raises(ValueError, match="obj="):
        fxgb.train(loss, BASE, dmat, 2, obj=lambda p, d: (p, p))
    with pytest.raises(ValueError, match="num_class"):
        fxgb.train(FocalLoss(alpha=[1, 1, 1]), dict(BASE, num_class=4), dmat, 2)
    # (negative weights never reach train: xgboost.DMatrix refuses them itself; fit(sample_weight=...) is tested below)
    with pytest.raises(ValueError, match=r"evals\[0\].*y must lie in"):
        fxgb.train(loss, BASE, dmat, 2, evals=[(xgb.DMatrix(X, label=y + 5), "val")])


@pytest.mark.parametrize("multiclass", [False, True])
def test_continued_training_keeps_one_init_score(multiclass):
    """train(..., xgb_model=b5) for 5 more rounds equals 10 rounds at once: the intercept stored in b5 is kept."""
    X, y = make_multiclass() if multiclass else make_binary()
    loss = FocalLoss(2.0, None if multiclass else 0.25)
    params = dict(BASE, num_class=3) if multiclass else BASE
    ten = fxgb.train(loss, params, xgb.DMatrix(X, label=y), 10)
    five = fxgb.train(loss, params, xgb.DMatrix(X, label=y), 5)
    more = fxgb.train(loss, params, xgb.DMatrix(X, label=y), 5, xgb_model=five)
    assert more.num_boosted_rounds() == 10
    np.testing.assert_allclose(_margin(more, X), _margin(ten, X), **F32)


@pytest.mark.parametrize("tree_method", ["exact", "hist"])
@pytest.mark.parametrize("multiclass", [False, True])
def test_integer_weights_equal_repeated_rows(multiclass, tree_method):
    """DMatrix weights in {1, 2, 3} train the same model as repeating rows (XGBoost's constraints are hessian-based;
    hist bins every distinct rounded value on its own). Differences are float32 accumulation order only."""
    X, y = make_multiclass() if multiclass else make_binary()
    w = integer_weights(len(y))
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    loss = FocalLoss(2.0, [0.2, 0.3, 0.5] if multiclass else 0.25)
    params = dict(BASE, tree_method=tree_method)
    weighted = fxgb.train(loss, params, xgb.DMatrix(X, label=y, weight=w), 20)
    repeated = fxgb.train(loss, params, xgb.DMatrix(X[rows], label=y[rows]), 20)
    unweighted = fxgb.train(loss, params, xgb.DMatrix(X, label=y), 20)
    np.testing.assert_allclose(_margin(weighted, X), _margin(repeated, X), **F32)
    assert np.max(np.abs(_margin(weighted, X) - _margin(unweighted, X))) > 1e-2


@pytest.mark.parametrize("weighted", [False, True])
def test_gamma0_binary_reproduces_builtin_logistic(binary_data, weighted):
    """gamma=0, alpha=None is logloss: binary:logistic from the same start (its base_score is a probability)."""
    X, y = binary_data
    w = integer_weights(len(y)) if weighted else None
    focal = fxgb.train(FocalLoss(0.0), BASE, xgb.DMatrix(X, label=y, weight=w), 20)
    start = FocalLoss(0.0).init_score(y, w)
    builtin = xgb.train(dict(BASE, objective="binary:logistic", base_score=float(expit(start))),
                        xgb.DMatrix(X, label=y, weight=w), 20)
    np.testing.assert_allclose(_margin(focal, X), _margin(builtin, X), **F32)
    np.testing.assert_allclose(expit(_margin(focal, X)), builtin.predict(xgb.DMatrix(X)), rtol=0, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_gamma0_multiclass_reproduces_builtin_softprob(multiclass_data, weighted):
    """XGBoost's multi:softprob uses the hessian 2 p(1-p) and the focal objective scales its diagonal by the same
    factor, so gamma=0 reproduces the builtin at the same eta, reg_lambda and min_child_weight (same log-prior start,
    given to both as a margin-space base_score) up to float32 rounding."""
    X, y = multiclass_data
    k = 3
    w = integer_weights(len(y)) if weighted else None
    start = [float(v) for v in FocalLoss(0.0).init_score(y, w, k)]
    params = dict(BASE, num_class=k, reg_lambda=1.0, min_child_weight=1.0)
    focal = fxgb.train(FocalLoss(0.0), params, xgb.DMatrix(X, label=y, weight=w), 20)
    builtin = xgb.train(dict(params, objective="multi:softprob", base_score=start), xgb.DMatrix(X, label=y, weight=w),
                        20)
    assert _margin(focal, X).shape == (len(y), k)
    np.testing.assert_allclose(_margin(focal, X), _margin(builtin, X), **F32)
    np.testing.assert_allclose(softmax(_margin(focal, X), axis=1), builtin.predict(xgb.DMatrix(X)), rtol=0,
                               atol=1e-6)


# -- early stopping and the metric -----------------------------------------------------------------------------------
def _overfitting_split():
    X, y = make_binary(n_samples=900, positive_rate=0.3, noise=2.5, seed=5)
    return (X[:600], y[:600]), (X[600:], y[600:])


def test_native_early_stopping_on_focal_metric():
    (X, y), (Xv, yv) = _overfitting_split()
    loss = FocalLoss(2.0, 0.4)
    history: dict = {}
    booster = fxgb.train(loss, dict(BASE, max_depth=6, min_child_weight=0.1), xgb.DMatrix(X, label=y), 200,
                         evals=[(xgb.DMatrix(X, label=y), "train"), (xgb.DMatrix(Xv, label=yv), "val")],
                         early_stopping_rounds=5, evals_result=history, verbose_eval=False)
    curve = np.asarray(history["val"]["focal_loss"])
    assert len(curve) < 200
    assert booster.best_iteration == int(np.argmin(curve))
    assert len(curve) == booster.best_iteration + 1 + 5
    # the metric is the focal loss of the full margin (base_score included); XGBoost logs it with 6 decimals
    for it in (0, booster.best_iteration):
        raw = _margin(booster, Xv, iteration_range=(0, it + 1))
        assert curve[it] == pytest.approx(loss.eval(yv, raw), abs=1e-6)


def test_validation_metric_multiclass_with_weights():
    X, y = make_multiclass(n_samples=800, seed=2)
    w = integer_weights(len(y))
    loss = FocalLoss(1.0, [1.0, 2.0, 3.0])
    history: dict = {}
    dtrain = xgb.DMatrix(X[:500], label=y[:500], weight=w[:500])
    dval = xgb.DMatrix(X[500:], label=y[500:], weight=w[500:])
    booster = fxgb.train(loss, BASE, dtrain, 8, evals=[(dtrain, "train"), (dval, "val")], evals_result=history,
                         verbose_eval=False)
    for name, sl in (("train", slice(None, 500)), ("val", slice(500, None))):
        assert history[name]["focal_loss"][-1] == pytest.approx(loss.eval(y[sl], _margin(booster, X[sl]), w[sl]),
                                                                abs=1e-6)


# -- portable models -------------------------------------------------------------------------------------------------
def test_saved_models_predict_the_same_margins_without_focal_boost(tmp_path, run_plain_python):
    (X, y), (Xv, yv) = _overfitting_split()
    Xm, ym = make_multiclass(seed=4)
    binary = fxgb.train(FocalLoss(2.0, 0.25), dict(BASE, max_depth=6), xgb.DMatrix(X, label=y), 100,
                        evals=[(xgb.DMatrix(Xv, label=yv), "val")], early_stopping_rounds=5, verbose_eval=False)
    assert 0 < binary.best_iteration < 99
    multi = fxgb.train(FocalLoss(2.0), dict(BASE, num_class=3), xgb.DMatrix(Xm, label=ym), 15)
    binary.save_model(tmp_path / "binary.json")
    multi.save_model(tmp_path / "multi.ubj")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Xm.npy", Xm)
    run_plain_python(f"""
        import numpy as np, xgboost
        d = {str(tmp_path)!r}
        b = xgboost.Booster(model_file=d + "/binary.json")
        m = xgboost.Booster(model_file=d + "/multi.ubj")
        X = xgboost.DMatrix(np.load(d + "/X.npy"))
        np.save(d + "/raw_b.npy", b.predict(X, output_margin=True, iteration_range=(0, b.best_iteration + 1)))
        np.save(d + "/raw_b_all.npy", b.predict(X, output_margin=True))
        np.save(d + "/raw_m.npy", m.predict(xgboost.DMatrix(np.load(d + "/Xm.npy")), output_margin=True))
    """)
    best = (0, binary.best_iteration + 1)
    np.testing.assert_allclose(np.load(tmp_path / "raw_b.npy"), _margin(binary, X, iteration_range=best), rtol=0,
                               atol=1e-9)
    np.testing.assert_allclose(np.load(tmp_path / "raw_b_all.npy"), _margin(binary, X), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.load(tmp_path / "raw_m.npy"), _margin(multi, Xm), rtol=0, atol=1e-9)


# -- scikit-learn classifier -----------------------------------------------------------------------------------------
CLF = {"n_estimators": 20, "max_depth": 4, "learning_rate": 0.3, "n_jobs": 1, "tree_method": "hist"}


def test_classifier_string_labels_probabilities_and_native_equivalence(multiclass_data):
    X, y_int = multiclass_data
    names = np.array(["cat", "dog", "eel"])
    y = names[y_int]
    clf = fxgb.FocalXGBClassifier(gamma=2.0, alpha=[1.0, 2.0, 4.0], **CLF).fit(X, y)
    assert list(clf.classes_) == ["cat", "dog", "eel"] and clf.n_features_in_ == 5
    raw = clf.decision_function(X)
    assert raw.shape == (len(y), 3)
    native = fxgb.train(FocalLoss(2.0, [1.0, 2.0, 4.0]),
                        {"max_depth": 4, "learning_rate": 0.3, "nthread": 1, "tree_method": "hist", "num_class": 3},
                        xgb.DMatrix(X, label=y_int), 20)
    np.testing.assert_array_equal(raw, _margin(native, X))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, clf.loss_.predict_proba(raw, calibrate=True), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), names[np.argmax(proba, axis=1)])
    clf.set_params(calibrate=False)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(raw, axis=1), rtol=1e-12)


def test_classifier_binary_calibrate_switch_and_sample_weight(binary_data):
    X, y01 = binary_data
    y = np.where(y01 == 1, "pos", "neg")
    w = integer_weights(len(y))
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    weighted = fxgb.FocalXGBClassifier(gamma=2.0, alpha=0.3, **CLF).fit(X, y, sample_weight=w)
    repeated = fxgb.FocalXGBClassifier(gamma=2.0, alpha=0.3, **CLF).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.decision_function(X), repeated.decision_function(X), **F32)
    raw = weighted.decision_function(X)
    assert raw.shape == (len(y),)
    assert weighted.init_score_ == pytest.approx(FocalLoss(2.0, 0.3).init_score(y01, w))
    uncalibrated = clone(weighted).set_params(calibrate=False).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(uncalibrated.predict_proba(X)[:, 1], expit(raw), rtol=1e-12)
    assert not np.allclose(weighted.predict_proba(X)[:, 1], expit(raw), atol=1e-3)


def test_classifier_early_stopping_on_last_eval_set():
    (X, y), (Xv, yv) = _overfitting_split()
    clf = fxgb.FocalXGBClassifier(gamma=2.0, n_estimators=300, learning_rate=0.3, max_depth=6, min_child_weight=0.1,
                                  early_stopping_rounds=5, n_jobs=1, tree_method="hist")
    clf.fit(X, y, eval_set=[(X, y), (Xv, yv)])
    curve = np.asarray(clf.evals_result_["validation_1"]["focal_loss"])
    train_curve = np.asarray(clf.evals_result_["validation_0"]["focal_loss"])
    assert len(curve) < 300
    assert np.all(np.diff(train_curve) <= 0)
    assert clf.best_iteration_ == int(np.argmin(curve))
    assert clf.loss_.eval(yv, clf.decision_function(Xv)) == pytest.approx(curve.min(), abs=1e-6)
    # swapped: the holdout (which stalls) comes first and the training data last, so training must not stop
    clf.set_params(n_estimators=60).fit(X, y, eval_set=[(Xv, yv), (X, y)])
    assert len(clf.evals_result_["validation_0"]["focal_loss"]) == 60 and clf.best_iteration_ == 59
    with pytest.raises(ValueError, match="needs an eval_set"):
        clone(clf).fit(X, y)


def test_classifier_params_clone_pickle_pipeline_gridsearch(binary_data):
    X, y = binary_data
    clf = fxgb.FocalXGBClassifier(gamma=1.0, alpha=0.3, hessian="abs", calibrate=False, n_estimators=10, n_jobs=1)
    params = clf.get_params()
    assert params["gamma"] == 1.0 and params["alpha"] == 0.3 and params["hessian"] == "abs"
    assert params["n_estimators"] == 10 and params["calibrate"] is False
    twin = clone(clf)
    assert twin.get_params() == params
    twin.set_params(gamma=3.0, alpha=None, hessian="exact", max_depth=2)
    assert (twin.gamma, twin.alpha, twin.hessian, twin.get_params()["max_depth"]) == (3.0, None, "exact", 2)
    assert clf.get_params() == params

    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.decision_function(X), clf.decision_function(X))

    pipe = make_pipeline(StandardScaler(), fxgb.FocalXGBClassifier(n_estimators=10, n_jobs=1))
    search = GridSearchCV(pipe, {"focalxgbclassifier__gamma": [0.0, 2.0],
                                 "focalxgbclassifier__alpha": [None, 0.25]}, cv=2, scoring="neg_log_loss")
    search.fit(X, y)
    assert search.best_params_["focalxgbclassifier__gamma"] in (0.0, 2.0)
    assert search.predict_proba(X).shape == (len(y), 2)


def test_classifier_bad_input(binary_data, multiclass_data):
    X, y = binary_data
    Xm, ym = multiclass_data
    Clf = fxgb.FocalXGBClassifier
    with pytest.raises(ValueError, match="at least 2 classes"):
        Clf(n_estimators=2).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="one weight per class"):
        Clf(alpha=[1.0, 2.0], n_estimators=2).fit(Xm, ym)
    with pytest.raises(ValueError, match="binary weight"):
        Clf(alpha=0.25, n_estimators=2).fit(Xm, ym)
    with pytest.raises(ValueError, match="not seen in y"):
        Clf(n_estimators=2).fit(X, y, eval_set=[(X, y + 7)])
    with pytest.raises(ValueError, match="sample_weight"):
        Clf(n_estimators=2).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="objective"):
        Clf(objective="binary:logistic", n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="same number of samples"):
        Clf(n_estimators=2).fit(X[:-1], y)
    fitted = Clf(n_estimators=2, n_jobs=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])
    assert set(fitted.predict(np.round(np.random.default_rng(9).normal(size=(50, 5)), 1))) <= {0, 1}


# -- example ---------------------------------------------------------------------------------------------------------
def test_example_runs():
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "xgboost_binary.py")], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert time.perf_counter() - start < 60
    for word in ("PR-AUC", "ROC-AUC", "log loss", "focal", "logloss"):
        assert word in proc.stdout


@pytest.mark.parametrize("compiled", [False, True])
def test_multiclass_gradients_over_the_margins_train_the_same_model(monkeypatch, multiclass_data, compiled):
    """train() lets the multiclass objective write its gradients over XGBoost's per-round copy of the margins
    (one n x K array less per round): the same model, byte for byte, as with fresh arrays."""
    from focal_boost import _kernels

    if compiled and not _kernels.AVAILABLE:
        pytest.skip("numba missing")
    monkeypatch.setattr(_kernels.SWITCH, "enabled", compiled)
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)
    X, y = multiclass_data
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    loss = FocalLoss(2.0, (1.0, 2.0, 0.5))
    params = dict(BASE, num_class=3)
    reused = fxgb.train(loss, params, xgb.DMatrix(X, label=y, weight=w), 12)
    monkeypatch.setattr(fxgb.FocalXGBObjective, "overwrite_preds", False)
    fresh = fxgb.train(loss, params, xgb.DMatrix(X, label=y, weight=w), 12)
    assert bytes(reused.save_raw()) == bytes(fresh.save_raw())
    # the objective really writes over the margins it is given when told to, and only then
    objective = fxgb.objective(loss, 3)
    dtrain = xgb.DMatrix(X, label=y, weight=w)
    margins = np.random.default_rng(3).normal(size=(len(y), 3)).astype(np.float32)
    expected = objective(margins.copy(), dtrain)
    objective.overwrite_preds = True
    given = margins.copy()
    grad, hess = objective(given, dtrain)
    assert np.shares_memory(grad, given)
    np.testing.assert_array_equal(grad, expected[0])
    np.testing.assert_array_equal(hess, expected[1])
    assert not pickle.loads(pickle.dumps(objective)).overwrite_preds


# -- the gamma=0 identity at the defaults ----------------------------------------------------------------------------
def _continuous(multiclass):
    """Features without ties (the conftest data are rounded to 0.1), labels as in the conftest generators."""
    X, y = make_multiclass(n_samples=500) if multiclass else make_binary(n_samples=500)
    return X + np.random.default_rng(1).normal(scale=1e-3, size=X.shape), y


@pytest.mark.parametrize("multiclass", [False, True])
def test_classifier_gamma0_is_xgbclassifier_at_its_defaults(multiclass):
    """FocalXGBClassifier(gamma=0) and XGBClassifier(), both at their defaults, train the same model.

    The starts agree: XGBClassifier estimates its intercept (xgboost 3.2) as the mean label (binary, stored as a
    probability) or, multiclass, as the class log priors centred to sum 0 up to ~1e-5 (its own estimate), and
    focal's init score at gamma=0 is the log-odds or the exact log priors, the same softmax.
    """
    X, y = _continuous(multiclass)
    engine = xgb.XGBClassifier(n_jobs=1).fit(X, y)
    focal = fxgb.FocalXGBClassifier(gamma=0, calibrate=False, n_jobs=1).fit(X, y)
    np.testing.assert_allclose(focal.predict_proba(X), engine.predict_proba(X), rtol=0, atol=1e-6)
    base_score = json.loads(engine.get_booster().save_config())["learner"]["learner_model_param"]["base_score"]
    intercept = np.array(json.loads(base_score) if base_score.startswith("[") else [float(base_score)], dtype=float)
    if multiclass:
        centred = focal.init_score_ - focal.init_score_.mean()
        np.testing.assert_allclose(intercept, centred, rtol=0, atol=1e-4)
    else:
        assert np.log(intercept[0] / (1 - intercept[0])) == pytest.approx(focal.init_score_, abs=1e-6)
    # the test can fail: a focal model at gamma=2 is another model
    other = fxgb.FocalXGBClassifier(gamma=2, calibrate=False, n_jobs=1).fit(X, y)
    assert np.abs(other.predict_proba(X) - engine.predict_proba(X)).max() > 1e-3


def test_classifier_gamma0_multiclass_differs_from_xgbclassifier_only_by_its_intercept_estimate():
    """On features with many ties the ~1e-5 between XGBoost's multiclass intercept estimate and the exact log priors
    can decide a split (measured here: 0.03 in probability after 100 rounds); handed the exact start,
    XGBClassifier trains the focal model."""
    X, y = make_multiclass(n_samples=500)
    focal = fxgb.FocalXGBClassifier(gamma=0, calibrate=False, n_jobs=1).fit(X, y)
    engine = xgb.XGBClassifier(n_jobs=1, base_score=[float(v) for v in focal.init_score_]).fit(X, y)
    np.testing.assert_allclose(focal.predict_proba(X), engine.predict_proba(X), rtol=0, atol=1e-6)
