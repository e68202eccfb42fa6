"""Input as users hold it (README, "input"): NumPy, scipy sparse, pandas (NumPy-backed and Arrow-backed dtypes) and
polars, on the three classifiers.

The matrix: input type x engine x {numeric, categorical, with NaN, with inf}. Every cell either trains the model
that the pandas DataFrame of the same data trains (equal raw scores on the same rows) or raises the documented
``ValueError`` before any training. The cells where the engines' own classifiers crash the process on the input
(LightGBM on polars categoricals, CatBoost on ``pl.Categorical``) run in a subprocess.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp

from focal_boost.catboost import FocalCatBoostClassifier
from focal_boost.lightgbm import FocalLGBMClassifier
from focal_boost.xgboost import FocalXGBClassifier

pl = pytest.importorskip("polars")

ROOT = Path(__file__).resolve().parents[1]
N = 120
ENGINES = {
    "lightgbm": (FocalLGBMClassifier, dict(n_estimators=5, n_jobs=1)),
    "xgboost": (FocalXGBClassifier, dict(n_estimators=5, n_jobs=1)),
    "catboost": (FocalCatBoostClassifier, dict(n_estimators=5, thread_count=1, random_seed=0)),
}
# What each engine needs to read a categorical column (the engine's own option).
CATEGORICAL_OPTION = {"lightgbm": {}, "xgboost": {"enable_categorical": True}, "catboost": {"cat_features": ["cat"]}}
INPUTS = ("numpy", "sparse", "pandas", "pandas_arrow", "polars")
VARIANTS = ("numeric", "categorical", "nan", "inf")
ARROW_DICTIONARY = pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))
INFINITY = r"X contains infinity in column (?:'num'|0) \(1 value\(s\), the first in row 5\).*infinity is an error"


def _columns(variant: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Column values (NumPy; NaN marks a missing value) and labels. No value is 0, so a sparse matrix stores every
    value and means the same as the dense data on every engine (XGBoost reads entries a sparse matrix does not
    store as missing)."""
    rng = np.random.default_rng(0)
    num = np.round(rng.normal(size=N), 1) + 0.05
    count = rng.integers(1, 6, N).astype(np.int64)
    cat = rng.choice(np.array(["a", "b", "c"], dtype=object), N)
    y = ((num + 1.5 * (cat == "c") + rng.normal(scale=0.5, size=N)) > 0.8).astype(np.int64)
    if variant == "nan":
        num[::7] = np.nan
    if variant == "inf":
        num[5] = np.inf
    if variant == "categorical":
        return {"num": num, "cat": cat}, y
    return {"num": num, "count": count}, y


def _frame(kind: str, columns: dict[str, np.ndarray]) -> object:
    """The columns as ``kind`` holds them; categorical columns in each library's categorical type."""
    if kind == "numpy":
        return np.column_stack(list(columns.values()))
    if kind == "sparse":
        return sp.csr_matrix(np.column_stack(list(columns.values())).astype(np.float64))
    if kind == "pandas":
        return pd.DataFrame({name: pd.Categorical(v) if v.dtype == object else v for name, v in columns.items()})
    if kind == "pandas_arrow":
        data = {}
        for name, v in columns.items():
            if v.dtype == object:
                data[name] = pd.Series(pa.array(v).dictionary_encode(), dtype=ARROW_DICTIONARY)
            else:
                arrow = pa.array(v, from_pandas=True)  # NaN becomes an Arrow null
                data[name] = pd.Series(arrow, dtype=pd.ArrowDtype(arrow.type))
        return pd.DataFrame(data)
    assert kind == "polars"
    data = {}
    for name, v in columns.items():
        if v.dtype == object:
            data[name] = pl.Series(name, v.tolist(), dtype=pl.Categorical)
        elif v.dtype.kind == "f":
            data[name] = pl.Series(name, [None if np.isnan(x) else x for x in v.tolist()], dtype=pl.Float64)
        else:
            data[name] = pl.Series(name, v.tolist(), dtype=pl.Int64)
    return pl.DataFrame(data)


def _classifier(engine: str, variant: str, **extra: object):
    cls, kwargs = ENGINES[engine]
    options = CATEGORICAL_OPTION[engine] if variant == "categorical" else {}
    return cls(**kwargs, **options, **extra)


@functools.cache
def _reference_raw(engine: str, variant: str) -> np.ndarray:
    """Raw scores of the model the pandas DataFrame trains, on its own rows."""
    columns, y = _columns(variant)
    X = _frame("pandas", columns)
    return _classifier(engine, variant).fit(X, y).decision_function(X)


def _booster_feature_names(engine: str, clf: object) -> list[str]:
    booster = clf.booster_
    if engine == "lightgbm":
        return booster.feature_name()
    if engine == "xgboost":
        return list(booster.feature_names)
    return list(booster.feature_names_)


def check_cell(engine: str, kind: str, variant: str) -> None:
    """One matrix cell (also run in a subprocess for the crash-prone ones)."""
    columns, y = _columns(variant)
    X = _frame(kind, columns)
    clf = _classifier(engine, variant)
    if variant == "inf":
        with pytest.raises(ValueError, match=INFINITY):
            clf.fit(X, y)
        assert not hasattr(clf, "booster_")
        return
    if variant == "categorical" and kind == "numpy":
        # NumPy arrays are numeric: strings in an object array are refused (scikit-learn's check_array)
        with pytest.raises(ValueError, match="could not convert string to float"):
            clf.fit(X, y)
        return
    clf.fit(X, y)
    raw = clf.decision_function(X)
    np.testing.assert_allclose(raw, _reference_raw(engine, variant), rtol=0, atol=1e-12)
    if kind in ("pandas", "pandas_arrow", "polars"):
        assert list(clf.feature_names_in_) == list(columns)
        assert _booster_feature_names(engine, clf) == list(columns)
    else:
        assert not hasattr(clf, "feature_names_in_")
    proba = clf.predict_proba(X)
    assert proba.shape == (N, 2) and np.all(np.isfinite(proba))


# Every check that would crash the process if focal_boost handed the engine the frame as it is, run together in one
# subprocess (one interpreter start): each prints its own verdict, so a crash shows which check it was.
IN_SUBPROCESS = [
    ("check_cell", ("lightgbm", "polars", "categorical")),
    ("check_cell", ("catboost", "polars", "categorical")),
    ("check_missing_category_lightgbm_polars", ()),
    ("check_other_categories", ("lightgbm", "polars")),
    ("check_other_categories", ("lightgbm", "polars_enum")),
]
_SUBPROCESS_RUNNER = """
import traceback
import tests.test_input as t
for name, args in t.IN_SUBPROCESS:
    try:
        getattr(t, name)(*args)
        print("passed", name, args, flush=True)
    except BaseException:
        print("failed", name, args, traceback.format_exc().replace("\\n", " | "), flush=True)
"""


@functools.cache
def _subprocess_run() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _SUBPROCESS_RUNNER], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def _passed_in_subprocess(name: str, args: tuple) -> None:
    assert (name, args) in IN_SUBPROCESS
    proc = _subprocess_run()
    lines = [line for line in proc.stdout.splitlines() if line.split(" ", 1)[-1].startswith(f"{name} {args}")]
    assert lines and lines[0].startswith("passed"), (
        f"{name}{args}: {lines[0] if lines else 'did not finish'} (rc {proc.returncode})\n{proc.stderr[-3000:]}")


MATRIX = [(engine, kind, variant) for engine in ENGINES for kind in INPUTS for variant in VARIANTS
          if not (kind == "sparse" and variant == "categorical")]  # a sparse matrix holds numbers only


@pytest.mark.parametrize(("engine", "kind", "variant"), MATRIX)
def test_matrix(engine: str, kind: str, variant: str) -> None:
    if ("check_cell", (engine, kind, variant)) in IN_SUBPROCESS:
        _passed_in_subprocess("check_cell", (engine, kind, variant))
    else:
        check_cell(engine, kind, variant)


# -- infinity: before any training, also in eval sets and at prediction ------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", INPUTS)
def test_infinity_raises_before_training(engine: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clean, y = _columns("numeric")
    bad, _ = _columns("inf")
    clf = _classifier(engine, "numeric")

    def no_training(self, fit):
        raise AssertionError("the engine was asked to train")

    monkeypatch.setattr(type(clf), "_fit_engine", no_training)
    for args, kwargs in [((_frame(kind, bad), y), {}),
                         ((_frame(kind, clean), y), {"eval_set": [(_frame(kind, bad), y)]})]:
        with pytest.raises(ValueError, match=INFINITY):
            clf.fit(*args, **kwargs)
    monkeypatch.undo()
    clf.fit(_frame(kind, clean), y)
    with pytest.raises(ValueError, match=INFINITY):
        clf.predict_proba(_frame(kind, bad))


def test_infinity_names_the_feature_of_a_fitted_frame_and_negative_infinity() -> None:
    columns, y = _columns("numeric")
    clf = _classifier("lightgbm", "numeric").fit(_frame("pandas", columns), y)
    X = np.column_stack(list(columns.values())).astype(np.float64)
    X[[3, 9], 1] = -np.inf
    with pytest.raises(ValueError, match=r"infinity in column 'count' \(2 value\(s\), the first in row 3\)"), \
            pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.decision_function(X)


# -- string columns: the engine's own option, or an error that names the columns and the fix ----------------------
def _string_frames(cat: np.ndarray, num: np.ndarray) -> dict[str, object]:
    return {
        "pandas_object": pd.DataFrame({"num": num, "cat": pd.Series(cat, dtype=object)}),
        "pandas_str": pd.DataFrame({"num": num, "cat": pd.Series(cat.tolist(), dtype=str)}),
        "string_pyarrow": pd.DataFrame({"num": num, "cat": pd.array(cat.tolist(), dtype="string[pyarrow]")}),
        "polars": pl.DataFrame({"num": num, "cat": pl.Series(cat.tolist(), dtype=pl.String)}),
    }


STRING_FIX = {
    "lightgbm": r"X has string column\(s\) \['cat'\]: LightGBM .*astype\('category'\)",
    "xgboost": r"X has string column\(s\) \['cat'\]: XGBoost .*astype\('category'\).*enable_categorical=True",
    "catboost": r"X has string or categorical column\(s\) \['cat'\]: CatBoost .*cat_features=\['cat'\]",
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["pandas_object", "pandas_str", "string_pyarrow", "polars"])
def test_string_columns(engine: str, kind: str) -> None:
    columns, y = _columns("categorical")
    X = _string_frames(columns["cat"], columns["num"])[kind]
    cls, kwargs = ENGINES[engine]
    # without the engine's option (and, for LightGBM/XGBoost, with it: they read categoricals from 'category' only)
    for options in ({}, CATEGORICAL_OPTION[engine]) if engine != "catboost" else ({},):
        with pytest.raises(ValueError, match=STRING_FIX[engine]):
            cls(**kwargs, **options).fit(X, y)
    if engine == "catboost":
        # CatBoost's cat_features takes strings as categories: the model of the categorical pandas frame
        clf = _classifier(engine, "categorical").fit(X, y)
        np.testing.assert_allclose(clf.decision_function(X), _reference_raw(engine, "categorical"), rtol=0,
                                   atol=1e-12)


@pytest.mark.parametrize("kind", ["pandas", "pandas_arrow", "polars"])
def test_xgboost_categorical_needs_enable_categorical(kind: str) -> None:
    columns, y = _columns("categorical")
    with pytest.raises(ValueError, match=r"categorical column\(s\) \['cat'\].*enable_categorical=True"):
        FocalXGBClassifier(n_estimators=2, n_jobs=1).fit(_frame(kind, columns), y)


# -- categoricals with missing values ---------------------------------------------------------------------------------
def _with_missing_category(kind: str) -> tuple[object, np.ndarray]:
    columns, y = _columns("categorical")
    cat = columns["cat"].copy()
    cat[::9] = None
    if kind == "pandas":
        return pd.DataFrame({"num": columns["num"], "cat": pd.Categorical(cat)}), y
    if kind == "pandas_arrow":
        return pd.DataFrame({"num": columns["num"],
                             "cat": pd.Series(pa.array(cat.tolist()).dictionary_encode(), dtype=ARROW_DICTIONARY)}), y
    return pl.DataFrame({"num": columns["num"], "cat": pl.Series(cat.tolist(), dtype=pl.Categorical)}), y


# lightgbm x polars: in a subprocess, test_missing_category_lightgbm_polars
@pytest.mark.parametrize(("engine", "kind"), [("lightgbm", "pandas_arrow"), ("xgboost", "pandas_arrow"),
                                              ("xgboost", "polars")])
def test_missing_category_is_missing(engine: str, kind: str) -> None:
    X_ref, y = _with_missing_category("pandas")
    X, _ = _with_missing_category(kind)
    ref = _classifier(engine, "categorical").fit(X_ref, y).decision_function(X_ref)
    np.testing.assert_allclose(_classifier(engine, "categorical").fit(X, y).decision_function(X), ref, rtol=0,
                               atol=1e-12)


def check_missing_category_lightgbm_polars() -> None:
    X_ref, y = _with_missing_category("pandas")
    X, _ = _with_missing_category("polars")
    ref = _classifier("lightgbm", "categorical").fit(X_ref, y).decision_function(X_ref)
    raw = _classifier("lightgbm", "categorical").fit(X, y).decision_function(X)
    np.testing.assert_allclose(raw, ref, rtol=0, atol=1e-12)


def test_missing_category_lightgbm_polars() -> None:
    _passed_in_subprocess("check_missing_category_lightgbm_polars", ())


@pytest.mark.parametrize("kind", ["pandas", "pandas_arrow", "polars"])
def test_catboost_missing_category_raises(kind: str) -> None:
    X, y = _with_missing_category(kind)
    with pytest.raises(ValueError, match=r"categorical column\(s\) \['cat'\]: they hold missing values.*fill"):
        _classifier("catboost", "categorical").fit(X, y)


# -- prediction encodes categories as fit did -----------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["pandas", "pandas_arrow", "polars", "polars_enum"])
def test_prediction_frame_with_other_categories(engine: str, kind: str) -> None:
    """A frame built afresh for prediction, holding only some of the categories in another order, gets the raw
    scores of the same rows of the training frame (categories are matched by value, not by code)."""
    if ("check_other_categories", (engine, kind)) in IN_SUBPROCESS:
        _passed_in_subprocess("check_other_categories", (engine, kind))
    else:
        check_other_categories(engine, kind)


def check_other_categories(engine: str, kind: str) -> None:
    columns, y = _columns("categorical")
    rows = np.flatnonzero(columns["cat"] != "b")[::-1][:20]  # no "b", "c" first
    subset = {name: v[rows] for name, v in columns.items()}
    if kind == "polars_enum":
        enum = pl.Enum(["c", "b", "a"])
        X = pl.DataFrame({"num": columns["num"], "cat": pl.Series(columns["cat"].tolist(), dtype=enum)})
        X_new = pl.DataFrame({"num": subset["num"], "cat": pl.Series(subset["cat"].tolist(), dtype=enum)})
    else:
        X, X_new = _frame(kind, columns), _frame(kind, subset)
    clf = _classifier(engine, "categorical").fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X_new), clf.decision_function(X)[rows], rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.decision_function(X)[rows], _reference_raw(engine, "categorical")[rows], rtol=0,
                               atol=1e-12)


# -- what the conversions work around (engine versions in focal_boost/_frames.py) ----------------------------------
def _engine_own_fit(code: str) -> subprocess.CompletedProcess:
    script = ("import numpy as np, polars as pl\n"
              "X = pl.DataFrame({'num': np.arange(60.0),\n"
              "                  'cat': pl.Series(['a', 'b', 'c'] * 20, dtype=pl.Categorical)})\n"
              "y = np.arange(60) % 2\n" + code + "\nprint('fitted')")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


def test_engines_own_classifiers_crash_on_polars_categoricals() -> None:
    """LightGBM 4.7 aborts and CatBoost 1.2.10 segfaults on a pl.Categorical column; when this stops failing, the
    conversion for that engine may go (focal_boost/_frames.py)."""
    lgb = _engine_own_fit("import lightgbm; lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, y)")
    assert lgb.returncode != 0 and "fitted" not in lgb.stdout
    cb = _engine_own_fit("import catboost; catboost.CatBoostClassifier(iterations=2, verbose=False, "
                         "allow_writing_files=False, cat_features=['cat']).fit(X, y)")
    assert cb.returncode != 0 and "fitted" not in cb.stdout


def test_lightgbm_refuses_arrow_backed_columns() -> None:
    import lightgbm

    columns, y = _columns("numeric")
    with pytest.raises(ValueError, match="int64\\[pyarrow\\]"):
        lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(_frame("pandas_arrow", columns), y)


# -- CatBoost multiclass threads -----------------------------------------------------------------------------------
def _multiclass() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(60, 3)), 1)
    return X, np.arange(60) % 3


def _thread_warnings(**params: object) -> list[warnings.WarningMessage]:
    X, y = _multiclass()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FocalCatBoostClassifier(n_estimators=2, random_seed=0, **params).fit(X, y)
    return [w for w in caught if "queue for the GIL" in str(w.message)]


@pytest.mark.parametrize("params", [{"thread_count": 2}, {"n_jobs": 2}, {"thread_count": -1}, {"n_jobs": -1}])
def test_catboost_multiclass_threads_warn_once(params: dict[str, int]) -> None:
    caught = _thread_warnings(**params)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"thread_count={next(iter(params.values()))}" in message
    assert "6.7x slower than 1 thread" in message and "Leave thread_count and n_jobs unset" in message
    assert caught[0].filename == __file__  # points at the caller of fit()


@pytest.mark.parametrize("params", [{}, {"thread_count": 1}, {"n_jobs": 1}])
def test_catboost_multiclass_one_thread_does_not_warn(params: dict[str, int]) -> None:
    assert _thread_warnings(**params) == []


def test_catboost_binary_threads_do_not_warn() -> None:
    X, y = _multiclass()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FocalCatBoostClassifier(n_estimators=2, random_seed=0, thread_count=2).fit(X, y % 2)
    assert not [w for w in caught if "queue for the GIL" in str(w.message)]


def test_catboost_thread_figure_is_the_committed_one() -> None:
    """The warning's 6.7x is the ratio of the committed medians (thread_count=2 against 1 thread)."""
    text = (ROOT / "benchmarks" / "results" / "speed" / "speed.md").read_text()
    two = one = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 9 and cells[1] == "catboost" and cells[2] == "multiclass":
            if cells[6] == "focal (Python objective, thread_count=2)":
                two = float(cells[8])
            if cells[6] == "focal (Python objective)":
                one = float(cells[8])
    assert two is not None and one is not None
    assert f"{two / one:.1f}x" == "6.7x"
    assert f"({two:.1f} s against {one:.1f} s)" in str(_thread_warnings(thread_count=2)[0].message)


# -- small things ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_one_class_error_prints_the_plain_label(engine: str) -> None:
    columns, _ = _columns("numeric")
    with pytest.raises(ValueError, match=r"^y has 1 class \(0\): a classifier needs at least 2 classes$"):
        _classifier(engine, "numeric").fit(_frame("numpy", columns), np.zeros(N, dtype=np.int64))


# -- pandas' nullable dtypes and scipy sparse semantics --------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_pandas_nullable_columns_are_numbers_with_missing_values(engine: str) -> None:
    """``Int64``/``Float64``/``boolean`` with ``pd.NA`` train the model of the float64 frame with NaN (CatBoost
    1.2.10 cannot read ``pd.NA`` itself)."""
    columns, y = _columns("nan")
    flag = columns["count"] > 2
    nullable = pd.DataFrame({"num": pd.array([None if np.isnan(v) else v for v in columns["num"]], dtype="Float64"),
                             "count": pd.array(columns["count"], dtype="Int64"),
                             "flag": pd.array([None if i % 5 == 0 else bool(v) for i, v in enumerate(flag)],
                                              dtype="boolean")})
    plain = pd.DataFrame({"num": columns["num"], "count": columns["count"],
                          "flag": np.where(np.arange(N) % 5 == 0, np.nan, flag.astype(np.float64))})
    raw = _classifier(engine, "nan").fit(nullable, y).decision_function(nullable)
    np.testing.assert_allclose(raw, _classifier(engine, "nan").fit(plain, y).decision_function(plain), rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_sparse_entries_not_stored(engine: str) -> None:
    """As the README says: an entry a sparse matrix does not store is 0 for LightGBM and CatBoost, missing for
    XGBoost."""
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(N, 3)), 0)
    y = (X[:, 0] + rng.normal(size=N) > 0.5).astype(np.int64)
    assert (X == 0).mean() > 0.2
    meaning = np.where(X == 0, np.nan, X) if engine == "xgboost" else X
    raw = _classifier(engine, "numeric").fit(sp.csr_matrix(X), y).decision_function(sp.csr_matrix(X))
    np.testing.assert_allclose(raw, _classifier(engine, "numeric").fit(meaning, y).decision_function(meaning), rtol=0,
                               atol=1e-12)


def test_catboost_integer_cat_feature_with_null_raises() -> None:
    """An integer-coded cat_features column with a null would reach CatBoost as NaN, which it refuses."""
    columns, y = _columns("numeric")
    count = pl.Series([None, *columns["count"][1:].tolist()], dtype=pl.Int64)
    X = pl.DataFrame({"num": columns["num"], "count": count})
    with pytest.raises(ValueError, match=r"categorical column\(s\) \['count'\]: they hold missing values"):
        FocalCatBoostClassifier(n_estimators=2, thread_count=1, cat_features=["count"]).fit(X, y)
    clf = FocalCatBoostClassifier(n_estimators=2, thread_count=1, cat_features=[1]).fit(X.fill_null(0), y)
    assert clf.booster_.get_cat_feature_indices() == [1]
