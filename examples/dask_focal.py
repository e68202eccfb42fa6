"""Focal loss on a Dask cluster with both engines: ``xgboost.dask`` and ``lightgbm.dask``.

Starts a local cluster (2 worker processes, 1 thread each), splits an imbalanced data set (~3% positives) into
Dask arrays, then trains
- XGBoost through ``focal_boost.dask.xgb_train`` (init score stored as ``base_score``; early stopping on the focal
  loss of a validation DaskDMatrix, measured over all workers), and
- LightGBM through ``focal_boost.dask.FocalDaskLGBMClassifier`` (init score baked into the booster),
and prints PR-AUC, ROC-AUC, log loss of the calibrated probabilities and the focal loss on a test split.
For a real cluster replace the LocalCluster with ``Client("tcp://scheduler-host:8786")``.

Run: python examples/dask_focal.py
"""

from __future__ import annotations

import logging
import os
import time

import dask.array as da
import lightgbm as lgb
import numpy as np
import xgboost as xgb
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
from xgboost import dask as dxgb

from focal_boost import FocalLoss
from focal_boost import dask as fdask


def report(name: str, seconds: float, y: np.ndarray, proba: np.ndarray, loss: FocalLoss, raw: np.ndarray) -> None:
    print(f"{name:<22} {seconds:6.1f}s   PR-AUC {average_precision_score(y, proba[:, 1]):.3f}   "
          f"ROC-AUC {roc_auc_score(y, proba[:, 1]):.3f}   log loss {log_loss(y, proba):.4f}   "
          f"focal loss {loss.eval(y, raw):.4f}")


def quiet_engines() -> None:
    """Keep lightgbm.dask's informational messages ("Finding random open ports for workers") out of this process's
    output: LightGBM logs through the Python logger registered here, which shows only errors."""
    logger = logging.getLogger("lightgbm")
    logger.setLevel(logging.ERROR)
    lgb.register_logger(logger)


def quiet_worker_output() -> None:
    """Run on each Dask worker (``client.run``): send the worker process's stdout and stderr to /dev/null.

    The workers print nothing of this example's; what reaches them is the engines' C++ logging, which no engine
    setting silences: lightgbm.dask's "[LightGBM] [Info] Trying to bind port ..." lines (LightGBM sets up its
    network on threads of its own, before it reads the booster's parameters, so verbose=-1 comes too late) and
    XGBoost's "Task ... got rank ..." lines. Errors still surface here: a task that raises raises in this
    process, and the nanny (in this process) reports a worker that dies. On a real cluster the workers' output
    goes to their own logs anyway."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def main() -> None:
    quiet_engines()
    X, y = make_classification(n_samples=30_000, n_features=20, n_informative=6, n_redundant=4, weights=[0.97],
                               flip_y=0.005, class_sep=0.8, random_state=0)
    X_train, y_train = X[:18_000], y[:18_000]
    X_val, y_val = X[18_000:24_000], y[18_000:24_000]
    X_test, y_test = X[24_000:], y[24_000:]
    print(f"positives: train {y_train.mean():.2%}, test {y_test.mean():.2%}")
    loss = FocalLoss(gamma=2.0, alpha=0.25)

    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        print(f"cluster up in {time.perf_counter() - start:.1f}s: {len(client.scheduler_info()['workers'])} workers")
        client.run(quiet_worker_output)
        chunks = 4_500  # 4 partitions of the training rows; Dask arrays must be chunked by rows only
        Xd, yd = da.from_array(X_train, chunks=(chunks, -1)), da.from_array(y_train, chunks=chunks)
        Xv, yv = da.from_array(X_val, chunks=(3_000, -1)), da.from_array(y_val, chunks=3_000)

        # XGBoost: DaskDMatrix in, ordinary Booster out (its margins include the focal init score)
        t = time.perf_counter()
        dtrain = dxgb.DaskDMatrix(client, Xd, yd)
        dval = dxgb.DaskDMatrix(client, Xv, yv)
        out = fdask.xgb_train(client, loss, {"tree_method": "hist", "max_depth": 5, "eta": 0.1, "seed": 0},
                              dtrain, num_boost_round=500, evals=[(dval, "val")], early_stopping_rounds=20,
                              verbose_eval=False)
        booster = out["booster"]
        # predictions: lazily on the cluster, margins -> calibrated probabilities block by block
        margins = dxgb.predict(client, booster, da.from_array(X_test, chunks=(3_000, -1)), output_margin=True,
                               iteration_range=(0, booster.best_iteration + 1))
        proba = fdask.predict_proba(loss, margins).compute()
        raw = margins.compute().astype(np.float64)
        report(f"xgboost.dask ({booster.best_iteration + 1} trees)", time.perf_counter() - t, y_test, proba, loss,
               raw)
        # the same model on one machine, with plain xgboost (no focal_boost needed to get the margins)
        local = booster.predict(xgb.DMatrix(X_test), output_margin=True,
                                iteration_range=(0, booster.best_iteration + 1))
        print(f"{'':<22} max |margin(dask) - margin(plain xgboost)| = {np.max(np.abs(local - raw)):.1e}")

        # LightGBM: a scikit-learn style classifier on Dask collections (no early stopping in lightgbm.dask)
        t = time.perf_counter()
        clf = fdask.FocalDaskLGBMClassifier(gamma=2.0, alpha=0.25, n_estimators=150, learning_rate=0.05,
                                            num_leaves=15, random_state=0, verbose=-1)
        clf.fit(Xd, yd, eval_set=[(Xv, yv)], client=client)
        X_test_d = da.from_array(X_test, chunks=(3_000, -1))
        proba = clf.predict_proba(X_test_d).compute()  # calibrated probabilities, computed on the workers
        raw = clf.decision_function(X_test_d).compute()
        report("lightgbm.dask (150 trees)", time.perf_counter() - t, y_test, proba, loss, raw)
        print(f"{'':<22} init score {clf.init_score_:+.4f} (baked into the booster's first trees)")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
