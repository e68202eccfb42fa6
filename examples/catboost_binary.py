"""Focal loss in CatBoost's native API vs the builtin Logloss, on generated imbalanced data (~1.5% positives).

Shows: FocalObjective / FocalMetric as CatBoost's loss_function / eval_metric with early stopping, training from the
focal init score (Pool baseline), and the calibrated probabilities of FocalLoss.predict_proba. Runs in seconds.
"""

from __future__ import annotations

import time

import numpy as np
from catboost import CatBoost, Pool
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from focal_boost import FocalLoss
from focal_boost.catboost import FocalMetric, FocalObjective

SEED = 0
COMMON = dict(iterations=300, learning_rate=0.15, depth=6, early_stopping_rounds=30, thread_count=1,
              random_seed=SEED, verbose=0, allow_writing_files=False)


def data():
    X, y = make_classification(n_samples=12000, n_features=20, n_informative=6, n_redundant=4, weights=[0.985],
                               flip_y=0.005, class_sep=0.8, random_state=SEED)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=SEED)
    X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_size=0.25, stratify=y_train,
                                                      random_state=SEED)
    return X_train, X_val, X_test, y_train.astype(float), y_val.astype(float), y_test.astype(float)


def report(name: str, y_test: np.ndarray, proba: np.ndarray, seconds: float, trees: int) -> None:
    print(f"{name:<40} PR-AUC {average_precision_score(y_test, proba):.4f}  ROC-AUC {roc_auc_score(y_test, proba):.4f}"
          f"  log loss {log_loss(y_test, proba):.4f}  trees {trees:>3}  {seconds:5.1f} s")


def main() -> None:
    X_train, X_val, X_test, y_train, y_val, y_test = data()
    print(f"train {len(y_train)} rows ({y_train.mean():.2%} positives), val {len(y_val)}, test {len(y_test)}")

    t = time.perf_counter()
    logloss = CatBoost(dict(loss_function="Logloss", **COMMON))
    logloss.fit(Pool(X_train, y_train), eval_set=Pool(X_val, y_val))
    proba = logloss.predict(X_test, prediction_type="Probability")[:, 1]
    report("CatBoost Logloss", y_test, proba, time.perf_counter() - t, logloss.tree_count_)

    # 1) The Python objective and metric. CatBoost starts a custom objective at raw score 0, so give the Pools the
    #    focal init score as baseline; raw predictions of the model then leave it out (add it back).
    loss = FocalLoss(gamma=2.0, alpha=None)
    init = loss.init_score(y_train)
    t = time.perf_counter()
    focal = CatBoost(dict(loss_function=FocalObjective(loss), eval_metric=FocalMetric(loss), **COMMON))
    focal.fit(Pool(X_train, y_train, baseline=np.full(len(y_train), init)),
              eval_set=Pool(X_val, y_val, baseline=np.full(len(y_val), init)))
    raw = focal.predict(X_test, prediction_type="RawFormulaVal") + init
    seconds = time.perf_counter() - t
    report("FocalObjective (gamma=2, calibrated)", y_test, loss.predict_proba(raw)[:, 1], seconds, focal.tree_count_)
    report("  same, sigmoid of raw (uncalibrated)", y_test, loss.predict_proba(raw, calibrate=False)[:, 1], seconds,
           focal.tree_count_)

    # 2) CatBoost's builtin Focal loss is the same objective for a scalar alpha with the exact hessian
    #    (focal_boost.catboost.builtin_loss_function says when), and faster.
    loss_a = FocalLoss(gamma=2.0, alpha=0.25, hessian="exact")
    init_a = loss_a.init_score(y_train)
    builtin = "Focal:focal_alpha=0.25;focal_gamma=2.0"
    t = time.perf_counter()
    fast = CatBoost(dict(loss_function=builtin, eval_metric=builtin, **COMMON))
    fast.fit(Pool(X_train, y_train, baseline=np.full(len(y_train), init_a)),
             eval_set=Pool(X_val, y_val, baseline=np.full(len(y_val), init_a)))
    raw_a = fast.predict(X_test, prediction_type="RawFormulaVal") + init_a
    report("builtin Focal (alpha=0.25, calibrated)", y_test, loss_a.predict_proba(raw_a)[:, 1],
           time.perf_counter() - t, fast.tree_count_)


if __name__ == "__main__":
    main()
