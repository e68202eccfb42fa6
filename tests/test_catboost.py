"""CatBoost adapter: protocol signs and weights against the core, builtin Focal parity, init score, portable models,
weights vs repeated rows, early stopping, and the scikit-learn classifier contract.

Multiclass CatBoost calls the Python objective once per row (twice per iteration), so multiclass data stay tiny.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from focal_boost import FocalLoss, _kernels, _math

catboost = pytest.importorskip("catboost")
from catboost import CatBoost, Pool  # noqa: E402

from focal_boost.catboost import (  # noqa: E402
    FocalCatBoostClassifier,
    FocalMetric,
    FocalObjective,
    builtin_learning_rate,
    builtin_loss_function,
)

from .conftest import ROW_PATHS, row_path  # noqa: E402

# Deterministic CatBoost: one thread, no bootstrap, fixed seed, no writing of catboost_info.
DET = dict(thread_count=1, bootstrap_type="No", random_seed=7, verbose=0, allow_writing_files=False)


def raw_of(model, X):
    return np.asarray(model.predict(X, prediction_type="RawFormulaVal"), dtype=np.float64)


@pytest.fixture(scope="module")
def cb_binary():
    rng = np.random.default_rng(0)
    n = 1500
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + 0.7 * X[:, 1] + rng.normal(size=n) > 2.2).astype(float)  # ~7% positives
    w = rng.integers(1, 4, size=n).astype(float)
    return X, y, w


@pytest.fixture(scope="module")
def cb_multi():
    rng = np.random.default_rng(1)
    n, k = 150, 3
    y = rng.choice(k, size=n, p=[0.6, 0.3, 0.1])
    X = rng.normal(size=(n, 4))
    X[:, 0] += y
    return X, y


# ------------------------------------------------------------------------------------- protocol vs the core's math
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("hessian", ["bound", "exact"])
def test_calc_ders_range_is_minus_core_grad_hess(alpha, weighted, hessian):
    rng = np.random.default_rng(2)
    n = 300
    raw = rng.normal(scale=3.0, size=n)
    y = (rng.random(n) < 0.2).astype(np.float32)
    w = rng.random(n).astype(np.float32) * 3 if weighted else None
    loss = FocalLoss(2.0, alpha, hessian)
    obj = FocalObjective(loss)
    out = obj.calc_ders_range(raw, y, w)
    grad, hess = loss.grad_hess(y, raw, w)
    assert isinstance(out, np.ndarray) and out.shape == (n, 2) and out.dtype == np.float64
    np.testing.assert_array_equal(out[:, 0], -grad)
    np.testing.assert_array_equal(out[:, 1], -hess)
    # A second call on other labels of the same length (and on soft labels) must not reuse the first target.
    y2 = 1 - y
    np.testing.assert_array_equal(obj.calc_ders_range(raw, y2, w)[:, 0], -loss.grad(y2, raw, w))
    soft = rng.random(n).astype(np.float32)
    np.testing.assert_array_equal(obj.calc_ders_range(raw, soft, w)[:, 1], -loss.hess(soft, raw, w))


@pytest.fixture
def compiled_chunks():
    """The numba path for CatBoost's small binary chunks (objectives made with compiled=True, as the classifier
    makes them on large trainings)."""
    if not _kernels.AVAILABLE:
        pytest.skip("numba missing")


@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("hessian", ["abs", "bound", "exact"])
def test_calc_ders_range_compiled_chunks_match_the_core(compiled_chunks, alpha, weighted, hessian):
    rng = np.random.default_rng(12)
    n = 500
    raw = np.r_[rng.normal(scale=4.0, size=n - 4), 50.0, -50.0, 30.0, -30.0]
    y = (rng.random(n) < 0.2).astype(np.float32)
    w = (rng.random(n) * 3).astype(np.float32) if weighted else None
    loss = FocalLoss(2.0, alpha, hessian)
    obj = FocalObjective(loss, compiled=True)
    out = obj.calc_ders_range(raw, y, w)
    assert not obj._cache._items  # the kernel path: no prepared target was cached
    assert "calc_ders_range" in vars(obj)  # installed: CatBoost's later calls skip the method's frame
    with row_path(False):  # the core's numpy path as the reference
        grad, hess = loss.grad_hess(y, raw, w)
    assert out.shape == (n, 2) and out.dtype == np.float64
    np.testing.assert_allclose(out[:, 0], -grad, rtol=1e-12, atol=0)
    np.testing.assert_allclose(out[:, 1], -hess, rtol=1e-12, atol=0)
    # soft labels and bad weights take the validated path: the core's soft-label numbers, the core's errors
    soft = rng.random(n).astype(np.float32)
    np.testing.assert_array_equal(obj.calc_ders_range(raw, soft, w)[:, 1], -loss.hess(soft, raw, w))
    with pytest.raises(ValueError, match="sample_weight"):
        obj.calc_ders_range(raw, y, np.full(n, -1.0, dtype=np.float32))
    with pytest.raises(ValueError, match="y must lie in"):
        obj.calc_ders_range(raw, y * 3, w)
    obj.clear_cache()
    assert "calc_ders_range" not in vars(obj)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(obj)).calc_ders_range(raw, y, w), out)


def test_binary_training_with_compiled_chunks_equals_the_validated_path(compiled_chunks, cb_binary):
    X, y, w = cb_binary
    loss = FocalLoss(2.0, 0.25, "abs")
    params = dict(loss_function=FocalObjective(loss, compiled=True), eval_metric="Logloss", iterations=20, depth=4,
                  **DET)
    pool = Pool(X, y, weight=w, baseline=np.full(len(y), loss.init_score(y, w)))
    fast = CatBoost(params).fit(pool)
    with row_path(False):
        reference = CatBoost(dict(params, loss_function=FocalObjective(loss, compiled=True))).fit(pool)
    assert np.abs(raw_of(fast, X) - raw_of(reference, X)).max() <= 1e-10
    assert np.abs(raw_of(fast, X) - loss.init_score(y, w)).max() > 0.1  # the trees moved the scores


# The per-object multiclass path: the numba kernel (when installed) and the core's numpy path, each against the core.


def _row_cases(rng, k):
    """Raw score rows: ordinary, large, and extreme (+-50, ties, one class far ahead or far behind)."""
    rows = [rng.normal(scale=s, size=k) for s in (0.5, 2.0, 8.0) for _ in range(20)]
    rows += [np.array([50.0, -50.0] * k)[:k], np.array([-50.0, 50.0] * k)[:k], np.zeros(k), np.full(k, 50.0),
             np.r_[50.0, np.full(k - 1, -50.0)], np.r_[-50.0, np.full(k - 1, 50.0)], np.r_[1.0, 1.0, np.zeros(k - 2)]]
    return rows


@pytest.mark.parametrize("compiled", ROW_PATHS)
@pytest.mark.parametrize("hessian", ["abs", "bound", "exact"])
@pytest.mark.parametrize(("gamma", "alpha"), [(2.0, None), (0.0, None), (1.0, (0.5, 1.0, 2.0, 0.0)),
                                              (0.7, (1.0, 3.0, 0.25, 1.0))])
def test_calc_ders_multi_is_minus_core_diagonal(compiled, hessian, gamma, alpha):
    rng = np.random.default_rng(3)
    k = 4
    loss = FocalLoss(gamma, alpha, hessian)
    obj = FocalObjective(loss, n_classes=k)
    rows = _row_cases(rng, k)
    labels = [float(i % k) for i in range(len(rows))]
    weights = [1.0 if i % 3 == 0 else float(rng.uniform(0.0, 3.0)) for i in range(len(rows))]
    out = []
    with row_path(compiled):
        for raw, label, weight in zip(rows, labels, weights, strict=True):
            der1, der2 = obj.calc_ders_multi(raw, label, weight)
            out.append((der1, [list(r) for r in der2]))  # as CatBoost does: copied before the next call
    grad, hess = loss.grad_hess(labels, np.array(rows), weights)
    for i, (der1, der2) in enumerate(out):
        assert isinstance(der1, list) and isinstance(der2, list) and all(isinstance(r, list) for r in der2)
        assert all(type(v) is float for v in der1) and len(der2) == k and all(len(r) == k for r in der2)
        np.testing.assert_allclose(der1, -grad[i], rtol=1e-12, atol=0, err_msg=f"row {i}")
        np.testing.assert_allclose(np.asarray(der2), np.diag(-hess[i]), rtol=1e-12, atol=0, err_msg=f"row {i}")
    # Not vacuous: the cases reach the safeguard's region (for "exact": a negative diagonal entry) and weight 0.
    if hessian == "exact" and gamma > 0:
        assert (hess < 0).any()


@pytest.mark.parametrize("compiled", ROW_PATHS)
def test_calc_ders_multi_checks_its_input_and_its_task(compiled):
    obj = FocalObjective(FocalLoss(2.0), n_classes=3)
    raw = np.array([0.3, -1.0, 2.0])
    with row_path(compiled):
        for label in (3.0, -1.0, 0.5, float("nan")):
            with pytest.raises(ValueError, match=r"y must (hold integer class labels in 0\.\.2|not contain NaN)"):
                obj.calc_ders_multi(raw, label, 1.0)
        for weight in (-1.0, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="sample_weight must be finite"):
                obj.calc_ders_multi(raw, 1.0, weight)
        z = np.linspace(-1.0, 1.0, 3)
        der1, _ = obj.calc_ders_multi(z, 1.0, 2.0)
        np.testing.assert_allclose(der1, -FocalLoss(2.0).grad([1], z[None], [2.0])[0], rtol=1e-12)
        # the task is fixed when the objective is made: another K is an error, not a silent rebuild
        with pytest.raises(ValueError, match="5 raw score"):
            obj.calc_ders_multi(np.zeros(5), 1.0, 1.0)
        # with numba the per-object function is installed (CatBoost calls it without the method's frame)
        assert ("calc_ders_multi" in vars(obj)) == compiled
        obj.clear_cache()
        assert "calc_ders_multi" not in vars(obj)
        pickle.loads(pickle.dumps(obj)).calc_ders_multi(raw, 0.0, 1.0)
        with pytest.raises(ValueError, match="4 raw score"):
            FocalObjective(FocalLoss(2.0, [1, 2, 3])).calc_ders_multi(np.zeros(4), 0.0, 1.0)
        with pytest.raises(ValueError, match="binary weight"):
            FocalObjective(FocalLoss(2.0, 0.25), n_classes=3)


def test_calc_ders_multi_rows_are_kept_per_thread():
    """The compiled function rewrites one thread's K x K lists on each call (CatBoost copies them at once); calls
    from another thread (CatBoost's other workers) never touch them."""
    import threading

    loss = FocalLoss(2.0, (1.0, 2.0, 0.5))
    obj = FocalObjective(loss, n_classes=3)
    first = np.array([0.3, -1.0, 2.0])
    with row_path(True):
        _, rows = obj.calc_ders_multi(first, 0.0, 1.0)
        kept = [list(r) for r in rows]
        other: dict[str, object] = {}

        def call_elsewhere():
            other["rows"] = obj.calc_ders_multi(np.array([5.0, 0.0, -5.0]), 2.0, 3.0)[1]

        thread = threading.Thread(target=call_elsewhere)
        thread.start()
        thread.join()
        assert rows == kept and other["rows"] is not rows and other["rows"] != kept
        _, again = obj.calc_ders_multi(np.array([5.0, 0.0, -5.0]), 2.0, 3.0)
    assert again is rows and rows == other["rows"]  # this thread's lists, rewritten
    _, hess = loss.grad_hess([2], np.array([[5.0, 0.0, -5.0]]), [3.0])
    np.testing.assert_allclose(np.asarray(rows), np.diag(-hess[0]), rtol=1e-12, atol=0)


class _ReferenceMulti:
    """The multiclass objective as it was before the per-object function: the core's numpy kernel on the
    one-row target (numpy path), negated; the reference for whole trainings."""

    no_jit = True

    def __init__(self, loss):
        self.loss = loss

    def calc_ders_multi(self, approx, target, weight):
        t = self.loss.prepare_target(np.array([target]), np.array([weight]), approx.shape[0])
        raw = np.asarray(approx, dtype=np.float64)[None, :]
        grad, hess = _math.softmax_grad_hess(raw, t.labels, t.row_weight, t.task.gamma, t.task.mode)
        return (-grad[0]).tolist(), np.diag(-hess[0]).tolist()


@pytest.mark.parametrize("compiled", ROW_PATHS)
@pytest.mark.parametrize(("hessian", "alpha", "weighted"), [("abs", None, False), ("bound", (1.0, 2.0, 0.5), True),
                                                          ("exact", None, True)])
def test_multiclass_training_equals_the_reference_objective(cb_multi, compiled, hessian, alpha, weighted):
    X, y = cb_multi
    w = np.random.default_rng(8).uniform(0.2, 3.0, size=len(y)) if weighted else None
    loss = FocalLoss(2.0, alpha, hessian)
    base = np.tile(loss.init_score(y, w, 3), (len(y), 1))
    params = dict(eval_metric="MultiClass", classes_count=3, iterations=12, depth=3, **DET)
    with row_path(compiled):
        new = CatBoost(dict(params, loss_function=FocalObjective(loss, n_classes=3))).fit(Pool(X, y, weight=w,
                                                                                                baseline=base))
    ref = CatBoost(dict(params, loss_function=_ReferenceMulti(loss))).fit(Pool(X, y, weight=w, baseline=base))
    assert np.abs(raw_of(new, X) - raw_of(ref, X)).max() <= 1e-10
    assert np.abs(raw_of(new, X)).max() > 0.05  # the trees moved the scores


@pytest.mark.parametrize("multiclass", [False, True])
def test_metric_matches_core_eval(multiclass):
    rng = np.random.default_rng(4)
    n = 500
    w = rng.random(n).astype(np.float32)
    if multiclass:
        raw = rng.normal(size=(n, 4))
        y = rng.integers(0, 4, size=n).astype(np.float32)
        approxes = tuple(raw[:, j] for j in range(4))
        loss = FocalLoss(2.0, None)
    else:
        raw = rng.normal(size=n)
        y = (rng.random(n) < 0.3).astype(np.float32)
        approxes = (raw,)
        loss = FocalLoss(2.0, 0.3)
    metric = FocalMetric(loss, 4 if multiclass else None)
    assert metric.is_max_optimal() is False
    # CatBoost evaluates in chunks and sums the (error, weight) pairs.
    err = wsum = 0.0
    for lo in range(0, n, 170):
        e, s = metric.evaluate(tuple(a[lo:lo + 170] for a in approxes), y[lo:lo + 170], w[lo:lo + 170])
        err, wsum = err + e, wsum + s
    assert metric.get_final_error(err, wsum) == pytest.approx(loss.eval(y, raw, w), rel=1e-12)
    e, s = metric.evaluate(approxes, y, None)
    assert s == n and metric.get_final_error(e, s) == pytest.approx(loss.eval(y, raw), rel=1e-12)


def test_objective_and_metric_pickle_and_reject_bad_input():
    loss = FocalLoss(2.0, 0.25)
    obj, metric = FocalObjective(loss), FocalMetric(loss)
    raw, y = np.linspace(-3, 3, 50), (np.arange(50) % 5 == 0).astype(np.float32)
    first = obj.calc_ders_range(raw, y, None)
    obj2, metric2 = pickle.loads(pickle.dumps(obj)), pickle.loads(pickle.dumps(metric))
    np.testing.assert_array_equal(obj2.calc_ders_range(raw, y, None), first)
    assert metric2.evaluate((raw,), y, None) == metric.evaluate((raw,), y, None)
    with pytest.raises(ValueError, match="y must lie in"):
        obj.calc_ders_range(raw, y * 3, None)
    with pytest.raises(ValueError, match="sample_weight"):
        obj.calc_ders_range(raw, y, -np.ones(50, dtype=np.float32))
    with pytest.raises(ValueError, match="classes_count=3"):
        FocalObjective(FocalLoss(2.0, [1, 1, 1])).calc_ders_range(raw, y, None)
    with pytest.raises(ValueError, match="loss must be"):
        FocalObjective("Logloss")


def test_native_training_is_quiet_and_uses_weights(cb_binary):
    """No numba/jit warnings from CatBoost; Pool weights reach the objective (weighted != unweighted model)."""
    X, y, w = cb_binary
    loss = FocalLoss(2.0, None)
    params = dict(loss_function=FocalObjective(loss), eval_metric=FocalMetric(loss), iterations=10, **DET)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = CatBoost(params).fit(Pool(X, y))
        weighted = CatBoost(params).fit(Pool(X, y, weight=w))
    assert np.abs(raw_of(plain, X) - raw_of(weighted, X)).max() > 1e-3


# ----------------------------------------------------------------------------------------------- builtin Focal
@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (0.7, 0.5)])
@pytest.mark.parametrize("weighted", [False, True])
def test_python_objective_trains_the_builtin_focal_model(cb_binary, alpha, gamma, weighted):
    X, y, w = cb_binary
    w = w if weighted else None
    loss = FocalLoss(gamma, alpha, "exact")
    base = np.full(len(y), loss.init_score(y, w))
    common = dict(iterations=40, depth=4, eval_metric="Logloss", **DET)
    python = CatBoost(dict(loss_function=FocalObjective(loss), **common)).fit(Pool(X, y, weight=w, baseline=base))
    builtin = CatBoost(dict(loss_function=builtin_loss_function(loss), **common))
    builtin.fit(Pool(X, y, weight=w, baseline=base))
    assert builtin.get_all_params()["loss_function"].startswith("Focal:")
    diff = np.abs(raw_of(python, X) - raw_of(builtin, X)).max()
    assert diff <= 1e-9
    # Not vacuous: the trees moved the scores well away from the baseline.
    assert np.abs(raw_of(python, X) - base).max() > 0.1


def test_builtin_matches_any_hessian_when_catboost_reads_no_hessian(cb_binary):
    X, y, _ = cb_binary
    common = dict(iterations=30, depth=4, eval_metric="Logloss", leaf_estimation_method="Gradient", **DET)
    bound = FocalLoss(2.0, 0.25, "bound")
    assert builtin_loss_function(bound, common) == "Focal:focal_alpha=0.25;focal_gamma=2.0"
    base = np.full(len(y), bound.init_score(y))
    python = CatBoost(dict(loss_function=FocalObjective(bound), **common)).fit(Pool(X, y, baseline=base))
    builtin = CatBoost(dict(loss_function=builtin_loss_function(bound, common), **common))
    builtin.fit(Pool(X, y, baseline=base))
    assert np.abs(raw_of(python, X) - raw_of(builtin, X)).max() <= 1e-9
    # With Newton leaves the builtin's (exact, sometimes negative) hessian is not "bound": a different model.
    newton = dict(common, leaf_estimation_method="Newton")
    assert builtin_loss_function(bound, newton) is None
    py_newton = CatBoost(dict(loss_function=FocalObjective(bound), **newton)).fit(Pool(X, y, baseline=base))
    bi_newton = CatBoost(dict(loss_function="Focal:focal_alpha=0.25;focal_gamma=2.0", **newton))
    bi_newton.fit(Pool(X, y, baseline=base))
    assert np.abs(raw_of(py_newton, X) - raw_of(bi_newton, X)).max() > 1e-4


@pytest.mark.parametrize(
    ("loss", "params"),
    [
        (FocalLoss(2.0, None, "exact"), {}),  # alpha=None is twice the builtin's alpha=0.5, not the same loss
        (FocalLoss(0.0, 0.25, "exact"), {}),  # the builtin needs gamma > 0
        (FocalLoss(2.0, [1.0, 2.0, 1.0], "exact"), {}),  # multiclass
        (FocalLoss(2.0, 0.25, "bound"), {}),  # Newton reads the hessian, the builtin's is the exact one
        (FocalLoss(2.0, 0.25, "abs"), {"leaf_estimation_method": "Gradient", "score_function": "NewtonL2"}),
        (FocalLoss(2.0, 0.25, "exact"), {"task_type": "GPU"}),
    ],
)
def test_builtin_not_used_when_it_differs(loss, params):
    assert builtin_loss_function(loss, params) is None


@pytest.mark.parametrize("hessian", ["exact", "bound"])
def test_classifier_equals_native_python_objective_from_init_score(cb_binary, hessian):
    """The classifier (builtin Focal for hessian="exact", the Python objective for "bound") trains the model that
    native CatBoost trains with FocalObjective from a Pool baseline at the init score."""
    X, y, w = cb_binary
    params = dict(iterations=30, depth=4, learning_rate=0.1, **DET)
    clf = FocalCatBoostClassifier(gamma=2.0, alpha=0.25, hessian=hessian, **params).fit(X, y, sample_weight=w)
    expected_builtin = "Focal:focal_alpha=0.25;focal_gamma=2.0" if hessian == "exact" else None
    assert clf.builtin_loss_ == expected_builtin
    loss = FocalLoss(2.0, 0.25, hessian)
    init = loss.init_score(y, w)
    native = CatBoost(dict(loss_function=FocalObjective(loss), eval_metric=FocalMetric(loss), **params))
    native.fit(Pool(X, y, weight=w, baseline=np.full(len(y), init)))
    # The Pool held float32(init); the classifier's model stores that value as its bias.
    assert np.abs(clf.decision_function(X) - (raw_of(native, X) + np.float32(init))).max() <= 1e-9


def test_multiclass_trains_on_one_thread_unless_told(cb_binary, cb_multi):
    """CatBoost's per-object Python calls queue for the GIL on several threads: multiclass training defaults to
    thread_count=1; a given thread_count / n_jobs is kept, binary keeps CatBoost's default, get_params is untouched,
    and the trees do not depend on it."""
    X, y = cb_multi
    params = dict(iterations=8, depth=3, random_seed=0, verbose=False, allow_writing_files=False)
    default = FocalCatBoostClassifier(gamma=2.0, **params).fit(X, y)
    assert default.booster_.get_params()["thread_count"] == 1
    assert "thread_count" not in default.get_params()
    with pytest.warns(UserWarning, match="queue for the GIL"):  # the cost, told (tests/test_input.py)
        told = FocalCatBoostClassifier(gamma=2.0, n_jobs=2, **params).fit(X, y)
    assert told.booster_.get_params()["thread_count"] == 2
    np.testing.assert_allclose(told.decision_function(X), default.decision_function(X), rtol=0, atol=1e-12)
    Xb, yb, _ = cb_binary
    binary = FocalCatBoostClassifier(gamma=2.0, hessian="bound", **params).fit(Xb, yb)
    assert binary.builtin_loss_ is None and "thread_count" not in binary.booster_.get_params()


# ----------------------------------------------------------------------------- init score, portability, weights
PLAIN_CATBOOST = """
import numpy as np
from catboost import CatBoost
model = CatBoost()
model.load_model({model!r})
np.save({out!r}, np.asarray(model.predict(np.load({x!r}), prediction_type="RawFormulaVal"), dtype=np.float64))
"""


@pytest.mark.parametrize("case", ["binary-python", "binary-builtin", "multiclass"])
def test_saved_model_predicts_init_score_in_plain_catboost(tmp_path, run_plain_python, cb_binary, cb_multi, case):
    if case == "multiclass":
        X, y = cb_multi
        clf = FocalCatBoostClassifier(iterations=8, **DET).fit(X, y)
    else:
        X, y, _ = cb_binary
        kw = dict(alpha=0.25, hessian="exact") if case == "binary-builtin" else {}
        clf = FocalCatBoostClassifier(iterations=20, **kw, **DET).fit(X, y)
        assert (clf.builtin_loss_ is not None) == (case == "binary-builtin")
    model_file, x_file, out_file = tmp_path / "m.cbm", tmp_path / "x.npy", tmp_path / "raw.npy"
    clf.model_.save_model(str(model_file))
    np.save(x_file, X)
    # A fresh interpreter that imports catboost only (the fixture asserts focal_boost was never imported).
    run_plain_python(PLAIN_CATBOOST.format(model=str(model_file), x=str(x_file), out=str(out_file)))
    raw = np.load(out_file)
    expected = clf.decision_function(X)
    assert raw.shape == expected.shape
    assert np.abs(raw - expected).max() <= 1e-9
    # The init score is in there: the stored bias is the (non-zero) loss-minimising constant, rounded to float32
    # as CatBoost's Pool baseline that training started from.
    _, bias = clf.model_.get_scale_and_bias()
    np.testing.assert_array_equal(bias, np.float32(clf.init_score_))
    assert np.abs(np.asarray(clf.init_score_)).min() > 0.1


def test_training_starts_from_init_score(cb_binary):
    """With a tiny learning rate (CatBoost refuses < 1e-6) the trees add almost nothing: raw scores stay at the
    weighted init score, far from CatBoost's default start at 0."""
    X, y, w = cb_binary
    clf = FocalCatBoostClassifier(alpha=0.3, iterations=3, learning_rate=1e-6, **DET).fit(X, y, sample_weight=w)
    expected = FocalLoss(2.0, 0.3).init_score(y, w)
    assert abs(expected) > 0.5
    np.testing.assert_allclose(clf.decision_function(X[:20]), expected, rtol=0, atol=1e-4)


# CatBoost 1.2.10 multiplies l2_leaf_reg by the mean row weight (sum of weights / number of rows) and scales the
# random_strength noise with the data, so a weighted pool and its row repetition only train the same model with
# both at 0; with bootstrap off, one thread and every distinct feature value a border (values rounded to one
# decimal, border_count 254), the remaining differences are summation order, ~1e-15.
WEIGHT_PARAMS = dict(l2_leaf_reg=0, random_strength=0, border_count=254, depth=3, **DET)


def test_integer_weights_equal_row_repetition_native(cb_binary):
    X, y, w = cb_binary
    X = np.round(X, 1)
    reps = w.astype(int)
    Xr, yr = np.repeat(X, reps, axis=0), np.repeat(y, reps)
    loss = FocalLoss(2.0, 0.3)
    params = dict(loss_function=FocalObjective(loss), eval_metric=FocalMetric(loss), iterations=25, **WEIGHT_PARAMS)
    weighted = CatBoost(params).fit(Pool(X, y, weight=w, baseline=np.full(len(y), loss.init_score(y, w))))
    repeated = CatBoost(params).fit(Pool(Xr, yr, baseline=np.full(len(yr), loss.init_score(yr))))
    assert np.abs(raw_of(weighted, X) - raw_of(repeated, X)).max() <= 1e-9


@pytest.mark.parametrize("multiclass", [False, True])
def test_integer_weights_equal_row_repetition_classifier(cb_binary, cb_multi, multiclass):
    if multiclass:
        X, y = cb_multi
        w = np.random.default_rng(5).integers(1, 3, size=len(y)).astype(float)
        n_iter = 6
    else:
        X, y, w = cb_binary
        n_iter = 25
    X = np.round(X, 1)
    reps = w.astype(int)
    weighted = FocalCatBoostClassifier(iterations=n_iter, **WEIGHT_PARAMS).fit(X, y, sample_weight=w)
    repeated = FocalCatBoostClassifier(iterations=n_iter, **WEIGHT_PARAMS).fit(
        np.repeat(X, reps, axis=0), np.repeat(y, reps)
    )
    np.testing.assert_allclose(weighted.init_score_, repeated.init_score_, rtol=0, atol=1e-12)
    assert np.abs(weighted.decision_function(X) - repeated.decision_function(X)).max() <= 1e-9
    unweighted = FocalCatBoostClassifier(iterations=n_iter, **WEIGHT_PARAMS).fit(X, y)
    assert np.abs(weighted.decision_function(X) - unweighted.decision_function(X)).max() > 1e-3


# ----------------------------------------------------------------------------------------------- early stopping
def test_early_stopping_native(cb_binary):
    X, y, _ = cb_binary
    loss = FocalLoss(2.0, 0.25)
    params = dict(loss_function=FocalObjective(loss), eval_metric=FocalMetric(loss), iterations=400,
                  learning_rate=0.5, early_stopping_rounds=5, use_best_model=False, **DET)
    init = loss.init_score(y[:1000])
    model = CatBoost(params)
    model.fit(Pool(X[:1000], y[:1000], baseline=np.full(1000, init)),
              eval_set=Pool(X[1000:], y[1000:], baseline=np.full(500, init)))
    best = model.get_best_iteration()
    assert model.tree_count_ == best + 5 + 1 < 400
    # CatBoost's record of the metric is the core's focal loss of the staged raw scores plus the init score.
    # catboost 1.2.10 holds Pool baselines as float32, so the eval scores started from float32(init).
    history = model.get_evals_result()["validation"]["FocalMetric"]
    staged = [loss.eval(y[1000:], raw + np.float32(init)) for raw in
              model.staged_predict(X[1000:], prediction_type="RawFormulaVal")]
    np.testing.assert_allclose(history, staged, rtol=1e-12)
    assert int(np.argmin(staged)) == best


@pytest.mark.parametrize("hessian", ["bound", "exact"])  # Python objective and metric; builtin Focal loss and metric
def test_early_stopping_classifier_follows_last_eval_set(cb_binary, hessian):
    X, y, w = cb_binary
    labels = np.where(y == 1, "pos", "neg")
    rng = np.random.default_rng(6)
    noisy = rng.permutation(labels[1000:])  # a decoy first eval set whose labels carry no signal
    params = dict(alpha=0.25, hessian=hessian, iterations=400, learning_rate=0.5, early_stopping_rounds=5, **DET)
    clf = FocalCatBoostClassifier(use_best_model=False, **params)
    clf.fit(X[:1000], labels[:1000], eval_set=[(X[1000:], noisy), (X[1000:], labels[1000:])],
            eval_sample_weight=[None, w[1000:]])
    assert (clf.builtin_loss_ is not None) == (hessian == "exact")
    y_val = (labels[1000:] == "pos").astype(float)
    # staged_predict includes the model's bias (the init score).
    staged = [clf.loss_.eval(y_val, raw, w[1000:])
              for raw in clf.model_.staged_predict(X[1000:], prediction_type="RawFormulaVal")]
    assert clf.best_iteration_ == int(np.argmin(staged))
    assert clf.model_.tree_count_ == clf.best_iteration_ + 6 < 400
    (history,) = clf.model_.get_evals_result()["validation_1"].values()
    np.testing.assert_allclose(history, staged, rtol=1e-12)
    # With use_best_model (CatBoost's default when an eval set is given) the model is cut at the best iteration
    # and CatBoost's score there is the core's focal loss of the final model's raw scores (init score included).
    # (get_best_score() comes back empty when the learn set is skipped, so read the history.)
    best = FocalCatBoostClassifier(**params)
    best.fit(X[:1000], labels[:1000], eval_set=[(X[1000:], labels[1000:])], eval_sample_weight=[w[1000:]])
    assert best.model_.tree_count_ == best.best_iteration_ + 1
    (history,) = best.model_.get_evals_result()["validation"].values()
    score = history[best.best_iteration_]
    assert score == pytest.approx(best.loss_.eval(y_val, best.decision_function(X[1000:]), w[1000:]), rel=1e-12)


# ------------------------------------------------------------------------------------------ sklearn behaviour
def test_string_labels_probabilities_and_calibrate(cb_binary, cb_multi):
    X, y, _ = cb_binary
    labels = np.where(y == 1, "yes", "no")
    clf = FocalCatBoostClassifier(iterations=20, **DET).fit(X, labels)
    assert list(clf.classes_) == ["no", "yes"] and clf.n_features_in_ == 5
    raw = clf.decision_function(X)
    proba = clf.predict_proba(X)
    assert raw.shape == (len(y),) and proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba, clf.loss_.predict_proba(raw, calibrate=True), rtol=1e-12)
    assert set(clf.predict(X)) <= {"no", "yes"}
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])
    clf.set_params(calibrate=False)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], expit(raw), rtol=1e-12)

    Xm, ym = cb_multi
    names = np.array(["cat", "dog", "eel"])[ym]
    multi = FocalCatBoostClassifier(iterations=5, calibrate=False, **DET).fit(Xm, names)
    assert list(multi.classes_) == ["cat", "dog", "eel"]
    raw_m = multi.decision_function(Xm)
    assert raw_m.shape == (len(ym), 3)
    np.testing.assert_allclose(multi.predict_proba(Xm), softmax(raw_m, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(multi.predict(Xm), multi.classes_[np.argmax(raw_m, axis=1)])


def test_params_clone_aliases_and_pickle(cb_binary):
    X, y, _ = cb_binary
    clf = FocalCatBoostClassifier(gamma=1.0, alpha=0.4, hessian="abs", n_estimators=15, random_state=3, n_jobs=1,
                                  depth=3, verbose=0, allow_writing_files=False)
    params = clf.get_params()
    assert params["gamma"] == 1.0 and params["alpha"] == 0.4 and params["hessian"] == "abs"
    assert params["n_estimators"] == 15 and params["depth"] == 3
    twin = clone(clf)
    assert twin.get_params() == params
    twin.set_params(gamma=0.5, depth=2)
    assert twin.get_params()["gamma"] == 0.5 and clf.get_params()["gamma"] == 1.0
    clf.fit(X, y)
    all_params = clf.model_.get_all_params()
    assert all_params["iterations"] == 15 and all_params["random_seed"] == 3
    assert clf.model_.get_params()["thread_count"] == 1
    assert clf.model_.tree_count_ == 15
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.get_params() == clf.get_params()


def test_pipeline_and_grid_search(cb_binary):
    X, y, _ = cb_binary
    pipe = Pipeline([("scale", StandardScaler()), ("clf", FocalCatBoostClassifier(iterations=10, **DET))])
    grid = GridSearchCV(pipe, {"clf__gamma": [0.5, 2.0], "clf__alpha": [None, 0.25]}, cv=2,
                        scoring="average_precision")
    grid.fit(X[:600], y[:600])
    assert grid.best_params_["clf__gamma"] in (0.5, 2.0)
    assert grid.best_estimator_.predict_proba(X[600:]).shape == (len(y) - 600, 2)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "fit_kwargs", "match"),
    [
        ({}, {"y": np.zeros(40)}, "at least 2 classes"),
        ({"alpha": [1.0, 2.0]}, {"y": np.arange(40) % 3}, "alpha must have one weight per class"),
        ({"alpha": 0.3}, {"y": np.arange(40) % 3}, "binary weight"),
        ({"alpha": [1.0, 2.0]}, {}, "softmax loss for 2 classes"),
        ({}, {"sample_weight": -np.ones(40)}, "sample_weight"),
        ({}, {"eval_set": [(np.zeros((5, 3)), np.array([0, 1, 2, 0, 1]))]}, "not seen"),
        ({}, {"eval_set": [(np.zeros((5, 2)), np.array([0, 1, 0, 0, 1]))]}, "features"),
        ({}, {"X": np.zeros((39, 3))}, "same number of samples"),
        ({"loss_function": "Logloss"}, {}, "loss_function"),
        ({"class_weights": [1, 5]}, {}, "class_weights"),
        ({"n_estimators": 5, "iterations": 5}, {}, "not both"),
        ({"boost_from_average": True}, {}, "boost_from_average"),
    ],
)
def test_bad_input_fails_before_training(monkeypatch, kwargs, fit_kwargs, match):
    def no_training(*args, **kw):
        raise AssertionError("CatBoost training started on bad input")

    monkeypatch.setattr(CatBoost, "fit", no_training)
    args = {"X": np.random.default_rng(0).normal(size=(40, 3)), "y": np.arange(40) % 2}
    args.update(fit_kwargs)
    clf = FocalCatBoostClassifier(**{"iterations": 3, **DET, **kwargs})
    with pytest.raises(ValueError, match=match):
        clf.fit(args.pop("X"), args.pop("y"), **args)


def test_unseen_labels_fine_at_predict_and_feature_count_checked(cb_binary):
    X, y, _ = cb_binary
    clf = FocalCatBoostClassifier(iterations=5, **DET).fit(X, y)
    assert clf.predict(X[:10]).shape == (10,)  # predicting needs no labels; score() with new labels is sklearn's
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


# ------------------------------------------------------------------------------------------- benchmark fairness
@pytest.mark.parametrize("n_classes", [2, 3])
def test_benchmark_catboost_methods_share_the_leaf_estimation_settings(monkeypatch, cb_binary, cb_multi, n_classes):
    """Every CatBoost method of the benchmark trains with the same leaf estimation (method, iterations,
    backtracking), read back from the trained models; catboost 1.2.10's own defaults differ by loss."""
    from focal_boost.bench.methods import METHODS, Settings, candidates, fit_candidate

    trained = []
    original = CatBoost._fit

    def recording_fit(self, *args, **kwargs):
        trained.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CatBoost, "_fit", recording_fit)
    X, y = (cb_binary[0], cb_binary[1].astype(int)) if n_classes == 2 else cb_multi
    settings = Settings(n_estimators=4, budget=1)
    keys = ("leaf_estimation_method", "leaf_estimation_iterations", "leaf_estimation_backtracking")
    seen = {}
    for method in METHODS:
        (cand,) = candidates(method, n_classes, settings)
        fit_candidate("catboost", cand, X[:100], y[:100], X[100:], y[100:], n_classes, 0, settings)
        params = trained[-1].get_all_params()
        seen[method] = tuple(params[k] for k in keys)
    assert len(trained) == len(METHODS)
    expected = ("Newton", 10 if n_classes == 2 else 1, "No")
    assert seen == dict.fromkeys(METHODS, expected)
    # ... and the report metadata says which
    assert str(expected[1]) in Settings().describe()["CatBoost leaf estimation (every method)"]
    # Not vacuous: without the benchmark's setting catboost 1.2.10 gives builtin Logloss other values.
    default = CatBoost(dict(loss_function="Logloss" if n_classes == 2 else "MultiClass", iterations=2, **DET))
    default.fit(Pool(X, y))
    assert tuple(default.get_all_params()[k] for k in keys) != expected



# ------------------------------------------------------------------- CatBoostClassifier's defaults, gamma=0 identity
_DEFAULT_KEYS = ("learning_rate", "leaf_estimation_method", "leaf_estimation_iterations",
                 "leaf_estimation_backtracking", "bootstrap_type", "subsample", "bagging_temperature", "l2_leaf_reg",
                 "boost_from_average", "boosting_type", "use_best_model", "depth")


def _identity_data(multiclass, n_features, n=500, seed=3):
    """Continuous features; labels: ~15% positives, or three classes 0.6 / 0.3 / 0.1."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    score = X[:, 0] + 0.6 * X[:, 1] + rng.normal(size=n)
    if multiclass:
        return X, np.digitize(score, np.quantile(score, [0.6, 0.9]))
    return X, (score > np.quantile(score, 0.85)).astype(int)


def _catboost_classifier(**params):
    return catboost.CatBoostClassifier(thread_count=1, random_seed=7, verbose=0, allow_writing_files=False, **params)


@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("n_features, iterations, with_eval", [(5, 60, False), (20, 60, True), (5, 250, True)])
def test_classifier_gets_catboostclassifiers_defaults(multiclass, n_features, iterations, with_eval):
    """At its defaults FocalCatBoostClassifier trains with the settings CatBoostClassifier() picks for Logloss /
    MultiClass on the same data (catboost 1.2.10): leaf estimation (10 or 1 iterations, the latter below 200
    iterations with < 20 features; AnyImprovement), the automatic learning rate (rows, iterations, use_best_model)
    and MultiClass's Bayesian bootstrap, read back from both trained models."""
    X, y = _identity_data(multiclass, n_features)
    fit_kw = {"eval_set": [(X[400:], y[400:])]} if with_eval else {}
    own = _catboost_classifier(iterations=iterations).fit(X[:400], y[:400], **fit_kw).get_all_params()
    focal = FocalCatBoostClassifier(gamma=0, iterations=iterations, thread_count=1, random_seed=7)
    got = focal.fit(X[:400], y[:400], **fit_kw).booster_.get_all_params()
    assert {k: got.get(k) for k in _DEFAULT_KEYS} == {k: own.get(k) for k in _DEFAULT_KEYS}
    # not vacuous: a Python objective on its own gets other values for some of them
    bare = CatBoost(dict(loss_function=FocalObjective(FocalLoss(0.0), 3 if multiclass else None),
                         eval_metric=FocalMetric(FocalLoss(0.0), 3 if multiclass else None), iterations=2,
                         thread_count=1, verbose=0, allow_writing_files=False,
                         **({"classes_count": 3} if multiclass else {})))
    bare_params = bare.fit(Pool(X[:400], y[:400])).get_all_params()
    assert {k: bare_params.get(k) for k in _DEFAULT_KEYS} != {k: own.get(k) for k in _DEFAULT_KEYS}


@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("use_best_model", [False, True])
def test_builtin_learning_rate_is_catboosts_choice(multiclass, use_best_model):
    """builtin_learning_rate reproduces the rate catboost 1.2.10 picks for CatBoostClassifier() (its
    get_all_params(), a float32), over training sizes and iteration counts, the 0.5 cap included."""
    for n, iterations in ((60, 10), (300, 30), (2000, 5), (2000, 400)):
        X, y = _identity_data(multiclass, 3, n=n + 40, seed=n)
        fit_kw = {"eval_set": [(X[n:], y[n:])]} if use_best_model else {}
        own = _catboost_classifier(iterations=iterations, depth=1, bootstrap_type="No").fit(X[:n], y[:n], **fit_kw)
        assert own.get_all_params()["use_best_model"] is use_best_model
        expected = own.get_all_params()["learning_rate"]
        assert np.float32(builtin_learning_rate(multiclass, n, iterations, use_best_model)) == np.float32(expected)


def test_binary_gamma0_is_catboostclassifier_from_the_same_start():
    """Binary, gamma=0, at the defaults: the model CatBoostClassifier() trains when it starts from focal's init score
    (a Pool baseline at the log-odds), leaf estimation with backtracking included; CatBoostClassifier itself starts
    from 0, which is the one setting that differs."""
    X, y = _identity_data(False, 20)
    focal = FocalCatBoostClassifier(gamma=0, calibrate=False, iterations=60, thread_count=1, random_seed=7).fit(X, y)
    init = np.float32(FocalLoss(0.0).init_score(y))
    own = _catboost_classifier(iterations=60).fit(Pool(X, y, baseline=np.full(len(y), init)))
    np.testing.assert_allclose(focal.decision_function(X), raw_of(own, X) + init, rtol=0, atol=1e-9)
    assert focal.booster_.get_all_params()["leaf_estimation_iterations"] == 10


@pytest.mark.parametrize("multiclass", [False, True])
def test_gamma0_held_out_log_loss_is_catboostclassifiers(multiclass):
    """gamma=0 at the defaults against CatBoostClassifier() at its defaults on a held-out split: log losses within
    2% (binary: they differ only in the start; multiclass also in the hessian, diagonal vs MultiClass's full
    softmax hessian). The real tables are in benchmarks/results/defaults_identity.md."""
    X, y = _identity_data(multiclass, 20, n=1000)
    kw = dict(iterations=150)
    own = _catboost_classifier(**kw).fit(X[:600], y[:600])
    focal = FocalCatBoostClassifier(gamma=0, calibrate=False, thread_count=1, random_seed=7, **kw).fit(X[:600], y[:600])

    def log_loss(proba):
        return -np.mean(np.log(proba[np.arange(400), y[600:]]))

    ratio = log_loss(focal.predict_proba(X[600:])) / log_loss(own.predict_proba(X[600:]))
    assert abs(ratio - 1) < 0.02
    # ...where the Python objective's own CatBoost defaults are further off
    bare = FocalCatBoostClassifier(gamma=0, calibrate=False, thread_count=1, random_seed=7, learning_rate=0.03,
                                   leaf_estimation_iterations=1, leaf_estimation_backtracking="No", **kw)
    bare_ratio = log_loss(bare.fit(X[:600], y[:600]).predict_proba(X[600:])) / log_loss(own.predict_proba(X[600:]))
    assert abs(bare_ratio - 1) > abs(ratio - 1)


def test_given_settings_are_kept_and_backtracking_follows_the_metric(cb_binary):
    """Set parameters win over the defaults; a user eval_metric turns the default backtracking off (CatBoost would
    backtrack on that metric, not on the focal loss), and a set learning rate or leaf setting stops the automatic
    learning rate, as in CatBoost."""
    X, y, _ = cb_binary
    X = np.column_stack([X] * 4)  # 20 features: the 10-iteration default applies
    params = dict(iterations=20, thread_count=1, random_seed=7)
    told = FocalCatBoostClassifier(gamma=2.0, leaf_estimation_iterations=3, leaf_estimation_backtracking="No",
                                   **params).fit(X, y).booster_.get_all_params()
    assert (told["leaf_estimation_iterations"], told["leaf_estimation_backtracking"]) == (3, "No")
    assert told["learning_rate"] == pytest.approx(0.03)  # leaf_estimation_iterations given: no automatic rate
    metric = FocalCatBoostClassifier(gamma=2.0, eval_metric="AUC", **params).fit(X, y).booster_.get_all_params()
    assert metric["leaf_estimation_backtracking"] == "No" and metric["leaf_estimation_iterations"] == 10
    rate = FocalCatBoostClassifier(gamma=2.0, learning_rate=0.2, **params).fit(X, y).booster_.get_all_params()
    assert rate["learning_rate"] == pytest.approx(0.2) and rate["leaf_estimation_backtracking"] == "AnyImprovement"
