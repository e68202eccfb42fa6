"""focal_boost.xgboost on the multi-label task (``num_target=L``): objective/metric against the core, the init score
as a length-L base_score, parity with XGBoost's builtin multi-target binary:logistic at gamma=0, early stopping, and
saved models read back in a process without focal_boost. Comparisons of two models use float32 tolerances (see
test_xgboost.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import expit

xgb = pytest.importorskip("xgboost")

from focal_boost import FocalLoss  # noqa: E402
from focal_boost import xgboost as fxgb  # noqa: E402

from .conftest import integer_weights, make_multilabel  # noqa: E402

F32 = {"rtol": 1e-6, "atol": 1e-6}
STRATEGIES = ["one_output_per_tree", "multi_output_tree"]


def _params(strategy, **extra):
    return {"nthread": 1, "tree_method": "hist", "max_depth": 3, "eta": 0.3, "num_target": 3,
            "multi_strategy": strategy, **extra}


def _margin(booster, X, **kw):
    return booster.predict(xgb.DMatrix(X), output_margin=True, **kw)


def test_objective_and_metric_match_core_with_weights():
    X, Y = make_multilabel()
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    dmat = xgb.DMatrix(X, label=Y, weight=w)
    raw = np.random.default_rng(3).normal(size=Y.shape).astype(np.float32)
    grad, hess = fxgb.objective(loss, n_labels=3)(raw.copy(), dmat)
    assert grad.dtype == hess.dtype == np.float32 and grad.shape == Y.shape
    g_ref, h_ref = loss.grad_hess(Y, raw.astype(np.float64))
    w32 = dmat.get_weight()[:, None]
    np.testing.assert_array_equal(grad, g_ref.astype(np.float32) * w32)
    np.testing.assert_array_equal(hess, h_ref.astype(np.float32) * w32)
    np.testing.assert_allclose(grad, loss.grad(Y, raw, w), rtol=1e-6, atol=1e-30)
    name, value = fxgb.metric(loss, n_labels=3)(raw, dmat)
    assert name == "focal_loss" and value == pytest.approx(loss.eval(Y, raw.astype(np.float64), w), rel=1e-12)
    with pytest.raises(ValueError, match="n_labels=L"):
        fxgb.objective(loss, n_labels=3)(raw[:, :2], dmat)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_init_score_is_stored_as_base_score(strategy):
    X, Y = make_multilabel()
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, 0.25)
    booster = fxgb.train(loss, _params(strategy, min_split_loss=1e12), xgb.DMatrix(X, label=Y, weight=w), 3)
    expected = np.asarray(loss.init_score(Y, w), dtype=np.float32)
    assert expected.shape == (3,) and len(set(expected.tolist())) == 3
    np.testing.assert_array_equal(_margin(booster, X[:20]), np.broadcast_to(expected, (20, 3)))
    config = json.loads(booster.save_config())["learner"]
    np.testing.assert_allclose(json.loads(config["learner_model_param"]["base_score"]), expected, rtol=1e-7)
    assert config["objective"]["name"] == "reg:squarederror"  # identity link: margins as is


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("weighted", [False, True])
def test_gamma0_reproduces_builtin_multi_target_logistic(strategy, weighted):
    """gamma=0, alpha=None is logloss per label: XGBoost's binary:logistic with num_target=3 from the same start."""
    X, Y = make_multilabel()
    w = integer_weights(len(Y)) if weighted else None
    focal = fxgb.train(FocalLoss(0.0), _params(strategy), xgb.DMatrix(X, label=Y, weight=w), 15)
    start = FocalLoss(0.0).init_score(Y, w)
    builtin = xgb.train(_params(strategy, objective="binary:logistic", base_score=[float(v) for v in expit(start)]),
                        xgb.DMatrix(X, label=Y, weight=w), 15)
    np.testing.assert_allclose(_margin(focal, X), _margin(builtin, X), **F32)
    assert np.max(np.abs(_margin(focal, X) - start)) > 0.5  # the trees learned something


def test_each_label_of_one_output_per_tree_is_the_binary_model():
    """one_output_per_tree grows label j's trees from label j's gradients alone: the binary focal model of column j
    (same alpha, same start)."""
    X, Y = make_multilabel()
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    multi = fxgb.train(loss, _params("one_output_per_tree"), xgb.DMatrix(X, label=Y), 10)
    margins = _margin(multi, X)
    params = {k: v for k, v in _params("").items() if k not in ("num_target", "multi_strategy")}
    for j in range(3):
        binary = fxgb.train(FocalLoss(2.0, loss.alpha[j]), params, xgb.DMatrix(X, label=Y[:, j]), 10)
        np.testing.assert_allclose(margins[:, j], _margin(binary, X), **F32)


def test_early_stopping_and_metric_on_weighted_eval_sets():
    X, Y = make_multilabel(n_samples=900, noise=2.5, seed=5)
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, 0.4)
    history: dict = {}
    dval = xgb.DMatrix(X[600:], label=Y[600:], weight=w[600:])
    booster = fxgb.train(loss, _params("multi_output_tree", max_depth=6, min_child_weight=0.1),
                         xgb.DMatrix(X[:600], label=Y[:600], weight=w[:600]), 200, evals=[(dval, "val")],
                         early_stopping_rounds=5, evals_result=history, verbose_eval=False)
    curve = np.asarray(history["val"]["focal_loss"])
    assert len(curve) < 200 and booster.best_iteration == int(np.argmin(curve))
    for it in (0, booster.best_iteration):
        raw = _margin(booster, X[600:], iteration_range=(0, it + 1))
        assert curve[it] == pytest.approx(loss.eval(Y[600:], raw, w[600:]), abs=1e-6)


def test_train_refuses_bad_setups():
    X, Y = make_multilabel()
    dmat = xgb.DMatrix(X, label=Y)
    with pytest.raises(ValueError, match="num_class"):
        fxgb.train(FocalLoss(), _params("one_output_per_tree", num_class=3), dmat, 2)
    with pytest.raises(ValueError, match="alpha"):
        fxgb.train(FocalLoss(alpha=[0.2, 0.3]), _params("one_output_per_tree"), dmat, 2)
    with pytest.raises(ValueError, match="num_target"):
        fxgb.train(FocalLoss(), _params("one_output_per_tree", num_target=0), dmat, 2)
    with pytest.raises(ValueError, match=r"dtrain: y must have 2 dimension"):
        fxgb.train(FocalLoss(), _params("one_output_per_tree"), xgb.DMatrix(X, label=Y[:, 0]), 2)
    with pytest.raises(ValueError, match=r"evals\[0\].*y must lie in \[0, 1\]"):
        fxgb.train(FocalLoss(), _params("one_output_per_tree"), dmat, 2, evals=[(xgb.DMatrix(X, label=Y * 2), "v")])
    with pytest.raises(ValueError, match=r"multi-label.*not supported"):
        fxgb.check_train_args(FocalLoss(), _params("one_output_per_tree"), {}, "focal_boost.dask.xgb_train")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_saved_model_predicts_the_margins_without_focal_boost(tmp_path, run_plain_python, strategy):
    X, Y = make_multilabel(seed=4)
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    booster = fxgb.train(loss, _params(strategy), xgb.DMatrix(X, label=Y), 12)
    booster.save_model(tmp_path / "model.ubj")
    np.save(tmp_path / "X.npy", X)
    run_plain_python(f"""
        import numpy as np, xgboost
        d = {str(tmp_path)!r}
        b = xgboost.Booster(model_file=d + "/model.ubj")
        X = xgboost.DMatrix(np.load(d + "/X.npy"))
        np.save(d + "/raw.npy", b.predict(X, output_margin=True))
        np.save(d + "/plain.npy", b.predict(X))
    """)
    margins = _margin(booster, X)
    assert margins.shape == (len(X), 3)
    np.testing.assert_array_equal(np.load(tmp_path / "raw.npy"), margins)
    np.testing.assert_array_equal(np.load(tmp_path / "plain.npy"), margins)  # reg:squarederror: margins as is
    # the init score is in the saved margins: without base_score the model's margins would differ by it
    assert np.abs(np.mean(margins, axis=0) - loss.init_score(Y)).max() < 1.0
