"""The learning-rate schedule: warm-up then decay, restarted at a sequential run's switch when asked.

A pure function of the step (wrapped in torch's ``LambdaLR``), so a resumed run reproduces it exactly. The restart
is the two-stage fine-tuning baseline: the second phase gets its own warm-up and decay, as a fresh run would.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def two_phase_lambda(total: int, warmup: int, switch: int | None, kind: str) -> Callable[[int], float]:
    """Learning-rate multiplier as a pure function of the step: warm-up then decay (``linear``, ``cosine`` or
    ``constant_with_warmup``), restarted at ``switch`` when the sequential run resets its schedule."""

    def phase(step: int, length: int) -> float:
        w = min(warmup, max(1, length // 2)) if warmup else 0
        if w and step < w:
            return (step + 1) / w
        if kind == "constant_with_warmup":
            return 1.0
        progress = (step - w) / max(1, length - w)
        if kind == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        return max(0.0, 1.0 - progress)

    def multiplier(step: int) -> float:
        if switch is not None and step >= switch:
            return phase(step - switch, total - switch)
        return phase(step, switch if switch is not None else total)

    return multiplier
