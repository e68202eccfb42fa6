"""focal_boost.catboost on the multi-label task (a ``MultiTargetCustomObjective`` with one sigmoid focal term per
label): the per-object derivatives and the metric against the core, parity with CatBoost's builtin MultiLogloss at
gamma=0, each label against the binary focal model where CatBoost's shared trees allow it, the init score stored as
the model's bias, the saved model read back in a process without focal_boost, and bad setups.

CatBoost calls the objective once per object (twice per iteration): the data stay tiny."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from focal_boost import FocalLoss

catboost = pytest.importorskip("catboost")
from catboost import CatBoost, Pool  # noqa: E402

from focal_boost.catboost import (  # noqa: E402
    FocalCatBoostClassifier,
    FocalMetric,
    FocalMultiLabelMetric,
    FocalMultiLabelObjective,
    FocalObjective,
    train,
)

from .conftest import ROW_PATHS, integer_weights, make_multilabel, row_path  # noqa: E402

# Deterministic CatBoost: one thread, no bootstrap, no random strength, fixed seed, no writing of catboost_info.
DET = dict(thread_count=1, bootstrap_type="No", random_strength=0, random_seed=7, verbose=0,
           allow_writing_files=False)


def raw_of(model, X):
    return np.asarray(model.predict(X, prediction_type="RawFormulaVal"), dtype=np.float64)


def _rows(rng, n_labels):
    """Raw score rows: ordinary, large and extreme (+-50, +-800: beyond the polynomial range)."""
    rows = [rng.normal(scale=s, size=n_labels) for s in (0.5, 2.0, 8.0) for _ in range(15)]
    rows += [np.full(n_labels, 50.0), np.full(n_labels, -50.0), np.zeros(n_labels),
             np.r_[800.0, -800.0, np.zeros(n_labels - 2)]]
    return np.array(rows)


# ------------------------------------------------------------------------------------- protocol vs the core's math
@pytest.mark.parametrize("compiled", ROW_PATHS)
@pytest.mark.parametrize("hessian", ["abs", "bound", "exact"])
@pytest.mark.parametrize(("gamma", "alpha"), [(2.0, None), (0.0, 0.3), (1.0, (0.25, 0.5, 0.75, 0.9)),
                                              (0.7, 0.6)])
@pytest.mark.parametrize("offset", [None, (0.5, -1.0, 2.0, -3.5)])
def test_calc_ders_multi_is_minus_core_grad_hess(compiled, hessian, gamma, alpha, offset):
    rng = np.random.default_rng(3)
    n_labels = 4
    loss = FocalLoss(gamma, alpha, hessian)
    obj = FocalMultiLabelObjective(loss, n_labels, offset=offset)
    raw = _rows(rng, n_labels)
    Y = (rng.random(raw.shape) < 0.4).astype(np.float64)
    w = np.where(np.arange(len(raw)) % 3 == 0, 1.0, rng.uniform(0.0, 3.0, size=len(raw)))
    w[5] = 0.0
    out = []
    with row_path(compiled):
        for i in range(len(raw)):
            der1, der2 = obj.calc_ders_multi(raw[i], Y[i], float(w[i]))
            out.append((der1, [list(r) for r in der2]))  # as CatBoost does: copied before the next call
        assert ("calc_ders_multi" in vars(obj)) == compiled  # the per-object function is installed with numba
    shifted = raw if offset is None else raw + np.asarray(offset)
    grad, hess = loss.grad_hess(Y, shifted, w)
    for i, (der1, der2) in enumerate(out):
        assert all(type(v) is float for v in der1) and len(der2) == n_labels
        np.testing.assert_allclose(der1, -grad[i], rtol=1e-12, atol=0, err_msg=f"row {i}")
        np.testing.assert_allclose(np.asarray(der2), np.diag(-hess[i]), rtol=1e-12, atol=0, err_msg=f"row {i}")
    if hessian == "exact" and gamma > 0:
        assert (hess < 0).any()  # not vacuous: the cases reach the region where the exact hessian is negative


@pytest.mark.parametrize("compiled", ROW_PATHS)
def test_calc_ders_multi_soft_labels_and_bad_input(compiled):
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    obj = FocalMultiLabelObjective(loss, 3, offset=[0.1, 0.2, 0.3])
    raw = np.array([0.3, -1.0, 2.0])
    with row_path(compiled):
        soft = np.array([0.3, 1.0, 0.0])
        der1, der2 = obj.calc_ders_multi(raw, soft, 2.0)  # a soft label takes the validated path
        grad, hess = loss.grad_hess(soft[None], (raw + np.array([0.1, 0.2, 0.3]))[None], [2.0])
        np.testing.assert_allclose(der1, -grad[0], rtol=1e-12)
        np.testing.assert_allclose(der2, np.diag(-hess[0]), rtol=1e-12)
        for label in (2.0, -1.0, float("nan")):
            with pytest.raises(ValueError, match=r"y must|NaN"):
                obj.calc_ders_multi(raw, np.array([0.0, label, 1.0]), 1.0)
        for weight in (-1.0, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="sample_weight"):
                obj.calc_ders_multi(raw, np.array([0.0, 1.0, 1.0]), weight)
        with pytest.raises(ValueError, match="4 raw score"):
            obj.calc_ders_multi(np.zeros(4), np.zeros(4), 1.0)
        obj.clear_cache()
        assert "calc_ders_multi" not in vars(obj)
        again = pickle.loads(pickle.dumps(obj))
        np.testing.assert_array_equal(again.offset, obj.offset)
        assert again.calc_ders_multi(raw, soft, 2.0)[0] == der1
    with pytest.raises(ValueError, match="alpha"):
        FocalMultiLabelObjective(FocalLoss(2.0, (0.2, 0.3)), 3)
    with pytest.raises(ValueError, match="offset"):
        FocalMultiLabelObjective(loss, 3, offset=[0.0, 1.0])
    with pytest.raises(ValueError, match="n_labels"):
        FocalMultiLabelMetric(FocalLoss(), 1)


def test_metric_matches_core_eval_in_chunks():
    rng = np.random.default_rng(4)
    n, n_labels = 500, 3
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    raw = rng.normal(size=(n, n_labels))
    Y = (rng.random((n, n_labels)) < 0.3).astype(np.float32)
    w = rng.random(n).astype(np.float32)
    offset = np.array([-1.0, 0.5, 2.0])
    metric = FocalMultiLabelMetric(loss, n_labels, offset=offset)
    assert metric.is_max_optimal() is False
    err = wsum = 0.0
    for lo in range(0, n, 170):  # CatBoost evaluates in chunks and sums the (error, weight) pairs
        e, s = metric.evaluate(tuple(raw[lo:lo + 170, j] for j in range(n_labels)),
                               tuple(Y[lo:lo + 170, j] for j in range(n_labels)), w[lo:lo + 170])
        err, wsum = err + e, wsum + s
    assert metric.get_final_error(err, wsum) == pytest.approx(loss.eval(Y, raw + offset, w), rel=1e-12)
    e, s = metric.evaluate(tuple(raw.T), tuple(Y.T), None)
    assert s == n and metric.get_final_error(e, s) == pytest.approx(loss.eval(Y, raw + offset), rel=1e-12)
    with pytest.raises(ValueError, match="2 raw score"):
        metric.evaluate(tuple(raw.T[:2]), tuple(Y.T[:2]), None)


# --------------------------------------------------------------------------------------- trainings against CatBoost
@pytest.mark.parametrize("method", ["Newton", "Gradient"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gamma0_objective_reproduces_builtin_multilogloss(method, weighted):
    """gamma=0, alpha=None is logloss per label: from the same start (0: catboost 1.2.10 refuses a baseline and
    boost_from_average for MultiLogloss) the objective trains CatBoost's MultiLogloss model."""
    X, Y = make_multilabel()
    w = integer_weights(len(Y)) if weighted else None
    params = dict(iterations=30, depth=4, learning_rate=0.3, leaf_estimation_method=method,
                  leaf_estimation_iterations=3, leaf_estimation_backtracking="No", boost_from_average=False, **DET)
    loss = FocalLoss(0.0)
    focal = CatBoost(dict(params, loss_function=FocalMultiLabelObjective(loss, 3),
                          eval_metric=FocalMultiLabelMetric(loss, 3))).fit(Pool(X, label=Y, weight=w))
    builtin = CatBoost(dict(params, loss_function="MultiLogloss")).fit(Pool(X, label=Y, weight=w))
    np.testing.assert_allclose(raw_of(focal, X), raw_of(builtin, X), rtol=0, atol=1e-10)
    assert np.abs(raw_of(builtin, X)).max() > 1.0  # the trees learned something


def test_gamma0_train_against_builtin_multilogloss_held_out():
    """train() starts from the per-label init score, MultiLogloss from 0 (it takes no baseline): different first
    trees, so the models differ, but trained to convergence both reach the same held-out log loss."""
    X, Y = make_multilabel(n_samples=1200, noise=1.5, seed=2)
    params = dict(iterations=150, depth=3, learning_rate=0.1, leaf_estimation_backtracking="No", **DET)
    loss = FocalLoss(0.0)
    focal = train(loss, params, Pool(X[:800], label=Y[:800]))
    builtin = CatBoost(dict(params, loss_function="MultiLogloss")).fit(Pool(X[:800], label=Y[:800]))
    raw_focal, raw_builtin = raw_of(focal, X[800:]), raw_of(builtin, X[800:])
    ll_focal, ll_builtin = loss.eval(Y[800:], raw_focal), loss.eval(Y[800:], raw_builtin)
    assert ll_focal == pytest.approx(ll_builtin, rel=0.02)
    assert np.corrcoef(raw_focal.ravel(), raw_builtin.ravel())[0, 1] > 0.98
    assert np.abs(raw_focal - raw_builtin).max() > 1e-3  # not the same model: the starts differ


def test_train_stores_the_init_score_as_bias_and_equals_the_native_route():
    X, Y = make_multilabel()
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    params = dict(iterations=15, depth=3, learning_rate=0.3, **DET)
    model = train(loss, params, Pool(X, label=Y, weight=w))
    init = loss.init_score(Y, w)
    scale, bias = model.get_scale_and_bias()
    assert scale == 1.0 and bias == init.tolist()  # float64, as computed
    native = CatBoost(dict(params, loss_function=FocalMultiLabelObjective(loss, 3, offset=init),
                           eval_metric=FocalMultiLabelMetric(loss, 3, offset=init), boost_from_average=False))
    native.fit(Pool(X, label=Y, weight=w))
    np.testing.assert_array_equal(raw_of(model, X), raw_of(native, X) + init)
    assert np.abs(raw_of(model, X) - init).max() > 0.1
    unthreaded = {k: v for k, v in params.items() if k != "thread_count"}
    assert train(loss, unthreaded, Pool(X, label=Y)).get_params()["thread_count"] == 1  # the per-object default


def test_each_label_is_the_binary_model_when_the_labels_are_equal():
    """CatBoost grows one tree structure for all L labels, so a label is its own binary model only when every label
    sees the same gradients: L copies of one label column, same alpha. Then each column's raw scores are the binary
    focal model's (from its float32 baseline: within float32 rounding of the init score)."""
    X, Y = make_multilabel()
    y = Y[:, 1].astype(np.float64)
    loss = FocalLoss(2.0, 0.3)
    params = dict(iterations=20, depth=4, learning_rate=0.3, **DET)
    multi = train(loss, params, Pool(X, label=np.column_stack([y, y, y])))
    init = loss.init_score(y)
    binary = CatBoost(dict(params, loss_function=FocalObjective(loss), eval_metric=FocalMetric(loss),
                           boost_from_average=False)).fit(Pool(X, label=y, baseline=np.full(len(y), init)))
    raw = raw_of(multi, X)
    expected = raw_of(binary, X) + np.float32(init)
    for j in range(3):
        np.testing.assert_allclose(raw[:, j], expected, rtol=0, atol=1e-6)
    assert np.abs(expected - init).max() > 0.5


def test_early_stopping_on_the_last_eval_set():
    X, Y = make_multilabel(n_samples=900, noise=2.5, seed=5)
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, 0.4)
    model = train(loss, dict(iterations=300, depth=4, learning_rate=0.5, **DET),
                  Pool(X[:600], label=Y[:600], weight=w[:600]),
                  [Pool(X[:600], label=Y[:600]), Pool(X[600:], label=Y[600:], weight=w[600:])],
                  early_stopping_rounds=5)
    curve = np.asarray(model.get_evals_result()["validation_1"]["FocalMultiLabelMetric"])
    best = model.get_best_iteration()
    assert len(curve) < 300 and best == int(np.argmin(curve)) and model.tree_count_ == best + 1
    assert curve[best] == pytest.approx(loss.eval(Y[600:], raw_of(model, X[600:]), w[600:]), rel=1e-9)


def test_saved_model_predicts_the_raw_scores_without_focal_boost(tmp_path, run_plain_python):
    X, Y = make_multilabel(seed=4)
    loss = FocalLoss(2.0, (0.25, 0.5, 0.75))
    model = train(loss, dict(iterations=12, depth=3, **DET), Pool(X, label=Y))
    model.save_model(str(tmp_path / "model.cbm"))
    np.save(tmp_path / "X.npy", X)
    run_plain_python(f"""
        import numpy as np, catboost
        d = {str(tmp_path)!r}
        m = catboost.CatBoost().load_model(d + "/model.cbm")
        X = np.load(d + "/X.npy")
        np.save(d + "/raw.npy", m.predict(X, prediction_type="RawFormulaVal"))
        np.save(d + "/plain.npy", m.predict(X))
        np.save(d + "/bias.npy", np.asarray(m.get_scale_and_bias()[1]))
    """)
    raw = raw_of(model, X)
    assert raw.shape == (len(X), 3)
    np.testing.assert_array_equal(np.load(tmp_path / "raw.npy"), raw)
    np.testing.assert_array_equal(np.load(tmp_path / "plain.npy"), raw)  # CatBoost's default: raw scores
    np.testing.assert_array_equal(np.load(tmp_path / "bias.npy"), loss.init_score(Y))


def test_classifier_equals_native_train_and_warns_on_threads():
    X, Y = make_multilabel()
    w = integer_weights(len(Y))
    loss = FocalLoss(2.0, 0.3)
    clf = FocalCatBoostClassifier(alpha=0.3, iterations=8, depth=3, random_seed=7, bootstrap_type="No")
    clf.fit(X, Y, sample_weight=w)
    native = train(loss, dict(iterations=8, depth=3, random_seed=7, bootstrap_type="No", verbose=0,
                              allow_writing_files=False), Pool(X, label=Y, weight=w))
    np.testing.assert_array_equal(clf.decision_function(X), raw_of(native, X))
    assert clf.booster_.get_params()["thread_count"] == 1 and clf.builtin_loss_ is None
    with pytest.warns(UserWarning, match="multi-label focal objective.*queue for the GIL"):
        FocalCatBoostClassifier(iterations=2, thread_count=2).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FocalCatBoostClassifier(iterations=2).fit(X, Y)  # quiet by default
    with pytest.raises(ValueError, match="eval_metric"):
        FocalCatBoostClassifier(iterations=2, eval_metric="MultiLogloss").fit(X, Y)


def test_train_refuses_bad_setups():
    X, Y = make_multilabel()
    pool = Pool(X, label=Y)
    loss = FocalLoss()
    with pytest.raises(ValueError, match=r"\(n, L\) label matrix"):
        train(loss, dict(DET), Pool(X, label=Y[:, 0]))
    for name, value in (("loss_function", "MultiLogloss"), ("eval_metric", "MultiLogloss"),
                        ("custom_metric", ["HammingLoss"]), ("classes_count", 3)):
        with pytest.raises(ValueError, match=name):
            train(loss, {**DET, name: value}, pool)
    with pytest.raises(ValueError, match="boost_from_average"):
        train(loss, {**DET, "boost_from_average": True}, pool)
    with pytest.raises(ValueError, match="baseline"):
        train(loss, dict(DET), pool, baseline=np.zeros(Y.shape))
    with pytest.raises(ValueError, match=r"catboost\.Pool"):
        train(loss, dict(DET), X)
    with pytest.raises(ValueError, match="loss must be"):
        train("MultiLogloss", dict(DET), pool)
    with pytest.raises(ValueError, match="alpha"):
        train(FocalLoss(2.0, (0.2, 0.3)), dict(DET), pool)
    with pytest.raises(ValueError, match=r"eval_set\[0\] has 2 label columns"):
        train(loss, dict(DET), pool, Pool(X, label=Y[:, :2]))
    with pytest.raises(ValueError, match=r"pool: .*y must lie in \[0, 1\]"):
        train(loss, dict(DET), Pool(X, label=Y * 2.0))
    empty = Y.copy()
    empty[:, 1] = 0
    with pytest.raises(ValueError, match="label 1"):
        train(loss, dict(DET), Pool(X, label=empty))
