"""Novelty: which part of a submission neither the public corpus nor any earlier accepted text
already contains. The oracle trains on that part and pays for it alone (issue 15).

A copy is found through word shingles, not characters: the text is folded to its words (case,
punctuation, digits and line breaks dropped), and every run of SHINGLE consecutive words is
hashed as a *bag* (the sorted words), so swapping neighbouring words leaves most bags as they
were. A word is *covered* when some bag that contains it is known. Copying shows as long runs of
covered words; new writing shares only isolated common phrases with the corpus ("i pray you
sir"). So a run of covered words counts as copied only when it is at least `min_copy_words`
long, with gaps of up to `bridge` uncovered words inside it (a sparse edit breaks the bags around
one word, not the run); and a stretch of uncovered words shorter than `min_new_words` between
copies counts as copied too (it is the edit itself, not writing).

Why exact bags and not MinHash/LSH: MinHash estimates the similarity of two whole documents, but
a submission is paid for its new *part*, which needs to know, word by word, what was seen. An
exact set of 64-bit bag hashes answers that directly, has no false negatives, and costs 8 bytes a
word: the public corpus here (4.8M characters, 0.9M words) is a 7 MB sorted array. What it
survives is measured in benchmarks/farming.py and tests/test_novelty.py: case, punctuation and
whitespace, swapped words, lines reordered or rewrapped, two texts interleaved line by line, an
edit every few words, and a block pasted twice.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

SHINGLE = 4  # words per bag
WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Novelty:
    """What is new in a text: `spans` are (start, end) character offsets of its new parts."""

    text: str
    spans: tuple[tuple[int, int], ...]

    @property
    def new_text(self) -> str:
        return "\n".join(self.text[a:b].strip() for a, b in self.spans)

    @property
    def new_chars(self) -> int:
        return sum(b - a for a, b in self.spans)

    @property
    def copied_share(self) -> float:
        return 1 - self.new_chars / max(1, len(self.text))


def fold(text: str) -> str:
    """Lower case with accents stripped, one character for one (so spans stay the text's): 'É'
    and 'é' read as 'e'. Characters outside the model's alphabet never reach here (the gate
    refuses them), so look-alike letters from other scripts cannot split a copied word."""
    return "".join(unicodedata.normalize("NFKD", c)[:1] or c for c in text).lower()


def words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The folded words of `text` and each one's character span in it."""
    low = fold(text)
    found = [(m.group(), m.span()) for m in WORD.finditer(low)]
    return [w for w, _ in found], [s for _, s in found]


def bag_hashes(ws: list[str]) -> np.ndarray:
    """One signed 64-bit hash per SHINGLE-word bag (sorted words), in text order."""
    n = len(ws) - SHINGLE + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        key = " ".join(sorted(ws[i:i + SHINGLE])).encode()
        out[i] = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)
    return out


class NoveltyIndex:
    """The public corpus (a sorted array, cached on disk by the corpus's digest) and every accepted
    submission (SQLite, shared by the oracle's workers)."""

    def __init__(self, path: Path, public: Iterable[str], *, min_copy_words: int = 8, bridge: int = 2,
                 min_new_words: int = 12):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.min_copy_words, self.bridge, self.min_new_words = min_copy_words, bridge, min_new_words
        self.public = self._public(path.with_suffix(".public.npy"), list(public))
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS accepted (h INTEGER PRIMARY KEY, submission TEXT NOT NULL)")

    @staticmethod
    def _public(cache: Path, texts: list[str]) -> np.ndarray:
        digest = hashlib.sha256(b"\0".join(t.encode() for t in texts)).hexdigest()[:16]
        cached = cache.with_name(f"{cache.stem}.{digest}.npy")
        if cached.is_file():
            return np.load(cached)
        arr = np.unique(np.concatenate([bag_hashes(words(t)[0]) for t in texts] or [np.zeros(0, np.int64)]))
        tmp = cached.with_suffix(".tmp.npy")
        np.save(tmp, arr)
        tmp.replace(cached)
        return arr

    def _accepted(self, hs: np.ndarray, exclude: str) -> np.ndarray:
        known = np.zeros(len(hs), dtype=bool)
        uniq = [int(h) for h in np.unique(hs)]
        seen = set()
        for i in range(0, len(uniq), 500):
            part = uniq[i:i + 500]
            rows = self.db.execute(f"SELECT h FROM accepted WHERE h IN ({','.join('?' * len(part))}) "
                                   "AND submission != ?", (*part, exclude)).fetchall()
            seen.update(r[0] for r in rows)
        if seen:
            known = np.isin(hs, np.fromiter(seen, dtype=np.int64))
        return known

    def novelty(self, text: str, submission: str = "") -> Novelty:
        """The new part of `text`: what the public corpus, other accepted submissions (not
        `submission` itself: a retried session is not a copy of itself) and its own earlier words
        do not contain."""
        ws, spans = words(text)
        hs = bag_hashes(ws)
        known = np.isin(hs, self.public) | self._accepted(hs, submission)
        # a bag that already occurred earlier in this same text is a copy of it (a block pasted twice)
        _, first = np.unique(hs, return_index=True)
        repeat = np.ones(len(hs), dtype=bool)
        repeat[first] = False
        known |= repeat
        return Novelty(text, self._new_spans(text, len(ws), spans, known))

    def _new_spans(self, text: str, n: int, spans: list[tuple[int, int]], known: np.ndarray) -> tuple:
        covered = np.zeros(n, dtype=bool)
        for i in np.flatnonzero(known):
            covered[i:i + SHINGLE] = True
        copied = self._runs(covered, self.min_copy_words, self.bridge)
        new = ~copied
        # a short stretch of new words between copies is an edit, not writing
        i = 0
        while i < n:
            if new[i]:
                j = i
                while j < n and new[j]:
                    j += 1
                if j - i < self.min_new_words and (i > 0 or j < n) and copied.any():
                    new[i:j] = False
                i = j
            else:
                i += 1
        out, i = [], 0
        while i < n:
            if new[i]:
                j = i
                while j < n and new[j]:
                    j += 1
                # a new part runs from the end of the copy before it to the start of the copy after it
                a = spans[i - 1][1] if i > 0 else 0
                b = spans[j][0] if j < n else len(text)
                out.append((a, b))
                i = j
            else:
                i += 1
        if n == 0:
            out = [(0, len(text))] if text.strip() else []
        return tuple(out)

    @staticmethod
    def _runs(covered: np.ndarray, min_len: int, bridge: int) -> np.ndarray:
        """Runs of covered words at least `min_len` long, gaps of at most `bridge` words bridged."""
        n = len(covered)
        out = np.zeros(n, dtype=bool)
        i = 0
        while i < n:
            if not covered[i]:
                i += 1
                continue
            j, last = i, i
            while j < n:
                if covered[j]:
                    last = j
                    j += 1
                elif j - last <= bridge:
                    j += 1
                else:
                    break
            if last - i + 1 >= min_len:
                out[i:last + 1] = True
            i = last + 1
        return out

    def accept(self, text: str, submission: str) -> None:
        """Remember every bag of an accepted submission (new and copied parts alike)."""
        hs = np.unique(bag_hashes(words(text)[0]))
        self.db.executemany("INSERT OR IGNORE INTO accepted VALUES (?, ?)", [(int(h), submission) for h in hs])
