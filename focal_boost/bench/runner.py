"""Run a benchmark end to end: data, tasks in a process pool with a progress bar, results.csv, plots, report.md,
run.json, and a summary table on the console."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .datasets import Dataset, DatasetSpec
from .methods import ENGINES, METHODS, Settings
from .protocol import Protocol, TaskResult, make_tasks, method_key, run_tasks

__all__ = ["METHOD_TEXT", "RunConfig", "quick_config", "run_benchmark"]

METHOD_TEXT = {
    "logloss": "the engine's builtin log loss; candidates: the tree-size grid",
    "weighted_logloss": "builtin log loss with class weights as sample weights (binary: positives weigh "
                        "n_negative/n_positive of the training split, like scale_pos_weight; multiclass: balanced, "
                        "n/(K n_k)); the validation split carries the same class weights, so early stopping watches "
                        "the weighted log loss; candidates: the tree-size grid",
    "focal_tuned": "focal loss (library defaults: hessian safeguard, calibrated probabilities), (gamma, alpha) "
                   "chosen from a small grid at the fixed default tree size; multiclass alpha is None or balanced "
                   "class weights n/(K n_k)",
    "focal_default": "focal loss at the common default gamma=2, alpha=0.25 (binary; for multiclass alpha=None, since "
                     "a scalar alpha is undefined there), not tuned; it spends the same budget on the tree-size grid "
                     "as the logloss methods, so focal_default vs logloss compares the losses alone",
}
RESULT_FILES = ("results.csv", "report.md", "headline.md", "run.json")


@dataclass
class RunConfig:
    """Everything a run needs; ``name`` is the results folder under ``results_root`` unless ``out_dir`` is given."""

    name: str
    datasets: list[DatasetSpec]
    engines: tuple[str, ...] = ENGINES
    methods: tuple[str, ...] = METHODS
    protocol: Protocol = field(default_factory=Protocol)
    settings: Settings = field(default_factory=Settings)
    jobs: int = 2
    results_root: Path = Path("benchmarks/results")
    out_dir: Path | None = None
    plots: bool = True
    command: str = "focal-boost bench"
    quick: bool = False

    @property
    def folder(self) -> Path:
        return self.out_dir if self.out_dir is not None else self.results_root / self.name


def quick_config(**overrides: Any) -> tuple[Protocol, Settings]:
    """The ``--quick`` protocol and settings: fewer rounds, two candidates per method, 3 folds x 1 repeat."""
    protocol = Protocol(n_splits=3, n_repeats=1, seed=0)
    settings = Settings(n_estimators=60, learning_rate=0.2, early_stopping_rounds=10, budget=2, sizes=(2, 4),
                        default_size=3, focal_grid_binary=((2.0, 0.25), (1.0, 0.75)),
                        focal_grid_multiclass=((2.0, "none"), (1.0, "balanced")), **overrides)
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
        if png.name.startswith(("pr_", "reliability_", "diff_")):
            png.unlink()


def run_benchmark(config: RunConfig, console: Any = None) -> tuple[Path, pd.DataFrame, dict[str, Any]]:
    """Run ``config``; returns the results folder, the results table and the metadata written to ``run.json``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = console or Console()
    t_start = time.perf_counter()
    folder = config.folder
    folder.mkdir(parents=True, exist_ok=True)
    _clean(folder)
    data: dict[str, Dataset] = {spec.name: spec.build() for spec in config.datasets}
    if len(data) != len(config.datasets):
        raise ValueError(f"dataset names must be unique, got {[s.name for s in config.datasets]}")
    tasks = make_tasks(config.datasets, data, config.engines, config.methods, config.protocol, config.settings)
    results: list[TaskResult] = []
    columns = [TextColumn("[bold]bench[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("tasks"),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.description}")]
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("", total=len(tasks))

        def done(res: TaskResult) -> None:
            results.append(res)
            d, e, r, f = res.task_key
            progress.update(bar, advance=1, description=f"{d}/{e} repeat {r} fold {f} ({res.seconds:.1f}s)")

        run_tasks(tasks, config.jobs, done)

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
        "datasets": {name: {"n_rows": len(ds.y), "n_features": int(ds.X.shape[1]),
                            "class_counts": ", ".join(str(int(c)) for c in ds.class_counts()),
                            "description": ds.description} for name, ds in data.items()},
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
        "skipped": [{"dataset": d, "engine": e, "method": m, "reason": r} for (d, e, m), r in skipped.items()],
        "errors": errors,
        "figures": figures,
    }
    from .report import headline_markdown, render_markdown

    (folder / "run.json").write_text(json.dumps(meta, indent=2, default=str))
    (folder / "report.md").write_text(render_markdown(df, meta, figures))
    if len(df):
        (folder / "headline.md").write_text(headline_markdown(df) + "\n")
    _print_summary(df, meta, folder, console)
    return folder, df, meta


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
        if name not in store:
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


def _print_summary(df: pd.DataFrame, meta: dict[str, Any], folder: Path, console: Any) -> None:
    from rich.table import Table

    from .report import summary_rows

    if len(df):
        header, rows = summary_rows(df)
        table = Table(title="Held-out PR-AUC (mean ± SE); focal verdicts vs logloss (Wilcoxon, p < 0.05)")
        for h in header:
            table.add_column(h)
        for row in rows:
            styled = [f"[red]{c}[/]" if c == "LOSES" else f"[green]{c}[/]" if c == "WINS" else c for c in row]
            table.add_row(*styled)
        console.print(table)
    for s in meta["skipped"]:
        console.print(f"[yellow]skipped[/] {s['dataset']}/{s['engine']}/{s['method']}: {s['reason']}")
    for e in meta["errors"]:
        console.print(f"[red]FAILED[/] {e['dataset']}/{e['engine']}/{e['method']} repeat {e['repeat']} fold "
                      f"{e['fold']}: {e['error'].strip().splitlines()[-1]}")
    console.print(f"Report: {folder / 'report.md'}  ({meta['wall_time_s']:.0f} s)")


__all__ += ["method_key"]
