"""What ``FocalCatBoostClassifier``'s leaf-estimation defaults cost in training time (issue 20).

    python benchmarks/catboost_leaf_estimation.py                 # into benchmarks/results/speed/
    python benchmarks/catboost_leaf_estimation.py --quick --out /tmp/leaf

The classifier gives the focal loss the leaf estimation of ``CatBoostClassifier`` for the matching builtin loss
(catboost 1.2.10): binary, Logloss's 10 Newton iterations with ``AnyImprovement`` backtracking; multiclass,
MultiClass's 1 Newton iteration with backtracking and Bayesian bootstrap. A Python objective alone gets 1 iteration,
no backtracking (and MVS bootstrap). Timed side by side in one process, on the same data, at the same learning rate
and number of rounds (so only the leaf estimation differs), the methods interleaved and their order reversed every
other repeat:

- ``focal, Python-objective defaults``: ``leaf_estimation_iterations=1, leaf_estimation_backtracking="No"``
  (multiclass also ``bootstrap_type="MVS"``), what the classifier did before;
- ``focal, 10 iterations, no backtracking`` (binary only): what the iterations alone cost;
- ``focal, classifier defaults``: the classifier's defaults now;
- ``CatBoostClassifier()``: builtin Logloss / MultiClass at the same learning rate and rounds (its own leaf defaults).

Quoted: the median time of each method and the median over repeats of the paired ratio to the first method.
Results: ``catboost_leaf_estimation.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def make_data(n: int, n_features: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, n_features) and labels: binary with ~10% positives, or K balanced classes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    score = X[:, 0] + 0.5 * X[:, 1] - 0.5 * X[:, 2] + rng.normal(size=n)
    if n_classes == 2:
        return X, (score > np.quantile(score, 0.9)).astype(int)
    return X, np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))


def methods(n_classes: int, rounds: int, lr: float, threads: int) -> dict[str, Any]:
    from catboost import CatBoostClassifier

    from focal_boost.catboost import FocalCatBoostClassifier

    common = dict(iterations=rounds, learning_rate=lr, random_seed=0, thread_count=threads)
    old = dict(leaf_estimation_iterations=1, leaf_estimation_backtracking="No")
    if n_classes > 2:
        old["bootstrap_type"] = "MVS"
    out = {"focal, Python-objective defaults": lambda: FocalCatBoostClassifier(gamma=2.0, **common, **old)}
    if n_classes == 2:
        out["focal, 10 iterations, no backtracking"] = lambda: FocalCatBoostClassifier(
            gamma=2.0, leaf_estimation_iterations=10, leaf_estimation_backtracking="No", **common)
    out["focal, classifier defaults"] = lambda: FocalCatBoostClassifier(gamma=2.0, **common)
    out["CatBoostClassifier()"] = lambda: CatBoostClassifier(verbose=False, allow_writing_files=False, **common)
    return out


def run_case(name: str, n: int, n_features: int, n_classes: int, rounds: int, lr: float, repeats: int,
             threads: int) -> list[str]:
    X, y = make_data(n, n_features, n_classes)
    makers = methods(n_classes, rounds, lr, threads)
    names = list(makers)
    settings = {}
    for key in names:  # warm-up (numba kernels, CatBoost's first call), and the settings actually used
        model = makers[key]().set_params(iterations=2).fit(X, y)
        booster = getattr(model, "booster_", model)
        p = booster.get_all_params()
        settings[key] = (f"{p['leaf_estimation_method']}, {p['leaf_estimation_iterations']} it., backtracking "
                         f"{p['leaf_estimation_backtracking']}, bootstrap {p['bootstrap_type']}")
    times: dict[str, list[float]] = {key: [] for key in names}
    for r in range(repeats):
        for key in (names if r % 2 == 0 else names[::-1]):
            model = makers[key]()
            start = time.perf_counter()
            model.fit(X, y)
            times[key].append(time.perf_counter() - start)
    ref = names[0]
    lines = [f"### {name}: {n:,} rows x {n_features} features, {'binary' if n_classes == 2 else f'K={n_classes}'}, "
             f"{rounds} rounds, learning_rate {lr}, thread_count {threads}, gamma=2", "",
             "| method | leaf estimation (get_all_params) | median time (s) | ratio to Python-objective defaults |",
             "|---|---|---|---|"]
    for key in names:
        ratio = statistics.median(t / t0 for t, t0 in zip(times[key], times[ref], strict=True))
        lines.append(f"| {key} | {settings[key]} | {statistics.median(times[key]):.2f} | {ratio:.2f}x |")
    return [*lines, ""]


def machine() -> list[str]:
    import catboost

    import focal_boost

    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return [f"- platform: {platform.platform()}", f"- python: {platform.python_version()}",
            f"- cpu: {os.cpu_count()} logical cores; load average at start {load}",
            f"- versions: numpy {np.__version__}, catboost {catboost.__version__}, "
            f"focal_boost {focal_boost.__version__}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "speed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    started = time.perf_counter()
    lines = ["# CatBoost leaf estimation: what the classifier's defaults cost", "",
             "Generated by `python benchmarks/catboost_leaf_estimation.py` " + " ".join(sys.argv[1:]) +
             " (see its docstring for the method). Times are medians over interleaved repeats in one process; the "
             "ratio is the median of the paired ratios to the first row of the same repeat.", "", "## Machine", "",
             *machine(), f"- date (UTC): {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M}", "", "## Results", ""]
    lines += run_case("binary", 20_000 // scale, 20, 2, 300 // scale, 0.1, args.repeats, 2)
    lines += run_case("multiclass", 5_000 // scale, 20, 5, 100 // scale, 0.1, args.repeats, 1)
    lines.append(f"Wall time of the run: {(time.perf_counter() - started) / 60:.1f} min.")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "catboost_leaf_estimation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
