"""focal_boost.dask on a real (local) Dask cluster: two worker processes, one thread each.

Every test compares the distributed model with something computed independently of the Dask path: the
single-machine adapters trained on the same rows, FocalLoss's own validated methods on the gathered data, XGBoost /
LightGBM reloading the saved model in a process that never imports focal_boost, or the same data with repeated rows.

Tolerances, and why they are what they are:
- XGBoost (``tree_method="hist"``): the features take fewer distinct values than ``max_bin``, so the merged
  distributed quantile sketch has the same cut points as the single-machine one, and the per-worker gradient
  histograms are summed (allreduce) before every split: trees are the same and margins agree to 1e-6 (float32 margins,
  sums in another order). Observed: identical.
- LightGBM data-parallel learner (lightgbm 4.7): it tracks leaf sizes as counts ESTIMATED from hessian sums (the
  dumped ``leaf_count`` differs from the true count; the serial learner counts rows), so ``min_data_in_leaf`` can
  bind differently than on one machine, and focal hessians are tiny for easy rows, which makes those estimates
  poor; each feature's bins also come from one worker's rows. On coarse features (every value on every worker) with
  ``min_child_samples=1``: the binary model (weights included) and the first iteration of the multiclass model
  (init score + K trees) agree with the single-machine ones to 1e-9 (observed: identical); later multiclass trees
  may split differently, so the whole multiclass model is compared loosely (training focal loss within 3%, mean
  |probability difference| < 0.05; observed up to 1.7% and 0.026 over the seeds and layouts tried).
"""

from __future__ import annotations

import json
import logging
import pickle

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

import dask  # noqa: E402
from xgboost import dask as dxgb  # noqa: E402

from focal_boost import FocalLoss  # noqa: E402
from focal_boost import dask as fdask  # noqa: E402
from focal_boost import xgboost as fxgb  # noqa: E402
from focal_boost.lightgbm import FocalLGBMClassifier  # noqa: E402

from .conftest import integer_weights, make_binary, make_multiclass  # noqa: E402

F32 = {"rtol": 1e-6, "atol": 1e-6}
XGB = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1}
LGB = {"n_estimators": 12, "learning_rate": 0.3, "num_leaves": 7, "min_data_in_bin": 1, "min_child_samples": 1}


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as c:
        yield c


def _workers(client) -> list[str]:
    workers = sorted(client.scheduler_info()["workers"])
    assert len(workers) == 2
    return workers


_SCATTERED: list = []  # keeps the scattered blocks alive for the module (dask-expr collections do not hold them)


def _placed(client, arr: np.ndarray, sizes: list[int], workers: list[str]):
    """``arr`` as a Dask array of row blocks of ``sizes``, block i scattered to ``workers[i]``: the split of the
    rows between the workers is fixed by the test, not by the scheduler."""
    assert sum(sizes) == arr.shape[0]
    blocks, start = [], 0
    for size, worker in zip(sizes, workers, strict=True):
        part = np.ascontiguousarray(arr[start:start + size])
        start += size
        future = client.scatter(part, workers=[worker], hash=False)
        _SCATTERED.append(future)
        blocks.append(da.from_delayed(dask.delayed(future), shape=part.shape, dtype=part.dtype))
    return da.concatenate(blocks)


def _coarse(X: np.ndarray) -> np.ndarray:
    """Features on a 0.5 grid in [-2, 2]: every value occurs in every partition (same bins on every worker)."""
    return np.clip(np.round(X * 2) / 2, -2, 2)


def _margin(booster, X, **kw):
    return booster.predict(xgb.DMatrix(X), output_margin=True, **kw)


# Counting prepare_target calls inside the worker processes (the class is pickled by reference to this module).
PREPARED = {"calls": 0}


class CountingLoss(FocalLoss):
    def prepare_target(self, y, sample_weight=None, n_classes=None):
        PREPARED["calls"] += 1
        return super().prepare_target(y, sample_weight, n_classes)


def _reset_calls() -> None:
    PREPARED["calls"] = 0


def _calls() -> int:
    return PREPARED["calls"]


# -- objects that ship to workers (no cluster) ---------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_shipped_objects_pickle_and_match_the_core(multiclass):
    X, y = make_multiclass() if multiclass else make_binary()
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, [0.2, 0.3, 0.5] if multiclass else 0.25)
    raw = np.random.default_rng(3).normal(size=(len(y), 3) if multiclass else len(y))
    y32, w32 = y.astype(np.float32), w.astype(np.float32)  # what LightGBM hands over
    for obj in (fdask.FocalLGBMSklearnObjective(loss), fdask.FocalLGBMSklearnMetric(loss),
                fdask.FocalDaskXGBMetric(loss)):
        if not isinstance(obj, fdask.FocalDaskXGBMetric):
            obj(y32, raw, w32)  # fill the cache: it must not travel
        clone = pickle.loads(pickle.dumps(obj))
        assert clone.loss == loss and clone._cache._items == {}
    grad, hess = pickle.loads(pickle.dumps(fdask.FocalLGBMSklearnObjective(loss)))(y32, raw, w32)
    g_ref, h_ref = loss.grad_hess(y, raw, w)
    # float32 out (what the engine stores): the core's float64 values rounded once; a multiclass hessian times
    # LightGBM's K/(K-1) before that rounding
    assert grad.dtype == np.float32 and hess.dtype == np.float32
    np.testing.assert_array_equal(grad, g_ref.astype(np.float32))
    np.testing.assert_array_equal(hess, (h_ref * (1.5 if multiclass else 1.0)).astype(np.float32))
    name, value, higher_better = fdask.FocalLGBMSklearnMetric(loss)(y32, raw, w32)
    assert (name, higher_better) == ("focal_loss", False)
    assert value == pytest.approx(loss.eval(y, raw, w), rel=1e-12)
    # outside a collective the XGBoost metric is the local weighted mean
    name, value = fdask.FocalDaskXGBMetric(loss)(raw, xgb.DMatrix(X, label=y, weight=w))
    assert value == pytest.approx(loss.eval(y, raw, w), rel=1e-12)


@pytest.mark.parametrize("case", ["binary", "soft", "multiclass"])
def test_init_score_from_partition_totals_equals_the_full_data_solve(case):
    # the cluster path: each partition -> class weight totals -> one K-row solve; the reference: the full arrays
    _, y = make_multiclass(seed=5) if case == "multiclass" else make_binary(seed=5)
    y = np.clip(y + np.random.default_rng(0).uniform(-0.3, 0.3, len(y)), 0, 1) if case == "soft" else y
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, [1.0, 2.0, 0.5] if case == "multiclass" else 0.3)
    k = 3 if case == "multiclass" else None
    parts = np.array_split(np.arange(len(y)), 4)
    totals = sum(loss.prepare_target(y[i], w[i], k).class_totals() for i in parts)
    np.testing.assert_allclose(loss.init_score_from_totals(totals, k), loss.init_score(y, w, k), rtol=1e-9,
                               atol=1e-12)


def test_sklearn_objective_revalidates_only_for_new_arrays():
    loss = CountingLoss(2.0)
    _, y = make_binary()
    obj = fdask.FocalLGBMSklearnObjective(loss)
    y32, raw = y.astype(np.float32), np.zeros(len(y))
    _reset_calls()
    for _ in range(5):
        obj(y32, raw, None)
    assert _calls() == 1
    obj(y32.copy(), raw, None)  # a new label array (a new Dataset): validated again
    assert _calls() == 2


def test_predict_proba_of_a_dask_array_of_raw_scores():
    loss = FocalLoss(2.0, [1.0, 2.0, 3.0])
    raw = np.random.default_rng(0).normal(size=(50, 3))
    out = fdask.predict_proba(loss, da.from_array(raw, chunks=(20, 3)))
    np.testing.assert_allclose(out.compute(), loss.predict_proba(raw), rtol=1e-12)
    binary = FocalLoss(2.0, 0.25)
    z = raw[:, 0]
    out = fdask.predict_proba(binary, da.from_array(z, chunks=20), calibrate=False)
    assert out.shape == (50, 2)
    np.testing.assert_allclose(out.compute(), binary.predict_proba(z, calibrate=False), rtol=1e-12)


# -- XGBoost -------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xgb_multiclass(client):
    """A weighted multiclass model trained on the cluster, rows split unevenly between the two workers."""
    X, y = make_multiclass(900, seed=2)
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, [1.0, 1.5, 2.0])
    w0, w1 = _workers(client)
    sizes, where = [200, 300, 400], [w0, w1, w1]
    dtrain = dxgb.DaskDMatrix(client, _placed(client, X, sizes, where), _placed(client, y.astype(float), sizes, where),
                              weight=_placed(client, w, sizes, where))
    out = fdask.xgb_train(client, loss, XGB, dtrain, 10, evals=[(dtrain, "train")], verbose_eval=False)
    return X, y, w, loss, out


@pytest.mark.parametrize("multiclass", [False, True])
def test_xgb_matches_single_machine_including_init_score(client, xgb_multiclass, multiclass):
    if multiclass:
        X, y, w, loss, out = xgb_multiclass
        params = dict(XGB, num_class=3)
    else:
        X, y = make_binary(800, seed=1)
        w = integer_weights(len(y))
        loss, params = FocalLoss(2.0, 0.25), XGB
        dtrain = dxgb.DaskDMatrix(client, da.from_array(X, chunks=(300, -1)), da.from_array(y, chunks=300),
                                  weight=da.from_array(w, chunks=300))
        out = fdask.xgb_train(client, loss, params, dtrain, 10, evals=[(dtrain, "train")], verbose_eval=False)
    booster = out["booster"]
    single = fxgb.train(loss, params, xgb.DMatrix(X, label=y, weight=w), 10)
    # the intercept: solved from per-class totals on the cluster vs from the full arrays on one machine
    expected = np.atleast_1d(np.asarray(loss.init_score(y, w, 3 if multiclass else None), dtype=np.float32))
    config = json.loads(booster.save_config())["learner"]["learner_model_param"]
    stored = np.atleast_1d(np.asarray(json.loads(config["base_score"]), dtype=np.float32))
    np.testing.assert_allclose(stored, expected, rtol=1e-6)
    margins = _margin(booster, X)
    np.testing.assert_allclose(margins, _margin(single, X), **F32)
    # the training history is the global weighted mean focal loss of the model's margins
    assert out["history"]["train"]["focal_loss"][-1] == pytest.approx(loss.eval(y, margins, w), rel=1e-5)
    # and the lazy Dask prediction path gives the same margins
    lazy = dxgb.predict(client, booster, da.from_array(X, chunks=(250, -1)), output_margin=True)
    np.testing.assert_allclose(lazy.compute(), margins, **F32)


def test_xgb_saved_model_predicts_the_same_in_plain_xgboost(xgb_multiclass, tmp_path, run_plain_python):
    X, _, _, _, out = xgb_multiclass
    out["booster"].save_model(tmp_path / "model.json")
    np.save(tmp_path / "X.npy", X)
    run_plain_python(f"""
        import numpy as np, xgboost
        d = {str(tmp_path)!r}
        booster = xgboost.Booster(model_file=d + "/model.json")
        np.save(d + "/raw.npy", booster.predict(xgboost.DMatrix(np.load(d + "/X.npy")), output_margin=True))
    """)
    np.testing.assert_allclose(np.load(tmp_path / "raw.npy"), _margin(out["booster"], X), rtol=0, atol=1e-9)


def test_xgb_metric_is_the_global_weighted_mean_and_early_stopping_uses_it(client):
    # Validation rows split 150 / 450 between the workers with different weights: xgboost's own handling of a
    # custom metric (the mean of the per-worker values) would be off here; the global weighted mean is not.
    X, y = make_binary(1500, positive_rate=0.3, noise=2.5, seed=5)
    w = integer_weights(len(y), seed=7)
    (Xt, yt), (Xv, yv, wv) = (X[:900], y[:900]), (X[900:], y[900:], w[900:])
    loss = FocalLoss(2.0, 0.4)
    w0, w1 = _workers(client)
    dtrain = dxgb.DaskDMatrix(client, _placed(client, Xt, [450, 450], [w0, w1]),
                              _placed(client, yt.astype(float), [450, 450], [w0, w1]))
    place = ([150, 450], [w0, w1])
    dval = dxgb.DaskDMatrix(client, _placed(client, Xv, *place), _placed(client, yv.astype(float), *place),
                            weight=_placed(client, wv, *place))
    assert len(dval.worker_map) == 2
    out = fdask.xgb_train(client, loss, dict(XGB, max_depth=6, eta=0.5, min_child_weight=0.1), dtrain, 200,
                          evals=[(dval, "val")], early_stopping_rounds=4, verbose_eval=False)
    booster, curve = out["booster"], np.asarray(out["history"]["val"]["focal_loss"])
    expected = [loss.eval(yv, _margin(booster, Xv, iteration_range=(0, i + 1)), wv) for i in range(len(curve))]
    np.testing.assert_allclose(curve, expected, rtol=1e-5)
    assert booster.num_boosted_rounds() < 200  # it stopped
    assert booster.best_iteration == int(np.argmin(curve))
    assert booster.num_boosted_rounds() == booster.best_iteration + 1 + 4


def test_xgb_integer_weights_equal_repeated_rows_and_change_the_model(client):
    X, y = make_binary(600, seed=3)
    w = integer_weights(len(y))
    loss = FocalLoss(2.0, 0.25)
    Xr, yr = np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int))

    def fit(X_, y_, w_=None):
        chunk = (len(y_) + 1) // 2
        dmat = dxgb.DaskDMatrix(client, da.from_array(X_, chunks=(chunk, -1)), da.from_array(y_, chunks=chunk),
                                weight=None if w_ is None else da.from_array(w_, chunks=chunk))
        return fdask.xgb_train(client, loss, XGB, dmat, 8)["booster"]

    weighted, repeated, plain = fit(X, y, w), fit(Xr, yr), fit(X, y)
    np.testing.assert_allclose(_margin(weighted, X), _margin(repeated, X), **F32)
    assert np.max(np.abs(_margin(weighted, X) - _margin(plain, X))) > 0.05


def test_xgb_validates_once_per_worker_not_every_round(client):
    X, y = make_multiclass(600)
    loss = CountingLoss(2.0)
    dtrain = dxgb.DaskDMatrix(client, da.from_array(X, chunks=(300, -1)), da.from_array(y, chunks=300))
    dval = dxgb.DaskDMatrix(client, da.from_array(X[:200], chunks=(100, -1)), da.from_array(y[:200], chunks=100))
    counts = []
    for rounds in (2, 12):
        client.run(_reset_calls)
        fdask.xgb_train(client, loss, dict(XGB, num_class=3), dtrain, rounds, evals=[(dval, "val")])
        counts.append(sum(client.run(_calls).values()))
    assert counts[0] == counts[1] > 0


def test_xgb_refuses_bad_input_before_training(client):
    X, y = make_binary(400)
    w = integer_weights(len(y))
    w[350] = -1.0  # in the second partition
    loss = FocalLoss()
    Xd, yd = da.from_array(X, chunks=(200, -1)), da.from_array(y, chunks=200)
    bad = dxgb.DaskDMatrix(client, Xd, yd, weight=da.from_array(w, chunks=200))
    with pytest.raises(ValueError, match=r"dtrain: sample_weight must be finite and >= 0, got sample_weight=.*-1"):
        fdask.xgb_train(client, loss, XGB, bad, 2)
    good = dxgb.DaskDMatrix(client, Xd, yd)
    margin = dxgb.DaskDMatrix(client, Xd, yd, base_margin=da.zeros(400, chunks=200))
    with pytest.raises(ValueError, match=r"evals\[0\] \('m'\) has a base_margin"):
        fdask.xgb_train(client, loss, XGB, good, 2, evals=[(margin, "m")])
    with pytest.raises(ValueError, match="objective"):
        fdask.xgb_train(client, loss, dict(XGB, objective="binary:logistic"), good, 2)
    with pytest.raises(ValueError, match="DaskDMatrix"):
        fdask.xgb_train(client, loss, XGB, xgb.DMatrix(X, label=y), 2)
    y3 = y.astype(float)
    y3[10] = 2.0
    with pytest.raises(ValueError, match=r"y must lie in \[0, 1\]"):
        fdask.xgb_train(client, loss, XGB, dxgb.DaskDMatrix(client, Xd, da.from_array(y3, chunks=200)), 2)


# -- LightGBM ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lgb_multiclass(client):
    """String labels, rows sorted by class so one partition holds all of class "eel" and the other none: a worker
    that lacks a class (plain lightgbm.dask.DaskLGBMClassifier fails on this layout)."""
    X, y_int = make_multiclass(900, seed=1)
    X = _coarse(X)
    order = np.argsort(-y_int, kind="stable")
    X, y = X[order], np.array(["cat", "dog", "eel"])[y_int[order]]
    w0, w1 = _workers(client)
    sizes, where = [450, 450], [w0, w1]
    Xd = _placed(client, X, sizes, where)
    yd = dd.from_dask_array(_placed(client, y.astype(object), sizes, where))
    clf = fdask.FocalDaskLGBMClassifier(gamma=2.0, alpha=[1.0, 2.0, 3.0], **LGB).fit(Xd, yd, client=client)
    return X, y, Xd, clf


def test_lgbm_binary_weighted_matches_single_machine(client):
    X, y = make_binary(800, seed=2)
    X = _coarse(X)
    w = integer_weights(len(y)) * np.where(y == 1, 4.0, 1.0)  # positives weigh more: the intercept moves
    params = {"gamma": 2.0, "alpha": 0.25, **LGB}
    Xd = dd.from_array(X, chunksize=400)
    clf = fdask.FocalDaskLGBMClassifier(**params).fit(Xd, dd.from_array(y, chunksize=400),
                                                      sample_weight=dd.from_array(w, chunksize=400), client=client)
    single = FocalLGBMClassifier(n_jobs=1, **params).fit(X, y, sample_weight=w)
    unweighted = FocalLGBMClassifier(n_jobs=1, **params).fit(X, y)
    assert clf.init_score_ == pytest.approx(single.init_score_, rel=1e-10)
    assert abs(clf.init_score_ - unweighted.init_score_) > 0.05
    raw = clf.decision_function(Xd)
    assert isinstance(raw, da.Array)
    raw = raw.compute()
    np.testing.assert_allclose(raw, single.decision_function(X), rtol=0, atol=1e-9)
    assert np.max(np.abs(raw - unweighted.decision_function(X))) > 0.1
    # predict_proba is calibrated (the core's map of the raw scores), not the sigmoid, and a Dask array
    proba = clf.predict_proba(Xd).compute()
    np.testing.assert_allclose(proba, clf.loss_.predict_proba(raw, calibrate=True), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(proba, single.predict_proba(X), rtol=0, atol=1e-9)
    assert np.max(np.abs(proba - clf.loss_.predict_proba(raw, calibrate=False))) > 0.01
    np.testing.assert_array_equal(clf.predict(Xd).compute(), single.predict(X))


def test_lgbm_multiclass_with_a_class_missing_on_a_worker(lgb_multiclass):
    X, y, Xd, clf = lgb_multiclass
    assert set(y[:450]) == {"cat", "dog", "eel"} and set(y[450:]) == {"cat"}
    single = FocalLGBMClassifier(gamma=2.0, alpha=[1.0, 2.0, 3.0], n_jobs=1, **LGB).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, single.classes_)
    assert clf.booster_.num_model_per_iteration() == 3
    np.testing.assert_allclose(clf.init_score_, single.init_score_, rtol=1e-10, atol=1e-12)
    # The first iteration (init score + K trees grown from the same gradients) is the single-machine one ...
    first = {"raw_score": True, "num_iteration": 1}
    np.testing.assert_allclose(clf.booster_.predict(X, **first), single.booster_.predict(X, **first), rtol=0,
                               atol=1e-9)
    # ... later trees may split differently (module docstring); the models stay close.
    raw = clf.decision_function(Xd).compute()
    proba = clf.predict_proba(Xd).compute()
    np.testing.assert_allclose(proba, clf.loss_.predict_proba(raw, calibrate=True), rtol=1e-12, atol=1e-15)
    local_raw, local_proba = single.decision_function(X), single.predict_proba(X)
    assert clf.loss_.eval(np.searchsorted(clf.classes_, y), raw) == pytest.approx(
        single.loss_.eval(np.searchsorted(single.classes_, y), local_raw), rel=0.03)
    assert np.mean(np.abs(proba - local_proba)) < 0.05
    labels = clf.predict(Xd).compute()
    assert set(labels) <= {"cat", "dog", "eel"} and np.mean(labels == single.predict(X)) > 0.9
    np.testing.assert_allclose(clf.to_local().predict_proba(X), proba, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba, rtol=0, atol=1e-12)
    # best_iteration_ is the 0-based index of the last tree round, as on one machine, and to_local keeps it
    assert clf.best_iteration_ == single.best_iteration_ == clf.booster_.current_iteration() - 1
    assert clf.to_local().best_iteration_ == clf.best_iteration_
    assert clf.feature_importances_.shape == (X.shape[1],)


def test_lgbm_saved_model_predicts_the_same_in_plain_lightgbm(lgb_multiclass, tmp_path, run_plain_python):
    X, _, Xd, clf = lgb_multiclass
    clf.booster_.save_model(tmp_path / "model.txt")
    np.save(tmp_path / "X.npy", X)
    run_plain_python(f"""
        import numpy as np, lightgbm
        d = {str(tmp_path)!r}
        booster = lightgbm.Booster(model_file=d + "/model.txt")
        np.save(d + "/raw.npy", booster.predict(np.load(d + "/X.npy"), raw_score=True))
    """)
    np.testing.assert_allclose(np.load(tmp_path / "raw.npy"), clf.decision_function(Xd).compute(), rtol=0,
                               atol=1e-12)


def test_lgbm_eval_set_is_scored_and_early_stopping_is_refused(client):
    X, y = make_binary(800, seed=6)
    Xd, yd = da.from_array(X, chunks=(400, -1)), da.from_array(y, chunks=400)
    w = da.from_array(integer_weights(len(y)), chunks=400)
    clf = fdask.FocalDaskLGBMClassifier(**LGB).fit(Xd, yd, eval_set=[(Xd, yd), (Xd, yd)],
                                                   eval_sample_weight=[None, w], client=client)
    for name in ("valid_0", "valid_1"):
        curve = np.asarray(clf.evals_result_[name]["focal_loss"])
        assert len(curve) == LGB["n_estimators"] and np.all(np.diff(curve) < 0)  # training data: always improves
    with pytest.raises(ValueError, match="early stopping is not supported on Dask"):
        fdask.FocalDaskLGBMClassifier(early_stopping_rounds=3, **LGB).fit(Xd, yd, eval_set=[(Xd, yd)], client=client)


def test_lgbm_validates_once_per_worker_not_every_round(client, monkeypatch):
    X, y = make_multiclass(600)
    Xd, yd = da.from_array(X, chunks=(300, -1)), da.from_array(y, chunks=300)
    # the classifier builds FocalLoss(gamma, alpha, hessian) in _sklearn: make it count its validations
    import focal_boost._sklearn as sk

    monkeypatch.setattr(sk, "FocalLoss", CountingLoss)
    client.run(_reset_calls)
    fdask.FocalDaskLGBMClassifier(**dict(LGB, n_estimators=12)).fit(Xd, yd, eval_set=[(Xd, yd)], client=client)
    per_worker = client.run(_calls)
    # lightgbm.dask decides which workers train; each one validates its training labels once (objective) and its
    # eval labels once (metric), not once per round
    assert sum(per_worker.values()) > 0 and max(per_worker.values()) <= 2, per_worker


def test_lgbm_refuses_bad_input_before_training(client):
    X, y = make_binary(400)
    Xd, yd = da.from_array(X, chunks=(200, -1)), da.from_array(y, chunks=200)
    w = np.ones(len(y))
    w[300] = np.nan
    clf = fdask.FocalDaskLGBMClassifier(**LGB)
    with pytest.raises(ValueError, match=r"sample_weight must be finite and >= 0, got sample_weight=.*nan"):
        clf.fit(Xd, yd, sample_weight=da.from_array(w, chunks=200), client=client)
    y_val = y.copy()
    y_val[5] = 7
    with pytest.raises(ValueError, match=r"eval_set\[0\] has labels not seen in y at fit time: \[7\]"):
        clf.fit(Xd, yd, eval_set=[(Xd, da.from_array(y_val, chunks=200))], client=client)
    with pytest.raises(ValueError, match="partitioned like X"):
        clf.fit(Xd, da.from_array(y, chunks=100), client=client)
    with pytest.raises(ValueError, match="Dask Array or Dask DataFrame"):
        clf.fit(X, y, client=client)
    with pytest.raises(ValueError, match="objective"):
        fdask.FocalDaskLGBMClassifier(objective="binary").fit(Xd, yd, client=client)
