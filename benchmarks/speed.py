"""Speed benchmark (issue 5): training with focal_boost's objective against each engine's builtin logloss.

    python benchmarks/speed.py                                # everything, into benchmarks/results/speed/
    python benchmarks/speed.py --engines lightgbm             # one engine; its rows replace the old ones
    python benchmarks/speed.py --quick --out /tmp/speed       # tiny smoke run
    python benchmarks/speed.py --only multilabel              # only the multi-label rows (issue 21); others kept
    make speed                                                # the first line, in the project's .venv

A script outside the package (issue 13): nothing in ``focal_boost`` imports it; ``--help`` lists the options.

What is measured (one process, the engines' data objects built once and shared by every method):

- **training time**: for every engine, task (binary; softmax multiclass with K=5; multi-label with L=5 at 100k x 20,
  issue 21) and n, each method is trained once
  untimed (a 2-round warm-up, which also loads numba's cached kernels), then ``--repeats`` times, the methods
  interleaved (the order reversed every other repeat) so that drifting machine load hits them alike. Quoted: the
  median time of each method and the median over repeats of the paired ratio focal / builtin.
- **kernel throughput**: ``FocalLoss.grad_hess`` (validated, public), ``FocalLoss._grad_hess`` (what the adapters call
  every round; numba when installed), the core's numpy path, and a naive numpy reference of the widely copied blog
  formula, at ``--kernel-n`` rows; rows per second and the speed-up over the naive reference, and the agreement of
  the values (fast path vs numpy path: max relative difference; naive vs exact where the naive formula is accurate).
- **peak memory**: every (engine, task, method) is trained once more in a fresh subprocess at ``--memory-n`` rows:
  its peak resident set size is the kernel's high-water mark ``VmHWM`` (``/proc/self/status``; it counts C/C++
  allocations, which tracemalloc does not), reset to the current RSS just before training (writing ``5`` to
  ``/proc/self/clear_refs``), so the data generation does not count; a thread samples RSS every 10 ms during
  training and the slope over the second half of training gives the per-round growth. Every child, builtin or
  focal, imports numba and the kernel module and trains every method of its suite for one round on 60k rows before
  building the data, so both start from the same loaded code and a ratio compares what the trainings allocate;
  numba's own one-time size is in the startup section.
- **one-time cost** of the numba path in a fresh process (``import numba`` and loading the cached kernels).

Results: ``speed.csv`` (one row per comparison; rows of engines/sections that were not re-run are kept) and
``speed.md`` (tables rendered from the CSV).
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import gc
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from focal_boost.bench.methods import ENGINES  # the engines of the user's benchmark

__all__ = ["Config", "main", "naive_grad_hess", "run"]

TASKS = ("binary", "multiclass", "multilabel")
N_CLASSES = 5
N_LABELS = 5
# Positive rate of each label of the multi-label task (issue 21: moderate to rare labels).
LABEL_RATES = (0.30, 0.15, 0.08, 0.04, 0.02)
GAMMA = 2.0
ALPHA = 0.25
# Class proportions of the multiclass task (imbalanced) and positive rate of the binary task.
CLASS_PROPORTIONS = (0.50, 0.25, 0.12, 0.08, 0.05)
POSITIVE_RATE = 0.10
TARGETS = {  # (engine, task, candidate, reference) -> [(smallest n, largest acceptable ratio), ...]
    # issue 14: binary <= 1.10 at 100k and <= 1.05 from 500k rows; multiclass K=5 <= 1.10 from 100k
    ("lightgbm", "binary", "focal", "builtin"): [(100_000, 1.10), (500_000, 1.05)],
    ("xgboost", "binary", "focal", "builtin"): [(100_000, 1.10), (500_000, 1.05)],
    ("lightgbm", "multiclass", "focal", "builtin"): [(100_000, 1.10)],
    ("xgboost", "multiclass", "focal", "builtin"): [(100_000, 1.10)],
    ("catboost", "binary", "focal (builtin path)", "builtin Focal"): [(1_000_000, 1.05)],
    # issue 13: the binary Python objective from 500k rows; multiclass at its setting (10,000 x 20, K=5, 100
    # iterations, depth 6, 2 threads, bootstrap off)
    ("catboost", "binary", "focal (Python objective)", "builtin Logloss"): [(500_000, 1.50)],
    # The focal rows train as FocalCatBoostClassifier does by default (multiclass: on 1 thread, see its docstring),
    # builtin MultiClass on 2 threads; the floor on the same thread count as the focal row it is compared with.
    ("catboost", "multiclass", "focal (Python objective)", "builtin MultiClass"): [(10_000, 10.0)],
    ("catboost", "multiclass", "focal (Python objective)", "no-op objective (lists, 1 thread: the floor)"):
        [(10_000, 1.30)],
    # issue 21: multi-label, L=5, 100k x 20. XGBoost against builtin binary:logistic with the same num_target and
    # multi_strategy; LightGBM against what a user runs without focal_boost, L binary boosters; CatBoost against
    # MultiLogloss, every method on one thread.
    ("xgboost", "multilabel", "focal (one_output_per_tree)", "builtin binary:logistic (one_output_per_tree)"):
        [(100_000, 1.10)],
    ("xgboost", "multilabel", "focal (multi_output_tree)", "builtin binary:logistic (multi_output_tree)"):
        [(100_000, 1.10)],
    ("lightgbm", "multilabel", "focal", "L binary boosters (builtin binary)"): [(100_000, 1.10)],
    ("catboost", "multilabel", "focal (Python objective)", "builtin MultiLogloss"): [(100_000, 5.0)],
}
TARGET_MIN_N = 1_000_000  # the grad_hess throughput and peak-memory targets are checked at this many rows


def target_for(engine: str, task: str, candidate: str, reference: str, n: int) -> float | None:
    """The largest acceptable training-time ratio of this comparison at ``n`` rows, or None (no target)."""
    limit = None
    for smallest_n, ratio in TARGETS.get((engine, task, candidate, reference), []):
        if n >= smallest_n:
            limit = ratio
    return limit


DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "speed"
CSV_FIELDS = ("section", "engine", "task", "n", "rounds", "candidate", "reference", "candidate_value",
              "reference_value", "unit", "ratio", "target", "met", "repeats", "detail", "run")


@dataclass
class Config:
    """Benchmark settings (the defaults are the issue's)."""

    n: tuple[int, ...] = (100_000, 1_000_000)
    rounds: int = 100
    features: int = 50
    threads: int = 2
    repeats: int = 3
    engines: tuple[str, ...] = ENGINES
    tasks: tuple[str, ...] = TASKS
    kernel_n: int = 1_000_000
    kernel_repeats: int = 7
    memory_n: int | None = None  # None: the largest n
    memory: bool = True
    numpy_path: bool = True  # also train with the numba path switched off (what the numba kernels earn)
    catboost_multiclass_n: int = 10_000
    catboost_multiclass_features: int = 20  # issue 13's setting (10,000 x 20, K=5)
    multilabel_n: int = 100_000  # issue 21's setting (100k x 20, L=5), every engine
    multilabel_features: int = 20
    sections: tuple[str, ...] = ("train", "kernel", "memory", "startup")
    out: Path = DEFAULT_OUT
    seed: int = 0
    command: str = ""
    log: Callable[[str], None] = field(default=print, repr=False)


# -- data ----------------------------------------------------------------------------------------------------------
def make_data(n: int, features: int, task: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n, features) float32 and integer labels: binary with ~10% positives, 5 imbalanced classes, or a 0/1
    label matrix (n, 5) with the positive rates ``LABEL_RATES``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features), dtype=np.float32)
    if task == "multilabel":
        Y = np.empty((n, N_LABELS), dtype=np.int64)
        for j, rate in enumerate(LABEL_RATES):
            coef = rng.normal(size=min(features, 6)).astype(np.float32)
            score = X[:, : coef.size] @ coef + rng.normal(scale=2.0, size=n).astype(np.float32)
            Y[:, j] = score > np.quantile(score, 1.0 - rate)
        return X, Y
    coef = rng.normal(size=min(features, 10)).astype(np.float32)
    score = X[:, : coef.size] @ coef + rng.normal(scale=2.0, size=n).astype(np.float32)
    if task == "binary":
        y = (score > np.quantile(score, 1.0 - POSITIVE_RATE)).astype(np.int64)
    else:
        cuts = np.quantile(score, np.cumsum(CLASS_PROPORTIONS)[:-1])
        y = np.digitize(score, cuts).astype(np.int64)
    return X, y


def focal_loss(task: str, hessian: str | None = None) -> Any:
    """gamma=2, alpha=0.25 (binary; multi-label: every label's positives) or None (multiclass), the default hessian
    unless one is given."""
    from focal_boost import FocalLoss

    alpha = None if task == "multiclass" else ALPHA
    return FocalLoss(GAMMA, alpha) if hessian is None else FocalLoss(GAMMA, alpha, hessian)


# -- trainers ------------------------------------------------------------------------------------------------------
@dataclass
class Suite:
    """The methods of one (engine, task, n): name -> train(rounds) callable; the comparisons to report."""

    methods: dict[str, Callable[[int], Any]]
    comparisons: list[tuple[str, str]]
    note: str = ""


class _NumpyPath:
    """Call ``fn`` (a training, or a kernel call) with the numba path switched off (the core's numpy path),
    restoring the setting afterwards."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        from focal_boost import _kernels

        previous = _kernels.set_enabled(False)
        try:
            return self.fn(*args)
        finally:
            _kernels.set_enabled(previous)


def _focal_vs_builtin(train_builtin: Callable[[int], Any], train_focal: Callable[[int], Any], cfg: Config) -> Suite:
    """The LightGBM/XGBoost suite: builtin, focal, and (with ``cfg.numpy_path``) focal with numba switched off."""
    methods = {"builtin": train_builtin, "focal": train_focal}
    comparisons = [("focal", "builtin")]
    if cfg.numpy_path:
        methods["focal (numpy path)"] = _NumpyPath(train_focal)
        comparisons.append(("focal (numpy path)", "builtin"))
    return Suite(methods, comparisons)


def lightgbm_suite(X: np.ndarray, y: np.ndarray, task: str, cfg: Config) -> Suite:
    import lightgbm as lgb

    import focal_boost.lightgbm as flgb

    params: dict[str, Any] = {"num_threads": cfg.threads, "verbose": -1, "learning_rate": 0.1, "num_leaves": 31,
                              "force_col_wise": True, "seed": cfg.seed, "metric": "None"}
    if task == "multilabel":
        return _lightgbm_multilabel_suite(X, y, params, cfg)
    dataset = lgb.Dataset(X, y, params={"verbose": -1, "num_threads": cfg.threads}, free_raw_data=True).construct()
    loss = focal_loss(task)
    if task == "multiclass":
        params["num_class"] = N_CLASSES
    builtin = {**params, "objective": "binary" if task == "binary" else "multiclass"}

    def train_builtin(rounds: int) -> Any:
        # focal_boost.lightgbm.train removes the init score it sets; a leftover would change the builtin's start
        if dataset.get_field("init_score") is not None:
            raise RuntimeError("the shared LightGBM Dataset still carries an init_score")
        return lgb.train(builtin, dataset, rounds)

    def train_focal(rounds: int) -> Any:
        return flgb.train(loss, params, dataset, rounds)

    return _focal_vs_builtin(train_builtin, train_focal, cfg)


def xgboost_suite(X: np.ndarray, y: np.ndarray, task: str, cfg: Config) -> Suite:
    import xgboost as xgb

    import focal_boost.xgboost as fxgb

    params: dict[str, Any] = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": cfg.threads,
                              "seed": cfg.seed}
    if task == "multilabel":
        return _xgboost_multilabel_suite(X, y, params, cfg)
    dmatrix = xgb.QuantileDMatrix(X, y, nthread=cfg.threads)
    loss = focal_loss(task)
    if task == "multiclass":
        params["num_class"] = N_CLASSES
    builtin = {**params, "objective": "binary:logistic" if task == "binary" else "multi:softprob"}

    def train_builtin(rounds: int) -> Any:
        return xgb.train(builtin, dmatrix, rounds)

    def train_focal(rounds: int) -> Any:
        return fxgb.train(loss, params, dmatrix, rounds)

    suite = _focal_vs_builtin(train_builtin, train_focal, cfg)
    # The floor of any Python objective (issue 14): XGBoost's custom-objective path (margins copied out, gradients
    # copied in) with an objective that returns precomputed float32 gradients (focal's at the init score, the
    # layout focal_boost returns) and does no arithmetic.
    # The gradients are made on the floor's first training (a warm-up in the time section, the measured training
    # in a memory child), so the other methods' children never hold them.
    k = N_CLASSES if task == "multiclass" else None
    floor: dict[str, Any] = {}

    def train_floor(rounds: int) -> Any:
        if not floor:
            target = loss.prepare_target(y, None, k)
            init = target.init_score()
            zeros = np.zeros(len(y) if k is None else (len(y), k), dtype=np.float32)
            floor["gradients"] = target.grad_hess(zeros, np.float32, offset=init)
            floor["params"] = {**params, "base_score": float(init) if k is None else [float(v) for v in init],
                               "disable_default_eval_metric": True}
        gradients = floor["gradients"]
        return xgb.train(floor["params"], dmatrix, rounds, obj=lambda preds, data: gradients)

    suite.methods[XGBOOST_FLOOR] = train_floor
    suite.comparisons[1:1] = [("focal", XGBOOST_FLOOR), (XGBOOST_FLOOR, "builtin")]
    return suite


XGBOOST_FLOOR = "floor (precomputed gradients)"
LGB_BINARY_BOOSTERS = "L binary boosters (builtin binary)"
LGB_LOGLOSS_FLOOR = "custom logloss objective (num_class=L)"


def _lightgbm_multilabel_suite(X: np.ndarray, Y: np.ndarray, params: dict[str, Any], cfg: Config) -> Suite:
    """LightGBM has no multi-label objective: focal (num_class=L, L trees per round, label matrix through
    ``label_matrix``) against what a user runs without focal_boost, L binary boosters of 100 rounds each (builtin
    ``binary``, one shared binned Dataset whose label is swapped), and against a Python logloss objective at
    num_class=L (sigmoid per label in numpy: LightGBM's custom-objective floor for this layout)."""
    import lightgbm as lgb
    from scipy.special import expit

    import focal_boost.lightgbm as flgb

    no_label = lgb.Dataset(X, params={"verbose": -1, "num_threads": cfg.threads}, free_raw_data=False).construct()
    labelled = lgb.Dataset(X, Y[:, 0].astype(np.float64), params={"verbose": -1, "num_threads": cfg.threads},
                           free_raw_data=False).construct()
    columns = [np.ascontiguousarray(Y[:, j], dtype=np.float64) for j in range(Y.shape[1])]
    Yf = Y.astype(np.float64)
    loss = focal_loss("multilabel")

    def train_focal(rounds: int) -> Any:
        return flgb.train(loss, params, no_label, rounds, label_matrix=Y)

    def train_binary_boosters(rounds: int) -> Any:
        boosters = []
        for column in columns:
            labelled.set_label(column)
            boosters.append(lgb.train({**params, "objective": "binary"}, labelled, rounds))
        return boosters

    def logloss(preds: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
        p = expit(preds)
        return p - Yf, p * (1.0 - p)

    def train_floor(rounds: int) -> Any:
        return lgb.train({**params, "objective": logloss, "num_class": Y.shape[1]}, no_label, rounds)

    return Suite({LGB_BINARY_BOOSTERS: train_binary_boosters, LGB_LOGLOSS_FLOOR: train_floor, "focal": train_focal},
                 [("focal", LGB_BINARY_BOOSTERS), ("focal", LGB_LOGLOSS_FLOOR),
                  (LGB_LOGLOSS_FLOOR, LGB_BINARY_BOOSTERS)],
                 note=f"L={Y.shape[1]}, label rates {LABEL_RATES}")


def _xgboost_multilabel_suite(X: np.ndarray, Y: np.ndarray, params: dict[str, Any], cfg: Config) -> Suite:
    """Focal with ``num_target=L`` against XGBoost's builtin ``binary:logistic`` with the same ``num_target`` and
    ``multi_strategy``, for both strategies, on one shared QuantileDMatrix holding the label matrix."""
    import xgboost as xgb

    import focal_boost.xgboost as fxgb

    dmatrix = xgb.QuantileDMatrix(X, Y, nthread=cfg.threads)
    loss = focal_loss("multilabel")
    methods: dict[str, Callable[[int], Any]] = {}
    comparisons = []
    for strategy in ("one_output_per_tree", "multi_output_tree"):
        shared = {**params, "num_target": Y.shape[1], "multi_strategy": strategy}
        builtin, focal = f"builtin binary:logistic ({strategy})", f"focal ({strategy})"

        def train_builtin(rounds: int, shared: dict[str, Any] = shared) -> Any:
            return xgb.train({**shared, "objective": "binary:logistic"}, dmatrix, rounds)

        def train_focal(rounds: int, shared: dict[str, Any] = shared) -> Any:
            return fxgb.train(loss, shared, dmatrix, rounds)

        methods[builtin], methods[focal] = train_builtin, train_focal
        comparisons.append((focal, builtin))
    return Suite(methods, comparisons, note=f"L={Y.shape[1]}, label rates {LABEL_RATES}")


class _NoopMulti:
    """CatBoost's per-object floor (issue 13): a ``calc_ders_multi`` that returns the same preallocated Python lists
    (zeros) every call, so a training costs CatBoost's own per-object callback machinery and nothing else."""

    no_jit = True  # catboost 1.2.10 would try numba.njit on the method otherwise

    def __init__(self, k: int) -> None:
        self.der1 = [0.0] * k
        self.der2 = [[0.0] * k for _ in range(k)]

    def calc_ders_multi(self, approx: Any, target: float, weight: float) -> tuple[list[float], list[list[float]]]:
        return self.der1, self.der2


class _NumbaCallMulti(_NoopMulti):
    """The per-object floor plus what any compiled per-object computation pays: one call of a numba function that
    takes the object's arguments and a state array (as focal_boost's kernel does) and does nothing, then the same
    preallocated lists. focal_boost's objective adds the arithmetic and the writing of the values to this."""

    def __init__(self, k: int) -> None:
        from numba import njit

        super().__init__(k)
        self.state = np.zeros(2 + 4 * k)
        self.kernel = njit(lambda approx, target, weight, state: 0)
        self.kernel(np.zeros(k), 0.0, 1.0, self.state)  # compiled here, before any timing

    def calc_ders_multi(self, approx: Any, target: float, weight: float) -> tuple[list[float], list[list[float]]]:
        self.kernel(approx, target, weight, self.state)
        return self.der1, self.der2

    def __deepcopy__(self, memo: dict[int, Any]) -> _NumbaCallMulti:
        return self  # CatBoost copies its objective; the compiled function is shared


class _NoopRange:
    """CatBoost's binary floor: a ``calc_ders_range`` returning a preallocated zero ``(n, 2)`` float64 array per
    chunk length (the layout catboost 1.2.10 copies at C speed)."""

    no_jit = True

    def __init__(self) -> None:
        self._zeros: dict[int, np.ndarray] = {}

    def calc_ders_range(self, approxes: np.ndarray, targets: np.ndarray, weights: Any) -> np.ndarray:
        n = approxes.shape[0]
        out = self._zeros.get(n)
        if out is None:
            out = self._zeros[n] = np.zeros((n, 2))
        return out


# The multiclass rows' route (what FocalCatBoostClassifier's objective does per object), for the report.
CATBOOST_MULTICLASS_ROUTE = ("route: FocalObjective.calc_ders_multi -> focal_boost._catboost_kernels per-object "
                             "function (numba kernel _catboost_numba.softmax_row on one packed per-thread state "
                             "array, one tolist() of the 2K outputs, the K diagonal entries written into kept "
                             "K x K lists; 'no numba' = the core's numpy path per object), Python lists back to "
                             "CatBoost; FocalCatBoostClassifier trains multiclass on 1 thread unless thread_count "
                             "is given (the thread_count=2 rows: CatBoost's threads queue for the GIL)")
CATBOOST_NOOP_MULTI = "no-op objective (lists, 1 thread: the floor)"
CATBOOST_NOOP_MULTI_THREADS = "no-op objective (lists, thread_count={threads})"
CATBOOST_NUMBA_CALL_MULTI = "no-op objective + one numba call (lists, 1 thread)"
CATBOOST_FOCAL_MULTI_THREADS = "focal (Python objective, thread_count={threads})"
CATBOOST_NOOP_RANGE = "no-op objective (calc_ders_range floor)"


def catboost_suite(X: np.ndarray, y: np.ndarray, task: str, cfg: Config) -> Suite:
    from catboost import CatBoost, CatBoostClassifier, Pool

    from focal_boost.catboost import FocalCatBoostClassifier, FocalMetric, _builtin_focal_name, builtin_loss_function

    # Same parameters for every method (issue 13: depth 6, lr 0.1, 2 threads, bootstrap off). leaf_estimation_
    # backtracking="No" is what FocalCatBoostClassifier pins on its builtin-Focal path (catboost 1.2.10's default for
    # builtin Focal is AnyImprovement, for a Python objective No); leaf iterations stay each loss's default (builtin
    # Logloss 10, MultiClass, Focal and Python objectives 1): the cost a user of the defaults pays.
    base = {"depth": 6, "learning_rate": 0.1, "thread_count": cfg.threads, "random_seed": cfg.seed,
            "verbose": False, "allow_writing_files": False, "leaf_estimation_backtracking": "No",
            "bootstrap_type": "No"}
    alpha = ALPHA if task == "binary" else None
    if task == "multilabel":
        return _catboost_multilabel_suite(X, y, base, cfg)

    def classifier(loss_function: str) -> Callable[[int], Any]:
        def train(rounds: int) -> Any:
            return CatBoostClassifier(loss_function=loss_function, iterations=rounds, **base).fit(X, y)

        return train

    def focal(hessian: str | None, builtin_expected: bool, threads: int | None = cfg.threads) -> Callable[[int], Any]:
        # hessian None: the classifier's default; threads None: the classifier's default thread_count
        extra = {} if hessian is None else {"hessian": hessian}
        params = {key: value for key, value in base.items() if key != "thread_count" or threads is not None}
        if threads is not None:
            params["thread_count"] = threads

        def train(rounds: int) -> Any:
            model = FocalCatBoostClassifier(gamma=GAMMA, alpha=alpha, iterations=rounds, **extra, **params).fit(X, y)
            if (model.builtin_loss_ is not None) != builtin_expected:
                raise RuntimeError(f"FocalCatBoostClassifier used builtin_loss_={model.builtin_loss_!r}")
            return model

        return train

    loss = focal_loss(task)
    # The floors train like FocalCatBoostClassifier does (CatBoost on a Pool, the classifier's eval metric), with
    # the objective's body replaced by a no-op, so a ratio to them is the cost of focal_boost's objective alone.
    metric: Any = (FocalMetric(loss, N_CLASSES) if task == "multiclass"
                   else f"{_builtin_focal_name(loss, {})};hints=skip_train~true")
    pool = Pool(X, y.astype(np.float64))

    def floor(objective: Callable[[], Any], threads: int = cfg.threads) -> Callable[[int], Any]:
        def train(rounds: int) -> Any:
            params = {**base, "iterations": rounds, "loss_function": objective(), "eval_metric": metric,
                      "boost_from_average": False, "thread_count": threads}
            if task == "multiclass":
                params["classes_count"] = N_CLASSES
            return CatBoost(params).fit(pool)

        return train

    if task == "multiclass":
        # The classifier's default trains multiclass on 1 thread; the rows at cfg.threads show why.
        noop_threads = CATBOOST_NOOP_MULTI_THREADS.format(threads=cfg.threads)
        focal_threads = CATBOOST_FOCAL_MULTI_THREADS.format(threads=cfg.threads)
        methods = {"builtin MultiClass": classifier("MultiClass"),
                   CATBOOST_NOOP_MULTI: floor(lambda: _NoopMulti(N_CLASSES), threads=1),
                   CATBOOST_NUMBA_CALL_MULTI: floor(lambda: _NumbaCallMulti(N_CLASSES), threads=1),
                   "focal (Python objective)": focal(None, False, threads=None)}
        comparisons = [("focal (Python objective)", "builtin MultiClass"),
                       ("focal (Python objective)", CATBOOST_NOOP_MULTI),
                       (CATBOOST_NOOP_MULTI, "builtin MultiClass"),
                       ("focal (Python objective)", CATBOOST_NUMBA_CALL_MULTI),
                       (CATBOOST_NUMBA_CALL_MULTI, CATBOOST_NOOP_MULTI)]
        if cfg.threads != 1:
            methods[noop_threads] = floor(lambda: _NoopMulti(N_CLASSES))
            methods[focal_threads] = focal(None, False)
            comparisons += [(focal_threads, "builtin MultiClass"), (focal_threads, noop_threads),
                            (noop_threads, "builtin MultiClass")]
        if cfg.numpy_path:
            methods["focal (Python objective, no numba)"] = _NumpyPath(focal(None, False, threads=None))
            comparisons += [("focal (Python objective, no numba)", "builtin MultiClass"),
                            ("focal (Python objective, no numba)", CATBOOST_NOOP_MULTI)]
        return Suite(methods, comparisons, note="per-object Python objective (calc_ders_multi): measured at small n; "
                                                + CATBOOST_MULTICLASS_ROUTE)
    builtin_focal = builtin_loss_function(focal_loss("binary", "exact"), {})
    methods = {"builtin Logloss": classifier("Logloss"), "builtin Focal": classifier(builtin_focal),
               CATBOOST_NOOP_RANGE: floor(_NoopRange),
               "focal (builtin path)": focal("exact", True), "focal (Python objective)": focal(None, False)}
    comparisons = [("focal (builtin path)", "builtin Focal"), ("focal (Python objective)", "builtin Logloss"),
                   ("focal (Python objective)", CATBOOST_NOOP_RANGE), (CATBOOST_NOOP_RANGE, "builtin Logloss"),
                   ("builtin Focal", "builtin Logloss")]
    if cfg.numpy_path:
        methods["focal (Python objective, numpy path)"] = _NumpyPath(focal(None, False))
        comparisons.append(("focal (Python objective, numpy path)", "builtin Logloss"))
    return Suite(methods, comparisons)


CATBOOST_MULTILABEL_ROUTE = ("route: FocalMultiLabelObjective.calc_ders_multi (a catboost MultiTargetCustomObjective) "
                             "-> focal_boost._catboost_kernels per-object function (numba kernel "
                             "_catboost_numba.multilabel_row: all L labels in one call on a packed per-thread state "
                             "array, init score as an offset inside), Python lists back to CatBoost; every method on "
                             "1 thread")
CATBOOST_NOOP_MULTILABEL = "no-op multi-target objective (lists, 1 thread: the floor)"
CATBOOST_NUMBA_CALL_MULTILABEL = "no-op multi-target objective + one numba call (lists, 1 thread)"


def _catboost_multilabel_suite(X: np.ndarray, Y: np.ndarray, base: dict[str, Any], cfg: Config) -> Suite:
    """Multi-label on one thread (FocalCatBoostClassifier's default for a per-object objective): focal against
    builtin ``MultiLogloss``, and the per-object floors (a no-op ``MultiTargetCustomObjective`` returning
    preallocated lists, with and without one empty numba call) with the classifier's eval metric."""
    from catboost import CatBoost, CatBoostClassifier, MultiTargetCustomObjective, Pool

    from focal_boost.catboost import FocalCatBoostClassifier, FocalMultiLabelMetric

    single = {**base, "thread_count": 1}
    focal_params = {k: v for k, v in base.items() if k != "thread_count"}  # the classifier's default: 1 thread
    n_labels = Y.shape[1]
    loss = focal_loss("multilabel")

    class NoopMultiTarget(_NoopMulti, MultiTargetCustomObjective):
        pass

    class NumbaCallMultiTarget(_NumbaCallMulti, MultiTargetCustomObjective):
        pass

    def train_builtin(rounds: int) -> Any:
        return CatBoostClassifier(loss_function="MultiLogloss", iterations=rounds, **single).fit(X, Y)

    def train_focal(rounds: int) -> Any:
        model = FocalCatBoostClassifier(gamma=GAMMA, alpha=ALPHA, iterations=rounds, **focal_params).fit(X, Y)
        if model.booster_.get_params()["thread_count"] != 1:
            raise RuntimeError("FocalCatBoostClassifier did not train multi-label on 1 thread")
        return model

    pool = Pool(X, label=Y.astype(np.float64))
    init = loss.init_score(Y)

    def floor(objective: Callable[[], Any]) -> Callable[[int], Any]:
        def train(rounds: int) -> Any:
            params = {**single, "iterations": rounds, "loss_function": objective(), "boost_from_average": False,
                      "eval_metric": FocalMultiLabelMetric(loss, n_labels, offset=init)}
            return CatBoost(params).fit(pool)

        return train

    methods = {"builtin MultiLogloss": train_builtin,
               CATBOOST_NOOP_MULTILABEL: floor(lambda: NoopMultiTarget(n_labels)),
               CATBOOST_NUMBA_CALL_MULTILABEL: floor(lambda: NumbaCallMultiTarget(n_labels)),
               "focal (Python objective)": train_focal}
    comparisons = [("focal (Python objective)", "builtin MultiLogloss"),
                   ("focal (Python objective)", CATBOOST_NOOP_MULTILABEL),
                   (CATBOOST_NOOP_MULTILABEL, "builtin MultiLogloss"),
                   ("focal (Python objective)", CATBOOST_NUMBA_CALL_MULTILABEL),
                   (CATBOOST_NUMBA_CALL_MULTILABEL, CATBOOST_NOOP_MULTILABEL)]
    return Suite(methods, comparisons, note=f"L={n_labels}, label rates {LABEL_RATES}; " + CATBOOST_MULTILABEL_ROUTE)


SUITES: dict[str, Callable[[np.ndarray, np.ndarray, str, Config], Suite]] = {
    "lightgbm": lightgbm_suite, "xgboost": xgboost_suite, "catboost": catboost_suite}


def task_features(engine: str, task: str, cfg: Config) -> int:
    if task == "multilabel":
        return cfg.multilabel_features
    return cfg.catboost_multiclass_features if (engine, task) == ("catboost", "multiclass") else cfg.features


def task_sizes(engine: str, task: str, cfg: Config) -> list[int]:
    if task == "multilabel":
        return sorted({min(n, cfg.multilabel_n) for n in cfg.n})
    if engine == "catboost" and task == "multiclass":
        return sorted({min(n, cfg.catboost_multiclass_n) for n in cfg.n})
    return list(cfg.n)


# -- timing --------------------------------------------------------------------------------------------------------
def _timed(fn: Callable[[int], Any], rounds: int) -> float:
    gc.collect()
    start = time.perf_counter()
    model = fn(rounds)
    elapsed = time.perf_counter() - start
    del model
    return elapsed


def time_suite(suite: Suite, cfg: Config) -> dict[str, list[float]]:
    """Warm up every method (2 rounds), then time them ``cfg.repeats`` times, interleaved."""
    names = list(suite.methods)
    for name in names:
        _timed(suite.methods[name], min(2, cfg.rounds))
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(cfg.repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name].append(_timed(suite.methods[name], cfg.rounds))
    return times


def _fmt(values: Sequence[float]) -> str:
    return "/".join(f"{v:.3g}" for v in values)


def train_rows(engine: str, task: str, n: int, suite: Suite, times: dict[str, list[float]], cfg: Config,
               run_id: str) -> list[dict[str, Any]]:
    rows = []
    for candidate, reference in suite.comparisons:
        cand, ref = times[candidate], times[reference]
        paired = statistics.median(c / b for c, b in zip(cand, ref, strict=True))
        target = target_for(engine, task, candidate, reference, n)
        applies = target is not None and cfg.rounds >= 100
        detail = (f"times {candidate}: {_fmt(cand)} s; {reference}: {_fmt(ref)} s; ratio of medians "
                  f"{statistics.median(cand) / statistics.median(ref):.3f}")
        if suite.note:
            detail += f"; {suite.note}"
        rows.append({"section": "train", "engine": engine, "task": task, "n": n, "rounds": cfg.rounds,
                     "candidate": candidate, "reference": reference,
                     "candidate_value": statistics.median(cand), "reference_value": statistics.median(ref),
                     "unit": "s", "ratio": paired, "target": f"<= {target}" if target else "",
                     "met": ("yes" if paired <= target else "NO") if applies else "", "repeats": len(cand),
                     "detail": detail, "run": run_id})
    return rows


def run_training(cfg: Config, run_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for engine in cfg.engines:
        for task in cfg.tasks:
            for n in task_sizes(engine, task, cfg):
                cfg.log(f"[train] {engine} {task} n={n}: building data")
                X, y = make_data(n, task_features(engine, task, cfg), task, cfg.seed)
                suite = SUITES[engine](X, y, task, cfg)
                if engine != "catboost":
                    del X  # LightGBM/XGBoost keep their own binned copy; CatBoost classifiers take X each fit
                start = time.perf_counter()
                times = time_suite(suite, cfg)
                new = train_rows(engine, task, n, suite, times, cfg, run_id)
                for row in new:
                    cfg.log(f"    {row['candidate']} / {row['reference']}: {row['ratio']:.3f} "
                            f"({row['candidate_value']:.2f} s / {row['reference_value']:.2f} s)")
                cfg.log(f"    ({time.perf_counter() - start:.0f} s)")
                rows += new
                del suite
                gc.collect()
    return rows


# -- kernel throughput ---------------------------------------------------------------------------------------------
def naive_grad_hess(y: np.ndarray, raw: np.ndarray, gamma: float = GAMMA, alpha: float = ALPHA
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The widely copied numpy focal objective (binary, probability space), as a reference for speed.

    ``p = clip(sigmoid(raw), 1e-15, 1 - 1e-15)``, ``p_t`` and ``alpha_t`` by ``np.where``, ``y' = 2y - 1`` and the
    textbook derivatives of ``FL = -alpha_t (1 - p_t)^gamma log p_t`` with respect to the raw score
    (``dp_t/dz = y' p_t (1 - p_t)``):

        grad = alpha_t y' (1 - p_t)^gamma (gamma p_t log p_t + p_t - 1)
        hess = alpha_t p_t (1 - p_t)^gamma ((1 - p_t)(gamma log p_t + gamma + 1) - gamma (gamma p_t log p_t + p_t - 1))

    ``1 - p_t`` cancels when ``p_t`` is near 1 and the clip bends both beyond ``|raw| ~ 34.5``.
    """
    p = 1.0 / (1.0 + np.exp(-raw))
    p = np.clip(p, 1e-15, 1 - 1e-15)
    pt = np.where(y == 1, p, 1 - p)
    at = np.where(y == 1, alpha, 1 - alpha)
    sign = 2 * y - 1
    log_pt = np.log(pt)
    one_minus = 1 - pt
    mod = one_minus ** gamma
    inner = gamma * pt * log_pt + pt - 1
    grad = at * sign * mod * inner
    hess = at * pt * mod * (one_minus * (gamma * log_pt + gamma + 1) - gamma * inner)
    return grad, hess


def _interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            gc.collect()
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(v) for name, v in times.items()}


def _max_rel(a: np.ndarray, b: np.ndarray, scale: np.ndarray | None = None) -> float:
    scale = np.abs(b) if scale is None else scale
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.abs(a - b) / (scale + 1e-300)))


def run_kernel(cfg: Config, run_id: str) -> list[dict[str, Any]]:
    from focal_boost import FocalLoss, _kernels, _math

    n = cfg.kernel_n
    rng = np.random.default_rng(cfg.seed)
    y = (rng.uniform(size=n) < POSITIVE_RATE).astype(np.int64)
    raw = rng.normal(-2.0, 3.0, size=n)  # logits around a rare-positive init score
    loss = FocalLoss(GAMMA, ALPHA, "exact")  # the naive reference computes the exact (textbook) hessian
    target = loss.prepare_target(y)

    numpy_path = _NumpyPath(lambda: target.grad_hess(raw))

    fns = {"naive numpy (blog formula)": lambda: naive_grad_hess(y, raw),
           "FocalLoss.grad_hess (validated)": lambda: loss.grad_hess(y, raw),
           "FocalLoss._grad_hess (per round)": lambda: target.grad_hess(raw),
           "core numpy path (_grad_hess, numba off)": numpy_path}
    times = _interleaved(fns, cfg.kernel_repeats)
    fast_label = "numba" if _kernels.uses_compiled(raw.size) else "numpy (numba unavailable or n < MIN_SIZE)"
    rows = []
    ref_name = "naive numpy (blog formula)"
    for name, seconds in times.items():
        if name == ref_name:
            continue
        target_text = ">= 3x" if name.startswith("FocalLoss.grad_hess") else ""
        speedup = times[ref_name] / seconds
        met = ("yes" if speedup >= 3 else "NO") if target_text and n >= TARGET_MIN_N else ""
        rows.append({"section": "kernel", "engine": "", "task": "binary", "n": n, "rounds": "",
                     "candidate": name, "reference": ref_name, "candidate_value": n / seconds / 1e6,
                     "reference_value": n / times[ref_name] / 1e6, "unit": "Mrows/s", "ratio": speedup,
                     "target": target_text, "met": met, "repeats": cfg.kernel_repeats,
                     "detail": f"median {seconds * 1e3:.1f} ms vs {times[ref_name] * 1e3:.1f} ms; "
                               f"_grad_hess path: {fast_label}", "run": run_id})

    # Multiclass (K=5): numba kernel vs the core's numpy path (no naive reference for softmax).
    ym = rng.integers(0, N_CLASSES, size=n)
    rawm = rng.normal(0.0, 3.0, size=(n, N_CLASSES))
    lossm = FocalLoss(GAMMA)
    targetm = lossm.prepare_target(ym, None, N_CLASSES)

    numpy_softmax = _NumpyPath(lambda: targetm.grad_hess(rawm))

    tm = _interleaved({"fast": lambda: targetm.grad_hess(rawm), "numpy": numpy_softmax},
                      max(3, cfg.kernel_repeats // 2))
    rows.append({"section": "kernel", "engine": "", "task": "multiclass", "n": n, "rounds": "",
                 "candidate": "FocalLoss._grad_hess (per round)", "reference": "core numpy path (numba off)",
                 "candidate_value": n / tm["fast"] / 1e6, "reference_value": n / tm["numpy"] / 1e6,
                 "unit": "Mrows/s", "ratio": tm["numpy"] / tm["fast"], "target": "", "met": "",
                 "repeats": max(3, cfg.kernel_repeats // 2),
                 "detail": f"K={N_CLASSES}; median {tm['fast'] * 1e3:.1f} ms vs {tm['numpy'] * 1e3:.1f} ms",
                 "run": run_id})

    # -- agreement of the values --
    fast_g, fast_h = target.grad_hess(raw)
    ref_g, ref_h = numpy_path()
    # the exact hessian crosses zero: measure it relative to the size of its terms, as the tests do per row
    _, q, logp, _, _ = _math.sigmoid_logs(raw * target.sign, with_ratio=False)
    p = 1.0 - q
    h_scale = np.abs(target.row_weight) * p * q**GAMMA * (np.abs(GAMMA * logp * (q - GAMMA * p)) + (2 * GAMMA + 1) * q)
    rows.append(_accuracy_row("fast path vs core numpy path (grad)", _max_rel(fast_g, ref_g), n, run_id,
                              "<= 1e-12", "binary, all rows"))
    rows.append(_accuracy_row("fast path vs core numpy path (hess)", _max_rel(fast_h, ref_h, h_scale), n, run_id,
                              "<= 1e-12", "binary exact hessian, relative to the size of its terms"))
    mg, mh = targetm.grad_hess(rawm)
    ng, nh = numpy_softmax()
    row_scale = np.max(np.abs(ng), axis=1, keepdims=True)
    rows.append(_accuracy_row("fast path vs core numpy path (softmax grad)", _max_rel(mg, ng, row_scale), n, run_id,
                              "<= 1e-12", "K=5, relative to the row's largest |grad|"))
    rows.append(_accuracy_row("fast path vs core numpy path (softmax hess)",
                              _max_rel(mh, nh, np.max(np.abs(nh), axis=1, keepdims=True)), n, run_id, "<= 1e-12",
                              "K=5 bound hessian, relative to the row's largest hess"))
    naive_g, naive_h = naive_grad_hess(y, raw)
    accurate = (q >= 1e-3) & (p >= 1e-3)  # 1 - p_t keeps >= 13 digits and the clip is inactive
    rows.append(_accuracy_row("naive vs exact (grad), rows with 1e-3 <= p_t <= 1 - 1e-3",
                              _max_rel(naive_g[accurate], ref_g[accurate]), n, run_id, "",
                              f"{accurate.mean():.1%} of rows"))
    rows.append(_accuracy_row("naive vs exact (hess), same rows", _max_rel(naive_h[accurate], ref_h[accurate],
                                                                          h_scale[accurate]), n, run_id, "",
                              "relative to the size of the hessian's terms"))
    rows.append(_accuracy_row("naive vs exact (grad), all rows", _max_rel(naive_g, ref_g), n, run_id, "",
                              f"rows with p_t > 1 - 1e-3: {(q < 1e-3).mean():.1%}; there 1 - p_t cancels"))
    return rows


def _accuracy_row(what: str, value: float, n: int, run_id: str, target: str, detail: str) -> dict[str, Any]:
    met = ("yes" if value <= 1e-12 else "NO") if target else ""
    return {"section": "accuracy", "engine": "", "task": "", "n": n, "rounds": "", "candidate": what,
            "reference": "", "candidate_value": value, "reference_value": "", "unit": "max rel. diff", "ratio": "",
            "target": target, "met": met, "repeats": "", "detail": detail, "run": run_id}


# -- memory (fresh subprocess per training) -------------------------------------------------------------------------
def _status_kib(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # Linux >= 4.0: reset the peak RSS (VmHWM) to the current RSS
        return True
    except OSError:
        return False


class _RssSampler(threading.Thread):
    def __init__(self, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []  # (time, resident KiB, resident minus file-backed KiB)
        self._stop_event = threading.Event()
        self._page_kib = os.sysconf("SC_PAGE_SIZE") // 1024

    def run(self) -> None:
        with open("/proc/self/statm") as fh:
            while not self._stop_event.is_set():
                fh.seek(0)
                fields = fh.read().split()
                resident, shared = int(fields[1]), int(fields[2])
                self.samples.append((time.perf_counter(), resident * self._page_kib,
                                     (resident - shared) * self._page_kib))
                self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


WARM_N = 60_000  # rows of the one-round warm-up training in each memory child (>= the kernels' parallel threshold)


def memory_child(engine: str, task: str, method: str, n: int, cfg: Config) -> dict[str, Any]:
    """Runs in a fresh process: build the data, reset the peak, train once, report peak and growth (MiB)."""
    from focal_boost import _kernels

    if _kernels.AVAILABLE:
        # Every child (builtin ones too) imports numba and focal_boost's kernel module, then trains every method
        # of the suite for one round on 60k rows (loading the engine's code, the compiled kernels and the kernels'
        # worker threads), so both sides of a ratio start from the same loaded code and the peaks compare what the
        # trainings allocate. numba's one-time size is measured on its own in the startup section.
        _kernels._compiled()
    Xw, yw = make_data(WARM_N, task_features(engine, task, cfg), task, cfg.seed + 1)
    for warm in SUITES[engine](Xw, yw, task, replace(cfg, numpy_path=False)).methods.values():
        warm(1)  # every method of the suite, whichever this child measures: the same code ends up loaded
    del Xw, yw, warm
    X, y = make_data(n, task_features(engine, task, cfg), task, cfg.seed)
    suite = SUITES[engine](X, y, task, replace(cfg, numpy_path=False))
    if engine != "catboost":
        del X
    fn = suite.methods[method]
    gc.collect()
    reset = _reset_peak()
    start_kib = _status_kib("VmRSS")
    start_anon_kib = _status_kib("RssAnon")
    sampler = _RssSampler()
    sampler.start()
    t0 = time.perf_counter()
    model = fn(cfg.rounds)
    t1 = time.perf_counter()
    sampler.stop()
    peak_kib = _status_kib("VmHWM")
    half = [(t, r) for t, r, _ in sampler.samples if t >= t0 + 0.5 * (t1 - t0)]
    peak_anon_kib = max([a for _, _, a in sampler.samples] + [start_anon_kib])
    growth = float("nan")
    if len(half) >= 3:
        ts = np.array([t for t, _ in half])
        rs = np.array([r for _, r in half]) / 1024.0
        slope = np.polyfit(ts - ts[0], rs, 1)[0]  # MiB per second
        growth = slope * (t1 - t0) / cfg.rounds * 100.0  # MiB per 100 rounds (time spread evenly over rounds)
    del model
    return {"peak_mib": peak_kib / 1024.0, "start_mib": start_kib / 1024.0, "growth_mib_per_100": growth,
            "peak_anon_mib": peak_anon_kib / 1024.0, "start_anon_mib": start_anon_kib / 1024.0, "reset": reset,
            "seconds": t1 - t0}


def run_memory(cfg: Config, run_id: str) -> list[dict[str, Any]]:
    n_mem = cfg.memory_n or max(cfg.n)
    rows = []
    for engine in cfg.engines:
        for task in cfg.tasks:
            if task == "multilabel":
                continue  # no memory target for the multi-label task (issue 21 asks for training time)
            n = min(n_mem, cfg.catboost_multiclass_n) if (engine, task) == ("catboost", "multiclass") else n_mem
            # the method names and comparisons, without building data
            suite = _suite_shape(engine, task, cfg)
            results = {}
            for method in suite.methods:
                cfg.log(f"[memory] {engine} {task} {method} n={n}")
                results[method] = _spawn_memory_child(engine, task, method, n, cfg)
            for candidate, reference in suite.comparisons:
                if "numpy path" in candidate or "no numba" in candidate or candidate.startswith(("builtin", "no-op")) \
                        or reference == XGBOOST_FLOOR:
                    continue
                c, r = results[candidate], results[reference]
                ratio = c["peak_mib"] / r["peak_mib"]
                growth_ok = c["growth_mib_per_100"] <= max(1.0, r["growth_mib_per_100"] + 1.0)
                met = ("yes" if ratio <= 1.1 and growth_ok else "NO") if n >= TARGET_MIN_N else ""
                rows.append({
                    "section": "memory", "engine": engine, "task": task, "n": n, "rounds": cfg.rounds,
                    "candidate": candidate, "reference": reference, "candidate_value": c["peak_mib"],
                    "reference_value": r["peak_mib"], "unit": "MiB peak RSS", "ratio": ratio,
                    "target": "<= 1.1, no growth", "met": met, "repeats": 1,
                    "detail": (f"RSS at start {c['start_mib']:.0f} / {r['start_mib']:.0f} MiB; training adds "
                               f"{c['peak_mib'] - c['start_mib']:.0f} / {r['peak_mib'] - r['start_mib']:.0f} MiB; "
                               f"peak anonymous (non-file) memory {c['peak_anon_mib']:.0f} / "
                               f"{r['peak_anon_mib']:.0f} MiB (ratio {c['peak_anon_mib'] / r['peak_anon_mib']:.3f}, "
                               f"sampled every 10 ms); growth over the 2nd half {c['growth_mib_per_100']:+.1f} / "
                               f"{r['growth_mib_per_100']:+.1f} MiB per 100 rounds"),
                    "run": run_id})
                cfg.log(f"    {candidate} / {reference}: {ratio:.3f}  ({rows[-1]['detail']})")
    return rows


def _suite_shape(engine: str, task: str, cfg: Config) -> Suite:
    """The suite's method names and comparisons, from a tiny data set."""
    X, y = make_data(200, task_features(engine, task, cfg), task, cfg.seed)
    return SUITES[engine](X, y, task, replace(cfg, numpy_path=False))


def _child_command(args: list[str]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _spawn_memory_child(engine: str, task: str, method: str, n: int, cfg: Config) -> dict[str, Any]:
    spec = json.dumps({"engine": engine, "task": task, "method": method, "n": n, "rounds": cfg.rounds,
                       "features": cfg.features, "threads": cfg.threads, "seed": cfg.seed})
    proc = subprocess.run(_child_command(["--memory-child", spec]), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child failed ({engine} {task} {method}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- one-time cost of the numba path -------------------------------------------------------------------------------
_STARTUP_CODE = """
import json, os, time
import numpy as np
from focal_boost import FocalLoss, _kernels
loss = FocalLoss(2.0, 0.25)
y = (np.arange(60_000) % 10 == 0).astype(float)
_kernels.set_enabled(False)  # the input checks would load numba too; measure that below
target = loss.prepare_target(y)
_kernels.set_enabled(True)
raw = np.zeros(60_000)
def rss(key="VmRSS"):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":")) / 1024.0
r0, a0 = rss(), rss("RssAnon")
t0 = time.perf_counter()
import numba
t1 = time.perf_counter()
target.grad_hess(raw)
t2 = time.perf_counter()
target.grad_hess(raw)
t3 = time.perf_counter()
print(json.dumps({"available": _kernels.AVAILABLE, "import": t1 - t0, "first": t2 - t1, "second": t3 - t2,
                  "rss_mib": rss() - r0, "anon_mib": rss("RssAnon") - a0}))
"""


def run_startup(cfg: Config, run_id: str) -> list[dict[str, Any]]:
    results = []
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", _STARTUP_CODE], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            cfg.log(f"[startup] skipped: {proc.stderr[-500:]}")
            return []
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if not results[0]["available"]:
        return []
    imp = statistics.median(r["import"] for r in results)
    first = statistics.median(r["first"] for r in results)
    second = statistics.median(r["second"] for r in results)
    return [{"section": "startup", "engine": "", "task": "binary", "n": 60_000, "rounds": "",
             "candidate": "import numba + first call (cached kernels)", "reference": "later calls",
             "candidate_value": imp + first, "reference_value": second, "unit": "s", "ratio": "", "target": "",
             "met": "", "repeats": len(results),
             "detail": f"import numba {imp:.2f} s, loading the cached kernels {first:.2f} s; once per process; "
                       f"resident memory +{statistics.median(r['rss_mib'] for r in results):.0f} MiB, of which "
                       f"anonymous (non-file) +{statistics.median(r['anon_mib'] for r in results):.0f} MiB",
             "run": run_id}]


# -- output --------------------------------------------------------------------------------------------------------
def _key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(row[k]) for k in ("section", "engine", "task", "n", "candidate", "reference"))


def merge_rows(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New rows replace old rows with the same key (section, engine, task, n, candidate, reference)."""
    keys = {_key(r) for r in new}
    return [r for r in old if _key(r) not in keys] + new


def read_csv(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(row.get(k, "")) for k in CSV_FIELDS})


def _csv_value(v: Any) -> Any:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.6g}"
    return v


def _n(v: Any) -> str:
    n = int(float(v))
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def render_markdown(rows: list[dict[str, Any]], machine: dict[str, str]) -> str:
    out = ["# focal_boost speed benchmark", "",
           "Generated by `benchmarks/speed.py` (`python benchmarks/speed.py`, `make speed`); see its docstring for "
           "the method. Times are medians over interleaved repeats in one process; *ratio* is the median of the "
           "paired ratios candidate / reference of the same repeat.", ""]
    out += ["## Machine", ""] + [f"- {k}: {v}" for k, v in machine.items()] + [""]
    runs = [r for r in rows if r["section"] == "run"]
    if runs:
        out += ["## Runs", "", "| command | date (UTC) | wall | load avg before | load avg after |",
                "|---|---|---|---|---|"]
        for r in runs:
            d = json.loads(r["detail"])
            out.append(f"| `{r['candidate']}` | {d['date']} | {float(r['candidate_value']) / 60:.1f} min | "
                       f"{d['load_before']} | {d['load_after']} |")
        out.append("")
    targets = [r for r in rows if r.get("met") in ("yes", "NO")]
    if targets:
        out += ["## Targets (issues 5, 13 and 21)", "", "| what | value | target | met | margin |",
                "|---|---|---|---|---|"]
        for r in targets:
            out.append(f"| {_target_label(r)} | {_target_value(r)} | {r['target']} | {r['met']} | {_margin(r)} |")
        out.append("")
    train = [r for r in rows if r["section"] == "train"]
    if train:
        out += ["## Training time: focal objective vs the engine's builtin", "",
                "Same data, parameters and threads; LightGBM/XGBoost via `focal_boost.<engine>.train` vs "
                "`<engine>.train` on one shared Dataset/QuantileDMatrix; CatBoost via `FocalCatBoostClassifier.fit` "
                "vs `CatBoostClassifier.fit` on the same numpy X. *numpy path* / *no numba*: the same focal training "
                "with the numba kernels switched off. CatBoost *no-op objective*: CatBoost on a Pool with the "
                "classifier's eval metric and an objective that returns preallocated zeros (lists per object for "
                "multiclass, an (n, 2) array per chunk for binary): CatBoost's own callback floor. 2 engine "
                "threads; focal_boost's kernels split large arrays over 2 threads between the engine's rounds. "
                "Multi-label (L=5, 100k x 20): XGBoost focal vs builtin `binary:logistic` at the same `num_target` and "
                "`multi_strategy`; LightGBM focal (`num_class=L`) vs L builtin binary boosters and vs a Python "
                "logloss objective at `num_class=L`; CatBoost `FocalCatBoostClassifier.fit(X, Y)` vs "
                "`CatBoostClassifier(loss_function='MultiLogloss')`, every CatBoost method on 1 thread.", "",
                "| engine | task | n | rounds | repeats | candidate | reference | candidate s | reference s | ratio "
                "| target | met |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(train, key=lambda r: (ENGINES.index(r["engine"]), TASKS.index(r["task"]), int(r["n"]))):
            out.append(f"| {r['engine']} | {r['task']} | {_n(r['n'])} | {r['rounds']} | {r['repeats']} | "
                       f"{r['candidate']} | "
                       f"{r['reference']} | {float(r['candidate_value']):.2f} | {float(r['reference_value']):.2f} | "
                       f"**{float(r['ratio']):.3f}** | {r['target']} | {r['met']} |")
        out.append("")
    kernel = [r for r in rows if r["section"] == "kernel"]
    if kernel:
        out += ["## Gradient/hessian throughput", "",
                "| task | n | what | Mrows/s | reference | ref. Mrows/s | speed-up | target | met |",
                "|---|---|---|---|---|---|---|---|---|"]
        for r in kernel:
            out.append(f"| {r['task']} | {_n(r['n'])} | {r['candidate']} | {float(r['candidate_value']):.1f} | "
                       f"{r['reference']} | {float(r['reference_value']):.1f} | **{float(r['ratio']):.2f}x** | "
                       f"{r['target']} | {r['met']} |")
        out.append("")
    acc = [r for r in rows if r["section"] == "accuracy"]
    if acc:
        out += ["## Agreement of the values", "", "| comparison | n | max relative difference | target | met | note |",
                "|---|---|---|---|---|---|"]
        for r in acc:
            out.append(f"| {r['candidate']} | {_n(r['n'])} | {float(r['candidate_value']):.2e} | {r['target']} | "
                       f"{r['met']} | {r['detail']} |")
        out.append("")
    mem = [r for r in rows if r["section"] == "memory"]
    if mem:
        out += ["## Peak memory of a training (fresh process each)", "",
                "Peak RSS = `VmHWM` reset just before training (data already built; each child first imports numba "
                "and trains every method of the suite for one round on 60k rows, so builtin and focal start from the "
                "same loaded code); growth = slope of RSS over the second half of training.", "",
                "| engine | task | n | candidate | reference | candidate MiB | reference MiB | ratio | target | met "
                "| detail (candidate / reference) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sorted(mem, key=lambda r: (ENGINES.index(r["engine"]), TASKS.index(r["task"]))):
            out.append(f"| {r['engine']} | {r['task']} | {_n(r['n'])} | {r['candidate']} | {r['reference']} | "
                       f"{float(r['candidate_value']):.0f} | {float(r['reference_value']):.0f} | "
                       f"**{float(r['ratio']):.3f}** | {r['target']} | {r['met']} | {r['detail']} |")
        out.append("")
    startup = [r for r in rows if r["section"] == "startup"]
    if startup:
        out += ["## One-time cost of the numba path (fresh process)", ""]
        for r in startup:
            out.append(f"- {r['candidate']}: {float(r['candidate_value']):.2f} s ({r['detail']}); a later call on "
                       f"{_n(r['n'])} rows: {float(r['reference_value']) * 1e3:.1f} ms")
        out.append("")
    details = [r for r in train if r.get("detail")]
    if details:
        out += ["## Raw timings", ""]
        for r in details:
            out.append(f"- {r['engine']} {r['task']} {_n(r['n'])}: {r['detail']}")
        out.append("")
    return "\n".join(out)


def _target_label(r: dict[str, Any]) -> str:
    if r["section"] == "accuracy":
        return r["candidate"]
    if r["section"] == "kernel":
        return f"{r['candidate']} vs {r['reference']}, {_n(r['n'])} rows"
    what = "peak RSS" if r["section"] == "memory" else "time"
    return f"{r['engine']} {r['task']} {_n(r['n'])}: {what} {r['candidate']} / {r['reference']}"


def _target_value(r: dict[str, Any]) -> str:
    if r["section"] == "accuracy":
        return f"{float(r['candidate_value']):.1e}"
    if r["section"] == "kernel":
        return f"{float(r['ratio']):.2f}x"
    return f"{float(r['ratio']):.3f}"


def _margin(r: dict[str, Any]) -> str:
    """How far inside (+) or outside (-) the target, in percent of the target."""
    try:
        bound = float(str(r["target"]).split()[1].rstrip("x,"))
    except (IndexError, ValueError):
        return ""
    value = float(r["candidate_value"]) if r["section"] == "accuracy" else float(r["ratio"])
    if str(r["target"]).startswith(">="):
        return f"{(value / bound - 1) * 100:+.1f}%"
    if r["section"] == "accuracy":
        return "" if value == 0 else f"{bound / value:.0f}x below"
    return f"{(1 - value / bound) * 100:+.1f}%"


def machine_info() -> dict[str, str]:
    info = {"platform": platform.platform(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "?")
        info["cpu"] = f"{model}, {os.cpu_count()} logical cores"
    except OSError:
        info["cpu"] = f"{os.cpu_count()} logical cores"
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory"] = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        pass
    versions = []
    for name in ("numpy", "numba", "lightgbm", "xgboost", "catboost", "focal_boost"):
        try:
            module = __import__(name)
            versions.append(f"{name} {module.__version__}")
        except ImportError:  # an engine that is not installed is not listed
            continue
    info["versions"] = ", ".join(versions)
    return info


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def run(cfg: Config) -> list[dict[str, Any]]:
    """Run the selected sections; merge into ``cfg.out/speed.csv`` and rewrite ``speed.md``. Returns all rows."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = _loadavg()
    run_id = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    rows: list[dict[str, Any]] = []
    if "kernel" in cfg.sections:
        rows += run_kernel(cfg, run_id)
    if "startup" in cfg.sections:
        rows += run_startup(cfg, run_id)
    if "train" in cfg.sections:
        rows += run_training(cfg, run_id)
    if "memory" in cfg.sections and cfg.memory:
        rows += run_memory(cfg, run_id)
    wall = time.perf_counter() - started
    rows.append({"section": "run", "engine": ",".join(cfg.engines), "task": ",".join(cfg.tasks), "n": max(cfg.n),
                 "candidate": cfg.command, "reference": run_id, "candidate_value": wall, "unit": "s",
                 "detail": json.dumps({"date": run_id, "load_before": load_before, "load_after": _loadavg(),
                                       "sections": list(cfg.sections),
                                       "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)")}),
                 "run": run_id})
    csv_path = cfg.out / "speed.csv"
    merged = merge_rows(read_csv(csv_path), rows)
    write_csv(csv_path, merged)
    (cfg.out / "speed.md").write_text(render_markdown(read_csv(csv_path), machine_info()))
    cfg.log(f"wrote {csv_path} and {cfg.out / 'speed.md'} ({wall / 60:.1f} min)")
    return merged


def _csv_list(text: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in items if s not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"{what} must be a comma-separated subset of {list(allowed)}, got {text!r}")
    return items


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="speed", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("multilabel",), default=None,
                        help="multilabel: only the multi-label training rows (same as --tasks multilabel --sections "
                             "train); the other rows of speed.csv are kept")
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run: n=2000, 5 rounds, 1 repeat, kernel n=60000, memory n=2000")
    parser.add_argument("--n", type=lambda s: tuple(int(float(x)) for x in s.split(",")), default=None,
                        help="comma-separated row counts (default 100000,1000000)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per method (default 3)")
    parser.add_argument("--rounds", type=int, default=None, help="boosting rounds (default 100)")
    parser.add_argument("--engines", type=lambda s: _csv_list(s, ENGINES, "--engines"), default=ENGINES)
    parser.add_argument("--tasks", type=lambda s: _csv_list(s, TASKS, "--tasks"), default=TASKS)
    parser.add_argument("--sections", type=lambda s: _csv_list(s, ("train", "kernel", "memory", "startup"),
                                                                  "--sections"),
                        default=("train", "kernel", "memory", "startup"))
    parser.add_argument("--kernel-n", type=int, default=None, help="rows for the grad/hess throughput (1000000)")
    parser.add_argument("--memory-n", type=int, default=None, help="rows for the memory runs (default: largest n)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--no-numpy-path", action="store_true",
                        help="skip the extra focal trainings with the numba path switched off")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--omp-passive", action="store_true",
                        help="set OMP_WAIT_POLICY=PASSIVE before the engines load (OpenMP threads then sleep instead "
                             "of spinning between parallel regions: far steadier timings on a machine shared with "
                             "other jobs, slightly slower ones on an idle machine)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (speed.csv, speed.md; default benchmarks/results/speed/)")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace, command: str) -> Config:
    tasks, sections = (("multilabel",), ("train",)) if args.only == "multilabel" else (args.tasks, args.sections)
    cfg = Config(engines=args.engines, tasks=tasks, sections=sections, threads=args.threads, out=args.out,
                 memory=not args.no_memory, numpy_path=not args.no_numpy_path, command=command)
    if args.quick:
        cfg = replace(cfg, n=(2_000,), rounds=5, repeats=1, kernel_n=60_000, kernel_repeats=3, memory_n=2_000,
                      catboost_multiclass_n=300)
    overrides = {"n": args.n, "repeats": args.repeats, "rounds": args.rounds, "kernel_n": args.kernel_n,
                 "memory_n": args.memory_n}
    return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python benchmarks/speed.py``, ``make speed``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.memory_child is not None:
        spec = json.loads(args.memory_child)
        cfg = Config(rounds=spec["rounds"], features=spec["features"], threads=spec["threads"], seed=spec["seed"])
        print(json.dumps(memory_child(spec["engine"], spec["task"], spec["method"], spec["n"], cfg)))
        return 0
    if args.omp_passive:
        if any(name in sys.modules for name in ("lightgbm", "xgboost", "catboost")):
            raise RuntimeError("--omp-passive must be set before an engine is imported")
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    command = "python benchmarks/speed.py" + ("" if not argv else " " + shlex.join(argv))
    run(config_from_args(args, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
