"""focal_boost.lightgbm on the multi-label task (``label_matrix``, ``num_class=L``): objective/metric against the core,
the init score baked into the first iteration's L trees, each label's trees equal to the binary model of that column,
early stopping, and the saved ``multiclassova`` model read back in a process without focal_boost."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

lgb = pytest.importorskip("lightgbm")

from focal_boost import FocalLoss  # noqa: E402
from focal_boost import lightgbm as flgb  # noqa: E402

from .conftest import integer_weights, make_multilabel  # noqa: E402

# deterministic single-threaded LightGBM, every distinct (rounded) feature value in its own bin (see test_lightgbm.py)
BASE = {"verbosity": -1, "num_threads": 1, "deterministic": True, "force_col_wise": True, "min_data_in_bin": 1,
        "num_leaves": 7, "learning_rate": 0.2}


def _raw(booster, X, **kw):
    return np.asarray(booster.predict(X, raw_score=True, **kw))


def test_objective_and_metric_match_core_with_weights():
    X, Y = make_multilabel()
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    ds = lgb.Dataset(X, weight=w, params={"verbosity": -1}).construct()
    objective, metric = flgb.objective(loss, n_labels=3), flgb.metric(loss, n_labels=3)
    objective.add_label_matrix(ds, Y)
    metric.add_label_matrix(ds, Y)
    raw = np.asfortranarray(np.random.default_rng(3).normal(size=Y.shape))  # LightGBM 4.7's layout
    grad, hess = objective(raw, ds)
    assert grad.dtype == hess.dtype == np.float32 and grad.shape == Y.shape and grad.flags.f_contiguous
    g_ref, h_ref = loss.grad_hess(Y, raw, ds.get_weight())
    np.testing.assert_array_equal(grad, g_ref.astype(np.float32))
    np.testing.assert_array_equal(hess, h_ref.astype(np.float32))
    name, value, higher_better = metric(raw, ds)
    assert (name, higher_better) == ("focal_loss", False)
    assert value == pytest.approx(loss.eval(Y, raw, w), rel=1e-12)
    with pytest.raises(ValueError, match="no label matrix"):
        objective(raw, lgb.Dataset(X, params={"verbosity": -1}).construct())
    with pytest.raises(ValueError, match="label_matrix has 10 rows"):
        objective.add_label_matrix(lgb.Dataset(X, params={"verbosity": -1}), Y[:10])
    with pytest.raises(ValueError, match="n_labels"):
        flgb.objective(loss).add_label_matrix(ds, Y)


def test_init_score_is_baked_into_the_model():
    X, Y = make_multilabel()
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, 0.25)
    train_set = lgb.Dataset(X, weight=w)
    booster = flgb.train(loss, dict(BASE, min_gain_to_split=1e12), train_set, 3, label_matrix=Y)
    expected = loss.init_score(Y, w)
    assert len(set(expected.tolist())) == 3
    np.testing.assert_allclose(_raw(booster, X[:20]), np.broadcast_to(expected, (20, 3)), rtol=0, atol=1e-12)
    assert train_set.get_init_score() is None


@pytest.mark.parametrize("weighted", [False, True])
def test_each_label_is_the_binary_model_of_its_column(weighted):
    """With num_class=L each iteration grows label j's tree from label j's gradients alone: the binary focal model
    of column j (same alpha, same init score), up to float64 summation order."""
    X, Y = make_multilabel()
    w = integer_weights(len(Y)) if weighted else None
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    multi = flgb.train(loss, BASE, lgb.Dataset(X, weight=w), 10, label_matrix=Y)
    raw = _raw(multi, X)
    for j in range(3):
        binary = flgb.train(FocalLoss(2.0, loss.alpha[j]), BASE, lgb.Dataset(X, label=Y[:, j], weight=w), 10)
        np.testing.assert_allclose(raw[:, j], _raw(binary, X), rtol=1e-12, atol=1e-12)


def test_early_stopping_and_metric_on_weighted_valid_sets():
    X, Y = make_multilabel(n_samples=900, noise=2.5, seed=5)
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, 0.4)
    history: dict = {}
    train_set = lgb.Dataset(X[:600], weight=w[:600])
    valid = lgb.Dataset(X[600:], weight=w[600:], reference=train_set)
    booster = flgb.train(loss, dict(BASE, num_leaves=31, min_data_in_leaf=2), train_set, 300, valid_sets=[valid],
                         label_matrix=Y[:600], valid_label_matrices=[Y[600:]],
                         callbacks=[lgb.early_stopping(5, verbose=False), lgb.record_evaluation(history)])
    curve = np.asarray(history["valid_0"]["focal_loss"])
    assert len(curve) < 300 and booster.best_iteration == int(np.argmin(curve)) + 1
    for it in (1, booster.best_iteration):
        assert curve[it - 1] == pytest.approx(loss.eval(Y[600:], _raw(booster, X[600:], num_iteration=it),
                                                        w[600:]), rel=1e-9)


def test_train_refuses_bad_setups():
    X, Y = make_multilabel()
    loss = FocalLoss()
    with pytest.raises(ValueError, match="train_set: a multi-label Dataset must not have a label"):
        flgb.train(loss, BASE, lgb.Dataset(X, label=Y[:, 0]), 2, label_matrix=Y)
    with pytest.raises(ValueError, match="num_class"):
        flgb.train(loss, dict(BASE, num_class=4), lgb.Dataset(X), 2, label_matrix=Y)
    with pytest.raises(ValueError, match="label_matrix must be"):
        flgb.train(loss, BASE, lgb.Dataset(X), 2, label_matrix=Y[:, 0])
    with pytest.raises(ValueError, match="valid_label_matrices must be"):
        flgb.train(loss, BASE, lgb.Dataset(X), 2, valid_sets=[lgb.Dataset(X)], label_matrix=Y)
    with pytest.raises(ValueError, match="label_matrix is not"):
        flgb.train(loss, BASE, lgb.Dataset(X, label=Y[:, 0]), 2, valid_label_matrices=[Y])
    with pytest.raises(ValueError, match="builtin LightGBM metrics"):
        flgb.train(loss, dict(BASE, metric="binary_logloss"), lgb.Dataset(X), 2, label_matrix=Y)
    with pytest.raises(ValueError, match=r"valid_sets\[0\]: y must lie in \[0, 1\]"):
        flgb.train(loss, BASE, lgb.Dataset(X), 2, valid_sets=[lgb.Dataset(X)], label_matrix=Y,
                   valid_label_matrices=[Y * 2])
    with pytest.raises(ValueError, match="alpha"):
        flgb.train(FocalLoss(alpha=[0.5, 0.5]), BASE, lgb.Dataset(X), 2, label_matrix=Y)


def test_saved_model_predicts_raw_scores_and_sigmoids_without_focal_boost(tmp_path, run_plain_python):
    X, Y = make_multilabel(seed=4)
    booster = flgb.train(FocalLoss(2.0, (0.25, 0.5, 0.75)), BASE, lgb.Dataset(X), 12, label_matrix=Y)
    assert "objective=multiclassova num_class:3 sigmoid:1" in booster.model_to_string()
    booster.save_model(tmp_path / "model.txt")
    np.save(tmp_path / "X.npy", X)
    run_plain_python(f"""
        import numpy as np, lightgbm
        d = {str(tmp_path)!r}
        b = lightgbm.Booster(model_file=d + "/model.txt")
        X = np.load(d + "/X.npy")
        np.save(d + "/raw.npy", b.predict(X, raw_score=True))
        np.save(d + "/plain.npy", b.predict(X))
    """)
    raw = _raw(booster, X)
    assert raw.shape == (len(X), 3)
    np.testing.assert_array_equal(np.load(tmp_path / "raw.npy"), raw)
    np.testing.assert_allclose(np.load(tmp_path / "plain.npy"), expit(raw), rtol=1e-15, atol=1e-16)
