"""The Community Treasury's release rule (HanzoTreasury), exactly, and what a captured governance
can take out under it (issue 16, finding 7).

The treasury is a token bucket: it holds at most `limit` wei and refills at `limit` per `period`
(rounded down at each update, as the contract does); a higher limit applies `raise_delay` after it
is asked for, a lower one at once. Over any span of t seconds at most limit * (1 + t / period)
leaves it, whatever governance proposes, so an attacker who captures governance takes at most
`max_take(params, year)` in its first year.
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import Tokenomics

MIN_RAISE_DELAY = 365 * 86_400
MAX_PERIOD = 365 * 86_400


class TreasuryError(ValueError):
    """A release or limit the contract refuses; `name` is the contract's custom error."""

    def __init__(self, name: str, *args: int):
        super().__init__(f"{name}{args}")
        self.name, self.args_ = name, args


@dataclass
class Bucket:
    """HanzoTreasury's state, in wei and seconds."""

    limit: int
    max_limit: int
    period: int
    raise_delay: int
    stored: int
    updated_at: int
    pending_limit: int = 0
    raise_at: int = 0

    @classmethod
    def deployed(cls, p: Tokenomics, now: int) -> "Bucket":
        """The treasury as deploy_suite builds it at `now`: the bucket full."""
        return cls(p.treasury_release_limit, p.treasury_max_release_limit, p.treasury_release_period,
                   p.treasury_limit_raise_delay, p.treasury_release_limit, now)

    def _refill(self, stored: int, start: int, end: int, lim: int) -> int:
        if end <= start:
            return min(stored, lim)
        return min(stored + (end - start) * lim // self.period, lim)

    def current(self, now: int) -> tuple[int, int, bool]:
        """(limit in force, available, whether a pending raise has come due), as the contract's view."""
        lim, avail, start, raised = self.limit, self.stored, self.updated_at, False
        if self.raise_at and self.raise_at <= now:
            avail = self._refill(avail, start, self.raise_at, lim)
            start, lim, raised = self.raise_at, self.pending_limit, True
        return lim, self._refill(avail, start, now, lim), raised

    def available(self, now: int) -> int:
        return self.current(now)[1]

    def _sync(self, now: int) -> int:
        lim, avail, raised = self.current(now)
        if raised:
            self.limit, self.pending_limit, self.raise_at = lim, 0, 0
        self.stored, self.updated_at = avail, now
        return avail

    def release(self, amount: int, now: int) -> int:
        """Release `amount`; returns what is left available. Raises TreasuryError as the contract reverts."""
        if amount == 0:
            raise TreasuryError("ZeroValue")
        avail = self._sync(now)
        if amount > avail:
            raise TreasuryError("ReleaseLimitExceeded", amount, avail)
        self.stored = avail - amount
        return self.stored

    def set_limit(self, new_limit: int, now: int) -> None:
        if new_limit > self.max_limit:
            raise TreasuryError("LimitOutOfBounds", new_limit, self.max_limit)
        avail = self._sync(now)
        if new_limit <= self.limit:
            self.pending_limit, self.raise_at = 0, 0
            self.limit, self.stored = new_limit, min(avail, new_limit)
        else:
            self.pending_limit, self.raise_at = new_limit, now + self.raise_delay


def max_take(p: Tokenomics, seconds: int) -> int:
    """The most wei that can leave the treasury in `seconds` from a full bucket, whatever governance
    does: the full bucket plus its refill at the highest limit that can be in force. A raise asked
    for at the start applies only after treasury_limit_raise_delay (at least a year), so within it
    the refill is the deployed limit's; past it, at most the bound's."""
    limit, period = p.treasury_release_limit, p.treasury_release_period
    before = min(seconds, p.treasury_limit_raise_delay)
    take = limit + before * limit // period
    if seconds > p.treasury_limit_raise_delay:  # the bucket keeps what it held; the refill is faster
        take += (seconds - p.treasury_limit_raise_delay) * p.treasury_max_release_limit // period
    return take
