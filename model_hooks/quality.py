"""Quality of an update (tokenomics D3): how much it lowered the loss on the user's own held-out
text, which the update never saw, mapped to the reward multiplier 1..10 or to low-quality.

    score = loss_before - loss_after   (nats per character)
    low-quality            if score <= quality_threshold
    multiplier = min(10, 1 + floor((score - quality_threshold) / quality_step))   otherwise

The two constants are tokenomics parameters (hanzo_econ.params), like every number that moves money.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hanzo_econ.params import WEI, Tokenomics


@dataclass(frozen=True)
class Quality:
    loss_before: float
    loss_after: float
    score: float
    multiplier: int  # 1..10; meaningless when low_quality
    low_quality: bool


def assess(loss_before: float, loss_after: float, p: Tokenomics) -> Quality:
    if not (math.isfinite(loss_before) and math.isfinite(loss_after)):
        raise ValueError(f"losses must be finite, got {loss_before} and {loss_after}")
    score = loss_before - loss_after
    threshold, step = p.quality_threshold / WEI, p.quality_step / WEI
    if score <= threshold:
        return Quality(loss_before, loss_after, score, 1, True)
    multiplier = min(p.max_multiplier, 1 + math.floor((score - threshold) / step))
    return Quality(loss_before, loss_after, score, multiplier, False)
