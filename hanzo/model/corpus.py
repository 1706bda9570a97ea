"""Which text plays which part, locally.

Every text this project can reach comes from one public package (Shakespeare's 38 plays), so a
local setup has to *declare* three roles that in a deployment are three different sources:

- **public**: everything a farmer may read and use. Here the 34 plays the base model was trained
  on. The novelty index holds all of it; no part of it is paid.
- **users' writing**: what honest users submit, standing for their unpublished writing. Here half
  of the speeches of each held-out play (the base model's four validation plays), chosen by a
  stable hash of the speech's position. The demo, the tests and benchmarks/farming.py draw honest
  sessions from it, and no greedy strategy reads it.
- **the oracle's private data**: the other half of each held-out play's speeches, the seed of the
  oracle's private evaluation store (hanzo.model.private_eval), which later grows by a held-back
  share of accepted submissions.

A domain is one held-out play: honest writing and the oracle's text in a domain are disjoint
speeches in the same voice. The base-regression set is a fixed slice of public text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

HELD_OUT = ("hamlet", "the-tempest", "julius-caesar", "twelfth-night")  # the base model's validation plays
SPEAKER = re.compile(r"([A-Z][A-Za-z .'-]+):")


@lru_cache(maxsize=1)
def _plays() -> dict[str, str]:
    from .hllm.data import load_plays

    return load_plays()


def speeches_of(play: str) -> list[str]:
    """A play's speeches in order, without the speakers' names."""
    out, buf = [], []
    for line in _plays()[play].splitlines():
        if SPEAKER.fullmatch(line):
            if buf:
                out.append("\n".join(buf) + "\n")
            buf = []
        elif line:
            buf.append(line)
    if buf:
        out.append("\n".join(buf) + "\n")
    return out


@dataclass(frozen=True)
class CorpusRoles:
    """The local split. `domains` maps a domain name to its held-out play; `private_share` of each
    play's speeches is the oracle's, the rest the users'. The split is declared, not secret: the
    secrecy of the oracle's text is the private store's job (its directory and its seed)."""

    domains: dict[str, str] = field(default_factory=lambda: {p: p for p in HELD_OUT})
    private_share: float = 0.5
    salt: str = "hanzo-local-roles-1"

    def __post_init__(self):
        if not 0 < self.private_share < 1:
            raise ValueError(f"private_share: expected a share strictly between 0 and 1, got {self.private_share}")
        missing = sorted(set(self.domains.values()) - set(_plays()))
        if missing:
            raise ValueError(f"domains: no play named {', '.join(missing)} in the corpus")

    def _is_private(self, play: str, i: int) -> bool:
        h = hashlib.sha256(f"{self.salt}:{play}:{i}".encode()).digest()
        return int.from_bytes(h[:4], "big") < self.private_share * 2**32

    def _play(self, domain: str) -> str:
        if domain not in self.domains:
            raise ValueError(f"domain {domain!r}: expected one of {', '.join(sorted(self.domains))}")
        return self.domains[domain]

    def public_texts(self) -> dict[str, str]:
        """Every play outside the domains: what anyone may read."""
        held = set(self.domains.values()) | set(HELD_OUT)
        return {name: text for name, text in _plays().items() if name not in held}

    def users_text(self, domain: str) -> str:
        """The domain's speeches that stand for users' unpublished writing."""
        play = self._play(domain)
        return "".join(s for i, s in enumerate(speeches_of(play)) if not self._is_private(play, i))

    def private_passages(self, domain: str) -> list[str]:
        """The domain's speeches that seed the oracle's private store."""
        play = self._play(domain)
        return [s for i, s in enumerate(speeches_of(play)) if self._is_private(play, i)]

    def base_text(self, chars: int = 4096) -> str:
        """The base-regression set: a fixed slice of public text (the session must not make the
        model worse at what it already knew)."""
        texts = self.public_texts()
        text = texts[sorted(texts)[len(texts) // 2]]
        mid = len(text) // 2
        return text[mid:mid + chars]


LOCAL = CorpusRoles()
