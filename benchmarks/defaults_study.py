"""Focal at the engines' defaults (issue 20): each engine's own classifier at its defaults against the focal
classifier at focal_boost's defaults, with a control for every candidate explanation of the gap.

Protocol: the benchmark's real tables (``focal_boost.bench``: the 7 binary tables and the 3-class NMES1988 and WVS),
5 x 2 repeated stratified CV (10 paired folds), an inner stratified 25% validation split of each training fold for
early stopping (20 rounds, each model on its own metric), everything else at the engine's defaults (XGBoost
``XGBClassifier()``: 100 rounds, lr 0.3, depth 6; LightGBM ``LGBMClassifier()``: 100 rounds, lr 0.1, 31 leaves;
CatBoost ``CatBoostClassifier()``: 1000 iterations, its automatic learning rate, depth 6), categoricals passed the
engine's own way, one thread.

Configurations (``own`` = the engine's classifier, ``focal`` = the focal classifier, library defaults: gamma=2,
alpha=None, hessian "abs", calibrated probabilities):

- ``own``, ``focal``: the comparison a user makes when swapping the classifier;
- ``focal_before``: the focal classifier at focal_boost's previous defaults (before the gamma=0 identity work:
  plain softmax-diagonal multiclass hessians, LightGBM's feature pre-filter off, CatBoost at a Python objective's
  defaults), run from that checkout with ``--configs focal --as focal_before --append`` (see the README);
- ``focal_g0``: gamma=0, the identity check (the same model as ``own`` up to the early-stopping metric);
- ``focal_select``: gamma chosen by inner-validation PR-AUC from {0, 0.5, 1, 2} (the control of ``own`` is ``own``
  itself: gamma=0 is in the grid);
- controls, each change applied to both (``*_noes``: no early stopping, the default number of rounds -- the
  early-stopping metric candidate; ``*_lr01``: XGBoost's learning rate 0.1 instead of 0.3; ``*_mds1``: XGBoost
  ``max_delta_step=1``); ``focal_bound``: the "bound" hessian safeguard instead of "abs" (at gamma=0 both are the
  log-loss hessian, so ``own`` is its control).

A candidate explains the gap only if it helps focal more than it helps logloss. Output:
``benchmarks/results/defaults_study.md`` and ``.csv`` (one row per table x engine x configuration x fold).

    python benchmarks/defaults_study.py            # about 8 minutes on 2 cores (2 worker processes)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results"
TABLES = ("mlc_churn", "email", "attrition", "wa_churn", "credit_data", "HealthInsurance", "CreditCard",
          "NMES1988", "WVS")
ES_ROUNDS = 20
GAMMAS = (0.0, 0.5, 1.0, 2.0)
CONFIGS = {
    "lightgbm": ("own", "focal", "focal_g0", "focal_select", "own_noes", "focal_noes", "focal_bound"),
    "xgboost": ("own", "focal", "focal_g0", "focal_select", "own_noes", "focal_noes", "own_lr01", "focal_lr01",
                "own_mds1", "focal_mds1", "focal_bound"),
    # CatBoost at its defaults (1000 iterations, 10 leaf iterations with backtracking through the Python objective)
    # is the slow one: the comparison only (the gamma=0 identity is benchmarks/results/defaults_identity.md)
    "catboost": ("own", "focal"),
}
ALL_CONFIGS = {engine: tuple(configs) for engine, configs in CONFIGS.items()}
# (focal configuration, its control on the engine's own classifier)
PAIRS = (("focal_before", "own"), ("focal_noes", "own_noes"), ("focal_lr01", "own_lr01"), ("focal_mds1", "own_mds1"),
         ("focal_bound", "own"), ("focal_select", "own"), ("focal_g0", "own"))


def _engine_kwargs(engine: str, categorical: list[str]) -> dict[str, Any]:
    if engine == "lightgbm":
        return {"n_jobs": 1, "verbose": -1, "random_state": 0}
    if engine == "xgboost":
        return {"n_jobs": 1, "random_state": 0, "enable_categorical": True}
    kw: dict[str, Any] = {"thread_count": 1, "random_seed": 0, "verbose": False, "allow_writing_files": False}
    if categorical:
        kw["cat_features"] = list(categorical)
    return kw


def _fit(engine: str, config: str, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray,
         categorical: list[str], gamma: float = 2.0) -> tuple[Any, int]:
    """One configuration on (X, y), early-stopped on (X_val, y_val) unless ``*_noes``; the model and its rounds."""
    kw = _engine_kwargs(engine, categorical)
    if config.endswith("_lr01"):
        kw["learning_rate"] = 0.1
    if config.endswith("_mds1"):
        kw["max_delta_step"] = 1.0
    stop = not config.endswith("_noes")
    if config.startswith("own"):
        if engine == "lightgbm":
            import lightgbm as lgb

            model = lgb.LGBMClassifier(**kw)
            cb = [lgb.early_stopping(ES_ROUNDS, verbose=False)] if stop else []
            with warnings.catch_warnings():  # lightgbm 4.7 deprecates eval_set for eval_X / eval_y
                warnings.simplefilter("ignore")
                model.fit(X, y, eval_set=[(X_val, y_val)], callbacks=cb)
            return model, int(model.best_iteration_ or model.n_estimators)
        if engine == "xgboost":
            import xgboost as xgb

            model = xgb.XGBClassifier(**kw, early_stopping_rounds=ES_ROUNDS if stop else None)
            model.fit(X, y, eval_set=[(X_val, y_val)], verbose=False)
            return model, int(model.best_iteration) + 1 if stop else model.get_booster().num_boosted_rounds()
        import catboost

        model = catboost.CatBoostClassifier(**kw, early_stopping_rounds=ES_ROUNDS if stop else None)
        model.fit(X, y, eval_set=(X_val, y_val), use_best_model=stop)
        return model, int(model.get_best_iteration() or 0) + 1
    from focal_boost.bench.methods import _adapter

    cls = _adapter(engine)
    if config == "focal_g0":
        gamma = 0.0
    hessian = "bound" if config == "focal_bound" else "abs"
    model = cls(gamma=gamma, hessian=hessian, early_stopping_rounds=ES_ROUNDS if stop else None, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(X, y, eval_set=[(X_val, y_val)])
    return model, int(model.best_iteration_) + 1


def _proba(model: Any, X: pd.DataFrame) -> np.ndarray:
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    return np.column_stack([1 - proba, proba]) if proba.ndim == 1 else proba


def run_fold(job: tuple[str, str, int, int, np.ndarray, np.ndarray, tuple[str, ...]]) -> list[dict[str, Any]]:
    from sklearn.model_selection import train_test_split

    from focal_boost.bench.datasets import DatasetSpec
    from focal_boost.bench.methods import engine_frame
    from focal_boost.bench.metrics import pr_auc

    table, engine, repeat, fold, train_idx, test_idx, configs = job
    ds = DatasetSpec(table, "real_table", (("table", table),)).build()
    X, y = engine_frame(ds.X, ds.categorical, engine), ds.y
    fit_idx, val_idx = train_test_split(train_idx, test_size=0.25, stratify=y[train_idx],
                                        random_state=1000 * repeat + fold)
    X_fit, y_fit, X_val, y_val = X.iloc[fit_idx], y[fit_idx], X.iloc[val_idx], y[val_idx]
    X_test, y_test = X.iloc[test_idx], y[test_idx]
    rows = []
    for config in configs:
        t0 = time.perf_counter()
        if config == "focal_select":
            best = None
            for g in GAMMAS:
                model, rounds = _fit(engine, "focal", X_fit, y_fit, X_val, y_val, ds.categorical, gamma=g)
                score = pr_auc(y_val, _proba(model, X_val))
                if best is None or score > best[0]:
                    best = (score, model, rounds, g)
            _, model, rounds, gamma = best
        else:
            model, rounds = _fit(engine, config, X_fit, y_fit, X_val, y_val, ds.categorical)
            gamma = np.nan if config.startswith("own") else (0.0 if config == "focal_g0" else 2.0)
        proba = _proba(model, X_test)
        rows.append({"table": table, "task": ds.task, "engine": engine, "config": config, "repeat": repeat,
                     "fold": fold, "pr_auc": pr_auc(y_test, proba),
                     "log_loss": float(-np.mean(np.log(np.clip(proba[np.arange(len(y_test)), y_test], 1e-15, 1)))),
                     "rounds": rounds, "gamma": gamma, "seconds": time.perf_counter() - t0,
                     "n_train": len(train_idx), "n_test": len(test_idx)})
    return rows


def jobs_for(tables: tuple[str, ...], engines: tuple[str, ...], only: tuple[str, ...] = ()) -> list[tuple]:
    """One job per (table, engine, repeat, fold), with the configurations to run (``only``: a subset)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    from focal_boost.bench.datasets import DatasetSpec

    out = []
    for table in tables:
        ds = DatasetSpec(table, "real_table", (("table", table),)).build()
        rskf = RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=0)
        for i, (tr, te) in enumerate(rskf.split(ds.X, ds.y)):
            out += [(table, engine, i // 2, i % 2, tr, te,
                     tuple(c for c in CONFIGS[engine] if not only or c in only)) for engine in engines]
    return sorted(out, key=lambda j: (j[1] != "catboost", j[2], j[3]))  # CatBoost (the slowest) first


def summarize(df: pd.DataFrame) -> str:
    from focal_boost.bench.stats import bayesian_signed_rank, corrected_t_interval

    lines = []

    def diff(a: str, b: str, engine: str) -> tuple[np.ndarray, list[dict[str, float]]]:
        per_table, cells = [], []
        for table, g in df[df.engine == engine].groupby("table", sort=False):
            ga = g[g.config == a].sort_values(["repeat", "fold"])
            gb = g[g.config == b].sort_values(["repeat", "fold"])
            if ga.empty or gb.empty:
                continue
            d = ga.pr_auc.to_numpy() - gb.pr_auc.to_numpy()
            ci = corrected_t_interval(d, float(g.n_train.mean()), float(g.n_test.mean()))
            per_table.append(d.mean())
            cells.append({"table": table, **ci})
        return np.array(per_table), cells

    for engine in ("lightgbm", "xgboost", "catboost"):
        if engine not in set(df.engine):
            continue
        lines += [f"### {engine}", "",
                  "| comparison | mean Δ PR-AUC over tables | tables with Δ > 0 | mean corrected s.e. | P(a better) | "
                  "P(equal, ±0.01) | P(b better) |", "|---|---|---|---|---|---|---|"]
        configs = CONFIGS[engine]
        comparisons = [("focal", "own")] + [(a, b) for a, b in PAIRS if a in configs and b in configs]
        comparisons += [(a.replace("focal", "own"), "own") for a, _ in PAIRS
                        if a.replace("focal", "own") in configs and a.replace("focal", "own") != "own"]
        comparisons += [(a, "focal") for a, _ in PAIRS if a in configs and a != "focal"]
        for a, b in comparisons:
            per_table, cells = diff(a, b, engine)
            if per_table.size == 0:
                continue
            bay = bayesian_signed_rank(per_table, rope=0.01)
            se = np.mean([c["se"] for c in cells])
            lines.append(f"| {a} − {b} | {per_table.mean():+.4f} | {int(np.sum(per_table > 0))} of "
                         f"{per_table.size} | {se:.4f} | {bay['p_right']:.3f} | {bay['p_rope']:.3f} | "
                         f"{bay['p_left']:.3f} |")
        lines.append("")
        sel = df[(df.engine == engine) & (df.config == "focal_select")]
        if not sel.empty:
            counts = sel.gamma.value_counts().sort_index()
            lines += ["gamma chosen by focal_select: " + ", ".join(f"{g:g}: {c}×" for g, c in counts.items()), ""]
        rounds = df[df.engine == engine].groupby("config").rounds.mean()
        lines += ["mean rounds used: " + ", ".join(f"{c} {rounds[c]:.0f}" for c in configs if c in rounds), ""]
        per = df[df.engine == engine].pivot_table(index="table", columns="config", values="pr_auc", aggfunc="mean")
        lines += ["Mean held-out PR-AUC per table:", "",
                  "| table | " + " | ".join(c for c in configs if c in per) + " |",
                  "|---|" + "---|" * sum(c in per for c in configs)]
        for table, r in per.iterrows():
            lines.append(f"| {table} | " + " | ".join(f"{r[c]:.4f}" for c in configs if c in per) + " |")
        lines.append("")
    return "\n".join(lines)


def write_report(df: pd.DataFrame, out: Path) -> None:
    """The markdown summary of every configuration in ``df``, with the runs that produced it."""
    import json

    for engine in CONFIGS:  # every configuration present is summarized
        CONFIGS[engine] = tuple(dict.fromkeys([*ALL_CONFIGS[engine], *df[df.engine == engine].config.unique()]))
    runs_file = out.with_suffix(".runs.json")
    runs = json.loads(runs_file.read_text()) if runs_file.exists() else []
    head = ["# Focal at the engines' defaults: the comparison with controls", "", "Runs (the rows they wrote):", ""]
    head += [f"- `{r['command']}`: finished {r['finished']} in {r['seconds']} s on {r['machine']} ({r['workers']} "
             f"worker processes, one engine thread each; load average at the end {r['load_average']}); "
             + ", ".join(f"{k} {v}" for k, v in r["versions"].items()) for r in runs]
    head += ["", __doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0], "",
             "Differences are a − b in held-out PR-AUC (macro one-vs-rest for the 3-class tables), paired by fold; "
             "per table the mean over 10 folds, with the Nadeau-Bengio corrected standard error; across tables the "
             "Bayesian signed-rank test with a region of practical equivalence of ±0.01 (Benavoli et al. 2017).", ""]
    out.with_suffix(".md").write_text("\n".join(head) + "\n" + summarize(df) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="lightgbm,xgboost,catboost")
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT / "defaults_study")
    parser.add_argument("--configs", help="comma-separated configurations to run (default: all of each engine's)")
    parser.add_argument("--as", dest="rename", metavar="NAME",
                        help="with one --configs: record it under this name (e.g. focal_before, run from an earlier "
                             "checkout of focal_boost)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the summary from the results CSV")
    parser.add_argument("--append", action="store_true",
                        help="merge into the existing results CSV (replacing rows of the same configuration) and "
                             "rewrite the summary from all rows")
    args = parser.parse_args(argv)
    engines, tables = tuple(args.engines.split(",")), tuple(args.tables.split(","))
    if args.report_only:
        write_report(pd.read_csv(args.out.with_suffix(".csv")), args.out)
        return 0
    os.environ.update({v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    jobs = jobs_for(tables, engines, tuple(args.configs.split(",")) if args.configs else ())
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn")) as pool:
        for i, part in enumerate(pool.map(run_fold, jobs), 1):
            rows += part
            print(f"{i}/{len(jobs)} folds, {time.perf_counter() - t0:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    if args.rename:
        df["config"] = args.rename
    if args.append and args.out.with_suffix(".csv").exists():
        old = pd.read_csv(args.out.with_suffix(".csv"))
        df = pd.concat([old[~old.config.isin(set(df.config))], df], ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out.with_suffix(".csv"), index=False)
    import importlib.metadata as md
    import json

    runs_file = args.out.with_suffix(".runs.json")
    runs = json.loads(runs_file.read_text()) if args.append and runs_file.exists() else []
    runs.append({"command": " ".join(["python", f"benchmarks/{Path(__file__).name}", *(argv or sys.argv[1:])]),
                 "finished": _dt.datetime.now().isoformat(timespec="seconds"),
                 "seconds": round(time.perf_counter() - t0), "workers": args.jobs,
                 "load_average": round(os.getloadavg()[0], 1),
                 "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                 "versions": {p: md.version(p) for p in ("focal_boost", "lightgbm", "xgboost", "catboost")}})
    runs_file.write_text(json.dumps(runs, indent=1) + "\n")
    write_report(df, args.out)
    print(args.out.with_suffix(".md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
