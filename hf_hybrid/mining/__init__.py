"""Translation-aware hard-negative mining for parallel data (``hf-hybrid mine``; see :mod:`hf_hybrid.mining.mine`)."""

from hf_hybrid.mining.config import MineConfig
from hf_hybrid.mining.mine import mine_dataset, mine_split

__all__ = ["MineConfig", "mine_dataset", "mine_split"]
