"""Tune the focal loss's gamma and alpha with scikit-learn: Pipeline + GridSearchCV on imbalanced binary data.

The classifier is an ordinary scikit-learn estimator (get_params/set_params/clone), so GridSearchCV can search the
focal parameters next to the engine's own. gamma=0 with alpha=None is plain logloss, so the grid contains the
baseline. Scoring is average precision (PR-AUC), which suits ~2% positives. Prints the cross-validated grid, the
best parameters and the test metrics of the refitted best pipeline next to the gamma=0 baseline.

Run: python examples/sklearn_gridsearch.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from focal_boost.lightgbm import FocalLGBMClassifier

SEED = 0


def main() -> None:
    X, y = make_classification(n_samples=6000, n_features=20, n_informative=6, n_redundant=4, weights=[0.98],
                               flip_y=0.005, class_sep=0.8, random_state=SEED)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y, random_state=SEED)
    print(f"train {len(y_train)} rows ({y_train.mean():.2%} positives), test {len(y_test)} rows")

    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("focal", FocalLGBMClassifier(n_estimators=60, learning_rate=0.1, num_leaves=15, random_state=SEED,
                                      n_jobs=1)),
    ])
    grid = {"focal__gamma": [0.0, 1.0, 2.0], "focal__alpha": [None, 0.25]}
    search = GridSearchCV(pipe, grid, scoring="average_precision", n_jobs=1,
                          cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED))
    start = time.perf_counter()
    search.fit(X_train, y_train)
    print(f"grid search: {len(search.cv_results_['params'])} settings x 3 folds in {time.perf_counter() - start:.1f} s")
    order = np.argsort(-search.cv_results_["mean_test_score"])
    print(f"{'gamma':>5s} {'alpha':>6s} {'CV PR-AUC':>10s}")
    for i in order:
        p = search.cv_results_["params"][i]
        print(f"{p['focal__gamma']:5.1f} {p['focal__alpha']!s:>6s} {search.cv_results_['mean_test_score'][i]:10.4f}")
    print(f"best params: {search.best_params_}")

    baseline = clone(pipe).set_params(focal__gamma=0.0, focal__alpha=None).fit(X_train, y_train)
    print(f"{'test set':32s} {'PR-AUC':>7s} {'ROC-AUC':>8s} {'log loss':>9s}")
    for name, model in [("best focal pipeline", search.best_estimator_), ("gamma=0 (logloss) pipeline", baseline)]:
        p = np.clip(model.predict_proba(X_test)[:, 1], 1e-15, 1 - 1e-15)
        print(f"{name:32s} {average_precision_score(y_test, p):7.4f} {roc_auc_score(y_test, p):8.4f} "
              f"{log_loss(y_test, p):9.4f}")


if __name__ == "__main__":
    main()
