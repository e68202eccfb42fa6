"""The numba kernels' execution variants (threaded / single-threaded, column-major multiclass output, the
small-array switch) give the numbers of the core's numpy path, also inside each engine's training."""

from __future__ import annotations

import numpy as np
import pytest

from focal_boost import FocalLoss, _kernels

from .conftest import make_binary, make_multiclass

pytestmark = pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba not installed")


def _numpy_path(loss, target, raw):
    previous = _kernels.set_enabled(False)
    try:
        return target.grad_hess(raw)
    finally:
        _kernels.set_enabled(previous)


def _assert_close(fast, reference, tol=1e-12):
    for a, b in zip(fast, reference, strict=True):
        assert a.shape == b.shape
        scale = np.max(np.abs(b), axis=-1, keepdims=True) if b.ndim == 2 else np.abs(b)
        assert np.max(np.abs(a - b) / (scale + 1e-300)) <= tol


# the same array on one thread, and split in 3 unequal row ranges over the calling thread and 2 workers
@pytest.mark.parametrize(("parallel_min_rows", "threads"), [(10**9, None), (1, 3)])
def test_threaded_and_serial_kernels_equal_numpy_path(monkeypatch, parallel_min_rows, threads):
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)
    monkeypatch.setattr(_kernels.SWITCH, "parallel_min_rows", parallel_min_rows)
    monkeypatch.setattr(_kernels.SWITCH, "threads", threads)
    rng = np.random.default_rng(0)
    n = 40_001
    raw = rng.normal(scale=6, size=n)
    y = (rng.uniform(size=n) < 0.1).astype(float)
    w = rng.uniform(0, 3, n)
    loss = FocalLoss(2.0, 0.25, "bound")
    target = loss.prepare_target(y, w)
    _assert_close(target.grad_hess(raw), _numpy_path(loss, target, raw))

    raw_m = rng.normal(scale=4, size=(n, 5))
    y_m = rng.integers(0, 5, n)
    loss_m = FocalLoss(3.7, (1.0, 0.5, 2.0, 0.25, 1.0), "exact")
    target_m = loss_m.prepare_target(y_m, w, 5)
    fast = target_m.grad_hess(raw_m)
    assert all(a.flags.f_contiguous for a in fast)  # what LightGBM ravels in order="F" without a copy
    _assert_close(fast, _numpy_path(loss_m, target_m, raw_m))


def test_small_flag_takes_the_compiled_path_without_global_state():
    assert not _kernels.uses_compiled(10)
    assert _kernels.uses_compiled(10, small=True)
    rng = np.random.default_rng(5)
    raw, y = rng.normal(size=300), (rng.uniform(size=300) < 0.3).astype(float)
    target = FocalLoss(2.0, 0.25).prepare_target(y)
    small = target.grad_hess(raw, small=True)
    assert not _kernels.uses_compiled(10)  # asking once changes nothing for later calls
    _assert_close(small, _numpy_path(target.task.loss, target, raw))
    previous = _kernels.set_enabled(False)
    try:
        assert not _kernels.uses_compiled(10, small=True)  # nothing to take while the numba path is off
    finally:
        _kernels.set_enabled(previous)


def _engine_raw(engine, X, y, k):
    loss = FocalLoss(2.0, None if k else 0.25)
    params = {"num_class": k} if k else {}
    if engine == "lightgbm":
        import lightgbm as lgb

        import focal_boost.lightgbm as flgb

        booster = flgb.train(loss, {"num_threads": 1, "verbose": -1, "num_leaves": 7, "deterministic": True,
                                    **params}, lgb.Dataset(X, y), 8)
        return booster.predict(X, raw_score=True)
    import xgboost as xgb

    import focal_boost.xgboost as fxgb

    booster = fxgb.train(loss, {"nthread": 1, "max_depth": 3, "tree_method": "hist", **params}, xgb.DMatrix(X, y), 8)
    return booster.predict(xgb.DMatrix(X), output_margin=True)


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("k", [None, 3])
def test_engine_training_same_with_numba_kernels(monkeypatch, engine, k):
    """The column-major multiclass gradients reach each engine in the right order: numba and numpy paths train
    the same model."""
    X, y = make_multiclass(800) if k else make_binary(800)
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)
    fast = _engine_raw(engine, X, y, k)
    previous = _kernels.set_enabled(False)
    try:
        reference = _engine_raw(engine, X, y, k)
    finally:
        _kernels.set_enabled(previous)
    np.testing.assert_allclose(fast, reference, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_catboost_python_objective_same_with_compiled_small_chunks(monkeypatch, task):
    import focal_boost.catboost as fcb

    X, y = make_multiclass(600) if task == "multiclass" else make_binary(600)
    params = dict(iterations=10, depth=3, thread_count=1, random_seed=0, verbose=False, allow_writing_files=False)
    monkeypatch.setattr(fcb, "_COMPILED_MIN_WORK", 0)  # the binary path asks for the kernels from any size on
    fast = fcb.FocalCatBoostClassifier(gamma=2.0, **params).fit(X, y)
    assert fast.booster_.get_params()["loss_function"].compiled  # an argument of the objective, not global state
    assert not _kernels.uses_compiled(10)
    previous = _kernels.set_enabled(False)
    try:
        reference = fcb.FocalCatBoostClassifier(gamma=2.0, **params).fit(X, y)
    finally:
        _kernels.set_enabled(previous)
    assert fast.builtin_loss_ is None
    np.testing.assert_allclose(fast.decision_function(X), reference.decision_function(X), rtol=1e-9, atol=1e-9)


def _grad_in_forked_child(queue):
    rng = np.random.default_rng(1)
    raw, y = rng.normal(size=30_000), (rng.uniform(size=30_000) < 0.2).astype(float)
    loss = FocalLoss()
    queue.put(loss.prepare_target(y).grad_hess(raw)[0].sum())


def test_worker_threads_restart_in_a_forked_child(monkeypatch):
    # A child forked after the pool started has none of its threads; it must start its own, not wait forever.
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)
    monkeypatch.setattr(_kernels.SWITCH, "parallel_min_rows", 1)
    monkeypatch.setattr(_kernels.SWITCH, "threads", 2)
    rng = np.random.default_rng(1)
    raw, y = rng.normal(size=30_000), (rng.uniform(size=30_000) < 0.2).astype(float)
    loss = FocalLoss()
    expected = loss.prepare_target(y).grad_hess(raw)[0].sum()  # the parent's pool is running now
    assert _kernels._POOL.executor is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_grad_in_forked_child, args=(queue,))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in the kernel's thread pool")
    assert child.exitcode == 0
    assert queue.get(timeout=10) == expected


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_offset_is_the_derivative_at_raw_plus_offset(monkeypatch, fast, dtype):
    """``grad_hess(raw, offset=c)`` (c added inside the numba loop, or ``raw + c`` on the numpy path) equals
    ``grad_hess(raw + c)`` exactly in float32 out and to 1e-12 relative against the numpy path."""
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)
    monkeypatch.setattr(_kernels.SWITCH, "parallel_min_rows", 1000)
    rng = np.random.default_rng(4)
    n = 5_001
    w = rng.uniform(0, 3, n)
    cases = [(FocalLoss(2.0, 0.25), (rng.uniform(size=n) < 0.1).astype(float), rng.normal(scale=4, size=n),
              -2.3456789, None),
             (FocalLoss(1.5, None, "bound"), rng.integers(0, 5, n), rng.normal(scale=3, size=(n, 5)),
              np.array([-0.3, -1.2, -2.0, -2.5, -3.1]), 5)]
    previous = _kernels.set_enabled(fast)
    try:
        for loss, y, raw, offset, k in cases:
            target = loss.prepare_target(y, w, k)
            raw_d = raw.astype(dtype)
            shifted = raw_d.astype(np.float64) + offset
            for out in (np.float64, np.float32):
                got = target.grad_hess(raw_d, out, offset=offset)
                want = target.grad_hess(shifted, out)
                for a, b in zip(got, want, strict=True):
                    assert a.dtype == out
                    np.testing.assert_array_equal(a, b)
            _assert_close(target.grad_hess(raw_d, offset=offset), _numpy_path(loss, target, shifted))
    finally:
        _kernels.set_enabled(previous)


@pytest.mark.parametrize("k", [None, 4])
def test_lightgbm_rows_on_numba_openmp_equal_numpy_path(monkeypatch, k):
    """LightGBM's objective splits rows over numba's OpenMP layer where it shares LightGBM's libgomp: the same
    numbers as the Python-thread split and the numpy path (where the layer is not shared, the Python threads)."""
    lgb = pytest.importorskip("lightgbm")
    from focal_boost import lightgbm as flgb

    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)
    monkeypatch.setattr(_kernels.SWITCH, "parallel_min_rows", 1000)
    monkeypatch.setattr(_kernels.SWITCH, "threads", 3)
    rng = np.random.default_rng(5)
    n = 9_001
    y = (rng.uniform(size=n) < 0.2).astype(float) if k is None else rng.integers(0, k, n)
    w = rng.uniform(0, 2, n)
    raw = rng.normal(scale=3, size=n if k is None else (n, k))
    loss = FocalLoss(2.0, 0.25 if k is None else None, "bound")
    ds = lgb.Dataset(rng.normal(size=(n, 2)), label=y, weight=w, params={"verbosity": -1}).construct()
    obj = flgb.objective(loss, k)
    obj.offset = np.array([-1.5]) if k is None else np.linspace(-1.0, -2.0, k)
    got = obj(raw, ds)
    target = loss.prepare_target(ds.get_label(), ds.get_weight(), k)
    # Python threads, with the objective's own scaling (multiclass hessian x K/(K-1), as LightGBM's softmax)
    threads = flgb.engine_grad_hess(target, raw, offset=obj.offset, omp=False)
    for a, b in zip(got, threads, strict=True):
        np.testing.assert_array_equal(a, b)
    _assert_close(target.grad_hess(raw, offset=obj.offset), _numpy_path(loss, target, raw + obj.offset))
    print("omp shared:", _kernels.omp_shared())
