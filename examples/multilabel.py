"""Multi-label focal loss (one sigmoid per label, as RetinaNet defines it) on XGBoost, LightGBM and CatBoost.

A generated table with 4 labels, one of them rare (~3% positive). Each engine is trained twice through its
scikit-learn style classifier on the (n, 4) 0/1 label matrix: gamma=0 (per-label logloss, the control) and gamma=2.
Prints the shapes of what the classifiers return, per-label and macro PR-AUC and the per-label log loss on a test
split, then shows that the saved models predict the same raw scores with the plain engines: XGBoost's margins include
the init score as a length-4 base_score; LightGBM's model is saved as ``multiclassova`` with a sigmoid, so its
plain ``predict()`` is each label's sigmoid of the raw score; CatBoost's model stores the init score as its
L-valued bias, so its ``RawFormulaVal`` (CatBoost's default prediction) is the raw score.

Run: python examples/multilabel.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import catboost
import lightgbm as lgb
import numpy as np
import xgboost as xgb
from scipy.special import expit
from sklearn.metrics import average_precision_score, log_loss
from sklearn.model_selection import train_test_split

from focal_boost.catboost import FocalCatBoostClassifier
from focal_boost.lightgbm import FocalLGBMClassifier
from focal_boost.xgboost import FocalXGBClassifier

SEED = 0
RATES = (0.40, 0.20, 0.08, 0.03)  # positive rate of each label


def make_table(n: int = 4000, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10))
    Y = np.empty((n, len(RATES)), dtype=np.int64)
    for j, rate in enumerate(RATES):
        score = X[:, j] + 0.7 * X[:, j + 4] * X[:, 8] + rng.normal(scale=0.8, size=n)
        Y[:, j] = score > np.quantile(score, 1.0 - rate)
    return X, Y


def main() -> None:
    X, Y = make_table()
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.5, random_state=SEED)
    print(f"train {len(X_train)} rows, test {len(X_test)}; positives per label (train): "
          f"{Y_train.sum(axis=0).tolist()}")
    trees = dict(n_estimators=150, learning_rate=0.05, random_state=SEED, n_jobs=1)
    # alpha: None (every label's positives and negatives weigh 1), one float for every label's positives, or one
    # float per label, e.g. alpha=(0.5, 0.5, 0.5, 0.75) to weigh the rare label's positives up
    models = {
        "XGBoost gamma=0 (logloss)": FocalXGBClassifier(gamma=0.0, max_depth=4, **trees),
        "XGBoost gamma=2": FocalXGBClassifier(gamma=2.0, max_depth=4, **trees),
        "LightGBM gamma=0 (logloss)": FocalLGBMClassifier(gamma=0.0, num_leaves=15, **trees),
        "LightGBM gamma=2": FocalLGBMClassifier(gamma=2.0, num_leaves=15, **trees),
        # CatBoost calls a Python multi-label objective once per object: it trains on one thread (its default)
        "CatBoost gamma=0 (logloss)": FocalCatBoostClassifier(gamma=0.0, depth=4, **trees),
        "CatBoost gamma=2": FocalCatBoostClassifier(gamma=2.0, depth=4, **trees),
    }
    print(f"\n{'model':28s} {'PR-AUC per label':>30s} {'macro PR-AUC':>12s} {'log loss per label':>30s}")
    for name, clf in models.items():
        clf.fit(X_train, Y_train)
        proba = clf.predict_proba(X_test)  # (n, 4): each label's calibrated probability
        ap = [average_precision_score(Y_test[:, j], proba[:, j]) for j in range(Y.shape[1])]
        ll = [log_loss(Y_test[:, j], proba[:, j], labels=[0, 1]) for j in range(Y.shape[1])]
        print(f"{name:28s} {' '.join(f'{v:.4f}' for v in ap):>30s} {np.mean(ap):12.4f} "
              f"{' '.join(f'{v:.4f}' for v in ll):>30s}")

    xgb_clf, lgb_clf, cb_clf = models["XGBoost gamma=2"], models["LightGBM gamma=2"], models["CatBoost gamma=2"]
    print(f"\nshapes: decision_function {xgb_clf.decision_function(X_test).shape} (raw scores), predict_proba "
          f"{xgb_clf.predict_proba(X_test).shape}, predict {xgb_clf.predict(X_test).shape} (0/1); "
          f"classes_ {xgb_clf.classes_.tolist()} (the label columns)")
    print(f"init score per label (binary optimum of each column): {np.round(xgb_clf.init_score_, 4).tolist()}")

    with tempfile.TemporaryDirectory() as tmp:
        xgb_clf.booster_.save_model(Path(tmp) / "model.ubj")
        lgb_clf.booster_.save_model(Path(tmp) / "model.txt")
        cb_clf.booster_.save_model(str(Path(tmp) / "model.cbm"))
        plain_xgb = xgb.Booster(model_file=str(Path(tmp) / "model.ubj"))
        plain_lgb = lgb.Booster(model_file=str(Path(tmp) / "model.txt"))
        plain_cb = catboost.CatBoost().load_model(str(Path(tmp) / "model.cbm"))
    margins = plain_xgb.predict(xgb.DMatrix(X_test), output_margin=True)
    raw = plain_lgb.predict(X_test, raw_score=True)
    print("saved XGBoost model, plain xgboost: max |margin - decision_function| = "
          f"{np.max(np.abs(margins - xgb_clf.decision_function(X_test))):.3e}")
    print("saved LightGBM model, plain lightgbm: max |raw - decision_function| = "
          f"{np.max(np.abs(raw - lgb_clf.decision_function(X_test))):.3e}; max |predict() - sigmoid(raw)| = "
          f"{np.max(np.abs(plain_lgb.predict(X_test) - expit(raw))):.3e}")
    cb_raw = plain_cb.predict(X_test, prediction_type="RawFormulaVal")
    print("saved CatBoost model, plain catboost: max |RawFormulaVal - decision_function| = "
          f"{np.max(np.abs(cb_raw - cb_clf.decision_function(X_test))):.3e}; its bias is the init score "
          f"{np.round(plain_cb.get_scale_and_bias()[1], 4).tolist()}")


if __name__ == "__main__":
    main()
