"""The core FocalLoss against independent oracles: mpmath derivatives, scipy minimisation, closed-form logloss."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.special import expit, log_expit, log_softmax, softmax

from focal_boost import FocalLoss

from . import oracles

GAMMAS = [0.0, 0.5, 1.0, 2.0, 5.0]
RAWS = [0.0, 3.0, -3.0, 30.0, -30.0, 700.0, -700.0, 1e4, -1e4, 0.7, -2.9, -3.8]
# float64 results below ~1e-290 are subnormal or zero; compare them absolutely
ATOL = 1e-290


def assert_close(actual, expected, rtol=1e-9):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=ATOL)


# --------------------------------------------------------------------------- derivatives vs mpmath
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [None, 0.25, 0.9])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_binary_against_mpmath(gamma, alpha, y):
    loss = FocalLoss(gamma, alpha, hessian="exact")
    raw = np.array(RAWS)
    labels = np.full(raw.shape, y)
    expected = np.array([oracles.binary_derivs(y, z, gamma, alpha) for z in RAWS])
    assert_close(loss.loss(labels, raw), expected[:, 0])
    grad, hess = loss.grad_hess(labels, raw)
    assert_close(grad, expected[:, 1])
    assert_close(hess, expected[:, 2])
    assert_close(loss.grad(labels, raw), expected[:, 1])
    assert_close(loss.hess(labels, raw), expected[:, 2])


MC_RAWS = [
    [0.0, 0.0, 0.0],
    [3.0, -3.0, 0.0],
    [-3.0, 3.0, 0.5],
    [30.0, -30.0, 0.0],
    [-30.0, 30.0, 29.0],
    [700.0, -700.0, 0.0],
    [-700.0, 700.0, 3.0],
    [1e4, -1e4, 0.0],
    [-1e4, 1e4, 1e4 - 2.0],
]


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [None, (0.2, 1.0, 3.0)])
def test_softmax_against_mpmath(gamma, alpha):
    loss = FocalLoss(gamma, alpha, hessian="exact")
    raw = np.array(MC_RAWS)
    for y in range(3):
        labels = np.full(len(MC_RAWS), y)
        expected = [oracles.softmax_derivs(y, row, gamma, alpha) for row in MC_RAWS]
        assert_close(loss.loss(labels, raw), [e[0] for e in expected])
        grad, hess = loss.grad_hess(labels, raw)
        assert_close(grad, [e[1] for e in expected], rtol=1e-8)
        assert_close(hess, [e[2] for e in expected], rtol=1e-8)


def test_softmax_four_classes_mixed_labels_against_mpmath():
    rng = np.random.default_rng(3)
    raw = rng.normal(scale=6.0, size=(12, 4))
    labels = rng.integers(0, 4, size=12)
    loss = FocalLoss(2.0, (1.0, 0.5, 2.0, 0.1), hessian="exact")
    grad, hess = loss.grad_hess(labels, raw)
    for i in range(12):
        _, g, h = oracles.softmax_derivs(int(labels[i]), list(raw[i]), 2.0, loss.alpha)
        assert_close(grad[i], g, rtol=1e-8)
        assert_close(hess[i], h, rtol=1e-8)


# --------------------------------------------------------------------------- hessian safeguards
@pytest.mark.parametrize("gamma", [0.5, 2.0, 5.0])
def test_exact_hessian_goes_negative_where_expected(gamma):
    raw = np.linspace(-12, 12, 2001)
    hess = FocalLoss(gamma, hessian="exact").hess(np.ones_like(raw), raw)
    assert hess.min() < 0
    if gamma == 2.0:  # the documented fact: negative below about -2.8, minimum about -0.047 near -3.8
        crossing = raw[np.flatnonzero(np.diff(np.sign(hess)))[0]]
        assert -3.0 < crossing < -2.6
        assert -0.05 < hess.min() < -0.044
        assert -4.0 < raw[np.argmin(hess)] < -3.6


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_safeguarded_hessians_positive_and_related_to_exact(gamma, alpha):
    raw = np.concatenate([np.linspace(-50, 50, 1001), RAWS])
    for y in (np.zeros_like(raw), np.ones_like(raw), np.full_like(raw, 0.4)):
        exact = FocalLoss(gamma, alpha, "exact").hess(y, raw)
        bound = FocalLoss(gamma, alpha, "bound").hess(y, raw)
        absolute = FocalLoss(gamma, alpha, "abs").hess(y, raw)
        assert np.all(bound > 0) and np.all(absolute > 0)
        assert np.all(bound >= exact - 1e-15 * np.abs(exact))
        if np.all((y == 0) | (y == 1)):
            assert_close(np.maximum(absolute, 1e-300), np.maximum(np.abs(exact), 1e-300), rtol=1e-12)
        else:  # soft labels: the safeguard applies to each label's term, |a| + |b| >= |a + b|
            assert np.all(absolute >= np.abs(exact) * (1 - 1e-12))
        if gamma == 0:
            assert_close(bound, np.maximum(exact, 2.3e-308), rtol=1e-14)
    # bound == exact where p_t >= 1 / (1 + gamma)
    pos = np.ones_like(raw)
    keep = expit(raw) >= 1.0 / (1.0 + gamma)
    exact = FocalLoss(gamma, None, "exact").hess(pos, raw)
    bound = FocalLoss(gamma, None, "bound").hess(pos, raw)
    assert_close(bound[keep], np.maximum(exact[keep], 2.3e-308), rtol=1e-14)


@pytest.mark.parametrize("hessian", ["bound", "abs"])
def test_softmax_safeguarded_hessian_positive(hessian):
    rng = np.random.default_rng(0)
    raw = rng.normal(scale=8.0, size=(500, 5))
    labels = rng.integers(0, 5, 500)
    hess = FocalLoss(2.0, hessian=hessian).hess(labels, raw)
    assert np.all(hess > 0)
    exact = FocalLoss(2.0, hessian="exact").hess(labels, raw)
    assert exact.min() < 0  # the data does reach the negative-curvature region
    if hessian == "bound":
        assert np.all(hess >= exact - 1e-15)


# --------------------------------------------------------------------------- gamma = 0 is cross-entropy
def test_gamma_zero_is_weighted_cross_entropy_binary():
    rng = np.random.default_rng(1)
    raw = np.concatenate([rng.normal(scale=10, size=200), RAWS])
    y = rng.uniform(size=raw.size)
    y[:100] = np.round(y[:100])
    for alpha in (None, 0.3):
        a1, a0 = (1.0, 1.0) if alpha is None else (alpha, 1 - alpha)
        loss = FocalLoss(0.0, alpha)
        ce = -(y * a1 * log_expit(raw) + (1 - y) * a0 * log_expit(-raw))
        p = expit(raw)
        assert_close(loss.loss(y, raw), ce, rtol=1e-13)
        # the reference itself cancels for soft labels, hence the absolute tolerance
        np.testing.assert_allclose(loss.grad(y, raw), -y * a1 * (1 - p) + (1 - y) * a0 * p, rtol=1e-12, atol=1e-15)
        pq = expit(raw) * expit(-raw)
        assert_close(loss.hess(y, raw), np.maximum((y * a1 + (1 - y) * a0) * pq, 2.3e-308), rtol=1e-12)
        w = rng.uniform(size=raw.size)
        assert loss.init_score(y, w) == pytest.approx(
            np.log(np.sum(w * y * a1)) - np.log(np.sum(w * (1 - y) * a0)), rel=1e-14, abs=1e-14
        )


def test_gamma_zero_is_cross_entropy_softmax():
    rng = np.random.default_rng(2)
    raw = rng.normal(scale=5, size=(300, 4))
    y = rng.integers(0, 4, 300)
    loss = FocalLoss(0.0)
    p = softmax(raw, axis=1)
    onehot = np.eye(4)[y]
    # log_softmax cancels near p_y = 1 (the core does not), hence the absolute tolerance
    np.testing.assert_allclose(loss.loss(y, raw), -log_softmax(raw, axis=1)[np.arange(300), y], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss.grad(y, raw), p - onehot, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(loss.hess(y, raw), p * (1 - p), rtol=1e-10, atol=1e-15)  # 1 - p cancels near p=1
    counts = np.bincount(y, minlength=4)
    assert_close(loss.init_score(y), np.log(counts / counts.sum()), rtol=1e-14)
    assert_close(loss.predict_proba(raw), p, rtol=1e-12)
    assert_close(FocalLoss(0.0).predict_proba(raw[:, 0])[:, 1], expit(raw[:, 0]), rtol=1e-12)


# --------------------------------------------------------------------------- properties (hypothesis)
raws = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
gammas = st.floats(min_value=0.0, max_value=8.0)


@settings(max_examples=300, deadline=None)
@given(z=raws, y=st.floats(0, 1), gamma=gammas, alpha=st.one_of(st.none(), st.floats(0.01, 0.99)),
       hessian=st.sampled_from(["bound", "abs", "exact"]))
def test_binary_finite_and_nonnegative(z, y, gamma, alpha, hessian):
    loss = FocalLoss(gamma, alpha, hessian)
    raw, label = np.array([z]), np.array([y])
    value = loss.loss(label, raw)
    grad, hess = loss.grad_hess(label, raw)
    proba = loss.predict_proba(raw)
    assert np.all(np.isfinite(value)) and value[0] >= 0
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    assert proba.sum() == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
@given(row=st.lists(raws, min_size=3, max_size=3), y=st.integers(0, 2), gamma=gammas,
       hessian=st.sampled_from(["bound", "exact"]))
def test_softmax_finite_and_nonnegative(row, y, gamma, hessian):
    loss = FocalLoss(gamma, hessian=hessian)
    raw, label = np.array([row]), np.array([y])
    value = loss.loss(label, raw)
    grad, hess = loss.grad_hess(label, raw)
    proba = loss.predict_proba(raw)
    assert np.all(np.isfinite(value)) and value[0] >= 0
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))
    assert grad.sum() == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.isfinite(proba)) and proba.sum() == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
# y on a 1/1024 grid so that 1 - y is exact in float64 (a test of the loss, not of rounding)
@given(z=raws, y=st.integers(0, 1024).map(lambda k: k / 1024), gamma=gammas, alpha=st.sampled_from([None, 0.5]))
def test_binary_symmetry(z, y, gamma, alpha):
    loss = FocalLoss(gamma, alpha, "exact")
    a = loss.loss(np.array([y]), np.array([z]))
    b = loss.loss(np.array([1 - y]), np.array([-z]))
    assert_close(a, b, rtol=1e-10)
    ga, ha = loss.grad_hess(np.array([y]), np.array([z]))
    gb, hb = loss.grad_hess(np.array([1 - y]), np.array([-z]))
    assert_close(ga, -gb, rtol=1e-10)
    assert_close(ha, hb, rtol=1e-10)


# weights are 0 or normal floats: subnormal weights lose their digits in sum(w * loss) / sum(w) on any implementation
weights = st.one_of(st.just(0.0), st.floats(1e-6, 100))


@settings(max_examples=100, deadline=None)
@given(z=st.lists(raws, min_size=4, max_size=4), w=st.lists(weights, min_size=4, max_size=4),
       gamma=gammas, soft=st.booleans())
def test_sample_weights_multiply(z, w, gamma, soft):
    loss = FocalLoss(gamma, 0.3)
    y = np.array([0.2, 1.0, 0.0, 0.7]) if soft else np.array([0.0, 1.0, 0.0, 1.0])
    raw, weight = np.array(z), np.array(w)
    # soft-label gradients can cancel to rounding noise; compare on the scale of the weights
    atol = 1e-15 * max(weight.max(), 1e-300)
    np.testing.assert_allclose(loss.loss(y, raw, weight), weight * loss.loss(y, raw), rtol=1e-13, atol=atol)
    g_w, h_w = loss.grad_hess(y, raw, weight)
    g, h = loss.grad_hess(y, raw)
    np.testing.assert_allclose(g_w, weight * g, rtol=1e-13, atol=atol)
    np.testing.assert_allclose(h_w, weight * h, rtol=1e-13, atol=atol)
    if weight.sum() > 0:
        assert loss.eval(y, raw, weight) == pytest.approx(np.sum(weight * loss.loss(y, raw)) / weight.sum())


def test_softmax_sample_weights_multiply():
    rng = np.random.default_rng(4)
    raw, y, w = rng.normal(size=(50, 3)), rng.integers(0, 3, 50), rng.uniform(0, 3, 50)
    loss = FocalLoss(1.5, (1.0, 2.0, 0.5))
    g_w, h_w = loss.grad_hess(y, raw, w)
    g, h = loss.grad_hess(y, raw)
    assert_close(g_w, w[:, None] * g, rtol=1e-13)
    assert_close(h_w, w[:, None] * h, rtol=1e-13)
    assert_close(loss.loss(y, raw, w), w * loss.loss(y, raw), rtol=1e-13)


# --------------------------------------------------------------------------- init score vs brute force
def _brute_binary(loss, y, w):
    total = lambda z: float(np.sum(loss.loss(y, np.full(y.shape, z), w)))  # noqa: E731
    grid = np.linspace(-30, 30, 1201)
    start = grid[np.argmin([total(z) for z in grid])]
    res = optimize.minimize_scalar(total, bracket=(start - 0.05, start, start + 0.05), tol=1e-12)
    return res.x


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 0.75])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_rate", [0.5, 0.05, 0.002])
def test_binary_init_score_brute_force(gamma, alpha, weighted, pos_rate):
    rng = np.random.default_rng(5)
    n = 5000
    y = (rng.uniform(size=n) < pos_rate).astype(float)
    y[:2] = [1.0, 0.0]
    w = rng.uniform(0.1, 3.0, n) if weighted else None
    loss = FocalLoss(gamma, alpha)
    assert loss.init_score(y, w) == pytest.approx(_brute_binary(loss, y, w), abs=1e-5)


def test_binary_init_score_soft_labels_brute_force():
    rng = np.random.default_rng(6)
    y = rng.beta(0.3, 3.0, size=2000)
    loss = FocalLoss(2.0, 0.4)
    assert loss.init_score(y) == pytest.approx(_brute_binary(loss, y, None), abs=1e-5)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, (0.5, 2.0, 1.0, 0.2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_init_score_brute_force(gamma, alpha, weighted):
    rng = np.random.default_rng(7)
    n = 3000
    y = rng.choice(4, size=n, p=[0.8, 0.15, 0.04, 0.01])
    w = rng.uniform(0.1, 3.0, n) if weighted else None
    loss = FocalLoss(gamma, alpha)

    def total(free):
        raw = np.tile(np.concatenate([[0.0], free]), (n, 1))
        return float(np.sum(loss.loss(y, raw, w)))

    res = optimize.minimize(total, np.zeros(3), method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000, "maxfev": 20000})
    brute = softmax(np.concatenate([[0.0], res.x]))
    init = loss.init_score(y, w, n_classes=None if alpha else 4)
    assert init.shape == (4,)
    assert np.exp(init).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.exp(init), brute, rtol=1e-4, atol=1e-7)


def test_init_score_infers_classes():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    assert FocalLoss().init_score(y).shape == (3,)
    assert np.ndim(FocalLoss().init_score(np.array([0, 1, 1]))) == 0
    assert FocalLoss().init_score(np.array([0, 1, 1]), n_classes=3 if False else None) == pytest.approx(
        FocalLoss().init_score(np.array([0.0, 1.0, 1.0]))
    )
    with pytest.raises(ValueError, match="classes \\[3\\]"):
        FocalLoss().init_score(np.array([0, 1, 2]), n_classes=4)


# --------------------------------------------------------------------------- calibration
ETAS = [1e-4, 0.01, 0.1, 0.3, 0.5, 0.8, 0.99, 0.9999]


@pytest.mark.parametrize("gamma", [0.5, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 0.9])
def test_binary_calibration_inverts_focal_optimal_score(gamma, alpha):
    loss = FocalLoss(gamma, alpha)
    for eta in ETAS:
        y = np.array([1.0, 0.0])

        def risk(z, eta=eta, y=y):
            return float(np.dot([eta, 1 - eta], loss.loss(y, np.array([z, z]))))

        z_star = optimize.minimize_scalar(risk, bounds=(-60, 60), method="bounded", options={"xatol": 1e-11}).x
        assert loss.predict_proba(np.array([z_star]))[0, 1] == pytest.approx(eta, rel=1e-5)


def test_binary_calibration_documented_example():
    # gamma=2, alpha=0.5: a true posterior of 0.01 has a focal-optimal sigmoid near 0.15
    loss = FocalLoss(2.0, 0.5)
    z = optimize.brentq(lambda t: loss.predict_proba(np.array([t]))[0, 1] - 0.01, -20, 20, xtol=1e-13)
    assert 0.13 < expit(z) < 0.17
    assert loss.predict_proba(np.array([z]), calibrate=False)[0, 1] == pytest.approx(expit(z))


@pytest.mark.parametrize("gamma", [0.5, 2.0, 4.0])
@pytest.mark.parametrize("alpha", [None, (1.0, 0.25, 3.0)])
def test_softmax_calibration_inverts_focal_optimal_score(gamma, alpha):
    loss = FocalLoss(gamma, alpha)
    labels = np.arange(3)
    for eta in ([0.6, 0.3, 0.1], [0.01, 0.04, 0.95], [0.98, 0.019, 0.001], [1 / 3, 1 / 3, 1 / 3]):
        eta = np.array(eta)

        def risk(free, eta=eta):
            raw = np.tile(np.concatenate([[0.0], free]), (3, 1))
            return float(np.dot(eta, loss.loss(labels, raw)))

        res = optimize.minimize(risk, np.zeros(2), method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 5000})
        proba = loss.predict_proba(np.concatenate([[0.0], res.x])[None, :])[0]
        np.testing.assert_allclose(proba, eta, rtol=1e-4, atol=1e-7)


def test_calibration_monotone_and_finite_at_extremes():
    raw = np.concatenate([-np.logspace(4, -3, 300), [0.0], np.logspace(-3, 4, 300)])
    for gamma in (0.5, 2.0, 5.0):
        for alpha in (None, 0.25):
            eta = FocalLoss(gamma, alpha).predict_proba(raw)[:, 1]
            assert np.all(np.isfinite(eta))
            assert np.all(np.diff(eta) >= 0)
            assert eta[0] == 0.0 or eta[0] < 1e-100
            assert eta[-1] == 1.0
    rng = np.random.default_rng(8)
    base = rng.normal(size=(200, 4)) * 5
    loss = FocalLoss(2.0, (1.0, 2.0, 0.5, 1.0))
    for k in range(4):
        bumped = base.copy()
        bumped[:, k] += 0.5
        assert np.all(loss.predict_proba(bumped)[:, k] >= loss.predict_proba(base)[:, k])
    extreme = np.array([[1e4, -1e4, 0.0, 1.0], [-1e4, -1e4, -1e4, 1e4]])
    proba = loss.predict_proba(extreme)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)


def test_gamma_zero_no_alpha_calibration_is_identity():
    raw = np.linspace(-40, 40, 81)
    assert_close(FocalLoss(0.0).predict_proba(raw), FocalLoss(0.0).predict_proba(raw, calibrate=False), rtol=1e-12)


# --------------------------------------------------------------------------- bad input
BAD_CONSTRUCTION = [
    ({"gamma": -1.0}, "gamma"),
    ({"gamma": float("inf")}, "gamma"),
    ({"gamma": float("nan")}, "gamma"),
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": 1.0}, "alpha"),
    ({"alpha": 1.5}, "alpha"),
    ({"alpha": [1.0, -0.5, 1.0]}, "alpha"),
    ({"alpha": [1.0, float("nan"), 1.0]}, "alpha"),
    ({"alpha": [1.0]}, "alpha"),
    ({"hessian": "newton"}, "hessian"),
]


@pytest.mark.parametrize(("kwargs", "name"), BAD_CONSTRUCTION)
def test_bad_construction(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FocalLoss(**kwargs)


BAD_CALLS = [
    ("binary label above 1", lambda: FocalLoss().grad(np.array([0.0, 2.0]), np.zeros(2)), "y"),
    ("binary label below 0", lambda: FocalLoss().grad(np.array([0.0, -0.1]), np.zeros(2)), "y"),
    ("NaN label", lambda: FocalLoss().loss(np.array([0.0, np.nan]), np.zeros(2)), "y"),
    ("NaN multiclass label", lambda: FocalLoss().loss(np.array([0.0, np.nan]), np.zeros((2, 3))), "y"),
    ("non-integer class", lambda: FocalLoss().grad(np.array([0.5, 1.0]), np.zeros((2, 3))), "y"),
    ("class out of range", lambda: FocalLoss().grad(np.array([0, 3]), np.zeros((2, 3))), "y"),
    ("alpha length != K", lambda: FocalLoss(alpha=[1, 1]).grad(np.array([0, 1]), np.zeros((2, 3))), "alpha"),
    ("scalar alpha, multiclass", lambda: FocalLoss(alpha=0.3).grad(np.array([0, 1]), np.zeros((2, 3))), "alpha"),
    ("length mismatch", lambda: FocalLoss().grad(np.array([0.0, 1.0]), np.zeros(3)), "len\\(y\\)"),
    ("raw inf", lambda: FocalLoss().grad(np.array([0.0, 1.0]), np.array([0.0, np.inf])), "raw"),
    ("raw nan", lambda: FocalLoss().hess(np.array([0.0, 1.0]), np.array([0.0, np.nan])), "raw"),
    ("raw 3-D", lambda: FocalLoss().loss(np.array([0.0]), np.zeros((1, 1, 1))), "raw"),
    ("negative weight", lambda: FocalLoss().loss(np.array([0.0, 1.0]), np.zeros(2), np.array([1.0, -1.0])),
     "sample_weight"),
    ("NaN weight", lambda: FocalLoss().eval(np.array([0.0, 1.0]), np.zeros(2), np.array([1.0, np.nan])),
     "sample_weight"),
    ("weight length", lambda: FocalLoss().eval(np.array([0.0, 1.0]), np.zeros(2), np.ones(3)), "sample_weight"),
    ("zero total weight", lambda: FocalLoss().eval(np.array([0.0, 1.0]), np.zeros(2), np.zeros(2)),
     "sample_weight"),
    ("init of empty y", lambda: FocalLoss().init_score(np.array([])), "y"),
    ("init of one class", lambda: FocalLoss().init_score(np.zeros(5)), "positives"),
    ("init negative weight", lambda: FocalLoss().init_score(np.array([0.0, 1.0]), np.array([1.0, -2.0])),
     "sample_weight"),
    ("n_classes < 2", lambda: FocalLoss().init_score(np.array([0, 0]), n_classes=1), "n_classes"),
    ("proba of raw inf", lambda: FocalLoss().predict_proba(np.array([np.inf])), "raw"),
]


@pytest.mark.parametrize(("case", "call", "name"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_value_error_naming_argument(case, call, name):
    with pytest.raises(ValueError, match=name):
        call()


# --------------------------------------------------------------------------- misc
def test_pickle_round_trip_and_float32():
    loss = FocalLoss(1.5, (1.0, 2.0, 3.0), "abs")
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and repr(clone) == repr(loss)
    rng = np.random.default_rng(9)
    raw = rng.normal(size=(20, 3)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    g32, h32 = clone.grad_hess(y, raw)
    g64, h64 = loss.grad_hess(y, raw.astype(np.float64))
    assert g32.dtype == np.float64
    np.testing.assert_array_equal(g32, g64)
    np.testing.assert_array_equal(h32, h64)


def test_eval_is_weighted_mean():
    y = np.array([0.0, 1.0, 1.0])
    raw = np.array([0.3, -1.0, 2.0])
    w = np.array([1.0, 2.0, 0.5])
    loss = FocalLoss(2.0, 0.25)
    per = [oracles.binary_derivs(yi, zi, 2.0, 0.25)[0] for yi, zi in zip(y, raw, strict=True)]
    assert loss.eval(y, raw, w) == pytest.approx(np.dot(w, per) / w.sum(), rel=1e-12)
    assert loss.eval(y, raw) == pytest.approx(np.mean(per), rel=1e-12)
