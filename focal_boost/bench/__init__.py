"""The imbalanced-data benchmark behind ``focal-boost bench``: focal loss vs logloss per engine, honestly.

Modules: ``datasets`` (offline data and the user's file), ``methods`` (what is compared and how a candidate trains),
``metrics`` (held-out metrics), ``protocol`` (repeated stratified K-fold, paired tasks), ``report`` (statistics,
verdicts, report.md), ``plots`` (PNG figures), ``runner`` (a run end to end). Engines are imported only by the
worker code that trains, never by importing this package.
"""

from .datasets import DatasetSpec, default_specs, quick_specs, user_spec
from .methods import ENGINES, METHODS, Settings
from .protocol import Protocol
from .runner import RunConfig, quick_config, run_benchmark

__all__ = [
    "ENGINES",
    "METHODS",
    "DatasetSpec",
    "Protocol",
    "RunConfig",
    "Settings",
    "default_specs",
    "quick_config",
    "quick_specs",
    "run_benchmark",
    "user_spec",
]
