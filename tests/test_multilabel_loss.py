"""The multi-label task of the core FocalLoss: each label column is the binary task on that column (bit for bit, on
both kernel paths), the mpmath oracle, the init score and calibration per label, and bad inputs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import optimize

from focal_boost import FocalLoss, _kernels

from . import oracles

RAWS = [0.0, 3.0, -3.0, 30.0, -30.0, 700.0, -700.0, 1e4, -1e4, 0.7, -2.9, -3.8]
ALPHAS = [None, 0.25, (0.1, 0.5, 0.9)]


def _label_alpha(alpha, j):
    return alpha[j] if isinstance(alpha, tuple) else alpha


def _data(n=3000, soft=False, seed=0):
    rng = np.random.default_rng(seed)
    raw = rng.normal(scale=6.0, size=(n, 3))
    raw[:8, 0] = [0.0, 3.0, -3.0, 30.0, -30.0, 700.0, -1e4, 1e4]  # the libm rows of the compiled pass too
    y = (rng.uniform(size=(n, 3)) < [0.3, 0.05, 0.6]).astype(float)
    if soft:
        y[::7, 1] = rng.uniform(size=y[::7, 1].shape)
    return raw, y, rng.uniform(0.1, 3.0, n)


@pytest.fixture(params=[False, True], ids=["numpy", "compiled"])
def path(request, monkeypatch):
    if request.param and not _kernels.AVAILABLE:
        pytest.skip("numba not installed")
    monkeypatch.setattr(_kernels.SWITCH, "min_size", 1)  # the compiled path for small arrays too
    previous = _kernels.set_enabled(request.param)
    yield request.param
    _kernels.set_enabled(previous)


# --------------------------------------------------------------------------- each column is the binary task
@pytest.mark.parametrize("alpha", ALPHAS, ids=["none", "scalar", "per-label"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("hessian", ["abs", "bound", "exact"])
def test_each_column_is_the_binary_task_bit_for_bit(path, alpha, weighted, soft, hessian):
    raw, y, w = _data(soft=soft)
    w = w if weighted else None
    loss = FocalLoss(2.0 if hessian == "abs" else 3.7, alpha, hessian)
    target = loss.prepare_target(y, w, n_labels=3)
    grad, hess = target.grad_hess(raw)
    per_label = target.label_loss(raw)
    assert grad.shape == hess.shape == per_label.shape == (3000, 3)
    for j in range(3):
        binary = FocalLoss(loss.gamma, _label_alpha(alpha, j), hessian).prepare_target(y[:, j], w)
        column = np.ascontiguousarray(raw[:, j])
        g, h = binary.grad_hess(column)
        np.testing.assert_array_equal(grad[:, j], g)
        np.testing.assert_array_equal(hess[:, j], h)
        np.testing.assert_array_equal(per_label[:, j], binary.loss(column))
        np.testing.assert_array_equal(target.class_totals()[j], binary.class_totals())
        assert target.init_score()[j] == binary.init_score()
    np.testing.assert_array_equal(target.loss(raw), per_label.sum(axis=1))


@pytest.mark.parametrize("soft", [False, True])
def test_engine_layouts_dtypes_and_offsets_give_the_same_numbers(path, soft):
    # XGBoost passes float32 C-ordered margins, LightGBM float64 Fortran-ordered scores and an init-score offset
    raw, y, w = _data(soft=soft)
    offset = np.array([0.5, -2.0, 1.25])
    target = FocalLoss(2.0, (0.2, 0.6, 0.4)).prepare_target(y, w, n_labels=3)
    reference = target.grad_hess(raw + offset)
    for variant in (raw, np.asfortranarray(raw)):
        got = target.grad_hess(variant, offset=offset)
        got32 = target.grad_hess(variant, np.float32, offset=offset)
        for a, a32, ref in zip(got, got32, reference, strict=True):
            np.testing.assert_array_equal(a, ref)
            assert a32.dtype == np.float32
            np.testing.assert_array_equal(a32, ref.astype(np.float32))
        if not soft and variant.flags.f_contiguous:
            assert got[0].flags.f_contiguous  # no copy for LightGBM's layout
    raw32 = raw.astype(np.float32)
    for a, ref in zip(target.grad_hess(raw32), target.grad_hess(raw32.astype(np.float64)), strict=True):
        np.testing.assert_array_equal(a, ref)


def test_public_methods_take_a_two_d_y_as_multi_label(path):
    raw, y, w = _data(n=50)
    loss = FocalLoss(2.0, 0.3)
    target = loss.prepare_target(y, w, n_labels=3)
    for got, ref in zip(loss.grad_hess(y, raw, w), target.grad_hess(raw), strict=True):
        np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(loss.loss(y, raw, w), target.loss(raw))
    np.testing.assert_array_equal(loss.grad(y, raw), loss.prepare_target(y, None, n_labels=3).grad_hess(raw)[0])
    assert loss.eval(y, raw, w) == target.eval(raw)


# --------------------------------------------------------------------------- against mpmath
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("alpha", ALPHAS, ids=["none", "scalar", "per-label"])
def test_against_mpmath(gamma, alpha):
    rng = np.random.default_rng(1)
    raw = rng.choice(RAWS, size=(12, 3))
    y = rng.choice([0.0, 1.0, 0.3], size=(12, 3))
    w = rng.uniform(0.5, 2.0, 12)
    loss = FocalLoss(gamma, alpha, hessian="exact")
    grad, hess = loss.grad_hess(y, raw, w)
    per_sample = loss.loss(y, raw, w)
    for i in range(12):
        total = 0.0
        for j in range(3):
            f, g, h = oracles.binary_derivs(y[i, j], raw[i, j], gamma, _label_alpha(alpha, j))
            total += f
            np.testing.assert_allclose(grad[i, j], w[i] * g, rtol=1e-9, atol=1e-290)
            np.testing.assert_allclose(hess[i, j], w[i] * h, rtol=1e-9, atol=1e-290)
        np.testing.assert_allclose(per_sample[i], w[i] * total, rtol=1e-9, atol=1e-290)
    expected = np.dot(w, per_sample / w) / w.sum()
    assert loss.eval(y, raw, w) == pytest.approx(expected, rel=1e-12)


def test_safeguarded_hessian_is_positive():
    raw = np.tile(np.array(RAWS)[:, None], (1, 2))
    y = np.column_stack([np.ones(len(RAWS)), np.zeros(len(RAWS))])
    for hessian in ("abs", "bound"):
        assert np.all(FocalLoss(2.0, hessian=hessian).hess(y, raw) > 0)
    assert np.any(FocalLoss(2.0, hessian="exact").hess(y, raw) < 0)


# --------------------------------------------------------------------------- init score and calibration
@pytest.mark.parametrize("alpha", ALPHAS, ids=["none", "scalar", "per-label"])
def test_init_score_is_each_labels_brute_force_optimum(alpha):
    _, y, w = _data(n=2000)
    y[:2] = [[1, 1, 1], [0, 0, 0]]
    loss = FocalLoss(2.0, alpha)
    init = loss.init_score(y, w)
    assert init.shape == (3,)
    for j in range(3):
        def total(z, j=j):
            raw = np.zeros((y.shape[0], 3))
            raw[:, j] = z
            return float(np.sum(FocalLoss(2.0, alpha).loss(y, raw, w)))
        best = optimize.minimize_scalar(total, bounds=(-20, 20), method="bounded", options={"xatol": 1e-10}).x
        assert init[j] == pytest.approx(best, abs=1e-5)
    totals = loss.prepare_target(y, w, n_labels=3).class_totals()
    np.testing.assert_array_equal(loss.init_score_from_totals(totals, n_labels=3), init)


def test_calibration_is_the_binary_map_per_label():
    raw = np.random.default_rng(2).normal(scale=5, size=(40, 3))
    loss = FocalLoss(2.0, (0.2, 0.5, 0.7))
    for calibrate in (True, False):
        proba = loss.predict_proba(raw, calibrate=calibrate, multi_label=True)
        assert proba.shape == (40, 3)
        for j in range(3):
            binary = FocalLoss(2.0, loss.alpha[j]).predict_proba(raw[:, j], calibrate=calibrate)[:, 1]
            np.testing.assert_array_equal(proba[:, j], binary)
    # a sequence alpha without multi_label stays softmax
    np.testing.assert_allclose(loss.predict_proba(raw).sum(axis=1), 1.0)


def test_task_is_declared_not_guessed_from_alpha():
    loss = FocalLoss(2.0, (0.2, 0.5, 0.7))
    assert loss.task().n_classes == 3 and loss.task().n_labels is None
    task = loss.task(n_labels=3)
    assert task.n_labels == 3 and task.n_classes is None and task.n_outputs == 3
    assert FocalLoss(1.0, 0.3).task(n_labels=4).n_outputs == 4
    clone = pickle.loads(pickle.dumps(task.prepare_target(np.eye(3), None)))
    np.testing.assert_array_equal(clone.grad_hess(np.ones((3, 3)))[0],
                                  task.prepare_target(np.eye(3), None).grad_hess(np.ones((3, 3)))[0])


# --------------------------------------------------------------------------- bad input
BAD = [
    ("shape mismatch", lambda: FocalLoss().grad(np.zeros((4, 3)), np.zeros((4, 2))), "shape"),
    ("rows mismatch", lambda: FocalLoss().grad(np.zeros((4, 3)), np.zeros((5, 3))), "shape"),
    ("1-D raw", lambda: FocalLoss().grad(np.zeros((4, 3)), np.zeros(4)), "shape"),
    ("label above 1", lambda: FocalLoss().grad(np.full((2, 2), 2.0), np.zeros((2, 2))), "y"),
    ("label below 0", lambda: FocalLoss().loss(np.full((2, 2), -0.5), np.zeros((2, 2))), "y"),
    ("NaN label", lambda: FocalLoss().loss(np.full((2, 2), np.nan), np.zeros((2, 2))), "y"),
    ("one label", lambda: FocalLoss().grad(np.zeros((3, 1)), np.zeros((3, 1))), "n_labels"),
    ("n_labels=1", lambda: FocalLoss().task(n_labels=1), "n_labels"),
    ("n_labels and n_classes", lambda: FocalLoss().task(n_classes=3, n_labels=3), "n_labels"),
    ("alpha length", lambda: FocalLoss(alpha=[0.2, 0.3]).task(n_labels=3), "alpha"),
    ("alpha not in (0, 1)", lambda: FocalLoss(alpha=[0.2, 2.0, 0.5]).task(n_labels=3), "alpha"),
    ("raw inf", lambda: FocalLoss().grad(np.zeros((2, 2)), np.array([[0.0, np.inf], [0.0, 0.0]])), "raw"),
    ("weight length", lambda: FocalLoss().grad(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(4)), "sample_weight"),
    ("init of a label without positives", lambda: FocalLoss().init_score(np.array([[0.0, 1.0], [0.0, 0.0]])),
     "label 0"),
    ("totals shape", lambda: FocalLoss().init_score_from_totals(np.ones(2), n_labels=2), "totals"),
    ("proba 1-D", lambda: FocalLoss().predict_proba(np.zeros(3), multi_label=True), "raw"),
]


@pytest.mark.parametrize(("case", "call", "name"), BAD, ids=[c[0] for c in BAD])
def test_bad_input_raises_value_error_naming_argument(case, call, name):
    with pytest.raises(ValueError, match=name):
        call()
