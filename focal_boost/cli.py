"""``focal-boost`` console script.

``focal-boost bench`` runs the imbalanced-data benchmark (focal loss vs logloss on LightGBM, XGBoost and CatBoost)
and writes a report folder under ``benchmarks/results/<name>/``; ``--quick`` is the small version the tests run;
``--data FILE --target COLUMN`` runs it on your own CSV or Parquet file.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

__all__ = ["build_parser", "main"]


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="focal-boost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="focal loss vs logloss on imbalanced data; writes a report folder",
                       description="Focal loss vs logloss on imbalanced data, per engine: repeated stratified K-fold, "
                                   "paired comparisons, report.md + results.csv + PNG plots.")
    b.add_argument("--quick", action="store_true", help="small data, fewer rounds and candidates (about a minute)")
    b.add_argument("--data", type=Path, help="your CSV/TSV/Parquet file instead of the builtin datasets")
    b.add_argument("--target", help="the label column of --data")
    b.add_argument("--datasets", type=_csv_list, help="comma-separated builtin dataset names (default: all)")
    b.add_argument("--engines", type=_csv_list, help="comma-separated: lightgbm,xgboost,catboost (default: all)")
    b.add_argument("--methods", type=_csv_list,
                   help="comma-separated: logloss,weighted_logloss,focal_tuned,focal_default (default: all)")
    b.add_argument("--folds", type=int, help="outer stratified folds K (default 3)")
    b.add_argument("--repeats", type=int, help="repeats of the K-fold (default 2)")
    b.add_argument("--seed", type=int, help="seed of the fold assignment and inner splits (default 0)")
    b.add_argument("--n-estimators", type=int, help="maximum boosting rounds (early stopping usually stops sooner)")
    b.add_argument("--learning-rate", type=float, help="learning rate of every method")
    b.add_argument("--catboost-multiclass-limit", type=float, metavar="SECONDS",
                   help="run CatBoost's (slow, Python) multiclass focal objective only when its estimated time per "
                        "method and fold is below this (default 120)")
    b.add_argument("--jobs", type=int, default=2, help="worker processes (default 2; 1 runs inline)")
    b.add_argument("--name", help="results folder name under benchmarks/results (default: default, quick or the "
                                  "data file's name)")
    b.add_argument("--out", type=Path, help="results folder (overrides --name and benchmarks/results)")
    b.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    return parser


def _bench(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .bench import (
        ENGINES,
        METHODS,
        Protocol,
        RunConfig,
        Settings,
        default_specs,
        quick_config,
        quick_specs,
        user_spec,
    )
    from .bench.runner import run_benchmark

    if (args.data is None) != (args.target is None):
        raise SystemExit("focal-boost bench: --data and --target go together (--data FILE --target COLUMN)")
    if args.quick:
        protocol, settings = quick_config()
    else:
        protocol, settings = Protocol(), Settings()
    if args.data is not None:
        specs = [user_spec(args.data, args.target)]
        name = args.name or ("quick_" if args.quick else "") + Path(args.data).stem
        if args.datasets:
            raise SystemExit("focal-boost bench: --datasets selects builtin data; do not combine it with --data")
    else:
        specs = quick_specs() if args.quick else default_specs()
        name = args.name or ("quick" if args.quick else "default")
        if args.datasets:
            known = {s.name: s for s in specs}
            unknown = [d for d in args.datasets if d not in known]
            if unknown:
                raise SystemExit(f"focal-boost bench: unknown --datasets {unknown}; known: {list(known)}")
            specs = [known[d] for d in args.datasets]
    engines = args.engines or ENGINES
    methods = args.methods or METHODS
    for value, known, flag in ((engines, ENGINES, "--engines"), (methods, METHODS, "--methods")):
        bad = [v for v in value if v not in known]
        if bad:
            raise SystemExit(f"focal-boost bench: unknown {flag} {bad}; known: {list(known)}")
    if "logloss" not in methods:
        raise SystemExit("focal-boost bench: --methods must include logloss, the baseline of every comparison")
    changes = {}
    if args.folds is not None:
        if args.folds < 2:
            raise SystemExit(f"focal-boost bench: --folds must be >= 2, got {args.folds}")
        changes["n_splits"] = args.folds
    if args.repeats is not None:
        if args.repeats < 1:
            raise SystemExit(f"focal-boost bench: --repeats must be >= 1, got {args.repeats}")
        changes["n_repeats"] = args.repeats
    if args.seed is not None:
        changes["seed"] = args.seed
    protocol = replace(protocol, **changes)
    s_changes: dict[str, object] = {}
    if args.n_estimators is not None:
        if args.n_estimators < 1:
            raise SystemExit(f"focal-boost bench: --n-estimators must be >= 1, got {args.n_estimators}")
        s_changes["n_estimators"] = args.n_estimators
    if args.learning_rate is not None:
        if not args.learning_rate > 0:
            raise SystemExit(f"focal-boost bench: --learning-rate must be > 0, got {args.learning_rate}")
        s_changes["learning_rate"] = args.learning_rate
    if args.catboost_multiclass_limit is not None:
        s_changes["catboost_multiclass_max_seconds"] = args.catboost_multiclass_limit
    settings: Settings = replace(settings, **s_changes)
    if args.jobs < 1:
        raise SystemExit(f"focal-boost bench: --jobs must be >= 1, got {args.jobs}")
    config = RunConfig(name=name, datasets=specs, engines=tuple(engines), methods=tuple(methods), protocol=protocol,
                       settings=settings, jobs=args.jobs, out_dir=args.out, plots=not args.no_plots,
                       command="focal-boost " + " ".join(shlex.quote(a) for a in argv), quick=args.quick)
    try:
        _, _, meta = run_benchmark(config)
    except ValueError as exc:
        raise SystemExit(f"focal-boost bench: {exc}") from exc
    return 1 if meta["errors"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``focal-boost`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        return _bench(args, argv)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
