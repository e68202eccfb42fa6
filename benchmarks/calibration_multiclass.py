"""Multiclass: focal's calibrated probabilities (the inverted focal link) against plain softmax of the raw score, on
the benchmark's real multiclass tables (and the generated long-tail control), with and without per-class alpha.

LightGBM and XGBoost focal classifiers (300 rounds at most, learning rate 0.1, early stopping after 20 rounds on an
inner stratified 25% validation split of each training fold, one thread), 3 x 2 repeated stratified CV; gamma 1 and 2
with alpha=None, and gamma 2 with balanced per-class alpha n / (K n_k). Held-out log loss, Brier, ECE and macro
one-vs-rest PR-AUC of both probability variants of the same model.

    python benchmarks/calibration_multiclass.py     # writes benchmarks/results/calibration_multiclass.md / .csv
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results" / "calibration_multiclass"
TABLES = ("hepatic_injury_qsar", "NMES1988", "WVS", "loans_full_schema", "synth_longtail5")
SETTINGS = ((1.0, "none"), (2.0, "none"), (2.0, "balanced"))
METRICS = ("log_loss", "brier", "ece", "pr_auc")


def main() -> int:
    from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

    from focal_boost.bench.datasets import suite_specs
    from focal_boost.bench.methods import class_weights, engine_frame
    from focal_boost.bench.metrics import evaluate
    from focal_boost.lightgbm import FocalLGBMClassifier
    from focal_boost.xgboost import FocalXGBClassifier

    warnings.filterwarnings("ignore", category=UserWarning)
    specs = {s.name: s for s in suite_specs("full")}
    t0 = time.perf_counter()
    rows = []
    for name in TABLES:
        ds = specs[name].build()
        for engine, cls in (("lightgbm", FocalLGBMClassifier), ("xgboost", FocalXGBClassifier)):
            X, y = engine_frame(ds.X, ds.categorical, engine), ds.y
            kw = {"n_estimators": 300, "learning_rate": 0.1, "early_stopping_rounds": 20, "n_jobs": 1}
            kw.update({"enable_categorical": True} if engine == "xgboost" else {"verbose": -1})
            rskf = RepeatedStratifiedKFold(n_splits=2, n_repeats=3, random_state=0)
            for i, (tr, te) in enumerate(rskf.split(X, y)):
                fit, val = train_test_split(tr, test_size=0.25, stratify=y[tr], random_state=i)
                for gamma, alpha_rule in SETTINGS:
                    alpha = None if alpha_rule == "none" else [float(a) for a in class_weights(y[fit], ds.n_classes)]
                    clf = cls(gamma=gamma, alpha=alpha, **kw).fit(X.iloc[fit], y[fit], eval_set=[(X.iloc[val], y[val])])
                    raw = clf.decision_function(X.iloc[te])
                    for calibrate in (True, False):
                        m = evaluate(y[te], clf.loss_.predict_proba(raw, calibrate=calibrate), None)
                        rows.append({"table": name, "rows": len(y), "engine": engine, "gamma": gamma,
                                     "alpha": alpha_rule, "calibrated": calibrate, "fold": i,
                                     **{k: m[k] for k in METRICS}})
    df = pd.DataFrame(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT.with_suffix(".csv"), index=False)
    key = ["table", "rows", "engine", "gamma", "alpha"]
    cal = df[df.calibrated].set_index([*key, "fold"])[list(METRICS)]
    plain = df[~df.calibrated].set_index([*key, "fold"])[list(METRICS)]
    diff = (cal - plain).groupby(level=key, sort=False).mean()
    lines = ["# Multiclass: calibrated or plain softmax probabilities", "",
             f"Command: `python benchmarks/{Path(__file__).name}`  ",
             f"Finished {_dt.datetime.now().isoformat(timespec='seconds')} in {time.perf_counter() - t0:.0f} s on "
             f"{platform.machine()} with {os.cpu_count()} cores (one process, one engine thread; load average "
             f"{os.getloadavg()[0]:.1f}).", "", __doc__.split("\n\n")[1].strip(), "",
             "Mean over the 6 folds of calibrated minus plain (negative log loss / Brier / ECE: the map helps; "
             "positive PR-AUC: the map helps):", "",
             "| table | rows | engine | gamma | alpha | Δ log loss | Δ Brier | Δ ECE | Δ PR-AUC |",
             "|---|---|---|---|---|---|---|---|---|"]
    for idx, r in diff.iterrows():
        lines.append("| " + " | ".join(str(v) for v in idx) + " | "
                     + " | ".join(f"{r[m]:+.4f}" for m in METRICS) + " |")
    lines += ["", "Cells (table x engine) where the calibrated probabilities are better, real tables only:", "",
              "| gamma | alpha | log loss | Brier | ECE | PR-AUC |", "|---|---|---|---|---|---|"]
    real = diff.reset_index()
    real = real[~real.table.str.startswith("synth")]
    for (gamma, alpha), g in real.groupby(["gamma", "alpha"], sort=False):
        cells = [f"{int(np.sum(g[m] < 0))} of {len(g)}" for m in ("log_loss", "brier", "ece")]
        cells.append(f"{int(np.sum(g['pr_auc'] > 0))} of {len(g)}")
        lines.append(f"| {gamma:g} | {alpha} | " + " | ".join(cells) + " |")
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(OUT.with_suffix(".md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
