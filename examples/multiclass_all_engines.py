"""Softmax focal loss vs each engine's builtin multiclass logloss on a generated long-tailed 5-class problem.

Every engine is trained twice with the same settings through its scikit-learn style classifier: the builtin
multiclass logloss and focal_boost's Focal*Classifier (gamma=2, calibrated probabilities). Prints macro PR-AUC
(one-vs-rest average precision averaged over classes), the rarest class's PR-AUC and the multiclass log loss on a
test split.

CatBoost calls a Python multiclass objective once per row, twice per iteration (hundreds of microseconds per call),
so its pair is trained on a subsample of the training rows with few, larger steps: compare CatBoost's two rows
with each other, not with the other engines.

Run: python examples/multiclass_all_engines.py
"""

from __future__ import annotations

import time

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from catboost import CatBoostClassifier
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import label_binarize

from focal_boost.catboost import FocalCatBoostClassifier
from focal_boost.lightgbm import FocalLGBMClassifier
from focal_boost.xgboost import FocalXGBClassifier

SEED = 0
PROPORTIONS = [0.55, 0.25, 0.11, 0.06, 0.03]
CATBOOST_ROWS = 250  # training rows for the CatBoost pair (see the module docstring)


def main() -> None:
    X, y = make_classification(n_samples=4000, n_features=12, n_informative=6, n_redundant=2, n_classes=5,
                               n_clusters_per_class=1, weights=PROPORTIONS, class_sep=1.0, flip_y=0.01,
                               random_state=SEED)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=SEED)
    counts = np.bincount(y_train, minlength=5)
    print(f"train {len(y_train)} rows, class counts {counts.tolist()}; test {len(y_test)} rows")
    rare = int(np.argmin(counts))
    # One thread each: OpenMP runtimes spin badly when a small machine is shared.
    trees = dict(n_estimators=100, learning_rate=0.1, random_state=SEED, n_jobs=1)
    X_cb, y_cb = X_train[:CATBOOST_ROWS], y_train[:CATBOOST_ROWS]
    cb = dict(iterations=15, learning_rate=0.4, depth=4, random_seed=SEED, thread_count=1, verbose=0,
              allow_writing_files=False)

    runs = [
        ("LightGBM multiclass logloss", lambda: lgb.LGBMClassifier(objective="multiclass", verbose=-1, **trees),
         X_train, y_train),
        ("LightGBM focal gamma=2", lambda: FocalLGBMClassifier(gamma=2.0, **trees), X_train, y_train),
        ("XGBoost multi:softprob", lambda: xgb.XGBClassifier(objective="multi:softprob", **trees), X_train, y_train),
        ("XGBoost focal gamma=2", lambda: FocalXGBClassifier(gamma=2.0, **trees), X_train, y_train),
        (f"CatBoost MultiClass ({CATBOOST_ROWS} rows)", lambda: CatBoostClassifier(loss_function="MultiClass", **cb),
         X_cb, y_cb),
        (f"CatBoost focal gamma=2 ({CATBOOST_ROWS} rows)", lambda: FocalCatBoostClassifier(gamma=2.0, **cb),
         X_cb, y_cb),
    ]
    y_onehot = label_binarize(y_test, classes=np.arange(5))
    print(f"{'model':42s} {'macro PR-AUC':>12s} {'rare PR-AUC':>11s} {'log loss':>9s} {'fit s':>6s}")
    for name, make, X_fit, y_fit in runs:
        start = time.perf_counter()
        model = make().fit(X_fit, y_fit)
        seconds = time.perf_counter() - start
        proba = np.clip(model.predict_proba(X_test), 1e-15, 1.0)
        proba /= proba.sum(axis=1, keepdims=True)
        macro = average_precision_score(y_onehot, proba, average="macro")
        rare_ap = average_precision_score(y_onehot[:, rare], proba[:, rare])
        print(f"{name:42s} {macro:12.4f} {rare_ap:11.4f} {log_loss(y_test, proba, labels=np.arange(5)):9.4f} "
              f"{seconds:6.2f}")


if __name__ == "__main__":
    main()
