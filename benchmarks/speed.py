"""Speed benchmark (issue 5): focal_boost's objectives against each engine's builtin logloss.

    .venv/bin/python benchmarks/speed.py                      # all engines; writes benchmarks/results/speed/
    .venv/bin/python benchmarks/speed.py --engines lightgbm   # one engine (its rows replace the old ones)
    .venv/bin/python benchmarks/speed.py --quick --out /tmp/speed

The implementation is ``focal_boost.bench.speed`` (also ``focal-boost bench --speed``); ``--help`` lists the options.
"""

from __future__ import annotations

import sys
from pathlib import Path

from focal_boost.bench.speed import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not any(a == "--out" or a.startswith("--out=") for a in argv):
        argv += ["--out", str(Path(__file__).resolve().parent / "results" / "speed")]
    raise SystemExit(main(argv))
