"""The compared methods, per engine, and how one candidate configuration is trained and predicts.

Methods (every one gets the same number of candidate configurations, ``budget``, chosen by inner validation):

- ``logloss``: the engine's builtin log loss; candidates = the tree-size grid.
- ``weighted_logloss``: builtin log loss with class weights given as sample weights (binary: positives weigh
  n_negative / n_positive, i.e. ``scale_pos_weight``; multiclass: "balanced", n / (K n_k)); the validation split
  gets the same class weights, so early stopping watches the weighted log loss it trains on. Candidates = tree sizes.
- ``focal_tuned``: focal loss, candidates = the first ``budget`` gammas of (0, 1, 2, 0.5) (alpha=None, the library
  default) at the default tree size; gamma=0 is the log loss itself, so selection can fall back to it.
- ``focal_retinanet``: focal loss at RetinaNet's setting gamma=2, alpha=0.25 (binary; alpha=None for multiclass,
  where a scalar alpha is undefined). This is not the library's default (alpha=None); (gamma, alpha) are not tuned,
  the budget goes to the same tree-size grid as the logloss methods.

Engines are imported only inside the functions that train, so importing this module imports no engine.
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ENGINES",
    "METHODS",
    "Candidate",
    "Fitted",
    "Settings",
    "candidates",
    "class_weights",
    "engine_frame",
    "fit_candidate",
    "skip_reason",
]

ENGINES = ("lightgbm", "xgboost", "catboost")
METHODS = ("logloss", "weighted_logloss", "focal_tuned", "focal_retinanet")
FOCAL_METHODS = ("focal_tuned", "focal_retinanet")
# focal_retinanet: the setting of the RetinaNet paper (Lin et al. 2017); alpha weighs the positive class (label 1)
RETINANET_GAMMA, RETINANET_ALPHA = 2.0, 0.25
ADAPTERS = {
    "lightgbm": ("focal_boost.lightgbm", "FocalLGBMClassifier"),
    "xgboost": ("focal_boost.xgboost", "FocalXGBClassifier"),
    "catboost": ("focal_boost.catboost", "FocalCatBoostClassifier"),
}


@dataclass(frozen=True)
class Settings:
    """Training settings shared by every method (the budget knobs of a run)."""

    n_estimators: int = 200
    learning_rate: float = 0.15
    early_stopping_rounds: int = 20
    budget: int = 3  # candidate configurations per method (the full suite: 4)
    sizes: tuple[int, ...] = (2, 3, 4, 5)  # tree depths of the size grid; the first `budget` are used
    default_size: int = 4  # tree depth of focal_tuned
    # focal_tuned's gammas (alpha=None, the library default). gamma=0 is the builtin log loss, so selection can
    # fall back to it: focal_tuned is a superset of logloss at its tree size.
    focal_gammas: tuple[float, ...] = (0.0, 1.0, 2.0, 0.5)
    # CatBoost's Python multiclass objective is called once per object, twice per iteration at one leaf-estimation
    # iteration (catboost 1.2.10). With the per-object kernel of issue 13 that is ~20 us per object and iteration
    # on the 2-core development machine under load (one thread; 0.8 ms before). Focal multiclass CatBoost runs when
    # its estimated time per (method, fold) stays below this many seconds, else it is skipped and the report says
    # so; the default datasets' cells are far below it.
    catboost_multiclass_max_seconds: float = 120.0
    catboost_multiclass_seconds_per_object_round: float = 2e-5
    # CatBoost's leaf estimation, the same for every CatBoost method (issue 13). catboost 1.2.10's own defaults
    # differ by loss: builtin Logloss takes 10 Newton iterations with AnyImprovement backtracking, builtin MultiClass
    # 1 with AnyImprovement, a Python objective (focal_boost's) 1 without backtracking. Binary: 10 iterations for
    # every method (measured, 3 folds, depth 4, lr 0.15, early stopping: 1 -> 10 iterations raised the PR-AUC of
    # logloss 0.385 -> 0.496 and of focal 0.366 -> 0.544 on synth_pos1pct, 0.755 -> 0.773 and 0.752 -> 0.768 on
    # synth_pos10pct; Logloss at 10 with backtracking equalled 10 without); multiclass: 1 (MultiClass's default;
    # every iteration is one more per-object Python call of the focal objective: on synth_longtail5, 2 folds, focal
    # macro PR-AUC 0.844 at 1 vs 0.814 at 10 and 5.4 s vs 13.6 s per fit; MultiClass 0.837 vs 0.848). Backtracking
    # off for all: the Python objective has none.
    catboost_leaf_iterations_binary: int = 10
    catboost_leaf_iterations_multiclass: int = 1
    catboost_leaf_backtracking: str = "No"

    def describe(self) -> dict[str, Any]:
        return {
            "n_estimators (max rounds)": self.n_estimators,
            "learning_rate": self.learning_rate,
            "early_stopping_rounds": self.early_stopping_rounds,
            "candidates per method": self.budget,
            "tree-size grid (depth)": list(self.sizes[: self.budget]),
            "focal_tuned depth": self.default_size,
            "focal hessian": f"{default_hessian()!r} (the library default)",
            "other engine parameters": "engine defaults, one thread, fixed seed; LightGBM gets reg_lambda=1 "
                                       "(XGBoost's default; LightGBM's default 0 made builtin logloss collapse at "
                                       "0.1% positives in development runs)",
            "focal_tuned gammas (alpha=None)": list(self.focal_gammas[: self.budget]),
            "CatBoost leaf estimation (every method)": (
                f"Newton, {self.catboost_leaf_iterations_binary} iterations (binary) / "
                f"{self.catboost_leaf_iterations_multiclass} (multiclass), backtracking "
                f"{self.catboost_leaf_backtracking}"),
        }

    def catboost_leaf_params(self, n_classes: int) -> dict[str, Any]:
        """The leaf-estimation parameters every CatBoost method gets (see the fields above)."""
        iterations = (self.catboost_leaf_iterations_binary if n_classes == 2
                      else self.catboost_leaf_iterations_multiclass)
        return {"leaf_estimation_method": "Newton", "leaf_estimation_iterations": iterations,
                "leaf_estimation_backtracking": self.catboost_leaf_backtracking}


@dataclass(frozen=True)
class Candidate:
    """One configuration of a method: tree depth and, for focal methods, (gamma, alpha)."""

    method: str
    depth: int
    gamma: float | None = None
    alpha: Any = None  # None | float | "balanced" (resolved to class weights at fit time)

    @property
    def label(self) -> str:
        if self.gamma is None or self.method == "weighted_logloss":
            return f"depth={self.depth}"
        alpha = "None" if self.alpha in (None, "none") else self.alpha
        return f"depth={self.depth} gamma={self.gamma:g} alpha={alpha}"


def candidates(method: str, n_classes: int, settings: Settings, multilabel: bool = False) -> list[Candidate]:
    """The ``settings.budget`` candidates of a method (all methods get the same number); ``n_classes`` is K, or L
    labels with ``multilabel`` (where a scalar alpha weighs every label's positives)."""
    k = settings.budget
    if len(settings.sizes) < k:
        raise ValueError(f"budget={k} needs at least {k} tree sizes, got sizes={settings.sizes!r}")
    if method in ("logloss", "weighted_logloss"):
        return [Candidate(method, d) for d in settings.sizes[:k]]
    if method == "focal_retinanet":
        alpha = RETINANET_ALPHA if n_classes == 2 or multilabel else None
        return [Candidate(method, d, RETINANET_GAMMA, alpha) for d in settings.sizes[:k]]
    if method == "focal_tuned":
        gammas = settings.focal_gammas
        if len(gammas) < k:
            raise ValueError(f"budget={k} needs at least {k} gammas, got focal_gammas={gammas!r}")
        return [Candidate(method, settings.default_size, float(g), None) for g in gammas[:k]]
    raise ValueError(f"unknown method {method!r}; known: {METHODS}")


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights: binary ``[1, n_neg / n_pos]``; multiclass balanced ``n / (K n_k)``."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    if np.any(counts == 0):
        raise ValueError(f"every class needs training rows for class weights, got class counts {counts.tolist()}")
    if n_classes == 2:
        return np.array([1.0, counts[0] / counts[1]])
    return counts.sum() / (n_classes * counts)


def skip_reason(engine: str, method: str, n_train: int, n_classes: int, settings: Settings,
                multilabel: bool = False) -> str | None:
    """Why a (engine, method) pair is not run on a dataset, or ``None`` when it runs."""
    if method in FOCAL_METHODS or (multilabel and method == "weighted_logloss"):
        module, name = ADAPTERS[engine]
        try:
            cls = _adapter(engine)
        except ImportError as exc:
            return f"adapter {module}.{name} is not available ({exc})"
        if multilabel and not getattr(cls, "_multi_label", False):
            return f"{module}.{name} does not train multi-label targets"
        if engine == "catboost" and n_classes > 2 and not multilabel:
            per_call = settings.catboost_multiclass_seconds_per_object_round
            est = n_train * settings.n_estimators * settings.budget * per_call
            if est > settings.catboost_multiclass_max_seconds:
                return (
                    "CatBoost's Python multiclass objective is called once per object per iteration "
                    f"(~{per_call * 1e6:.0f} us per object-iteration measured with catboost 1.2.10): {n_train} "
                    "training rows x "
                    f"{settings.n_estimators} rounds x {settings.budget} candidates is an estimated {est:.0f} s per "
                    f"fold, over the run's limit of {settings.catboost_multiclass_max_seconds:.0f} s "
                    "(--catboost-multiclass-limit)"
                )
    return None


def default_hessian() -> str:
    """The focal hessian safeguard the classifiers use when none is given."""
    from .._sklearn import FocalClassifierBase

    return str(inspect.signature(FocalClassifierBase.__init__).parameters["hessian"].default)


def _adapter(engine: str) -> type:
    import importlib

    module, name = ADAPTERS[engine]
    mod = importlib.import_module(module)
    try:
        return getattr(mod, name)
    except AttributeError as exc:
        raise ImportError(f"{module} has no {name}") from exc


def _size_params(engine: str, depth: int) -> dict[str, Any]:
    if engine == "lightgbm":
        return {"num_leaves": 2**depth, "max_depth": depth}
    if engine == "xgboost":
        return {"max_depth": depth}
    return {"depth": depth}


CATBOOST_MISSING_CATEGORY = "NA"


def engine_frame(X: pd.DataFrame, categorical: Sequence[str], engine: str) -> pd.DataFrame:
    """The features as the engine's own classifier takes categoricals (the same frame goes to every method).

    LightGBM and XGBoost take ``category`` columns as they are (XGBoost with ``enable_categorical=True``, see
    :func:`engine_params`); a missing category is a missing value. CatBoost (1.2.x) refuses NaN in a categorical
    feature ("NaN values should be converted to string"), so its categorical columns become strings with missing
    values as the category ``"NA"``, the conversion a CatBoost user writes.
    """
    if engine != "catboost" or not categorical:
        return X
    X = X.copy()
    for col in categorical:
        X[col] = X[col].astype(object).where(X[col].notna(), CATBOOST_MISSING_CATEGORY).astype(str)
    return X


def engine_params(engine: str, depth: int, seed: int, settings: Settings,
                  categorical: Sequence[str] = ()) -> dict[str, Any]:
    """Engine parameters (the engine's sklearn names) shared by every method: rounds, rate, size, seed, 1 thread,
    and how categorical columns are declared (XGBoost ``enable_categorical``, CatBoost ``cat_features``)."""
    params: dict[str, Any] = {"n_estimators": settings.n_estimators, "learning_rate": settings.learning_rate}
    params.update(_size_params(engine, depth))
    if engine == "lightgbm":
        # LightGBM's default lambda_l2=0 lets a leaf holding one rare positive among negatives of hessian ~1e-3 take
        # a Newton step of hundreds: measured here at 0.1% positives, builtin logloss then collapsed to PR-AUC
        # 0.02-0.09 (0.50-0.97 with lambda_l2=1) and focal lost too. XGBoost's default reg_lambda is 1 and
        # CatBoost's l2_leaf_reg 3; every method gets lambda_l2=1 on LightGBM.
        params.update(random_state=seed, n_jobs=1, verbose=-1, reg_lambda=1.0)
    elif engine == "xgboost":
        params.update(random_state=seed, n_jobs=1, tree_method="hist", enable_categorical=True)
    else:
        params.update(random_seed=seed, thread_count=1, verbose=False, allow_writing_files=False)
        if categorical:
            params["cat_features"] = list(categorical)
    return params


@dataclass
class Fitted:
    """A trained candidate: ``predict(X)`` -> {variant: probabilities (n, K)}; fit wall time; boosting rounds used
    for prediction (a count); ``extra``: the fitted ``model``, and for focal candidates the resolved ``alpha``."""

    candidate: Candidate
    predict: Callable[[np.ndarray], dict[str, np.ndarray]]
    fit_time: float
    n_rounds: int
    extra: dict[str, Any] = field(default_factory=dict)


def _binary_full(proba: np.ndarray) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    return np.column_stack([1.0 - proba, proba]) if proba.ndim == 1 else proba


def fit_candidate(engine: str, cand: Candidate, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame,
                  y_val: np.ndarray, n_classes: int, seed: int, settings: Settings,
                  categorical: Sequence[str] = ()) -> Fitted:
    """Train one candidate on (X, y) with early stopping on (X_val, y_val) by the method's own metric; ``X`` and
    ``X_val`` come from :func:`engine_frame`."""
    params = engine_params(engine, cand.depth, seed, settings, categorical)
    if np.ndim(y) == 2:
        return _fit_multilabel(engine, cand, params, X, y, X_val, y_val, settings)
    if engine == "catboost":
        params.update(settings.catboost_leaf_params(n_classes))
    w = w_val = None
    if cand.method == "weighted_logloss":
        cw = class_weights(y, n_classes)
        w, w_val = cw[y], cw[y_val]
    if cand.method in FOCAL_METHODS:
        return _fit_focal(engine, cand, params, X, y, X_val, y_val, n_classes, settings)
    return _fit_builtin(engine, cand, params, X, y, w, X_val, y_val, w_val, n_classes, settings)


def _fit_builtin(engine: str, cand: Candidate, params: dict[str, Any], X: pd.DataFrame, y: np.ndarray,
                 w: np.ndarray | None, X_val: pd.DataFrame, y_val: np.ndarray, w_val: np.ndarray | None,
                 n_classes: int, settings: Settings) -> Fitted:
    es = settings.early_stopping_rounds
    t0 = time.perf_counter()
    if engine == "lightgbm":
        import lightgbm as lgb

        model = lgb.LGBMClassifier(**params)
        eval_kw: dict[str, Any]
        if "eval_X" in inspect.signature(model.fit).parameters:  # lightgbm >= 4.7 deprecates eval_set
            eval_kw = {"eval_X": (X_val,), "eval_y": (y_val,)}
        else:
            eval_kw = {"eval_set": [(X_val, y_val)]}
        model.fit(X, y, sample_weight=w, eval_sample_weight=None if w_val is None else [w_val],
                  callbacks=[lgb.early_stopping(es, verbose=False)], **eval_kw)
        n_rounds = int(model.best_iteration_ or params["n_estimators"])
    elif engine == "xgboost":
        import xgboost as xgb

        model = xgb.XGBClassifier(**params, early_stopping_rounds=es,
                                  eval_metric="logloss" if n_classes == 2 else "mlogloss")
        model.fit(X, y, sample_weight=w, eval_set=[(X_val, y_val)],
                  sample_weight_eval_set=None if w_val is None else [w_val], verbose=False)
        n_rounds = int(model.best_iteration) + 1
    else:
        import catboost as cb

        model = cb.CatBoostClassifier(**params, loss_function="Logloss" if n_classes == 2 else "MultiClass",
                                      early_stopping_rounds=es)
        model.fit(X, y, sample_weight=w, eval_set=cb.Pool(X_val, y_val, weight=w_val,
                                                          cat_features=params.get("cat_features")),
                  use_best_model=True)
        n_rounds = int(model.get_best_iteration()) + 1
    fit_time = time.perf_counter() - t0

    def predict(X_new: pd.DataFrame) -> dict[str, np.ndarray]:
        return {"native": _binary_full(model.predict_proba(X_new))}

    return Fitted(cand, predict, fit_time, n_rounds, {"model": model})


def _fit_multilabel(engine: str, cand: Candidate, params: dict[str, Any], X: pd.DataFrame, Y: np.ndarray,
                    X_val: pd.DataFrame, Y_val: np.ndarray, settings: Settings) -> Fitted:
    """Multi-label candidates (``Y`` an (n, L) 0/1 matrix). ``logloss`` is what each engine's user runs: XGBoost's
    builtin multi-target ``binary:logistic`` (one ``XGBClassifier`` on ``Y``), L binary ``LGBMClassifier`` (LightGBM
    has no multi-label loss), CatBoost's ``MultiLogloss``. ``weighted_logloss`` is the focal classifier at gamma=0
    with per-label alpha = the label's share of negatives (positives weigh n_neg/n_pos against negatives, the
    class-weighted log loss; no builtin multi-target loss takes weights per label). Focal methods: the focal
    classifier on ``Y``. CatBoost: every method at MultiLogloss's leaf estimation (Newton, 1 iteration; backtracking
    off, as for the other CatBoost cells)."""
    if engine == "catboost":
        params.update(settings.catboost_leaf_params(n_classes=Y.shape[1] + 1))
    if cand.method in FOCAL_METHODS or cand.method == "weighted_logloss":
        if cand.method == "weighted_logloss":
            cand = Candidate(cand.method, cand.depth, 0.0, [float(a) for a in 1.0 - Y.mean(axis=0)])
        return _fit_focal(engine, cand, params, X, Y, X_val, Y_val, Y.shape[1], settings)
    es = settings.early_stopping_rounds
    t0 = time.perf_counter()
    if engine == "lightgbm":
        import lightgbm as lgb

        models = []
        for j in range(Y.shape[1]):
            m = lgb.LGBMClassifier(**params)
            m.fit(X, Y[:, j], eval_set=[(X_val, Y_val[:, j])], callbacks=[lgb.early_stopping(es, verbose=False)])
            models.append(m)
        n_rounds = int(np.mean([m.best_iteration_ or params["n_estimators"] for m in models]))

        def proba(X_new: pd.DataFrame) -> np.ndarray:
            return np.column_stack([m.predict_proba(X_new)[:, 1] for m in models])
        model: Any = models
    elif engine == "xgboost":
        import xgboost as xgb

        model = xgb.XGBClassifier(**params, early_stopping_rounds=es, eval_metric="logloss")
        model.fit(X, Y, eval_set=[(X_val, Y_val)], verbose=False)
        n_rounds = int(model.best_iteration) + 1
        proba = model.predict_proba
    else:
        import catboost as cb

        cat = params.get("cat_features")
        model = cb.CatBoostClassifier(**params, loss_function="MultiLogloss", early_stopping_rounds=es)
        model.fit(cb.Pool(X, Y, cat_features=cat), eval_set=cb.Pool(X_val, Y_val, cat_features=cat),
                  use_best_model=True)
        n_rounds = int(model.get_best_iteration()) + 1
        proba = model.predict_proba
    fit_time = time.perf_counter() - t0

    def predict(X_new: pd.DataFrame) -> dict[str, np.ndarray]:
        return {"native": np.asarray(proba(X_new), dtype=np.float64)}

    return Fitted(cand, predict, fit_time, n_rounds, {"model": model})


def _fit_focal(engine: str, cand: Candidate, params: dict[str, Any], X: pd.DataFrame, y: np.ndarray,
               X_val: pd.DataFrame, y_val: np.ndarray, n_classes: int, settings: Settings) -> Fitted:
    cls = _adapter(engine)
    alpha = cand.alpha
    if alpha == "none":
        alpha = None
    elif alpha == "balanced":
        alpha = [float(a) for a in class_weights(y, n_classes)]
    # hessian: the library's default (whatever FocalLoss ships with), so the benchmark measures what users get.
    clf = cls(gamma=cand.gamma, alpha=alpha, calibrate=True,
              early_stopping_rounds=settings.early_stopping_rounds, **params)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf.fit(X, y, eval_set=[(X_val, y_val)])
    fit_time = time.perf_counter() - t0
    # best_iteration_ of every Focal*Classifier is the 0-based index of the last round used for prediction
    # (LightGBM included, unlike LGBMClassifier's 1-based count), so the rounds used are that plus one.
    n_rounds = int(clf.best_iteration_) + 1

    multi_label = np.ndim(y) == 2

    def predict(X_new: pd.DataFrame) -> dict[str, np.ndarray]:
        raw = clf.decision_function(X_new)
        return {
            "calibrated": clf.loss_.predict_proba(raw, calibrate=True, multi_label=multi_label),
            "uncalibrated": clf.loss_.predict_proba(raw, calibrate=False, multi_label=multi_label),
        }

    return Fitted(cand, predict, fit_time, n_rounds, {"alpha": alpha, "model": clf})
