"""Focal loss vs logloss with XGBoost's native API on imbalanced binary data (~1.5% positives).

Trains both models with early stopping on a validation split and prints PR-AUC, ROC-AUC and log loss on a test
split. The focal model is a plain ``xgboost.Booster`` whose ``base_score`` holds the focal init score, so
``predict(..., output_margin=True)`` returns the full raw margin; ``FocalLoss.predict_proba`` turns it into
calibrated probabilities.

Run: python examples/xgboost_binary.py
"""

from __future__ import annotations

import time

import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from focal_boost import FocalLoss
from focal_boost import xgboost as fxgb


def main() -> None:
    X, y = make_classification(n_samples=40_000, n_features=20, n_informative=6, n_redundant=4, weights=[0.985],
                               flip_y=0.005, class_sep=0.8, random_state=0)
    dtrain = xgb.DMatrix(X[:24_000], label=y[:24_000])
    dval = xgb.DMatrix(X[24_000:32_000], label=y[24_000:32_000])
    X_test, y_test = X[32_000:], y[32_000:]
    dtest = xgb.DMatrix(X_test)
    print(f"positives: train {y[:24_000].mean():.2%}, test {y_test.mean():.2%}")

    params = {"eta": 0.1, "max_depth": 5, "tree_method": "hist", "nthread": 1, "seed": 0}

    start = time.perf_counter()
    logloss_model = xgb.train(dict(params, objective="binary:logistic", eval_metric="logloss"), dtrain,
                              num_boost_round=1000, evals=[(dval, "val")], early_stopping_rounds=20,
                              verbose_eval=False)
    t_logloss = time.perf_counter() - start

    loss = FocalLoss(gamma=2.0, alpha=0.25)
    start = time.perf_counter()
    focal_model = fxgb.train(loss, params, dtrain, num_boost_round=1000, evals=[(dval, "val")],
                             early_stopping_rounds=20, verbose_eval=False)
    t_focal = time.perf_counter() - start

    p_logloss = logloss_model.predict(dtest, iteration_range=(0, logloss_model.best_iteration + 1))
    raw_focal = focal_model.predict(dtest, output_margin=True, iteration_range=(0, focal_model.best_iteration + 1))
    p_focal = loss.predict_proba(raw_focal)[:, 1]  # calibrated posterior
    p_focal_sigmoid = loss.predict_proba(raw_focal, calibrate=False)[:, 1]

    rows = [
        ("logloss (builtin binary:logistic)", p_logloss, logloss_model.best_iteration + 1, t_logloss),
        ("focal gamma=2 alpha=0.25, calibrated", p_focal, focal_model.best_iteration + 1, t_focal),
        ("focal gamma=2 alpha=0.25, sigmoid(raw)", p_focal_sigmoid, focal_model.best_iteration + 1, t_focal),
    ]
    print(f"{'model':42s} {'PR-AUC':>7s} {'ROC-AUC':>8s} {'log loss':>9s} {'rounds':>7s} {'fit s':>6s}")
    for name, p, rounds, seconds in rows:
        p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
        print(f"{name:42s} {average_precision_score(y_test, p):7.4f} {roc_auc_score(y_test, p):8.4f} "
              f"{log_loss(y_test, p):9.4f} {rounds:7d} {seconds:6.2f}")


if __name__ == "__main__":
    main()
