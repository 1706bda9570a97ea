"""The quality oracle (tokenomics D3): what a training session is worth, judged on text the user
does not control.

A session used to be scored on the last 20% of the user's own submission, so the user chose the
exam: a random string repeated to 5,000 characters scored the top multiplier every time, a copy
of another user's text scored what theirs did, and updates were paid per interaction the user
asked for. Now:

- **The gate** (before training) refuses text that is repetitive (its zlib compression ratio is
  above `max_compression_ratio`: natural prose compresses about 2-3x, a repeated line 20x and
  more) or already submitted (more than `max_duplicate_share` of its 64-character shingles were
  seen before, from anyone, or repeat inside it: copiers, sybil forks, a block pasted twice).
  Shingles are kept in SQLite.
- **The score** is the loss drop (nats per character) on the oracle's own evaluation text in the
  user's domain, held back from what users are given and rotated every epoch, measured on the
  fork before and after the session. It is taken one standard error low (over 256-character
  chunks), so noise does not pay; the session must not make the base validation set worse by
  more than `max_base_regression`.

      scored     = mean(before - after) - se          (domain evaluation set)
      low-quality if scored <= quality_threshold or base regression > max_base_regression
      multiplier = min(10, 1 + floor((scored - quality_threshold) / quality_step))

- **Interactions** paid are at most one per 256 characters of the accepted text (and at most
  max_interactions_per_op): more updates on the same text earn nothing more.

Every constant is a tokenomics parameter (hanzo.econ.params), like every number that moves money.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

from hanzo.econ.params import WEI, Tokenomics

SHINGLE = 64  # characters
STRIDE = 16
WINDOW = 256  # characters of text per paid interaction (the trainer's window)


class Rejected(ValueError):
    """The gate refused a submission; `reason` is one word (repetitive, duplicate, short)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Quality:
    score: float  # mean loss drop on the domain evaluation set, nats per character
    score_se: float  # its standard error over chunks
    base_change: float  # mean loss change on the base validation set (positive: worse)
    multiplier: int  # 1..10; meaningless when low_quality
    low_quality: bool
    reason: str = ""  # why it is low quality

    @property
    def scored(self) -> float:
        return self.score - self.score_se


def _mean_se(d: torch.Tensor) -> tuple[float, float]:
    n = len(d)
    if n == 0:
        raise ValueError("an evaluation set needs at least one chunk")
    mean = float(d.mean())
    se = float(d.std(unbiased=True)) / math.sqrt(n) if n > 1 else abs(mean)
    return mean, se


def assess(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor], p: Tokenomics) -> Quality:
    """Judge a session from its per-chunk losses on the oracle's sets "domain" and "base"."""
    for name in ("domain", "base"):
        if name not in before or name not in after:
            raise ValueError(f"evaluation set {name!r} missing: the oracle measures 'domain' and 'base'")
        if not (torch.isfinite(before[name]).all() and torch.isfinite(after[name]).all()):
            raise ValueError(f"losses on {name!r} must be finite")
    score, se = _mean_se(before["domain"] - after["domain"])
    base_change = float((after["base"] - before["base"]).mean())
    threshold, step = p.quality_threshold / WEI, p.quality_step / WEI
    if base_change > p.max_base_regression / WEI:
        return Quality(score, se, base_change, 1, True, f"base regression {base_change:+.4f} nats")
    scored = score - se
    if scored <= threshold:
        return Quality(score, se, base_change, 1, True, f"score {score:+.4f} ± {se:.4f} at or below the threshold")
    multiplier = min(p.max_multiplier, 1 + math.floor((scored - threshold) / step))
    return Quality(score, se, base_change, multiplier, False)


def compression_ratio(text: str) -> float:
    raw = text.encode()
    return len(raw) / max(1, len(zlib.compress(raw, 9)))


def shingles(text: str) -> list[bytes]:
    """Hashes of about one in STRIDE of the 64-character windows of `text` (case and whitespace
    folded), chosen by their own hash rather than their position: a copy shifted by a few
    characters, or a block pasted twice, selects the same windows (fixed positions would not)."""
    folded = " ".join(text.split()).lower()
    out = []
    for i in range(max(1, len(folded) - SHINGLE + 1)):
        h = hashlib.blake2b(folded[i:i + SHINGLE].encode(), digest_size=8).digest()
        if h[0] % STRIDE == 0:
            out.append(h)
    return out or [hashlib.blake2b(folded.encode(), digest_size=8).digest()]


def paid_interactions(text: str, requested: int, p: Tokenomics) -> int:
    """Interactions a session on `text` is paid for: one per WINDOW characters, at most the request
    and the contract's per-op cap."""
    return max(0, min(requested, len(text) // WINDOW, p.max_interactions_per_op))


class Gate:
    """Refuses repetitive and already-submitted text; remembers what it accepted (SQLite, shared by
    every worker of the oracle)."""

    def __init__(self, path: Path, p: Tokenomics):
        self.p = p
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS shingles (h BLOB PRIMARY KEY, user TEXT, fork INTEGER, "
                        "session TEXT)")

    def admit(self, user: str, fork: int, text: str, session: str = "") -> None:
        """Accept `text` for a session (recording its shingles under the session's id) or raise
        Rejected. Atomic: two workers admitting the same text at once cannot both pass. The same
        session may be admitted again with the same text (a worker that crashed after the gate and
        retries the session), never another session."""
        if len(text) < WINDOW:
            raise Rejected("short", f"the text has {len(text)} characters; a paid interaction needs {WINDOW}")
        ratio = compression_ratio(text)
        if ratio > self.p.max_compression_ratio / WEI:
            raise Rejected("repetitive", f"the text compresses {ratio:.1f}x (prose: about 2-3x; the limit is "
                                         f"{self.p.max_compression_ratio / WEI:g}x): it repeats itself")
        every = shingles(text)
        hs = list(dict.fromkeys(every))
        repeated_inside = len(every) - len(hs)  # a block pasted twice repeats its shingles
        self.db.execute("BEGIN IMMEDIATE")
        try:
            seen = 0
            for i in range(0, len(hs), 500):
                part = hs[i:i + 500]
                # shingles recorded by this same session (a retry) do not count against it
                seen += self.db.execute(f"SELECT COUNT(*) FROM shingles WHERE h IN ({','.join('?' * len(part))}) "
                                        "AND NOT (? != '' AND session = ?)", (*part, session, session)).fetchone()[0]
            share = (seen + repeated_inside) / len(every)
            if share > self.p.max_duplicate_share / WEI:
                raise Rejected("duplicate", f"{share:.0%} of the text was submitted before (the limit is "
                                            f"{self.p.max_duplicate_share / WEI:.0%})")
            self.db.executemany("INSERT OR IGNORE INTO shingles VALUES (?, ?, ?, ?)",
                                [(h, user, fork, session) for h in hs])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise


@dataclass(frozen=True)
class EvaluationSets:
    """The oracle's text: per domain, a private evaluation text (never given to users) from which
    each epoch takes a different window; and a fixed slice of the base model's validation split."""

    domains: dict[str, str]
    base: str
    window: int = 2048

    def domain(self, name: str, epoch: int) -> str:
        if name not in self.domains:
            raise ValueError(f"domain {name!r}: the oracle holds {', '.join(sorted(self.domains))}")
        text = self.domains[name]
        if len(text) <= self.window:
            return text
        start = (epoch * 7919 * self.window) % (len(text) - self.window)  # rotates, covers the text
        return text[start:start + self.window]
