"""Deployment: declared objectives in saved models, ONNX export with the calibration map (focal_boost.onnx), skl2onnx
pipelines, SHAP and treelite on the boosters, and an ONNX model scored where focal_boost cannot be imported.

References are independent of the code under test: scipy's expit/softmax of the engines' raw scores, the
classifier's own ``predict_proba`` (numpy, ``FocalLoss``), or the model before the change.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import expit, softmax

from focal_boost import FocalLoss

from .conftest import make_binary, make_multiclass

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

from focal_boost import lightgbm as flgb  # noqa: E402
from focal_boost import xgboost as fxgb  # noqa: E402
from focal_boost.onnx import _calibration_model, to_onnx  # noqa: E402

N_ROWS = 300
LGB = {"n_estimators": 15, "num_leaves": 7, "n_jobs": 1, "deterministic": True, "force_col_wise": True,
       "learning_rate": 0.3}
XGB = {"n_estimators": 15, "max_depth": 3, "n_jobs": 1, "learning_rate": 0.3}
CAT = {"iterations": 15, "depth": 3, "thread_count": 1, "random_seed": 0}
NAMES = np.array(["cat", "dog", "eel"])
PROBA_ATOL = 1e-5  # ONNX sums the trees in float32; measured <= 3e-7


def _data(multiclass: bool) -> tuple[np.ndarray, np.ndarray]:
    """Binary: integer labels 0/1; multiclass: string labels (classes_ of dtype str)."""
    if multiclass:
        X, y = make_multiclass(N_ROWS, seed=3)
        return X, NAMES[y]
    return make_binary(N_ROWS, seed=3)


def _classifier(engine: str, multiclass: bool, calibrate: bool = True, **extra):
    alpha = [1.0, 2.0, 4.0] if multiclass else 0.25
    if engine == "lightgbm":
        return flgb.FocalLGBMClassifier(gamma=2.0, alpha=alpha, calibrate=calibrate, **{**LGB, **extra})
    if engine == "xgboost":
        return fxgb.FocalXGBClassifier(gamma=2.0, alpha=alpha, calibrate=calibrate, **{**XGB, **extra})
    fcat = pytest.importorskip("focal_boost.catboost")
    return fcat.FocalCatBoostClassifier(gamma=2.0, alpha=None if multiclass else 0.25, calibrate=calibrate,
                                        **{**CAT, **extra})


def _run(model, X: np.ndarray) -> list:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


# -- saved models declare a real objective ---------------------------------------------------------------------------
@pytest.mark.parametrize("multiclass", [False, True])
def test_lightgbm_models_declare_objective_with_raw_scores_unchanged(multiclass, monkeypatch):
    X, y = make_multiclass(N_ROWS) if multiclass else make_binary(N_ROWS)
    loss = FocalLoss(2.0, None if multiclass else 0.25)
    params = {"num_leaves": 7, "verbosity": -1, "deterministic": True, "force_col_wise": True, "num_threads": 1,
              **({"num_class": 3} if multiclass else {})}
    (Xt, yt), (Xv, yv) = (X[:200], y[:200]), (X[200:], y[200:])

    def fit():
        return flgb.train(loss, dict(params, learning_rate=0.5), lgb.Dataset(Xt, label=yt), num_boost_round=40,
                          valid_sets=[lgb.Dataset(Xv, label=yv)], callbacks=[lgb.early_stopping(3, verbose=False)])

    declared = fit()
    with monkeypatch.context() as m:
        m.setattr(flgb, "_declare_objective", lambda booster, n_classes: booster)
        before = fit()
    assert "objective=" not in before.model_to_string().split("\n\n")[0]  # what LightGBM 4.7 writes by itself
    header = declared.model_to_string().split("\n\n")[0].split("\n")
    assert ("objective=multiclass num_class:3" if multiclass else "objective=binary sigmoid:1") in header
    assert declared.best_iteration == before.best_iteration and declared.best_score == before.best_score
    raw = declared.predict(X, raw_score=True)
    np.testing.assert_array_equal(raw, before.predict(X, raw_score=True))  # bit-identical
    plain = lgb.Booster(model_str=declared.model_to_string())
    np.testing.assert_array_equal(plain.predict(X, raw_score=True), raw)
    expected = softmax(raw, axis=1) if multiclass else expit(raw)
    np.testing.assert_allclose(plain.predict(X), expected, rtol=1e-12, atol=1e-15)

    # onnxmltools accepts the booster as it is and computes LightGBM's own probabilities (uncalibrated)
    onnxmltools = pytest.importorskip("onnxmltools")
    from onnxmltools.convert.common.data_types import FloatTensorType

    converted = onnxmltools.convert_lightgbm(plain, initial_types=[("X", FloatTensorType([None, X.shape[1]]))],
                                             zipmap=False)
    proba = _run(converted, X.astype(np.float32))[1]
    np.testing.assert_allclose(proba, loss.predict_proba(raw, calibrate=False), atol=PROBA_ATOL)


@pytest.mark.parametrize("multiclass", [False, True])
def test_xgboost_objective_declared_only_where_margins_stay_exact(multiclass, monkeypatch):
    X, y = make_multiclass(N_ROWS) if multiclass else make_binary(N_ROWS)
    loss = FocalLoss(2.0, None if multiclass else 0.25)
    params = {"max_depth": 3, "nthread": 1, **({"num_class": 3} if multiclass else {})}
    declared = fxgb.train(loss, params, xgb.DMatrix(X, label=y), 10)
    with monkeypatch.context() as m:
        m.setattr(fxgb, "_declare_objective", lambda booster, n_classes: booster)
        before = fxgb.train(loss, params, xgb.DMatrix(X, label=y), 10)
    margins = declared.predict(xgb.DMatrix(X), output_margin=True)
    np.testing.assert_array_equal(margins, before.predict(xgb.DMatrix(X), output_margin=True))
    name = json.loads(declared.save_config())["learner"]["objective"]["name"]
    if multiclass:
        assert name == "multi:softprob"
        plain = xgb.Booster(model_file=bytearray(declared.save_raw("json")))
        np.testing.assert_allclose(plain.predict(xgb.DMatrix(X)), softmax(margins.astype(np.float64), axis=1),
                                   atol=1e-6)
    else:
        assert name == "reg:squarederror"  # binary:logistic would store base_score as a probability: not exact


# -- ONNX export ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("calibrate", [True, False], ids=["calibrated", "uncalibrated"])
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multiclass"])
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost", "catboost"])
def test_onnx_probabilities_equal_predict_proba(engine, multiclass, calibrate):
    X, y = _data(multiclass)
    clf = _classifier(engine, multiclass, calibrate).fit(X, y)
    model = to_onnx(clf, X)
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    label, proba = _run(model, X.astype(np.float32))
    expected = clf.predict_proba(X)
    assert proba.shape == expected.shape == (len(y), len(clf.classes_))
    np.testing.assert_allclose(proba, expected, rtol=0, atol=PROBA_ATOL)
    np.testing.assert_array_equal(label, clf.predict(X))
    # the map matters: calibrated and plain sigmoid/softmax differ by far more than the tolerance
    other = clf.loss_.predict_proba(clf.decision_function(X), calibrate=not calibrate)
    assert np.abs(proba - other).max() > 100 * PROBA_ATOL


def test_onnx_catboost_builtin_focal_loss():
    fcat = pytest.importorskip("focal_boost.catboost")
    X, y = _data(False)
    clf = fcat.FocalCatBoostClassifier(gamma=2.0, alpha=0.25, hessian="exact", **CAT).fit(X, y)
    assert clf.builtin_loss_ is not None
    label, proba = _run(to_onnx(clf, X), X.astype(np.float32))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=PROBA_ATOL)
    np.testing.assert_array_equal(label, clf.predict(X))


@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_onnx_uses_the_best_iteration(engine):
    X, y = _data(False)
    clf = _classifier(engine, False, early_stopping_rounds=2, n_estimators=60).set_params(learning_rate=1.0)
    clf.fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])])
    n_total = (clf.booster_.current_iteration() if engine == "lightgbm" else clf.booster_.num_boosted_rounds())
    assert clf.best_iteration_ + 1 < n_total or engine == "lightgbm"  # LightGBM's booster is already truncated
    proba = _run(to_onnx(clf, X), X.astype(np.float32))[1]
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=PROBA_ATOL)


@pytest.mark.parametrize("target_opset", [13, 18, 21])
def test_onnx_target_opsets(target_opset):
    """ReduceMax takes its axes as an input from opset 18 on (ReduceSum from 13): both spellings."""
    X, y = _data(True)
    clf = _classifier("lightgbm", True).fit(X, y)
    model = to_onnx(clf, X, target_opset=target_opset)
    assert {o.domain: o.version for o in model.opset_import}[""] == target_opset
    np.testing.assert_allclose(_run(model, X.astype(np.float32))[1], clf.predict_proba(X), rtol=0, atol=PROBA_ATOL)


@pytest.mark.parametrize("calibrate", [True, False])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.7])
def test_onnx_calibration_map_is_finite_and_exact_at_large_raw_scores(gamma, calibrate):
    raw = np.concatenate([np.linspace(-40.0, 40.0, 161), [-700.0, -300.0, -30.5, 30.5, 300.0, 700.0]])
    for alpha in (None, 0.25):
        loss = FocalLoss(gamma, alpha)
        got = _run(_calibration_model(loss, 1, 2, calibrate), raw[:, None])[0]
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, loss.predict_proba(raw, calibrate=calibrate), rtol=1e-9, atol=1e-15)
    rng = np.random.default_rng(0)
    raw_k = np.vstack([rng.normal(scale=30.0, size=(200, 3)), [[40.0, -40.0, 0.0], [-300.0, 300.0, 299.0]]])
    for alpha in (None, (1.0, 2.0, 4.0)):
        loss = FocalLoss(gamma, alpha)
        got = _run(_calibration_model(loss, 3, 3, calibrate), raw_k)[0]
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, loss.predict_proba(raw_k, calibrate=calibrate), rtol=1e-9, atol=1e-15)


def test_to_onnx_rejects_bad_arguments():
    X, y = _data(False)
    with pytest.raises(TypeError, match="fitted focal_boost classifier"):
        to_onnx(flgb.FocalLGBMClassifier(), X)
    clf = _classifier("lightgbm", False).fit(X, y)
    with pytest.raises(ValueError, match=r"X_sample must have shape \(n_samples, 5\)"):
        to_onnx(clf, X[:, :3])
    with pytest.raises(ValueError, match="target_opset must be an integer >= 13, got target_opset=11"):
        to_onnx(clf, X, target_opset=11)
    with pytest.raises(TypeError, match="integers or strings"):
        to_onnx(_classifier("lightgbm", False).fit(X, y * 1.0))


# -- skl2onnx pipelines ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("zipmap", [None, False], ids=["zipmap-default", "zipmap-off"])
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multiclass"])
def test_skl2onnx_pipeline_reproduces_predict_proba(multiclass, zipmap):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data(multiclass)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", _classifier("lightgbm", multiclass))]).fit(X, y)
    options = None if zipmap is None else {id(pipe.steps[-1][1]): {"zipmap": zipmap}}
    label, proba = _run(skl2onnx.to_onnx(pipe, X.astype(np.float32), options=options), X.astype(np.float32))
    if zipmap is None:  # skl2onnx's default for classifiers: a list of {class: probability}
        proba = np.array([[row[c] for c in pipe.classes_] for row in proba])
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=0, atol=PROBA_ATOL)
    np.testing.assert_array_equal(label, pipe.predict(X))


def test_skl2onnx_xgboost_pipeline_in_float64():
    """XGBoost puts split thresholds on data values; a float32 scaler in ONNX can move a value across one, so the
    pipeline is converted with float64 data (the scaler then runs in float64, the trees see float32 as in XGBoost)."""
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data(True)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", _classifier("xgboost", True))]).fit(X, y)
    model = skl2onnx.to_onnx(pipe, X, options={id(pipe.steps[-1][1]): {"zipmap": False}})
    label, proba = _run(model, X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=0, atol=PROBA_ATOL)
    np.testing.assert_array_equal(label, pipe.predict(X))


# -- SHAP and treelite on the boosters ---------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:LightGBM binary classifier with TreeExplainer:UserWarning")
@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multiclass"])
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_shap_values_add_up_to_decision_function(engine, multiclass):
    shap = pytest.importorskip("shap")
    X, y = _data(multiclass)
    clf = _classifier(engine, multiclass).fit(X, y)
    explainer = shap.TreeExplainer(clf.booster_)
    values = np.asarray(explainer.shap_values(X))
    if multiclass and values.shape[0] == len(clf.classes_):  # older shap: one (n, F) array per class
        values = np.moveaxis(values, 0, -1)
    total = values.sum(axis=1) + np.asarray(explainer.expected_value)
    np.testing.assert_allclose(total.reshape(clf.decision_function(X).shape), clf.decision_function(X),
                               rtol=0, atol=1e-5)


@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "multiclass"])
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_treelite_loads_saved_models_and_reproduces_raw_scores(engine, multiclass, tmp_path):
    treelite = pytest.importorskip("treelite")
    X, y = _data(multiclass)
    clf = _classifier(engine, multiclass).fit(X, y)
    if engine == "lightgbm":
        clf.booster_.save_model(tmp_path / "model.txt")
        model = treelite.frontend.load_lightgbm_model(tmp_path / "model.txt")
    else:
        clf.booster_.save_model(tmp_path / "model.json")
        model = treelite.frontend.load_xgboost_model(tmp_path / "model.json")
    raw = treelite.gtil.predict(model, X, pred_margin=True)
    expected = clf.decision_function(X)
    np.testing.assert_allclose(np.asarray(raw, dtype=np.float64).reshape(expected.shape), expected,
                               rtol=0, atol=1e-5)


# -- the exported model outside focal_boost ----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["lightgbm", "xgboost"])
def test_onnx_model_scores_where_focal_boost_is_not_importable(engine, tmp_path, run_plain_python):
    X, y = _data(True)
    clf = _classifier(engine, True).fit(X, y)
    (tmp_path / "model.onnx").write_bytes(to_onnx(clf, X).SerializeToString())
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    run_plain_python(f"""
        import importlib.util, os, sys
        # the editable install puts a finder for focal_boost on sys.meta_path; drop it and any path holding the package
        sys.meta_path = [f for f in sys.meta_path if "focal_boost" not in repr(f)]
        sys.path = [p for p in sys.path if not os.path.isdir(os.path.join(p or ".", "focal_boost"))]
        assert importlib.util.find_spec("focal_boost") is None, "focal_boost is importable"
        import numpy as np, onnxruntime
        d = {str(tmp_path)!r}
        session = onnxruntime.InferenceSession(d + "/model.onnx", providers=["CPUExecutionProvider"])
        label, proba = session.run(None, {{"X": np.load(d + "/X.npy")}})
        np.save(d + "/proba.npy", proba)
        np.save(d + "/label.npy", label.astype(str))
    """)
    np.testing.assert_allclose(np.load(tmp_path / "proba.npy"), clf.predict_proba(X), rtol=0, atol=PROBA_ATOL)
    np.testing.assert_array_equal(np.load(tmp_path / "label.npy"), clf.predict(X))
