"""Run a benchmark end to end: data, tasks in a process pool with a progress bar, results.csv, plots, report.md,
run.json, and a summary table on the console."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .datasets import Dataset, DatasetSpec
from .methods import ENGINES, METHODS, Settings
from .protocol import EtaEstimator, Protocol, Task, TaskResult, make_tasks, method_key, run_tasks

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = ["METHOD_TEXT", "RESULTS_ROOT", "RunConfig", "TaskProgress", "format_duration", "print_summary",
           "progress_line", "quick_config", "run_benchmark", "suite_config"]

METHOD_TEXT = {
    "logloss": "the engine's builtin log loss; candidates: the tree-size grid",
    "weighted_logloss": "builtin log loss with class weights as sample weights (binary: positives weigh "
                        "n_negative/n_positive of the training split, like scale_pos_weight; multiclass: balanced, "
                        "n/(K n_k)); the validation split carries the same class weights, so early stopping watches "
                        "the weighted log loss; candidates: the tree-size grid",
    "focal_tuned": "focal loss (library defaults: alpha=None, hessian safeguard, calibrated probabilities), gamma "
                   "chosen on the inner validation split from a grid that includes gamma=0 (the log loss itself), "
                   "at the fixed default tree size",
    "focal_retinanet": "focal loss at RetinaNet's setting gamma=2, alpha=0.25 (binary, alpha weighs the positive "
                       "class; for multiclass alpha=None, since a scalar alpha is undefined there; the library's own "
                       "default is alpha=None), not tuned; it spends the same budget on the tree-size grid as the "
                       "logloss methods, so focal_retinanet vs logloss compares the losses alone",
}
RESULT_FILES = ("results.csv", "report.md", "headline.md", "run.json")
# Where runs go unless --out says otherwise: a folder under the current directory, never a tracked path of the
# source tree (`make bench-reference` refreshes the committed reference run with --out benchmarks/results/default).
RESULTS_ROOT = Path("focal_boost_results")


@dataclass
class RunConfig:
    """Everything a run needs; the results go to ``out_dir``, or else to ``results_root / name``
    (``./focal_boost_results/<name>/`` under the current directory)."""

    name: str
    datasets: list[DatasetSpec]
    engines: tuple[str, ...] = ENGINES
    methods: tuple[str, ...] = METHODS
    protocol: Protocol = field(default_factory=Protocol)
    settings: Settings = field(default_factory=Settings)
    jobs: int = 2
    results_root: Path = RESULTS_ROOT
    out_dir: Path | None = None
    plots: bool = True
    command: str = "focal-boost bench"
    quick: bool = False

    @property
    def folder(self) -> Path:
        """``out_dir`` (a previous run's files there are replaced: the user named the folder), else
        ``results_root / name``, or ``name-2``, ``name-3``, ... when a run already lives there (never replaced)."""
        if self.out_dir is not None:
            return self.out_dir
        folder, i = self.results_root / self.name, 1
        while (folder / "results.csv").exists() or (folder / "run.json").exists():
            i += 1
            folder = self.results_root / f"{self.name}-{i}"
        return folder


SUITE_SETTINGS: dict[str, dict[str, Any]] = {"default": {}, "full": {"budget": 4}, "multilabel": {}}


def suite_config(suite: str) -> tuple[Protocol, Settings]:
    """The protocol and settings of a suite: ``default`` (``make bench``: 3 candidates per method, sized to run in
    15 minutes on 2 cores), ``full`` (4 candidates per method) or ``multilabel`` (3)."""
    if suite not in SUITE_SETTINGS:
        raise ValueError(f"unknown suite {suite!r}; known: {sorted(SUITE_SETTINGS)}")
    return Protocol(), Settings(**SUITE_SETTINGS[suite])


def quick_config(**overrides: Any) -> tuple[Protocol, Settings]:
    """The ``--quick`` protocol and settings: fewer rounds, two candidates per method, 3 folds x 1 repeat."""
    protocol = Protocol(n_splits=3, n_repeats=1, seed=0)
    settings = Settings(n_estimators=60, learning_rate=0.2, early_stopping_rounds=10, budget=2, sizes=(2, 4),
                        default_size=3, focal_gammas=(0.0, 2.0), **overrides)
    return protocol, settings


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("focal_boost", "numpy", "scikit-learn", "lightgbm", "xgboost", "catboost"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _clean(folder: Path) -> None:
    """Remove this tool's files from a previous run in ``folder`` (nothing else), so no stale plot survives."""
    for name in RESULT_FILES:
        (folder / name).unlink(missing_ok=True)
    for png in folder.glob("*.png"):
        if png.name.startswith(("pr_", "reliability_", "diff_", "cd_")):
            png.unlink()


def format_duration(seconds: float) -> str:
    """Short human duration for progress lines: ``41 s``, ``2 min``, ``1.5 h``."""
    if not np.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def progress_line(done: int, total: int, elapsed: float, res: TaskResult, eta: float) -> str:
    """The plain progress line of one finished task (non-terminal output), e.g.
    ``bench 12/48 tasks, 41 s elapsed, eta 2 min: synth/lightgbm repeat 0 fold 1 (3.2 s)``; ``eta`` comes from
    :class:`~focal_boost.bench.protocol.EtaEstimator` (measured task times per dataset and engine)."""
    d, e, r, f = res.task_key
    failed = f", {len(res.errors)} FAILED" if res.errors else ""
    return (f"bench {done}/{total} tasks, {format_duration(elapsed)} elapsed, eta {format_duration(eta)}: "
            f"{d}/{e} repeat {r} fold {f} ({res.seconds:.1f} s{failed})")


class TaskProgress:
    """Progress of a run on ``console``: rich's progress bar in a terminal; otherwise (a pipe, a log file, CI) one
    plain line per finished task, flushed at once, with done/total, elapsed time and ETA.

    Use as a context manager; call :meth:`done` per finished task. ``clock`` is the time source (seconds).
    """

    def __init__(self, console: Console, tasks: list[Task], jobs: int,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.console, self.total, self.clock = console, len(tasks), clock
        self.eta = EtaEstimator(tasks, jobs)
        self.n_done = 0
        self.plain = not console.is_terminal
        self._progress: Any = None
        self._bar: Any = None

    def __enter__(self) -> TaskProgress:
        self._start = self.clock()
        self.history: list[dict[str, float]] = []
        if self.plain:
            self._write(f"bench: {self.total} tasks (dataset x engine x repeat x fold; every method inside a task), "
                        f"first estimate {format_duration(self.eta.remaining())}")
            return self
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = [TextColumn("[bold]bench[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("tasks"),
                   TimeElapsedColumn(), TextColumn("eta {task.fields[eta]}"), TextColumn("{task.description}")]
        self._progress = Progress(*columns, console=self.console, transient=False)
        self._progress.__enter__()
        self._bar = self._progress.add_task("", total=self.total, eta=format_duration(self.eta.remaining()))
        return self

    def done(self, res: TaskResult) -> None:
        self.n_done += 1
        self.eta.done(res.task_key, res.seconds)
        eta = self.eta.remaining()
        elapsed = self.clock() - self._start
        self.history.append({"done": self.n_done, "elapsed_s": round(elapsed, 2), "eta_s": round(eta, 2)})
        if self.plain:
            self._write(progress_line(self.n_done, self.total, elapsed, res, eta))
            return
        d, e, r, f = res.task_key
        self._progress.update(self._bar, advance=1, eta=format_duration(eta),
                              description=f"{d}/{e} repeat {r} fold {f} ({res.seconds:.1f}s)")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def _write(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        flush = getattr(self.console.file, "flush", None)
        if flush is not None:
            flush()


def run_benchmark(config: RunConfig, console: Console | None = None) -> tuple[Path, pd.DataFrame, dict[str, Any]]:
    """Run ``config``; returns the results folder, the results table and the metadata written to ``run.json``.

    Progress goes to ``console`` (a ``rich.console.Console``; default: stdout): a progress bar in a terminal, one
    plain line per finished task otherwise."""
    from rich.console import Console

    console = console or Console()
    t_start = time.perf_counter()
    folder = config.folder
    folder.mkdir(parents=True, exist_ok=True)
    console.print(f"Results go to {folder}", highlight=False, soft_wrap=True)
    _clean(folder)
    data: dict[str, Dataset] = {spec.name: spec.build() for spec in config.datasets}
    if len(data) != len(config.datasets):
        raise ValueError(f"dataset names must be unique, got {[s.name for s in config.datasets]}")
    tasks = make_tasks(config.datasets, data, config.engines, config.methods, config.protocol, config.settings)
    results: list[TaskResult] = []
    with TaskProgress(console, tasks, config.jobs) as progress:

        def done(res: TaskResult) -> None:
            results.append(res)
            progress.done(res)

        run_tasks(tasks, config.jobs, done)
    eta_history = progress.history

    df = _results_frame(results, config)
    df.to_csv(folder / "results.csv", index=False)
    skipped: dict[tuple[str, str, str], str] = {}
    errors = []
    for res in results:
        d, e, r, f = res.task_key
        for method, reason in res.skipped.items():
            skipped[(d, e, method)] = reason
        for method, text in res.errors.items():
            errors.append({"dataset": d, "engine": e, "method": method, "repeat": r, "fold": f, "error": text})
    wall = time.perf_counter() - t_start
    figures = _plots(config, data, results, df, folder) if config.plots and len(df) else []
    meta = {
        "name": config.name,
        "command": config.command,
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "wall_time_s": time.perf_counter() - t_start,
        "wall_time_before_plots_s": wall,
        "task_seconds_total": float(sum(r.seconds for r in results)),
        "task_cpu_seconds_total": float(sum(r.cpu_seconds for r in results)),
        "machine": f"{platform.machine()} with {os.cpu_count()} CPU cores",
        "jobs": config.jobs,
        "quick": config.quick,
        "versions": _versions(),
        "datasets": {name: _dataset_meta(ds) for name, ds in data.items()},
        "methods": {m: METHOD_TEXT[m] for m in config.methods},
        "protocol": config.protocol.describe(),
        "settings": config.settings.describe(),
        "notes": [
            "every candidate trains on the inner-training part of the fold with early stopping on the inner "
            "validation split, by the method's own metric (log loss, weighted log loss, or the focal loss with the "
            "candidate's gamma and alpha); the candidate with the best validation PR-AUC is evaluated on the test "
            "fold as is (no refit on the whole training fold)",
            "binary F1 and recall use the positive-class probability threshold that maximises F1 on the validation "
            "split (chosen separately for calibrated and uncalibrated focal probabilities); multiclass F1 and "
            "recall are macro averages of the argmax prediction",
            "PR-AUC is average precision (multiclass: macro one-vs-rest); Brier is mean (p1 - y)^2 for binary and "
            "mean sum_k (p_k - [y=k])^2 for multiclass; ECE uses 15 equal-width bins on the positive-class "
            "probability (binary) or the top-label confidence (multiclass)",
            "engine threads: 1 per fit; tasks (dataset x engine x fold, all methods inside) run in "
            f"{config.jobs} worker processes, so fit times include contention between workers",
        ],
        "eta": eta_check(eta_history),
        "skipped": [{"dataset": d, "engine": e, "method": m, "reason": r} for (d, e, m), r in skipped.items()],
        "errors": errors,
        "figures": figures,
    }
    from .report import cd_diagrams, headline_markdown, render_markdown

    cds = cd_diagrams(df, folder if config.plots else None) if len(df) else []
    meta["figures"] = [c["figure"] for c in cds if c["figure"]] + figures

    (folder / "run.json").write_text(json.dumps(meta, indent=2, default=str))
    (folder / "report.md").write_text(render_markdown(df, meta, figures, cds=cds))
    if len(df):
        (folder / "headline.md").write_text(headline_markdown(df) + "\n")
    print_summary(df, meta, folder, console)
    return folder, df, meta


def eta_check(history: list[dict[str, float]]) -> dict[str, Any]:
    """How the progress ETA compared with the truth: at the first line after 10% (and 25%, 50%) of the tasks, the
    estimated remaining time and the remaining time the run then took (``history``: one entry per finished task,
    ``done``, ``elapsed_s`` and ``eta_s``, in order)."""
    if not history:
        return {"checkpoints": []}
    tasks_wall_s = history[-1]["elapsed_s"]
    out: dict[str, Any] = {"tasks_wall_s": tasks_wall_s, "checkpoints": []}
    total = history[-1]["done"]
    for share in (0.1, 0.25, 0.5):
        line = next((h for h in history if h["done"] >= share * total), None)
        if line is None:
            continue
        truth = tasks_wall_s - line["elapsed_s"]
        out["checkpoints"].append({"after_share": share, "done": line["done"], "eta_s": line["eta_s"],
                                   "true_remaining_s": round(truth, 1),
                                   "ratio": round(line["eta_s"] / truth, 3) if truth > 0 else None})
    return out


def _dataset_meta(ds: Dataset) -> dict[str, Any]:
    meta: dict[str, Any] = {"n_rows": len(ds.y), "n_features": int(ds.X.shape[1]),
                            "class_counts": ", ".join(str(int(c)) for c in ds.class_counts()),
                            "minority_rate": round(ds.minority_rate(), 4), "task": ds.task, "kind": ds.kind,
                            "categorical": list(ds.categorical), "dropped": dict(ds.dropped),
                            "description": ds.description}
    if ds.source is not None:
        meta["source"] = dict(ds.source)
    if ds.multilabel:
        meta["labels"] = list(ds.class_names)
    positive = ds.positive_class()
    if positive is not None:
        meta["positive_class"] = positive["label"]
        meta["positive_class_rule"] = positive["rule"]
    return meta


def _results_frame(results: list[TaskResult], config: RunConfig) -> pd.DataFrame:
    rows = [row for res in results for row in res.rows]
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    order = {
        "dataset": {s.name: i for i, s in enumerate(config.datasets)},
        "engine": {e: i for i, e in enumerate(ENGINES)},
        "method": {m: i for i, m in enumerate(METHODS)},
        "probabilities": {"native": 0, "calibrated": 1, "uncalibrated": 2},
    }
    sort_cols = []
    for col, rank in order.items():
        df[f"_{col}"] = df[col].map(rank)
        sort_cols.append(f"_{col}")
    df = df.sort_values([*sort_cols, "repeat", "fold"]).drop(columns=sort_cols).reset_index(drop=True)
    return df


def _plots(config: RunConfig, data: dict[str, Dataset], results: list[TaskResult], df: pd.DataFrame,
           folder: Path) -> list[str]:
    from .plots import plot_differences, plot_pr_curves, plot_reliability, pooled_predictions

    store: dict[str, dict[str, dict[int, tuple[np.ndarray, dict[str, np.ndarray]]]]] = {}
    for res in results:
        if res.test_idx is None or not res.predictions:
            continue
        d, e, _, f = res.task_key
        store.setdefault(d, {}).setdefault(e, {})[f] = (res.test_idx, res.predictions)
    figures = []
    for spec in config.datasets:
        name = spec.name
        if name not in store or data[name].multilabel:  # curves per class; multi-label: the tables only
            continue
        per_engine = {e: pooled_predictions(store[name][e], data[name].y) for e in config.engines
                      if e in store[name]}
        per_engine = {e: p for e, p in per_engine.items() if p}
        if not per_engine:
            continue
        safe = name.replace("/", "_")
        plot_pr_curves(name, per_engine, folder / f"pr_{safe}.png")
        plot_reliability(name, per_engine, folder / f"reliability_{safe}.png")
        figures += [f"pr_{safe}.png", f"reliability_{safe}.png"]
    plot_differences(df, folder / "diff_vs_logloss.png")
    if (folder / "diff_vs_logloss.png").exists():
        figures.insert(0, "diff_vs_logloss.png")
    return figures


def print_summary(df: pd.DataFrame, meta: dict[str, Any], folder: Path, console: Console) -> None:
    """The end-of-run console summary (fits in 100 columns: no cell is cut), skipped methods, failures, and where
    the report is."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from .report import summary_rows

    if len(df):
        header, rows, legend = summary_rows(df)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), title_justify="left",
                      title=f"focal_boost bench {meta.get('name', '')}: held-out PR-AUC vs logloss")
        for i, h in enumerate(header):
            # the dataset name may fold onto a second line in a narrow terminal; numbers and verdicts never do
            table.add_column(h, no_wrap=i > 0, overflow="fold")
        for row in rows:
            table.add_row(*(escape(c).replace(" LOSES", " [red]LOSES[/]").replace(" WINS", " [green]WINS[/]")
                            for c in row))
        console.print(table)
        console.print(legend, highlight=False)
    for s in meta["skipped"]:
        console.print(f"[yellow]skipped[/] {escape(s['dataset'])}/{s['engine']}/{s['method']}: "
                      f"{escape(s['reason'])}", highlight=False)
    for e in meta["errors"]:
        console.print(f"[red]FAILED[/] {escape(e['dataset'])}/{e['engine']}/{e['method']} repeat {e['repeat']} fold "
                      f"{e['fold']}: {escape(e['error'].strip().splitlines()[-1])}", highlight=False)
    console.print(f"Report (all tables and plots): {folder / 'report.md'}  ({meta['wall_time_s']:.0f} s)",
                  highlight=False, soft_wrap=True)


__all__ += ["method_key"]
