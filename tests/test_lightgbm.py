"""focal_boost.lightgbm: objective/metric against the core, init score baked into the model, weights, early
stopping, parity with LightGBM's builtin objectives, portable models and the scikit-learn classifier."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, softmax

lgb = pytest.importorskip("lightgbm")
sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from focal_boost import FocalLoss  # noqa: E402
from focal_boost import lightgbm as flgb  # noqa: E402

from .conftest import integer_weights, make_binary, make_multiclass  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Deterministic single-threaded LightGBM. min_data_in_bin=1 gives every distinct (rounded) feature value its own bin
# whatever the row counts.
BASE = {"verbosity": -1, "num_threads": 1, "deterministic": True, "force_col_wise": True, "min_data_in_bin": 1,
        "num_leaves": 15, "learning_rate": 0.2}

# For comparisons between two models. LightGBM checks min_data_in_leaf against leaf counts ESTIMATED from hessian
# sums (count ~ hessian * n / H), which shift with weights and with rescaled or float32-rounded hessians, so a
# borderline leaf can be accepted by one model and refused by the other. Comparisons therefore switch the count
# check off (min_data_in_leaf=1; 0 trips an internal LightGBM check) and bound leaves by hessian mass instead.
PARITY = {"min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 1.0}


def _raw(booster, X, **kw):
    return np.asarray(booster.predict(X, raw_score=True, **kw))


# -- objective and metric ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_objective_and_metric_match_core_with_weights(multiclass):
    X, y = make_multiclass() if multiclass else make_binary()
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, [0.2, 0.3, 0.5] if multiclass else 0.25)
    ds = lgb.Dataset(X, label=y, weight=w, params={"verbosity": -1}).construct()
    rng = np.random.default_rng(3)
    raw = rng.normal(size=(len(y), 3) if multiclass else len(y))
    grad, hess = flgb.objective(loss)(raw, ds)
    # LightGBM stores labels/weights as float32: compare with the core on the same values.
    g_ref, h_ref = loss.grad_hess(ds.get_label(), raw, ds.get_weight())
    assert grad.shape == raw.shape and hess.shape == raw.shape
    # float32 out (what the engine stores): the core's float64 values rounded once; a multiclass hessian times
    # K/(K-1) before that rounding, as LightGBM's builtin multiclass objective
    assert grad.dtype == np.float32 and hess.dtype == np.float32
    np.testing.assert_array_equal(grad, g_ref.astype(np.float32))
    np.testing.assert_array_equal(hess, (h_ref * (1.5 if multiclass else 1.0)).astype(np.float32))
    # the weights really are applied (LightGBM would not apply them to a custom objective)
    g_unw = loss.grad(ds.get_label(), raw)
    assert not np.allclose(grad, g_unw)
    name, value, higher_better = flgb.metric(loss)(raw, ds)
    assert (name, higher_better) == ("focal_loss", False)
    assert value == pytest.approx(loss.eval(y, raw, w), rel=1e-12)


def test_custom_objective_gets_no_engine_weighting_or_start(binary_data):
    """The engine behaviours the adapter works around (LightGBM 4.7): a custom objective's gradients are not
    weighted by the Dataset weights, and boosting starts from raw score 0, not from the data's average."""
    X, y = binary_data
    w = integer_weights(len(y))
    seen = []

    def unweighted(preds, train_data):
        seen.append(preds.copy())
        return FocalLoss(0.0).grad_hess(train_data.get_label(), preds)

    a = lgb.train(dict(BASE, objective=unweighted), lgb.Dataset(X, label=y, weight=w), num_boost_round=5)
    b = lgb.train(dict(BASE, objective=unweighted), lgb.Dataset(X, label=y), num_boost_round=5)
    np.testing.assert_array_equal(_raw(a, X), _raw(b, X))
    np.testing.assert_array_equal(seen[0], 0.0)


def test_objective_validates_once_and_follows_label_changes(binary_data):
    X, y = binary_data

    class CountingLoss(FocalLoss):
        calls = 0

        def prepare_target(self, *args, **kwargs):
            CountingLoss.calls += 1
            return super().prepare_target(*args, **kwargs)

    loss = CountingLoss(2.0)
    obj = flgb.objective(loss)
    ds = lgb.Dataset(X, label=y, params={"verbosity": -1}).construct()
    raw = np.zeros(len(y))
    for _ in range(5):
        obj(raw, ds)
    assert CountingLoss.calls == 1
    ds.set_label(1 - y)
    grad, _ = obj(raw, ds)
    assert CountingLoss.calls == 2
    np.testing.assert_array_equal(grad, loss.grad(1 - y, raw).astype(np.float32))
    # a whole training run validates the training labels a bounded number of times, not once per round
    CountingLoss.calls = 0
    flgb.train(loss, BASE, lgb.Dataset(X, label=y), num_boost_round=30)
    assert CountingLoss.calls == 1  # once, before training; the objective finds that target again


def test_objective_and_metric_pickle(binary_data):
    X, y = binary_data
    loss = FocalLoss(1.5, 0.3, "abs")
    ds = lgb.Dataset(X, label=y, params={"verbosity": -1}).construct()
    raw = np.linspace(-3, 3, len(y))
    obj, met = flgb.objective(loss), flgb.metric(loss)
    expected = obj(raw, ds)
    obj2, met2 = pickle.loads(pickle.dumps((obj, met)))
    assert obj2.loss == loss and met2.loss == loss
    np.testing.assert_array_equal(obj2(raw, ds)[0], expected[0])
    assert met2(raw, ds) == met(raw, ds)


def test_objective_rejects_bad_labels():
    X, _ = make_binary()
    ds = lgb.Dataset(X, label=np.full(len(X), 2.0), params={"verbosity": -1}).construct()
    with pytest.raises(ValueError, match="y must lie in"):
        flgb.objective(FocalLoss())(np.zeros(len(X)), ds)


# -- train: init score, weights, parity ----------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_init_score_is_baked_into_the_model(multiclass):
    X, y = make_multiclass() if multiclass else make_binary()
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, [0.5, 1.0, 2.0] if multiclass else 0.25)
    k = 3 if multiclass else None
    params = dict(BASE, min_gain_to_split=1e12)  # no split is worth it: the model is the init score alone
    train_set = lgb.Dataset(X, label=y, weight=w)
    booster = flgb.train(loss, params, train_set, num_boost_round=3)
    raw = _raw(booster, X[:20])
    expected = loss.init_score(y, w, k)
    np.testing.assert_allclose(raw, np.broadcast_to(expected, raw.shape), rtol=0, atol=1e-12)
    # the Dataset is left as it was given: no init_score after training
    assert train_set.get_init_score() is None
    booster2 = flgb.train(loss, params, train_set, num_boost_round=3)  # so it can be reused
    np.testing.assert_array_equal(_raw(booster2, X[:20]), raw)


def test_train_refuses_datasets_with_init_score_and_objectives(binary_data):
    X, y = binary_data
    loss = FocalLoss()
    with pytest.raises(ValueError, match="already has an init_score"):
        flgb.train(loss, BASE, lgb.Dataset(X, label=y, init_score=np.zeros(len(y))), num_boost_round=2)
    valid = lgb.Dataset(X, label=y, init_score=np.zeros(len(y)))
    with pytest.raises(ValueError, match=r"valid_sets\[0\] already has an init_score"):
        flgb.train(loss, BASE, lgb.Dataset(X, label=y), num_boost_round=2, valid_sets=[valid])
    with pytest.raises(ValueError, match="objective"):
        flgb.train(loss, dict(BASE, application="binary"), lgb.Dataset(X, label=y), num_boost_round=2)
    with pytest.raises(ValueError, match="num_class"):
        flgb.train(FocalLoss(alpha=[1, 1, 1]), dict(BASE, num_class=4), lgb.Dataset(X, label=y), num_boost_round=2)
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        flgb.train(loss, BASE, lgb.Dataset(X, label=y, weight=-np.ones(len(y))), num_boost_round=2)
    with pytest.raises(ValueError, match=r"valid_sets\[0\].*y must lie in"):
        flgb.train(loss, BASE, lgb.Dataset(X, label=y), num_boost_round=2,
                   valid_sets=[lgb.Dataset(X, label=y + 5)])


@pytest.mark.parametrize("multiclass", [False, True])
def test_continued_training_keeps_one_init_score(multiclass):
    """train(..., init_model=b5) for 5 more rounds equals 10 rounds at once: the init score baked into b5 is the
    starting point (LightGBM sets the Dataset's init_score from the init model) and is not added a second time."""
    X, y = make_multiclass() if multiclass else make_binary()
    loss = FocalLoss(2.0, None if multiclass else 0.25)
    params = dict(BASE, num_class=3) if multiclass else BASE
    ten = flgb.train(loss, params, lgb.Dataset(X, label=y), num_boost_round=10)
    five = flgb.train(loss, params, lgb.Dataset(X, label=y), num_boost_round=5)
    more = flgb.train(loss, params, lgb.Dataset(X, label=y), num_boost_round=5, init_model=five)
    assert more.current_iteration() == 10
    np.testing.assert_allclose(_raw(more, X), _raw(ten, X), rtol=0, atol=1e-9)


@pytest.mark.parametrize("multiclass", [False, True])
def test_integer_weights_equal_repeated_rows(multiclass):
    """Dataset weights in {1, 2, 3} train the same model as repeating each row that many times.

    LightGBM estimates leaf counts from hessian sums for its count-based checks (min_data_in_leaf), so tiny
    leaves can be accepted with repeated rows and refused with weights; min_sum_hessian_in_leaf=3 (a weight-
    invariant constraint) keeps every leaf far from those checks. What remains is float32 rounding of the
    gradients LightGBM stores (w * g rounded once vs g rounded and summed w times): ~1e-8 on the raw scores,
    hence the 1e-6 tolerance.
    """
    X, y = make_multiclass() if multiclass else make_binary()
    w = integer_weights(len(y))
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    loss = FocalLoss(2.0, [0.2, 0.3, 0.5] if multiclass else 0.25)
    params = dict(BASE, **PARITY)
    params["min_sum_hessian_in_leaf"] = 3.0
    weighted = flgb.train(loss, params, lgb.Dataset(X, label=y, weight=w), num_boost_round=20)
    repeated = flgb.train(loss, params, lgb.Dataset(X[rows], label=y[rows]), num_boost_round=20)
    unweighted = flgb.train(loss, params, lgb.Dataset(X, label=y), num_boost_round=20)
    np.testing.assert_allclose(_raw(weighted, X), _raw(repeated, X), rtol=0, atol=1e-6)
    assert np.max(np.abs(_raw(weighted, X) - _raw(unweighted, X))) > 1e-2  # weights are not ignored


@pytest.mark.parametrize("weighted", [False, True])
def test_gamma0_binary_reproduces_builtin_logloss(binary_data, weighted):
    """gamma=0, alpha=None is logloss: same trees as LightGBM's builtin 'binary' (same boost-from-average start)."""
    X, y = binary_data
    w = integer_weights(len(y)) if weighted else None
    params = dict(BASE, **PARITY)
    focal = flgb.train(FocalLoss(0.0), params, lgb.Dataset(X, label=y, weight=w), num_boost_round=30)
    builtin = lgb.train(dict(params, objective="binary"), lgb.Dataset(X, label=y, weight=w), num_boost_round=30)
    np.testing.assert_allclose(_raw(focal, X), _raw(builtin, X), rtol=0, atol=1e-6)
    np.testing.assert_allclose(expit(_raw(focal, X)), builtin.predict(X), rtol=0, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_gamma0_multiclass_reproduces_builtin_softmax(multiclass_data, weighted):
    """LightGBM's builtin 'multiclass' uses the hessian K/(K-1) p(1-p) and the focal objective scales its diagonal by
    the same factor before rounding to float32, so gamma=0 reproduces the builtin at the same learning rate and
    min_sum_hessian_in_leaf; the builtin starts from 0 and focal from the log priors, which softmax does not see."""
    X, y = multiclass_data
    k = 3
    w = integer_weights(len(y)) if weighted else None
    params = dict(BASE, **PARITY)
    params.update(num_class=k)
    focal = flgb.train(FocalLoss(0.0), params, lgb.Dataset(X, label=y, weight=w), num_boost_round=30)
    builtin = lgb.train(dict(params, objective="multiclass"), lgb.Dataset(X, label=y, weight=w), num_boost_round=30)
    assert _raw(focal, X).shape == (len(y), k)
    np.testing.assert_allclose(softmax(_raw(focal, X), axis=1), softmax(_raw(builtin, X), axis=1), rtol=0, atol=1e-6)


# -- early stopping and the metric -----------------------------------------------------------------------------------
def _overfitting_split():
    X, y = make_binary(n_samples=900, positive_rate=0.3, noise=2.5, seed=5)
    return (X[:600], y[:600]), (X[600:], y[600:])


@pytest.mark.parametrize("how", ["callback", "param"])
def test_native_early_stopping_on_focal_metric(how):
    (X, y), (Xv, yv) = _overfitting_split()
    loss = FocalLoss(2.0, 0.4)
    params = dict(BASE, learning_rate=0.3, num_leaves=31, min_data_in_leaf=3)
    history: dict = {}
    callbacks = [lgb.record_evaluation(history)]
    if how == "callback":
        callbacks.append(lgb.early_stopping(5, verbose=False))
    else:
        params["early_stopping_round"] = 5
    train_set = lgb.Dataset(X, label=y)
    booster = flgb.train(loss, params, train_set, num_boost_round=200,
                         valid_sets=[lgb.Dataset(Xv, label=yv, reference=train_set)], valid_names=["val"],
                         callbacks=callbacks)
    curve = np.asarray(history["val"]["focal_loss"])
    assert len(curve) < 200  # it stopped early
    assert booster.best_iteration == int(np.argmin(curve)) + 1
    assert len(curve) == booster.best_iteration + 5
    # the recorded metric is the focal loss of the model's full raw score (init score included), at every iteration
    for it in (1, booster.best_iteration):
        raw = _raw(booster, Xv, num_iteration=it)
        assert curve[it - 1] == pytest.approx(loss.eval(yv, raw), rel=1e-9)


def test_validation_metric_uses_init_score_multiclass():
    X, y = make_multiclass(n_samples=800, seed=2)
    loss = FocalLoss(1.0, [1.0, 2.0, 3.0])
    w = integer_weights(len(y))
    history: dict = {}
    train_set = lgb.Dataset(X[:500], label=y[:500], weight=w[:500])
    valid = lgb.Dataset(X[500:], label=y[500:], weight=w[500:], reference=train_set)
    booster = flgb.train(loss, BASE, train_set, num_boost_round=8, valid_sets=[train_set, valid],
                         valid_names=["train", "val"], callbacks=[lgb.record_evaluation(history)])
    for name, sl in (("train", slice(None, 500)), ("val", slice(500, None))):
        raw = _raw(booster, X[sl])
        assert history[name]["focal_loss"][-1] == pytest.approx(loss.eval(y[sl], raw, w[sl]), rel=1e-9)


# -- portable models -------------------------------------------------------------------------------------------------
def test_saved_models_predict_the_same_raw_scores_without_focal_boost(tmp_path, run_plain_python):
    (X, y), (Xv, yv) = _overfitting_split()
    Xm, ym = make_multiclass(seed=4)
    binary = flgb.train(FocalLoss(2.0, 0.25), dict(BASE, learning_rate=0.3), lgb.Dataset(X, label=y),
                        num_boost_round=100, valid_sets=[lgb.Dataset(Xv, label=yv)],
                        callbacks=[lgb.early_stopping(5, verbose=False)])
    assert 0 < binary.best_iteration < 100
    multi = flgb.train(FocalLoss(2.0), dict(BASE, num_class=3), lgb.Dataset(Xm, label=ym), num_boost_round=15)
    binary.save_model(tmp_path / "binary.txt")
    multi.save_model(tmp_path / "multi.txt")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Xm.npy", Xm)
    run_plain_python(f"""
        import numpy as np, lightgbm
        d = {str(tmp_path)!r}
        b = lightgbm.Booster(model_file=d + "/binary.txt")
        m = lightgbm.Booster(model_file=d + "/multi.txt")
        np.save(d + "/raw_b.npy", b.predict(np.load(d + "/X.npy"), raw_score=True))
        np.save(d + "/raw_m.npy", m.predict(np.load(d + "/Xm.npy"), raw_score=True))
    """)
    # save_model keeps the best iteration; the reloaded model must equal the in-process one there
    np.testing.assert_allclose(np.load(tmp_path / "raw_b.npy"),
                               _raw(binary, X, num_iteration=binary.best_iteration), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.load(tmp_path / "raw_m.npy"), _raw(multi, Xm), rtol=0, atol=1e-9)


# -- scikit-learn classifier -----------------------------------------------------------------------------------------
CLF = {"n_estimators": 20, "num_leaves": 15, "n_jobs": 1, "deterministic": True, "force_col_wise": True,
       "min_data_in_bin": 1, "learning_rate": 0.2}


def test_classifier_string_labels_probabilities_and_native_equivalence(multiclass_data):
    X, y_int = multiclass_data
    names = np.array(["cat", "dog", "eel"])
    y = names[y_int]
    clf = flgb.FocalLGBMClassifier(gamma=2.0, alpha=[1.0, 2.0, 4.0], **CLF).fit(X, y)
    assert list(clf.classes_) == ["cat", "dog", "eel"] and clf.n_features_in_ == 5
    raw = clf.decision_function(X)
    assert raw.shape == (len(y), 3)
    # the classifier is the native train helper with the same settings
    params = {k: v for k, v in CLF.items() if k not in ("n_estimators", "n_jobs")}
    native = flgb.train(FocalLoss(2.0, [1.0, 2.0, 4.0]), dict(params, num_threads=1, verbosity=-1, num_class=3),
                        lgb.Dataset(X, label=y_int), num_boost_round=20)
    np.testing.assert_allclose(raw, _raw(native, X), rtol=0, atol=1e-12)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, clf.loss_.predict_proba(raw, calibrate=True), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert set(clf.predict(X)) <= set(names)
    np.testing.assert_array_equal(clf.predict(X), names[np.argmax(proba, axis=1)])
    clf.set_params(calibrate=False)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(raw, axis=1), rtol=1e-12)


def test_classifier_binary_calibrate_switch_and_sample_weight(binary_data):
    X, y01 = binary_data
    y = np.where(y01 == 1, "pos", "neg")
    w = integer_weights(len(y))
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    # LightGBM's count checks use hessian-sum estimates (see test_integer_weights_equal_repeated_rows): with these
    # deeper trees, rows whose |f''| is near zero ("abs"/"exact" near the curvature sign change) make weighted and
    # repeated data accept different splits; "bound" keeps every hessian away from zero, so the comparison is exact.
    params = dict(CLF, min_data_in_leaf=1, min_sum_hessian_in_leaf=3.0, hessian="bound")
    weighted = flgb.FocalLGBMClassifier(gamma=2.0, alpha=0.3, **params).fit(X, y, sample_weight=w)
    repeated = flgb.FocalLGBMClassifier(gamma=2.0, alpha=0.3, **params).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.decision_function(X), repeated.decision_function(X), rtol=0, atol=1e-6)
    raw = weighted.decision_function(X)
    assert raw.shape == (len(y),)
    assert weighted.init_score_ == pytest.approx(FocalLoss(2.0, 0.3).init_score(y01, w))
    uncalibrated = clone(weighted).set_params(calibrate=False).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(uncalibrated.predict_proba(X)[:, 1], expit(raw), rtol=1e-12)
    assert not np.allclose(weighted.predict_proba(X)[:, 1], expit(raw), atol=1e-3)  # calibration does something


def test_classifier_early_stopping_on_last_eval_set():
    (X, y), (Xv, yv) = _overfitting_split()
    clf = flgb.FocalLGBMClassifier(gamma=2.0, n_estimators=300, learning_rate=0.3, num_leaves=31,
                                   min_child_samples=3, early_stopping_rounds=5, n_jobs=1)
    # the first eval set is the training data, whose loss keeps falling: only the LAST set may stop training
    clf.fit(X, y, eval_set=[(X, y), (Xv, yv)])
    curve = np.asarray(clf.evals_result_["valid_1"]["focal_loss"])
    train_curve = np.asarray(clf.evals_result_["valid_0"]["focal_loss"])
    assert len(curve) < 300
    assert np.all(np.diff(train_curve) < 0)
    assert clf.best_iteration_ == int(np.argmin(curve))
    assert clf.loss_.eval(yv, clf.decision_function(Xv)) == pytest.approx(curve.min(), rel=1e-9)
    # swapped: the holdout (which stalls) comes first and the training data last, so training must not stop
    clf.set_params(n_estimators=60).fit(X, y, eval_set=[(Xv, yv), (X, y)])
    assert len(clf.evals_result_["valid_0"]["focal_loss"]) == 60 and clf.best_iteration_ == 59
    with pytest.raises(ValueError, match="needs an eval_set"):
        clone(clf).fit(X, y)


def test_classifier_params_clone_pickle_pipeline_gridsearch(binary_data):
    X, y = binary_data
    clf = flgb.FocalLGBMClassifier(gamma=1.0, alpha=0.3, hessian="abs", calibrate=False, n_estimators=10, n_jobs=1)
    params = clf.get_params()
    assert params["gamma"] == 1.0 and params["alpha"] == 0.3 and params["hessian"] == "abs"
    assert params["n_estimators"] == 10 and params["calibrate"] is False
    twin = clone(clf)
    assert twin.get_params() == params
    twin.set_params(gamma=3.0, alpha=None, hessian="exact", num_leaves=7)
    assert (twin.gamma, twin.alpha, twin.hessian, twin.get_params()["num_leaves"]) == (3.0, None, "exact", 7)
    assert clf.get_params() == params  # the clone is independent

    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.decision_function(X), clf.decision_function(X))

    pipe = make_pipeline(StandardScaler(), flgb.FocalLGBMClassifier(n_estimators=10, n_jobs=1))
    search = GridSearchCV(pipe, {"focallgbmclassifier__gamma": [0.0, 2.0],
                                 "focallgbmclassifier__alpha": [None, 0.25]}, cv=2, scoring="neg_log_loss")
    search.fit(X, y)
    assert search.best_params_["focallgbmclassifier__gamma"] in (0.0, 2.0)
    assert search.predict_proba(X).shape == (len(y), 2)


def test_classifier_bad_input(binary_data, multiclass_data):
    X, y = binary_data
    Xm, ym = multiclass_data
    Clf = flgb.FocalLGBMClassifier
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
        Clf(objective="binary", n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="same number of samples"):
        Clf(n_estimators=2).fit(X[:-1], y)
    fitted = Clf(n_estimators=2, n_jobs=1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])
    # labels unseen at fit time play no role at predict time (predict takes no labels)
    assert set(fitted.predict(np.round(np.random.default_rng(9).normal(size=(50, 5)), 1))) <= {0, 1}


# -- example ---------------------------------------------------------------------------------------------------------
def test_example_runs():
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "lightgbm_binary.py")], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert time.perf_counter() - start < 60
    for word in ("PR-AUC", "ROC-AUC", "log loss", "focal", "logloss"):
        assert word in proc.stdout


@pytest.mark.parametrize("multiclass", [False, True])
def test_init_score_in_the_objective_equals_init_score_on_the_datasets(multiclass):
    """train() adds the init score inside the objective and metric (no Dataset init_score); with a builtin metric,
    which reads LightGBM's own scores, it sets it on the Datasets as before. The two trainings differ only by the
    order of the float64 additions init + sum of trees (~1e-15), far below the 1e-9 used here; a user feval gets
    the full raw score either way."""
    X, y = make_multiclass() if multiclass else make_binary()
    loss = FocalLoss(2.0, None if multiclass else 0.25)
    params = dict(BASE, num_class=3) if multiclass else dict(BASE)
    seen: dict[str, list] = {"offset": [], "datasets": []}

    def feval(key):
        def f(preds, data):
            seen[key].append(np.array(preds))
            return "mine", 0.0, False
        return f

    results = {}
    for key, metric in (("offset", "None"), ("datasets", "multi_logloss" if multiclass else "auc")):
        train_set = lgb.Dataset(X, label=y)
        valid = lgb.Dataset(X, label=y, reference=train_set)
        history: dict = {}
        booster = flgb.train(loss, dict(params, metric=metric), train_set, num_boost_round=6, valid_sets=[valid],
                             valid_names=["val"], feval=feval(key), callbacks=[lgb.record_evaluation(history)])
        assert train_set.get_init_score() is None and valid.get_init_score() is None
        results[key] = (_raw(booster, X), history["val"]["focal_loss"])
    np.testing.assert_allclose(results["offset"][0], results["datasets"][0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(results["offset"][1], results["datasets"][1], rtol=1e-12)
    for a, b in zip(seen["offset"], seen["datasets"], strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    init = loss.init_score(y, None, 3 if multiclass else None)
    np.testing.assert_allclose(seen["offset"][0].mean(axis=0), init, atol=1.0)  # the init score is in


# -- the gamma=0 identity at the defaults ----------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_classifier_gamma0_is_lgbmclassifier_at_its_defaults(multiclass):
    """FocalLGBMClassifier(gamma=0) and LGBMClassifier(), both at their defaults, train the same model: the same
    start (LightGBM's binary boost_from_average is the log-odds, focal's init score; its multiclass starts from 0,
    focal from the log priors, the same softmax) and the same multiclass hessian factor K/(K-1)."""
    X, y = make_multiclass(n_samples=500) if multiclass else make_binary(n_samples=500)
    engine = lgb.LGBMClassifier(n_jobs=1, verbose=-1).fit(X, y)
    focal = flgb.FocalLGBMClassifier(gamma=0, calibrate=False, n_jobs=1).fit(X, y)
    np.testing.assert_allclose(focal.predict_proba(X), engine.predict_proba(X), rtol=0, atol=1e-6)
    other = flgb.FocalLGBMClassifier(gamma=2, calibrate=False, n_jobs=1).fit(X, y)
    assert np.abs(other.predict_proba(X) - engine.predict_proba(X)).max() > 1e-3


def test_classifier_keeps_lightgbms_feature_pre_filter():
    """LightGBM's feature pre-filter changes the bins of rare-valued features: off, it trained another model than
    LGBMClassifier() on this data (0.37 in probability), so the classifier keeps LightGBM's default; only when the
    pre-filter leaves no feature (LightGBM 4.7 then stops a custom-objective training) does it train without it,
    and the constant model equals LGBMClassifier()'s."""
    rng = np.random.default_rng(0)
    n = 500
    X = np.column_stack([rng.normal(size=n), rng.poisson(0.05, n), rng.poisson(0.3, n), rng.integers(0, 30, n)])
    y = (X[:, 0] + X[:, 1] + rng.normal(size=n) > 1.2).astype(int)
    engine = lgb.LGBMClassifier(verbose=-1, n_jobs=1).fit(X, y).predict_proba(X)
    focal = flgb.FocalLGBMClassifier(gamma=0, calibrate=False, n_jobs=1).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(focal, engine, rtol=0, atol=1e-6)
    unfiltered = lgb.LGBMClassifier(verbose=-1, n_jobs=1, feature_pre_filter=False).fit(X, y).predict_proba(X)
    assert np.abs(unfiltered - engine).max() > 0.1  # the data make the setting matter
    tiny_X = np.random.default_rng(0).normal(size=(15, 3))
    tiny_y = np.array([0, 1] * 7 + [0])
    tiny = flgb.FocalLGBMClassifier(gamma=0, calibrate=False, n_jobs=1).fit(tiny_X, tiny_y)
    np.testing.assert_allclose(tiny.predict_proba(tiny_X),
                               lgb.LGBMClassifier(verbose=-1, n_jobs=1).fit(tiny_X, tiny_y).predict_proba(tiny_X),
                               rtol=0, atol=1e-12)
    with pytest.raises(lgb.basic.LightGBMError, match="num_features"):  # a given pre-filter is the user's
        flgb.FocalLGBMClassifier(gamma=0, feature_pre_filter=True, n_jobs=1).fit(tiny_X, tiny_y)
