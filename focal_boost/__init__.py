"""focal_boost: exact, numerically stable focal loss for gradient-boosted trees.

The core :class:`FocalLoss` imports no engine. Engine adapters live in ``focal_boost.lightgbm``,
``focal_boost.xgboost`` and ``focal_boost.catboost`` and import their engine only when used.
"""

from .loss import FocalLoss

__version__ = "0.1.0"

__all__ = ["FocalLoss", "__version__"]
