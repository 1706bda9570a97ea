"""What the oracle's gate-level tests share (tests/market.py is the market's): a fresh gate or novelty index on
the public corpus for each test, its public arrays seeded by conftest's `public_index` (about 0.5 s, not the
12-20 s of building them), and the verdict the oracle records after judging a session."""

from __future__ import annotations

from pathlib import Path

from hanzo.econ.params import DEFAULT
from hanzo.model.corpus import LOCAL
from hanzo.model.novelty import NoveltyIndex
from hanzo.model.quality import Gate


def verdict(outcome: str) -> dict:
    """The part of a judged session's verdict `Gate.record` reads: its quality outcome (PAID, NEUTRAL, LOW)."""
    return {"quality": {"outcome": outcome}}


def fresh_gate(folder: Path, public_index) -> Gate:
    """A gate of its own in `folder`: nothing admitted or recorded, the default parameters."""
    return Gate(public_index(Path(folder) / "gate" / "g.sqlite"), LOCAL.public_texts().values(), DEFAULT)


def fresh_index(folder: Path, public_index) -> NoveltyIndex:
    """A novelty index of its own in `folder`, nothing accepted."""
    return NoveltyIndex(public_index(Path(folder) / "n.sqlite"), LOCAL.public_texts().values())
