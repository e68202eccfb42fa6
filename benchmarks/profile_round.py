"""Where the milliseconds of a boosting round go (issue 14): LightGBM and XGBoost, builtin logloss vs focal.

    python benchmarks/profile_round.py                       # binary and K=5 at 100k and 1M rows
    python benchmarks/profile_round.py --n 100000 --engines lightgbm --out /tmp/profile.md

Same data and parameters as ``benchmarks/speed.py`` (n x 50 float32 features, 2 engine threads, LightGBM
``num_leaves=31``, XGBoost ``hist`` depth 6). Four trainings per (engine, task, n), interleaved (order reversed
every other repeat), each timed in the same process with timing hooks around the Python side of a round:

- **builtin**: ``lgb.train(objective="binary"/"multiclass")`` / ``xgb.train(objective="binary:logistic"/
  "multi:softprob")``; the round is the engine's C++ ``UpdateOneIter`` (gradients included);
- **floor**: a custom objective that returns PRECOMPUTED float32 gradients (focal's at the init score, same dtype
  and layout as focal_boost returns: (n,) or (n, K) column-major) without any arithmetic: what any Python objective
  costs the engine (scores copied out, gradients copied in, the engine's custom-gradient path);
- **focal**: ``focal_boost.<engine>.train``;
- **focal, Python threads** (LightGBM): the same with ``SWITCH.omp_lightgbm = False``: the row ranges on
  focal_boost's Python worker threads instead of numba's OpenMP layer (LightGBM's own OpenMP team);
- **focal, 1 kernel thread**: the same with ``focal_boost._kernels.SWITCH.threads = 1`` (no thread hand-off).

Split of a custom-objective round (ms per round, medians over repeats):

- *copy out*: LightGBM ``Booster.__inner_predict`` (the scores into a reused float64 buffer) / XGBoost
  ``Booster.predict(output_margin=True, training=True)`` (a new float32 array);
- *objective*: the Python objective call, of which *kernel* is the gradient computation proper
  (``_fast_kernels.*_grad_hess``: output allocation + the numba loop split over the threads) and the rest is the
  adapter (target lookup, shape check);
- *engine (+copy in)*: the rest of the round: LightGBM ``Booster.__boost`` (float32 check/ravel, then the C++
  tree learner), XGBoost ``XGBoosterTrainOneIter`` (copy into its gradient buffer, then the tree updater).

*Kernel alone* times the same kernel on the same arrays outside training, on 1 and on 2 threads; the difference to
*kernel* inside training is what the engine's idle OpenMP workers (spinning on the same cores) and the thread
hand-off cost. *outside rounds* is the training's wall time minus its rounds (setup: Booster/validation/init score,
model finishing). The machine may be shared: the ratios are paired, in one process.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import N_CLASSES, focal_loss, make_data

ENGINES = ("lightgbm", "xgboost")
TASKS = ("binary", "multiclass")
PARTS = ("round", "copy_out", "objective", "kernel", "boost")
METHODS = ("builtin", "floor", "focal", "focal, Python threads", "focal, 1 kernel thread")

_ACC: dict[str, float] = {}


def _timed_method(owner: Any, name: str, part: str, only: Callable[..., bool] | None = None) -> None:
    """Wrap ``owner.name`` so that its time accumulates into ``_ACC[part]``."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if only is not None and not only(*args, **kwargs):
            return original(*args, **kwargs)
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _ACC[part] = _ACC.get(part, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def install_hooks() -> None:
    import lightgbm as lgb
    import xgboost as xgb

    from focal_boost import _fast_kernels

    _timed_method(lgb.Booster, "update", "round")
    _timed_method(lgb.Booster, "_Booster__inner_predict", "copy_out")
    _timed_method(lgb.Booster, "_Booster__boost", "boost")
    _timed_method(xgb.Booster, "update", "round")
    _timed_method(xgb.Booster, "predict", "copy_out", only=lambda *a, **k: k.get("training", False))
    _timed_method(_fast_kernels, "binary_grad_hess", "kernel")
    _timed_method(_fast_kernels, "softmax_grad_hess", "kernel")


class _TimedObjective:
    """Times a custom objective's calls into ``_ACC["objective"]``; keeps the wrapped object's attributes."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner = inner

    def __call__(self, preds: Any, data: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(preds, data)
        finally:
            _ACC["objective"] = _ACC.get("objective", 0.0) + time.perf_counter() - start

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __deepcopy__(self, memo: dict[int, Any]) -> _TimedObjective:
        return self  # LightGBM deep-copies params; these objects hold no per-training state worth copying


def _patch_objective_factory(module: Any) -> None:
    """Make ``module.objective(...)`` (what ``focal_boost.<engine>.train`` calls) return a timed objective."""
    original = module.objective

    @functools.wraps(original)
    def objective(*args: Any, **kwargs: Any) -> Any:
        return _TimedWrapperLGB(original(*args, **kwargs)) if module.__name__.endswith("lightgbm") else \
            _TimedObjective(original(*args, **kwargs))

    module.objective = objective


class _TimedWrapperLGB(_TimedObjective):
    """LightGBM's train() sets ``offset`` on the objective after creating it: forward attribute writes."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "inner":
            object.__setattr__(self, name, value)
        else:
            setattr(self.inner, name, value)


# -- the four trainings -----------------------------------------------------------------------------------------
def suite(engine: str, task: str, n: int, threads: int) -> tuple[dict[str, Callable[[int], Any]], dict[str, Any]]:
    from focal_boost import _kernels

    X, y = make_data(n, 50, task, 0)
    loss = focal_loss(task)
    k = N_CLASSES if task == "multiclass" else None
    target = loss.prepare_target(y, None, k)
    init = target.init_score()
    raw0 = np.zeros(n) if k is None else np.zeros((n, k))
    grad0, hess0 = target.grad_hess(raw0, np.float32, offset=init)  # focal's first-round gradients, focal layout
    floor_obj = _TimedObjective(lambda preds, data: (grad0, hess0))

    def switched(fn: Callable[[int], Any], name: str, value: Any) -> Callable[[int], Any]:
        def run(rounds: int) -> Any:
            previous = getattr(_kernels.SWITCH, name)
            setattr(_kernels.SWITCH, name, value)
            try:
                return fn(rounds)
            finally:
                setattr(_kernels.SWITCH, name, previous)
        return run

    if engine == "lightgbm":
        import lightgbm as lgb

        import focal_boost.lightgbm as flgb

        params: dict[str, Any] = {"num_threads": threads, "verbose": -1, "learning_rate": 0.1, "num_leaves": 31,
                                  "force_col_wise": True, "seed": 0, "metric": "None"}
        if k:
            params["num_class"] = k
        dataset = lgb.Dataset(X, y, params={"verbose": -1, "num_threads": threads}, free_raw_data=True).construct()
        builtin = {**params, "objective": "binary" if k is None else "multiclass"}
        methods = {
            "builtin": lambda r: lgb.train(builtin, dataset, r),
            "floor": lambda r: lgb.train({**params, "objective": floor_obj}, dataset, r),
            "focal": lambda r: flgb.train(loss, params, dataset, r),
        }
    else:
        import xgboost as xgb

        import focal_boost.xgboost as fxgb

        params = {"tree_method": "hist", "max_depth": 6, "eta": 0.1, "nthread": threads, "seed": 0}
        if k:
            params["num_class"] = k
        dmatrix = xgb.QuantileDMatrix(X, y, nthread=threads)
        builtin = {**params, "objective": "binary:logistic" if k is None else "multi:softprob"}
        base = float(init) if k is None else [float(v) for v in init]
        methods = {
            "builtin": lambda r: xgb.train(builtin, dmatrix, r),
            "floor": lambda r: xgb.train({**params, "base_score": base, "disable_default_eval_metric": True},
                                         dmatrix, r, obj=floor_obj),
            "focal": lambda r: fxgb.train(loss, params, dmatrix, r),
        }
    if engine == "lightgbm":
        methods["focal, Python threads"] = switched(methods["focal"], "omp_lightgbm", False)
    methods["focal, 1 kernel thread"] = switched(methods["focal"], "threads", 1)
    del X
    extra = {"target": target, "raw": raw0, "init": init}
    return methods, extra


def kernel_alone(extra: dict[str, Any], repeats: int) -> dict[str, float]:
    """The per-round kernel on the training's arrays outside training: ms on 1 and on 2 threads (interleaved)."""
    from focal_boost import _kernels

    target, raw, init = extra["target"], extra["raw"], extra["init"]
    times: dict[str, list[float]] = {"1": [], "2": []}
    previous = _kernels.SWITCH.threads
    try:
        for r in range(repeats + 1):
            for threads in ("1", "2") if r % 2 == 0 else ("2", "1"):
                _kernels.SWITCH.threads = int(threads)
                start = time.perf_counter()
                target.grad_hess(raw, np.float32, offset=init)
                if r:
                    times[threads].append(time.perf_counter() - start)
    finally:
        _kernels.SWITCH.threads = previous
    return {t: statistics.median(v) * 1e3 for t, v in times.items()}


def profile(engine: str, task: str, n: int, rounds: int, repeats: int, threads: int,
            log: Callable[[str], None]) -> dict[str, Any]:
    methods, extra = suite(engine, task, n, threads)
    names = list(methods)
    for name in names:  # warm-up: numba's cached kernels, the engines' code
        methods[name](2)
    per: dict[str, dict[str, list[float]]] = {m: {p: [] for p in (*PARTS, "total")} for m in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            gc.collect()
            _ACC.clear()
            start = time.perf_counter()
            model = methods[name](rounds)
            total = time.perf_counter() - start
            del model
            per[name]["total"].append(total)
            for part in PARTS:
                per[name][part].append(_ACC.get(part, 0.0))
    result: dict[str, Any] = {"engine": engine, "task": task, "n": n, "rounds": rounds, "repeats": repeats}
    for name in names:
        result[name] = {part: statistics.median(v) for part, v in per[name].items()}
        result[name]["ratio"] = statistics.median(
            t / b for t, b in zip(per[name]["total"], per["builtin"]["total"], strict=True))
        result[name]["round_ratio"] = statistics.median(
            t / b for t, b in zip(per[name]["round"], per["builtin"]["round"], strict=True))
    result["kernel_alone"] = kernel_alone(extra, 5)
    log(f"  {engine} {task} n={n}: " + ", ".join(
        f"{m} {result[m]['round'] / rounds * 1e3:.1f} ms/round (x{result[m]['round_ratio']:.3f})" for m in names))
    return result


# -- report ------------------------------------------------------------------------------------------------------
def _ms(seconds: float, rounds: int) -> str:
    return f"{seconds / rounds * 1e3:.1f}"


def render(results: list[dict[str, Any]], command: str, started: str, wall: float, load: tuple[str, str]) -> str:
    import lightgbm
    import numba
    import xgboost

    lines = [
        "# Where a boosting round's milliseconds go (issue 14)",
        "",
        f"Generated by `{command}` on {started} UTC ({wall / 60:.1f} min); see `benchmarks/profile_round.py` for "
        "the method. Machine: " + f"{platform.platform()}, {os.cpu_count()} logical cores, SHARED with another "
        f"job during the run (load average before / after: {load[0]} / {load[1]}); lightgbm {lightgbm.__version__}, "
        f"xgboost {xgboost.__version__}, numba {numba.__version__}, numpy {np.__version__}. Engines on 2 threads; "
        "focal_boost's kernels on 2 threads (LightGBM: numba's OpenMP layer on LightGBM's libgomp; XGBoost: Python "
        "threads) unless noted.",
        "",
        "All times are ms per round (medians over the interleaved repeats); *ratio* is the median of the paired "
        "ratios of whole-training wall time to the builtin's (setup included), *round ratio* the same for the "
        "rounds alone.",
        "",
        "## Round split",
        "",
        "| engine | task | n | rounds x repeats | method | round | copy out | objective | of which kernel | "
        "engine (+copy in) | outside rounds (ms/training) | round ratio | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        r = res["rounds"]
        for name in [m for m in METHODS if m in res]:
            m = res[name]
            custom = name != "builtin"
            engine_part = m["round"] - m["copy_out"] - m["objective"] if custom else m["round"]
            lines.append(
                f"| {res['engine']} | {res['task']} | {res['n'] // 1000}k | {r} x {res['repeats']} | {name} | "
                f"{_ms(m['round'], r)} | {_ms(m['copy_out'], r) if custom else '-'} | "
                f"{_ms(m['objective'], r) if custom else '-'} | "
                f"{_ms(m['kernel'], r) if name.startswith('focal') else '-'} | {_ms(engine_part, r)} | "
                f"{(m['total'] - m['round']) * 1e3:.0f} | {m['round_ratio']:.3f} | {m['ratio']:.3f} |")
    lines += ["", "## The kernel alone vs inside training", "",
              "| engine | task | n | kernel alone, 1 thread | kernel alone, 2 threads | inside training, 2 threads | "
              "inside training, 1 thread |", "|---|---|---|---|---|---|---|"]
    for res in results:
        r = res["rounds"]
        ka = res["kernel_alone"]
        lines.append(f"| {res['engine']} | {res['task']} | {res['n'] // 1000}k | {ka['1']:.1f} | {ka['2']:.1f} | "
                     f"{_ms(res['focal']['kernel'], r)} | {_ms(res['focal, 1 kernel thread']['kernel'], r)} |")
    lines += ["", "## Headline", ""]
    for res in results:
        r = res["rounds"]
        b, f, fl = res["builtin"], res["focal"], res["floor"]
        lines.append(
            f"- {res['engine']} {res['task']} {res['n'] // 1000}k: builtin {_ms(b['round'], r)} ms/round; floor "
            f"{_ms(fl['round'], r)} (x{fl['round_ratio']:.3f}); focal {_ms(f['round'], r)} "
            f"(x{f['round_ratio']:.3f}) = copy out {_ms(f['copy_out'], r)} + objective {_ms(f['objective'], r)} "
            f"(kernel {_ms(f['kernel'], r)}) + engine {_ms(f['round'] - f['copy_out'] - f['objective'], r)}")
    return "\n".join(lines) + "\n"


def _loadavg() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=lambda s: tuple(int(float(x)) for x in s.split(",")), default=(100_000, 1_000_000))
    parser.add_argument("--engines", type=lambda s: tuple(s.split(",")), default=ENGINES)
    parser.add_argument("--tasks", type=lambda s: tuple(s.split(",")), default=TASKS)
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds per training (default: 30 at 100k rows, 10 above; 5 for K=5 above 100k)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "speed" / "profile.md")
    args = parser.parse_args(argv)
    import focal_boost.lightgbm as flgb
    import focal_boost.xgboost as fxgb

    install_hooks()
    _patch_objective_factory(flgb)
    _patch_objective_factory(fxgb)
    started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    load_before = _loadavg()
    t0 = time.perf_counter()
    results = []
    for engine in args.engines:
        for task in args.tasks:
            for n in args.n:
                rounds = args.rounds or (30 if n <= 100_000 else (5 if task == "multiclass" else 10))
                results.append(profile(engine, task, n, rounds, args.repeats, args.threads, print))
    command = "python benchmarks/profile_round.py" + ("" if not (argv or sys.argv[1:]) else
                                                       " " + " ".join(argv or sys.argv[1:]))
    text = render(results, command, started, time.perf_counter() - t0, (load_before, _loadavg()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
