"""Focal loss vs logloss with LightGBM's native API on imbalanced binary data (~1.5% positives).

Trains both models with early stopping on a validation split and prints PR-AUC, ROC-AUC and log loss on a test
split. The focal model's booster is a plain ``lightgbm.Booster``: its raw scores already include the focal init
score; ``FocalLoss.predict_proba`` turns them into calibrated probabilities.

Run: python examples/lightgbm_binary.py
"""

from __future__ import annotations

import time

import lightgbm as lgb
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from focal_boost import FocalLoss
from focal_boost import lightgbm as flgb


def main() -> None:
    X, y = make_classification(n_samples=40_000, n_features=20, n_informative=6, n_redundant=4, weights=[0.985],
                               flip_y=0.005, class_sep=0.8, random_state=0)
    X_train, y_train = X[:24_000], y[:24_000]
    X_val, y_val = X[24_000:32_000], y[24_000:32_000]
    X_test, y_test = X[32_000:], y[32_000:]
    print(f"positives: train {y_train.mean():.2%}, test {y_test.mean():.2%}")

    params = {"learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20, "num_threads": 1, "verbosity": -1,
              "seed": 0}
    stop = [lgb.early_stopping(30, verbose=False)]

    start = time.perf_counter()
    train_set = lgb.Dataset(X_train, label=y_train)
    logloss_model = lgb.train(dict(params, objective="binary"), train_set, num_boost_round=1000,
                              valid_sets=[lgb.Dataset(X_val, label=y_val, reference=train_set)], callbacks=stop)
    t_logloss = time.perf_counter() - start

    loss = FocalLoss(gamma=2.0, alpha=0.25)
    start = time.perf_counter()
    train_set = lgb.Dataset(X_train, label=y_train)
    focal_model = flgb.train(loss, params, train_set, num_boost_round=1000,
                             valid_sets=[lgb.Dataset(X_val, label=y_val, reference=train_set)], callbacks=stop)
    t_focal = time.perf_counter() - start

    p_logloss = logloss_model.predict(X_test, num_iteration=logloss_model.best_iteration)
    raw_focal = focal_model.predict(X_test, raw_score=True, num_iteration=focal_model.best_iteration)
    p_focal = loss.predict_proba(raw_focal)[:, 1]  # calibrated posterior
    p_focal_sigmoid = loss.predict_proba(raw_focal, calibrate=False)[:, 1]

    rows = [
        ("logloss (builtin binary)", p_logloss, logloss_model.best_iteration, t_logloss),
        ("focal gamma=2 alpha=0.25, calibrated", p_focal, focal_model.best_iteration, t_focal),
        ("focal gamma=2 alpha=0.25, sigmoid(raw)", p_focal_sigmoid, focal_model.best_iteration, t_focal),
    ]
    print(f"{'model':42s} {'PR-AUC':>7s} {'ROC-AUC':>8s} {'log loss':>9s} {'rounds':>7s} {'fit s':>6s}")
    for name, p, rounds, seconds in rows:
        p = np.clip(p, 1e-15, 1 - 1e-15)
        print(f"{name:42s} {average_precision_score(y_test, p):7.4f} {roc_auc_score(y_test, p):8.4f} "
              f"{log_loss(y_test, p):9.4f} {rounds:7d} {seconds:6.2f}")


if __name__ == "__main__":
    main()
