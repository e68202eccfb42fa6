"""Which hessian safeguard should be the default? Train LightGBM and XGBoost with focal loss under each setting on
imbalanced generated data and compare held-out focal loss and PR-AUC (means over seeds, side by side, one run).

    .venv/bin/python benchmarks/hessian_choice.py                   # -> benchmarks/results/hessian_choice.md
    .venv/bin/python benchmarks/hessian_choice.py --start logodds   # -> benchmarks/results/hessian_choice_logodds.md

``--start focal`` (what focal_boost does) starts boosting from ``FocalLoss.init_score``; ``--start logodds`` starts
from logloss's log-odds of the positive rate, as a user wiring the objective by hand with a logloss-style base score
would: every positive then starts deep in the region where the exact hessian is negative.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split

from focal_boost import FocalLoss

HESSIANS = ("bound", "abs", "exact")
ROUNDS = 200
START_TEXT = {"focal": "FocalLoss.init_score", "logodds": "the log-odds of the positive rate"}
SEEDS = 2


def lgb_curve(loss, X, y, Xv, yv, rounds, init, seed):
    target = loss.prepare_target(y)
    params = {"objective": lambda preds, ds: loss._grad_hess(target, preds), "learning_rate": 0.1,
              "num_leaves": 31, "verbose": -1, "num_threads": 2, "seed": seed, "deterministic": True}
    booster = lgb.train(params, lgb.Dataset(X, y, init_score=np.full(len(y), init)), rounds)
    return [init + booster.predict(Xv, raw_score=True, num_iteration=i) for i in range(10, rounds + 1, 10)]


def xgb_curve(loss, X, y, Xv, yv, rounds, init, seed):
    target = loss.prepare_target(y)
    params = {"base_score": init, "eta": 0.1, "max_depth": 6, "nthread": 2, "seed": seed, "tree_method": "hist"}
    booster = xgb.train(params, xgb.DMatrix(X, y), rounds, obj=lambda preds, d: loss._grad_hess(target, preds))
    dval = xgb.DMatrix(Xv)
    return [booster.predict(dval, output_margin=True, iteration_range=(0, i)) for i in range(10, rounds + 1, 10)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", choices=("focal", "logodds"), default="focal")
    parser.add_argument("--engines", default="lightgbm,xgboost")
    args = parser.parse_args(argv)
    suffix = "" if args.start == "focal" else "_logodds"
    out = Path(__file__).parent / "results" / f"hessian_choice{suffix}.md"
    curves = {"lightgbm": lgb_curve, "xgboost": xgb_curve}
    engines = [(name, curves[name]) for name in args.engines.split(",")]
    rows = []
    start = time.perf_counter()
    for pos_rate in (0.02, 0.003):
        for gamma, alpha in ((2.0, 0.25), (2.0, None)):
            for engine, curve in engines:
                stats = {h: [] for h in HESSIANS}
                for seed in range(SEEDS):
                    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=8,
                                               weights=[1 - pos_rate], flip_y=0.005, class_sep=0.8,
                                               random_state=seed)
                    X, Xv, y, yv = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
                    for hessian in HESSIANS:
                        loss = FocalLoss(gamma, alpha, hessian)
                        init = loss.init_score(y) if args.start == "focal" else float(np.log(y.mean() / (1 - y.mean())))
                        raws = curve(loss, X, y.astype(float), Xv, yv, ROUNDS, init, seed)
                        val = [loss.eval(yv.astype(float), r) for r in raws]
                        best = int(np.argmin(val))
                        finite = all(np.all(np.isfinite(r)) for r in raws)
                        stats[hessian].append((min(val), average_precision_score(yv, raws[best]),
                                               10 * (best + 1), val[0], finite))
                for hessian in HESSIANS:
                    s = np.array([x[:4] for x in stats[hessian]])
                    rows.append((pos_rate, gamma, alpha, engine, hessian, *np.mean(s, axis=0),
                                 all(x[4] for x in stats[hessian])))
                print(f"{pos_rate} {gamma} {alpha} {engine} done ({time.perf_counter() - start:.0f}s)", rows[-3:],
                      file=sys.stderr, flush=True)
    lines = [
        f"# Hessian safeguard: held-out focal loss and PR-AUC (mean of {SEEDS} seeds)",
        "",
        "Generated data (make_classification, 20k rows, half held out), 200 rounds, learning rate 0.1; LightGBM",
        "num_leaves 31, XGBoost max_depth 6 hist; best iteration chosen on the held-out focal loss (every 10).",
        f"Boosting starts from {START_TEXT[args.start]}.",
        f"Command: `.venv/bin/python benchmarks/hessian_choice.py --start {args.start} --engines {args.engines}` "
        f"({time.perf_counter() - start:.0f}s, 2 shared cores).",
        "",
        "| pos rate | gamma | alpha | engine | hessian | best val focal | PR-AUC at best | best round | "
        "val focal @10 | finite |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]:.5f} | {r[6]:.4f} | {r[7]:.0f} | "
                     f"{r[8]:.5f} | {r[9]} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
