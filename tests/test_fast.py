"""The optional numba path gives the same numbers as the numpy reference path."""

from __future__ import annotations

import numpy as np
import pytest

from focal_boost import FocalLoss, _kernels

pytestmark = pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba not installed")


@pytest.fixture(autouse=True)
def fast_path_for_small_arrays(monkeypatch):
    # test data is small; make the numba path take it anyway
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)


@pytest.fixture
def numpy_only():
    previous = _kernels.set_enabled(False)
    yield
    _kernels.set_enabled(previous)


def _both_paths(loss, target, raw):
    previous = _kernels.set_enabled(True)
    try:
        assert _kernels.uses_compiled(raw.size), "the numba kernels would not be used"
        fast = target.grad_hess(raw)
        _kernels.set_enabled(False)
        reference = target.grad_hess(raw)
    finally:
        _kernels.set_enabled(previous)
    return fast, reference


def _assert_same(fast, reference):
    for a, b in zip(fast, reference, strict=True):
        assert a.shape == b.shape
        # relative to the row's scale: exact hessians cross zero, where a relative error is meaningless
        scale = np.max(np.abs(b), axis=-1, keepdims=True) if b.ndim == 2 else np.abs(b)
        worst = np.max(np.abs(a - b) / (scale + 1e-300))
        assert worst <= 1e-12, worst


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.7])
@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("hessian", ["bound", "abs", "exact"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_fast_equals_numpy(gamma, alpha, hessian, weighted):
    rng = np.random.default_rng(0)
    n = 20_000
    raw = np.concatenate([rng.normal(scale=8, size=n - 8), [0.0, 3.0, -3.0, 30.0, -30.0, 700.0, -1e4, 1e4]])
    y = (rng.uniform(size=n) < 0.1).astype(float)
    w = rng.uniform(0, 5, n) if weighted else None
    loss = FocalLoss(gamma, alpha, hessian)
    target = loss.prepare_target(y, w)
    _assert_same(*_both_paths(loss, target, raw))


@pytest.mark.parametrize("gamma", [0.0, 2.0, 3.7])
@pytest.mark.parametrize("alpha", [None, (1.0, 0.5, 2.0, 0.25)])
@pytest.mark.parametrize("hessian", ["bound", "exact"])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_fast_equals_numpy(gamma, alpha, hessian, weighted):
    rng = np.random.default_rng(1)
    n = 5_000
    raw = rng.normal(scale=6, size=(n, 4))
    raw[:4] = [[30.0, -30.0, 0.0, 1.0], [1e4, -1e4, 0.0, 0.0], [-700.0, 700.0, 699.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    y = rng.integers(0, 4, n)
    w = rng.uniform(0, 5, n) if weighted else None
    loss = FocalLoss(gamma, alpha, hessian)
    target = loss.prepare_target(y, w, n_classes=4)
    _assert_same(*_both_paths(loss, target, raw))


def test_public_methods_agree_between_paths(numpy_only):
    rng = np.random.default_rng(2)
    raw, y = rng.normal(size=10_000), (rng.uniform(size=10_000) < 0.3).astype(float)
    loss = FocalLoss(2.0, 0.25)
    reference = loss.grad_hess(y, raw)
    _kernels.set_enabled(True)
    _assert_same(loss.grad_hess(y, raw), reference)


def test_small_inputs_use_numpy_and_flag_switches(monkeypatch):
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 50_000)
    assert not _kernels.uses_compiled(49_999)
    previous = _kernels.set_enabled(False)
    assert not _kernels.uses_compiled(10**7)
    _kernels.set_enabled(True)
    assert _kernels.uses_compiled(10**7)
    _kernels.set_enabled(previous)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("n_classes", [None, 4])
def test_float32_inputs_and_outputs_are_exact_conversions(fast, n_classes):
    # The engine objectives pass float32 margins (XGBoost) or Fortran-ordered scores (LightGBM multiclass) and ask
    # for float32 gradients: the result must be the float64 computation on the same values, rounded once.
    rng = np.random.default_rng(3)
    n = 5_000
    shape = (n,) if n_classes is None else (n, n_classes)
    raw32 = rng.normal(scale=6, size=shape).astype(np.float32)
    y = (rng.uniform(size=n) < 0.2).astype(float) if n_classes is None else rng.integers(0, n_classes, n)
    loss = FocalLoss(2.0, None, "abs")
    target = loss.prepare_target(y, rng.uniform(0.5, 2, n), n_classes)
    previous = _kernels.set_enabled(fast)
    try:
        reference = target.grad_hess(raw32.astype(np.float64))
        variants = [raw32, raw32.astype(np.float64)]
        if n_classes is not None:
            variants.append(np.asfortranarray(raw32.astype(np.float64)))
        for raw in variants:
            same = target.grad_hess(raw)
            rounded = target.grad_hess(raw, np.float32)
            for got, got32, ref in zip(same, rounded, reference, strict=True):
                assert got.dtype == np.float64 and got32.dtype == np.float32
                np.testing.assert_array_equal(got, ref)
                np.testing.assert_array_equal(got32, ref.astype(np.float32))
    finally:
        _kernels.set_enabled(previous)


def _outcome(fn, *args):
    try:
        result = fn(*args)
    except ValueError as exc:
        return "error", str(exc)
    return "ok", result


@pytest.mark.parametrize("case", ["valid", "soft", "raw_nan", "raw_inf", "y_nan", "y_out", "w_neg", "w_inf", "w_nan",
                                  "mc_valid", "mc_fraction", "mc_out", "mc_nan", "mc_negative", "mc_raw_inf"])
def test_input_checks_agree_between_paths(case):
    # The inputs are checked at the boundary, whichever kernel then runs: every bad input raises the same
    # ValueError on both paths and every good one gives the same numbers.
    rng = np.random.default_rng(7)
    n = 3_000
    multiclass = case.startswith("mc_")
    raw = rng.normal(size=(n, 3) if multiclass else n)
    y = rng.integers(0, 3, n).astype(float) if multiclass else (rng.uniform(size=n) < 0.3).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    bad_at = 1234
    if case == "soft":
        y[bad_at] = 0.25
    elif case in ("raw_nan", "raw_inf", "mc_raw_inf"):
        raw[bad_at] = np.nan if case == "raw_nan" else -np.inf
    elif case == "y_nan" or case == "mc_nan":
        y[bad_at] = np.nan
    elif case == "y_out":
        y[bad_at] = 1.5
    elif case.startswith("w_"):
        w[bad_at] = {"w_neg": -1.0, "w_inf": np.inf, "w_nan": np.nan}[case]
    elif case == "mc_fraction":
        y[bad_at] = 1.5
    elif case == "mc_out":
        y[bad_at] = 3.0
    elif case == "mc_negative":
        y[bad_at] = -1.0
    loss = FocalLoss(2.0, (0.2, 0.3, 0.5) if multiclass else 0.25)
    outcomes = []
    for fast in (True, False):
        previous = _kernels.set_enabled(fast)
        try:
            outcomes.append(_outcome(loss.grad_hess, y, raw, w))
        finally:
            _kernels.set_enabled(previous)
    (kind_fast, fast), (kind_ref, reference) = outcomes
    assert kind_fast == kind_ref
    if kind_ref == "error":
        assert fast == reference
        assert case not in ("valid", "soft", "mc_valid")
    else:
        assert case in ("valid", "soft", "mc_valid")
        _assert_same(fast, reference)


def test_polynomial_exp_and_log1p_are_within_two_ulps_of_libm():
    """The vectorisable exp/log1p of the binary kernel against numpy's (libm) over their whole domain."""
    from focal_boost import _fast_kernels as fk

    rng = np.random.default_rng(5)
    x = -np.concatenate([rng.uniform(0, 708, 4000), rng.uniform(0, 1, 2000), rng.uniform(0, 1e-8, 500),
                         [0.0, 1e-300, np.log(2) / 2, np.log(2), 700.0, 708.0]])
    ours = np.array([fk._exp_nonpositive(v) for v in x])
    assert np.max(np.abs(ours - np.exp(x)) / np.exp(x)) <= 4.5e-16
    t = np.concatenate([np.exp(x), rng.uniform(0.4, 0.45, 500), [np.sqrt(2) - 1, 1.0, 0.0]])
    ours = np.array([fk._log1p_unit(v, 1.0 + v) for v in t])
    reference = np.log1p(t)
    positive = reference > 0
    assert np.max(np.abs(ours[positive] - reference[positive]) / reference[positive]) <= 4.5e-16
    assert np.all(ours[~positive] == 0.0)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.7])
@pytest.mark.parametrize("hessian", ["bound", "exact"])
def test_binary_rows_beyond_the_polynomials_range_equal_numpy(gamma, hessian):
    """Margins around |s| * max(gamma, 1) = 700 (where the kernel switches to libm) and beyond, down to the
    denormal derivatives, per element."""
    limit = 700.0 / max(gamma, 1.0)
    raw = np.concatenate([np.linspace(limit - 5, limit + 60, 4001), -np.linspace(limit - 5, limit + 60, 4001)])
    y = (np.arange(raw.size) % 3 == 0).astype(float)
    loss = FocalLoss(gamma, 0.25, hessian)
    target = loss.prepare_target(y, None)
    fast, reference = _both_paths(loss, target, raw)
    _assert_same(fast, reference)
    if (gamma, hessian) == (0.5, "exact"):  # down to denormal hessians, which only libm gives exactly
        assert ((reference[1] != 0) & (np.abs(reference[1]) < 1e-308)).any()
