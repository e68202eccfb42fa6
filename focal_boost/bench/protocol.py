"""The protocol: repeated stratified K-fold (fixed seeds, folds shared by every method and engine), an inner
stratified validation split of each training fold for early stopping, candidate selection and the F1 threshold,
and held-out metrics on the test fold.

One task = (dataset, engine, repeat, fold); every method runs inside it on the same split, so results are paired.
Tasks run in a process pool (``jobs`` workers, one engine thread each); the runner reports progress per finished
task.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .datasets import Dataset, DatasetSpec
from .methods import ENGINES, FOCAL_METHODS, METHODS, Settings, candidates, engine_frame, fit_candidate, skip_reason
from .metrics import evaluate, pr_auc, thresholds

__all__ = ["EtaEstimator", "Protocol", "Task", "TaskResult", "make_tasks", "prior_cost", "run_task", "run_tasks",
           "task_key"]


@dataclass(frozen=True)
class Protocol:
    """Cross-validation design of a run."""

    # 5 x 2-fold (Dietterich 1998; Nadeau & Bengio 2003 correct its variance): 10 paired folds per comparison, each
    # test fold half of the data, so rare classes keep enough test rows.
    n_splits: int = 2
    n_repeats: int = 5
    seed: int = 0
    val_fraction: float = 0.25

    def describe(self) -> dict[str, Any]:
        return {
            "outer CV": f"{self.n_repeats} x repeated stratified {self.n_splits}-fold "
                        f"(sklearn RepeatedStratifiedKFold, random_state={self.seed})",
            "inner validation": f"stratified {self.val_fraction:.0%} of each training fold (same split for every "
                                "method and engine): early stopping, candidate selection, F1 threshold",
            "pairs per comparison": self.n_splits * self.n_repeats,
        }


@dataclass(frozen=True)
class Task:
    spec: DatasetSpec
    engine: str
    methods: tuple[str, ...]
    repeat: int
    fold: int
    train_idx: np.ndarray = field(compare=False)
    test_idx: np.ndarray = field(compare=False)
    protocol: Protocol
    settings: Settings
    keep_predictions: bool = False
    cost: float = 0.0
    n_classes: int = 2


@dataclass
class TaskResult:
    task_key: tuple[str, str, int, int]
    rows: list[dict[str, Any]]
    predictions: dict[str, np.ndarray]  # method key -> test probabilities (float32), repeat 0 only
    test_idx: np.ndarray | None
    skipped: dict[str, str]  # method -> reason
    errors: dict[str, str]  # method -> traceback text
    seconds: float
    cpu_seconds: float = 0.0


def method_key(method: str, probabilities: str) -> str:
    """Report name of a (method, probability variant): focal's uncalibrated probabilities get their own name."""
    return f"{method}[uncalibrated]" if probabilities == "uncalibrated" else method


def make_tasks(specs: list[DatasetSpec], data: dict[str, Dataset], engines: tuple[str, ...],
               methods: tuple[str, ...], protocol: Protocol, settings: Settings) -> list[Task]:
    """All (dataset, engine, repeat, fold) tasks, round by round (see below)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    for engine in engines:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; known: {ENGINES}")
    for method in methods:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; known: {METHODS}")
    tasks = []
    for spec in specs:
        ds = data[spec.name]
        counts = ds.class_counts()
        if counts.min() < protocol.n_splits * 2:
            raise ValueError(
                f"dataset {spec.name!r}: the smallest class has {counts.min()} rows, fewer than 2 x n_splits="
                f"{protocol.n_splits}; each outer and inner split needs members of every class"
            )
        rskf = RepeatedStratifiedKFold(n_splits=protocol.n_splits, n_repeats=protocol.n_repeats,
                                       random_state=protocol.seed)
        k = ds.n_classes
        for i, (tr, te) in enumerate(rskf.split(ds.X, ds.strata())):
            repeat, fold = divmod(i, protocol.n_splits)
            for engine in engines:
                tasks.append(Task(spec, engine, methods, repeat, fold, tr, te, protocol, settings,
                                  keep_predictions=(repeat == 0),
                                  cost=prior_cost(len(tr), ds.X.shape[1], k, engine), n_classes=k))
    # Round by round (every dataset x engine of repeat 0 fold 0 first, ...): the first rounds measure what every
    # (dataset, engine) costs, which is what the ETA extrapolates from; inside a round the most expensive first.
    tasks.sort(key=lambda t: (t.repeat, t.fold, -t.cost))
    return tasks


def prior_cost(n_train: int, n_features: int, n_classes: int, engine: str) -> float:
    """A task's relative cost before anything is measured (orders the queue; the ETA's fallback): rows x
    sqrt(features), x K for multiclass, x 2 for CatBoost, x 5 more for CatBoost's per-object multiclass objective."""
    cost = n_train * n_features**0.5 * (n_classes if n_classes > 2 else 1)
    if engine == "catboost":
        cost *= 10.0 if n_classes > 2 else 2.0
    return float(cost)


class EtaEstimator:
    """Remaining wall time of a run, from measured task times.

    A pending task is expected to take the mean measured time of the finished tasks of its (dataset, engine); for a
    (dataset, engine) with none finished yet, its :func:`prior_cost` times the seconds per unit of cost measured on
    finished tasks of the same engine and task type (binary / multiclass), else of any task, else
    ``seconds_per_cost``. The sum is divided by the number of workers. Tasks run round by round (see
    :func:`make_tasks`), so after the first round every (dataset, engine) has a measurement.
    """

    def __init__(self, tasks: list[Task], jobs: int, seconds_per_cost: float = 2e-5) -> None:
        self.jobs = max(1, jobs)
        self.seconds_per_cost = seconds_per_cost
        self.pending: dict[tuple[str, str, int, int], Task] = {task_key(t): t for t in tasks}
        self.done_seconds: dict[tuple[str, str], list[float]] = {}
        self.rate_sums: dict[tuple[str, bool], list[float]] = {}  # (engine, multiclass) -> [seconds, cost]

    def done(self, key: tuple[str, str, int, int], seconds: float) -> None:
        """Record a finished task (its ``TaskResult.task_key`` and measured seconds)."""
        task = self.pending.pop(key, None)
        if task is None:
            return
        self.done_seconds.setdefault((key[0], key[1]), []).append(seconds)
        for group in ((task.engine, task.n_classes > 2), ("*", False)):
            sums = self.rate_sums.setdefault(group, [0.0, 0.0])
            sums[0] += seconds
            sums[1] += task.cost

    def _rate(self, task: Task) -> float:
        for group in ((task.engine, task.n_classes > 2), ("*", False)):
            sums = self.rate_sums.get(group)
            if sums and sums[1] > 0:
                return sums[0] / sums[1]
        return self.seconds_per_cost

    def expected_seconds(self, task: Task) -> float:
        measured = self.done_seconds.get((task.spec.name, task.engine))
        if measured:
            return float(np.mean(measured))
        return task.cost * self._rate(task)

    def remaining(self) -> float:
        """Estimated seconds until the last pending task finishes."""
        return sum(self.expected_seconds(t) for t in self.pending.values()) / self.jobs


def task_key(task: Task) -> tuple[str, str, int, int]:
    return (task.spec.name, task.engine, task.repeat, task.fold)


def _primary(pred: dict[str, np.ndarray]) -> np.ndarray:
    return pred["native"] if "native" in pred else pred["calibrated"]


def run_task(task: Task) -> TaskResult:
    """Run every method of one (dataset, engine, repeat, fold): tune, early-stop, threshold, evaluate."""
    from sklearn.model_selection import train_test_split

    t_start, cpu_start = time.perf_counter(), time.process_time()
    ds = task.spec.build()
    X, y = engine_frame(ds.X, ds.categorical, task.engine), ds.y
    k = ds.n_classes
    seed = task.protocol.seed + 1000 * task.repeat + task.fold
    fit_idx, val_idx = train_test_split(task.train_idx, test_size=task.protocol.val_fraction,
                                        stratify=ds.strata()[task.train_idx], random_state=seed)
    X_fit, y_fit, X_val, y_val = X.iloc[fit_idx], y[fit_idx], X.iloc[val_idx], y[val_idx]
    X_test, y_test = X.iloc[task.test_idx], y[task.test_idx]
    counts_test = y_test.sum(axis=0) if ds.multilabel else np.bincount(y_test, minlength=k)
    rows: list[dict[str, Any]] = []
    predictions: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    errors: dict[str, str] = {}
    for method in task.methods:
        reason = skip_reason(task.engine, method, len(fit_idx), k, task.settings, ds.multilabel)
        if reason is not None:
            skipped[method] = reason
            continue
        try:
            best, best_score, tune_time = None, -np.inf, 0.0
            for cand in candidates(method, k, task.settings, ds.multilabel):
                fitted = fit_candidate(task.engine, cand, X_fit, y_fit, X_val, y_val, k, seed, task.settings,
                                       ds.categorical)
                tune_time += fitted.fit_time
                val_pred = fitted.predict(X_val)
                score = pr_auc(y_val, _primary(val_pred))
                if best is None or score > best_score:
                    best, best_score, best_val = fitted, score, val_pred
            test_pred = best.predict(X_test)
            for variant, proba in test_pred.items():
                threshold = thresholds(y_val, best_val[variant])
                row = {
                    "dataset": ds.name, "task": ds.task, "kind": ds.kind, "engine": task.engine, "method": method,
                    "probabilities": variant,
                    "repeat": task.repeat, "fold": task.fold,
                }
                row.update(evaluate(y_test, proba, threshold))
                row.update({
                    "fit_time_s": best.fit_time, "tune_time_s": tune_time, "n_rounds": best.n_rounds,
                    "selected": best.candidate.label, "val_pr_auc": best_score,
                    "threshold": threshold if isinstance(threshold, float) else np.nan,
                    "n_train": len(fit_idx), "n_val": len(val_idx), "n_test": len(task.test_idx),
                    "n_test_minority": int(counts_test.min()),
                })
                rows.append(row)
                if task.keep_predictions:
                    predictions[method_key(method, variant)] = proba.astype(np.float32)
        except Exception:  # reported as a failure in the report and the exit status, never hidden
            errors[method] = traceback.format_exc(limit=6)
    return TaskResult((ds.name, task.engine, task.repeat, task.fold), rows, predictions,
                      task.test_idx if task.keep_predictions else None, skipped, errors,
                      time.perf_counter() - t_start, time.process_time() - cpu_start)


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_tasks(tasks: list[Task], jobs: int, on_done: Callable[[TaskResult], None] | None = None) -> list[TaskResult]:
    """Run tasks inline (``jobs == 1``) or in a spawn-started process pool; ``on_done`` is called per result."""
    results: list[TaskResult] = []
    if jobs <= 1:
        for task in tasks:
            res = run_task(task)
            results.append(res)
            if on_done:
                on_done(res)
        return results
    import multiprocessing as mp

    # One thread per engine fit and per BLAS call in the workers (they inherit this environment when spawned);
    # the pool provides the parallelism.
    saved = {var: os.environ.get(var) for var in _THREAD_VARS}
    os.environ.update({var: "1" for var in _THREAD_VARS})
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            pending = {pool.submit(run_task, t) for t in tasks}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    res = fut.result()
                    results.append(res)
                    if on_done:
                        on_done(res)
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    return results


__all__ += ["FOCAL_METHODS", "method_key"]
