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
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

SHINGLE = 4  # words per bag
SOURCES_PER_BAG = 64  # accepted submissions a shared bag names as sources, at most (NoveltyIndex._accepted)
# The pieces channel, for sources only: a text's *pieces* are its 3-word bags (PIECE words, sorted) and its
# ordered word pairs that no public text has. A text sharing PIECES_NEED or more of them with one accepted
# submission, or PIECES_NEAR within PIECES_SPAN consecutive words of it (one held-back window is about 45
# words), names it as a source, so it is never examined on that submission's held-back windows. A paid text cut
# into 3-word pieces, shuffled, a random word after each, keeps none of its 4-word bags or 12-word sets but all
# its 3-word runs (red team 15), 2-word pieces all its pairs (red team 30). Measured on 3,000-character texts
# (413 pairs of honest texts of the same play, docs/oracle.md): re-sales in 3-word pieces share
# 215-295, in 2-word pieces 64-99; honest writing of the same play at most 9 (at most 5 within 48 words), other
# plays' at most 1.
PIECE, PIECES_NEED, PIECES_NEAR, PIECES_SPAN = 3, 16, 8, 48
# The letters channel, beside it and counted apart with the same thresholds: the text's letters alone (every word
# joined: `"".join(words)`), hashed in runs of LETTERS, one run in LETTER_SAMPLE kept (chosen by its hash, so two
# texts keep the same runs of the letters they share), those no public text has. A separator inside a word
# ("comma'nd", "comma-nd", "comma nd": in the plays almost any letters are a word) changes every word channel's
# words and no letter: the paid text so split, in order, shares 243 of its 253 kept runs (red team 30); honest
# 3,000-character texts of one play share at most 3 (211 pairs, docs/oracle.md).
LETTERS, LETTER_SAMPLE = 12, 8
PIECE_TABLES = ("accepted_pieces", "accepted_letters")  # the two channels' stores: (h, submission, at)
WORD = re.compile(r"[a-z]+")
LONG_WORD = 20  # letters an unknown word may have and count as one word (unknown_share)
# The similarity channel: the word *set* of every WINDOW consecutive words, as a MinHash of
# PERMS values, found through LSH (BANDS bands of ROWS values) and confirmed on the signature.
WINDOW, STEP, PUBLIC_STEP = 12, 3, 4
PERMS, BANDS, ROWS = 32, 8, 4
SIMILAR = 0.6  # share of equal MinHash values (an estimate of the sets' Jaccard) that makes a copy
# The content channel: the words that carry a text's meaning (all but the COMMON most frequent of
# the public corpus), in order. A window of CONTENT_WINDOW of a submission's content words is a copy
# when CONTENT_NEED of them occur within CONTENT_SPAN consecutive content words of one public (or
# accepted) text: replacing every 3rd word by a common or a random real word breaks every bag and
# every 12-word set, but leaves most of the meaning words where they were (measured: 76-100% found;
# honest writing 0.5% on average before the run rule below, at most 11%).
COMMON, CONTENT_WINDOW, CONTENT_SPAN, CONTENT_NEED, CONTENT_STEP = 300, 12, 24, 5, 2
CONTENT_MAX_USES = 3000  # a word this frequent in the public corpus is nearly common: it votes for no region
_SEEDS = np.array([int.from_bytes(hashlib.blake2b(b"perm%d" % i, digest_size=8).digest(), "big")
                   for i in range(PERMS)], dtype=np.uint64)


@dataclass(frozen=True)
class Novelty:
    """What is new in a text: `spans` are (start, end) character offsets of its new parts."""

    text: str
    spans: tuple[tuple[int, int], ...]
    # other accepted submissions any part of the text matched (a 4-word bag, a similar window, or
    # its pieces: 3-word bags and word pairs), copied enough to be trimmed or not: the oracle never examines the text
    # on their held-back windows
    sources: frozenset[str] = frozenset()

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


@lru_cache(maxsize=4)
def words(text: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """The folded words of `text` and each one's character span in it. The last few texts' are
    kept: the gate reads one submission's words for each of its rules."""
    low = fold(text)
    found = [(m.group(), m.span()) for m in WORD.finditer(low)]
    return tuple(w for w, _ in found), tuple(s for _, s in found)


def bag_hashes(ws: Sequence[str], k: int = SHINGLE) -> np.ndarray:
    """One signed 64-bit hash per k-word bag (sorted words), in text order."""
    n = len(ws) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        key = " ".join(sorted(ws[i:i + k])).encode()
        out[i] = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big", signed=True)
    return out


def piece_hashes(ws: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The text's pieces (its PIECE-word bags, then its ordered word pairs, told apart by their hashes) and the
    word each starts at."""
    pairs = np.zeros(0, dtype=np.int64)
    if len(ws) >= 2:
        h = word_hashes(ws)
        with np.errstate(over="ignore"):  # ordered: a pair and its reverse differ
            pairs = (_mix(_mix(h[:-1] ^ np.uint64(0x5041495253)) ^ h[1:])).view(np.int64)
    bags = bag_hashes(ws, PIECE)
    return (np.concatenate([bags, pairs]),
            np.concatenate([np.arange(len(bags)), np.arange(len(pairs))]).astype(np.int64))


def letter_runs(letters: str) -> tuple[np.ndarray, np.ndarray]:
    """The hash of every LETTERS-letter run of `letters`, and which are kept (one in LETTER_SAMPLE, by hash)."""
    n = len(letters) - LETTERS + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    codes = np.frombuffer(letters.encode(), dtype=np.uint8).astype(np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(LETTERS):  # a polynomial hash of each run, then mixed
            h = h * np.uint64(1099511628211) + codes[j:j + n]
        h = _mix(h ^ np.uint64(0x4C455454455253))
    return h, (h & np.uint64(LETTER_SAMPLE - 1)) == 0


def letter_hashes(ws: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The kept LETTERS-letter runs of the words' letters (one in LETTER_SAMPLE, by hash), the word each starts in."""
    h, kept = letter_runs("".join(ws))
    keep = np.flatnonzero(kept)
    ends = np.cumsum([len(w) for w in ws])
    return h[keep].view(np.int64), np.searchsorted(ends, keep, side="right").astype(np.int64)


def word_hashes(ws: Sequence[str]) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "big") for w in ws],
                    dtype=np.uint64)


def trigram_hashes(ws: Sequence[str]) -> np.ndarray:
    """One 64-bit hash per run of three consecutive words, in order (not a bag: the order is the point)."""
    if len(ws) < 3:
        return np.zeros(0, dtype=np.uint64)
    h = word_hashes(ws)
    with np.errstate(over="ignore"):
        return _mix(_mix(_mix(h[:-2]) ^ h[1:-1]) ^ h[2:])


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64, vectorised (uint64 arithmetic wraps, as the mixer wants)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def window_signatures(ws: Sequence[str], step: int) -> tuple[np.ndarray, np.ndarray]:
    """(start word of each window, its MinHash signature [n, PERMS]) for every `step`-th window of
    WINDOW words. A set, not a sequence: words shuffled inside the window change nothing."""
    n = len(ws) - WINDOW + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, PERMS), dtype=np.uint64)
    ids = word_hashes(ws)
    h = _mix(ids[:, None] ^ _SEEDS[None, :])
    starts = np.arange(0, n, step)
    sig = h[starts]
    for j in range(1, WINDOW):
        sig = np.minimum(sig, h[starts + j])
    return starts, sig


def band_keys(sig: np.ndarray) -> np.ndarray:
    """[n, BANDS] signed keys, one per band of ROWS MinHash values."""
    keys = np.zeros((len(sig), BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(BANDS):
            k = np.zeros(len(sig), dtype=np.uint64)
            for r in range(ROWS):
                k = _mix(k ^ sig[:, b * ROWS + r])
            keys[:, b] = k
    return keys.view(np.int64)


class NoveltyIndex:
    """The public corpus (a sorted array, cached on disk by the corpus's digest) and every accepted
    submission (SQLite, shared by the oracle's workers)."""

    def __init__(self, path: Path, public: Iterable[str], *, min_copy_words: int = 8, bridge: int = 2,
                 min_new_words: int = 12):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.min_copy_words, self.bridge, self.min_new_words = min_copy_words, bridge, min_new_words
        public = list(public)
        digest = hashlib.sha256(b"\0".join(t.encode() for t in public)).hexdigest()[:16]  # names both caches
        self.public = self._public(path.with_name(f"{path.stem}.public.{digest}.npy"), public)
        self.vocabulary = self._vocabulary(path.with_name(f"{path.stem}.words.{digest}.npy"), public)
        self.common, self._content_keys, self._content_pos = self._content(
            path.with_name(f"{path.stem}.content.{digest}.npz"), public)
        self._sigs, self._bands = self._public_windows(path.with_name(f"{path.stem}.windows.{digest}.npz"), public)
        self.trigrams = self._cached_array(path.with_name(f"{path.stem}.trigrams.{digest}.npy"), lambda: np.unique(
            np.concatenate([trigram_hashes(words(t)[0]) for t in public] or [np.zeros(0, np.uint64)])))
        self.public_pieces = self._cached_array(path.with_name(f"{path.stem}.pieces.{digest}.npy"), lambda: np.unique(
            np.concatenate([piece_hashes(words(t)[0])[0] for t in public] or [np.zeros(0, np.int64)])))
        self.public_letters = self._cached_array(path.with_name(f"{path.stem}.letters.{digest}.npy"), lambda: np.unique(
            np.concatenate([letter_hashes(words(t)[0])[0] for t in public] or [np.zeros(0, np.int64)])))
        self._channels = {"accepted_pieces": (piece_hashes, self.public_pieces),
                          "accepted_letters": (letter_hashes, self.public_letters)}
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS accepted (h INTEGER PRIMARY KEY, submission TEXT NOT NULL)")
        # every accepted submission's bags, not only the first to have each: a text sharing a bag with a
        # paid session must name that session in its sources even when a decoy sent the bag first (red
        # team 15), and forgetting the first submitter must not unlearn the bag for the others
        self.db.execute("CREATE TABLE IF NOT EXISTS accepted_bags (h INTEGER NOT NULL, submission TEXT NOT NULL, "
                        "PRIMARY KEY (h, submission)) WITHOUT ROWID")
        if self.db.execute("SELECT 1 FROM accepted_bags LIMIT 1").fetchone() is None:
            self.db.execute("INSERT OR IGNORE INTO accepted_bags SELECT h, submission FROM accepted")  # an older index
        self.db.execute("CREATE TABLE IF NOT EXISTS accepted_windows (band INTEGER NOT NULL, key INTEGER NOT NULL, "
                        "submission TEXT NOT NULL, sig BLOB NOT NULL)")
        self.db.execute("CREATE INDEX IF NOT EXISTS accepted_windows_key ON accepted_windows (band, key)")
        self.db.execute("CREATE TABLE IF NOT EXISTS accepted_content (h INTEGER NOT NULL, pos INTEGER NOT NULL, "
                        "submission TEXT NOT NULL)")
        self.db.execute("CREATE INDEX IF NOT EXISTS accepted_content_h ON accepted_content (h)")
        # an index made before the pieces or the letters channel holds none of them for the texts it accepted: its
        # owner (the gate, which keeps their new text) fills them in from what it kept (`pieces_missing`,
        # `remember_pieces`)
        self.pieces_missing = any(self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                                  (table,)).fetchone() is None for table in PIECE_TABLES)
        for table in PIECE_TABLES:
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {table} (h INTEGER NOT NULL, submission TEXT NOT NULL, "
                            "at INTEGER NOT NULL, PRIMARY KEY (h, submission)) WITHOUT ROWID")
            self.db.execute(f"CREATE INDEX IF NOT EXISTS {table}_submission ON {table} (submission)")

    @staticmethod
    def _cached_array(cached: Path, build) -> np.ndarray:
        """An array built once per corpus and kept on disk (written whole, then renamed, so a crash
        never leaves a half-written cache)."""
        if cached.is_file():
            return np.load(cached)
        arr = build()
        tmp = cached.with_suffix(".tmp.npy")
        np.save(tmp, arr)
        tmp.replace(cached)
        return arr

    @classmethod
    def _public(cls, cached: Path, texts: list[str]) -> np.ndarray:
        return cls._cached_array(cached, lambda: np.unique(np.concatenate(
            [bag_hashes(words(t)[0]) for t in texts] or [np.zeros(0, np.int64)])))

    @classmethod
    def _vocabulary(cls, cached: Path, texts: list[str]) -> np.ndarray:
        return cls._cached_array(cached, lambda: np.unique(word_hashes(sorted({w for t in texts
                                                                                for w in words(t)[0]}))))

    @staticmethod
    def _content(cached: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The COMMON most frequent words' hashes, and every other word's positions in the public
        corpus's content-word stream (sorted by word, then position; texts kept a span apart)."""
        if cached.is_file():
            with np.load(cached) as f:
                return f["common"], f["keys"], f["pos"]
        seqs = [word_hashes(words(t)[0]) for t in texts]
        every = np.concatenate(seqs or [np.zeros(0, np.uint64)])
        uniq, counts = np.unique(every, return_counts=True)
        common = np.sort(uniq[np.argsort(-counts, kind="stable")[:COMMON]])
        keys, pos, at = [], [], 0
        for h in seqs:
            h = h[~np.isin(h, common)]
            keys.append(h)
            pos.append(np.arange(at, at + len(h), dtype=np.int64))
            at += len(h) + CONTENT_SPAN
        keys = np.concatenate(keys or [np.zeros(0, np.uint64)])
        pos = np.concatenate(pos or [np.zeros(0, np.int64)])
        order = np.lexsort((pos, keys))
        keys, pos = keys[order], pos[order]
        tmp = cached.with_suffix(".tmp.npz")
        with open(tmp, "wb") as f:
            np.savez(f, common=common, keys=keys, pos=pos)
        tmp.replace(cached)
        return common, keys, pos

    def _content_covered(self, ws: Sequence[str], exclude: str) -> np.ndarray:
        """Per word: inside a window of content words most of which lie close together, in order
        or not, in one public or accepted text."""
        covered = np.zeros(len(ws), dtype=bool)
        hs = word_hashes(ws)
        at = np.flatnonzero(~np.isin(hs, self.common))
        if len(at) < CONTENT_WINDOW:
            return covered
        ch = hs[at]
        half = CONTENT_SPAN // 2
        buckets: dict[int, np.ndarray] = {}  # word -> the regions (public, then accepted) it occurs in
        lo = np.searchsorted(self._content_keys, ch, side="left")
        hi = np.searchsorted(self._content_keys, ch, side="right")
        for h, a, b in zip(ch.tolist(), lo.tolist(), hi.tolist()):
            if h not in buckets and 0 < b - a <= CONTENT_MAX_USES:
                r = self._content_pos[a:b] // half
                buckets[h] = np.unique(np.concatenate([r, r - 1]))
        signed = sorted({int(h) - (1 << 64) if h >= 1 << 63 else int(h) for h in ch.tolist()})
        seen: dict[str, int] = {}
        for i in range(0, len(signed), 500):
            part = signed[i:i + 500]
            for h, pos, sub in self.db.execute(
                    f"SELECT h, pos, submission FROM accepted_content WHERE h IN ({','.join('?' * len(part))}) "
                    "AND submission != ?", (*part, exclude)):
                # accepted texts' regions numbered past the public corpus's, one range per submission
                base = (1 << 40) * (1 + seen.setdefault(sub, len(seen)))
                r = base + pos // half
                h = h + (1 << 64) if h < 0 else h
                buckets[h] = np.unique(np.concatenate([buckets.get(h, np.zeros(0, np.int64)), [r, r - 1]]))
        for s in range(0, len(at) - CONTENT_WINDOW + 1, CONTENT_STEP):
            found = [buckets[h] for h in set(ch[s:s + CONTENT_WINDOW].tolist()) if h in buckets]
            if len(found) < CONTENT_NEED:
                continue
            _, votes = np.unique(np.concatenate(found), return_counts=True)
            if votes.max() >= CONTENT_NEED:
                covered[at[s]:at[s + CONTENT_WINDOW - 1] + 1] = True
        return covered

    def unknown_share(self, text: str) -> float:
        """The share of the text's words that no public text uses: a copy with a letter changed in
        every few words (so that no window of it matches) is mostly words that do not exist. An unknown
        word counts once for every LONG_WORD letters it has begun: no word of the plays is longer than 27
        letters, and a run of letters with no space in it is as much unknown text as that many words (red
        team 32: 2,500 characters of writing with one 6,000-letter word beside it read as 0.3% unknown)."""
        ws = words(text)[0]
        if not ws:
            return 0.0
        unknown = ~np.isin(word_hashes(ws), self.vocabulary)
        lengths = np.fromiter((len(w) for w in ws), dtype=np.int64, count=len(ws))
        weight = np.where(unknown, -(-lengths // LONG_WORD), 1)
        return float(weight[unknown].sum() / weight.sum())

    def public_trigram_share(self, text: str) -> float:
        """The share of the text's words inside a run of three consecutive words, in order, that some
        public text has. Public text cut into 3-word pieces and shuffled is covered whole while no
        4-word bag, 12-word set or region of meaning words survives; honest writing in the voice
        of the plays shares many phrases, but not every word's."""
        ws = words(text)[0]
        if len(ws) < 3:
            return 0.0
        hit = np.isin(trigram_hashes(ws), self.trigrams)
        covered = np.zeros(len(ws), dtype=bool)
        for k in range(3):
            covered[k:len(ws) - 2 + k] |= hit
        return float(covered.mean())

    def letter_share(self, text: str) -> float:
        """The share of the text's characters that are letters of its words (prose: about 0.75)."""
        return sum(b - a for a, b in words(text)[1]) / max(1, len(text))

    @staticmethod
    def _public_windows(cached: Path, texts: list[str]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Every PUBLIC_STEP-th window's signature, and per band its keys sorted (with the window
        each belongs to), cached on disk by the corpus's digest."""
        if cached.is_file():
            with np.load(cached) as f:
                sigs, keys, order = f["sigs"], f["keys"], f["order"]
        else:
            sigs = np.concatenate([window_signatures(words(t)[0], PUBLIC_STEP)[1] for t in texts]
                                  or [np.zeros((0, PERMS), dtype=np.uint64)])
            all_keys = band_keys(sigs)
            order = np.argsort(all_keys, axis=0, kind="stable")
            keys = np.take_along_axis(all_keys, order, axis=0)
            tmp = cached.with_suffix(".tmp.npz")
            with open(tmp, "wb") as f:
                np.savez(f, sigs=sigs, keys=keys, order=order)
            tmp.replace(cached)
        return sigs, [(keys[:, b], order[:, b]) for b in range(BANDS)]

    def _similar(self, ws: Sequence[str], exclude: str, sources: set[str]) -> np.ndarray:
        """Per word: inside a window whose word set is SIMILAR to a public or accepted window's (each
        such accepted submission added to `sources`)."""
        covered = np.zeros(len(ws), dtype=bool)
        starts, sig = window_signatures(ws, STEP)
        if not len(starts):
            return covered
        keys = band_keys(sig)
        hit = np.zeros(len(starts), dtype=bool)
        for b, (sorted_keys, order) in enumerate(self._bands):
            lo = np.searchsorted(sorted_keys, keys[:, b], side="left")
            hi = np.searchsorted(sorted_keys, keys[:, b], side="right")
            for i in np.flatnonzero((hi > lo) & ~hit):
                candidates = self._sigs[order[lo[i]:min(hi[i], lo[i] + 64)]]
                hit[i] = bool(((candidates == sig[i]).mean(axis=1) >= SIMILAR).any())
        for i in np.flatnonzero(~hit):
            rows = self.db.execute("SELECT sig, submission FROM accepted_windows WHERE submission != ? AND (" +
                                   " OR ".join(["(band = ? AND key = ?)"] * BANDS) + ")",
                                   (exclude, *[v for b in range(BANDS) for v in (b, int(keys[i, b]))])).fetchall()
            for blob, sub in rows:
                if (np.frombuffer(blob, dtype=np.uint64) == sig[i]).mean() >= SIMILAR:
                    hit[i] = True
                    sources.add(sub)
        for i in np.flatnonzero(hit):
            covered[starts[i]:starts[i] + WINDOW] = True
        return covered

    def _accepted(self, hs: np.ndarray, exclude: str, sources: set[str]) -> np.ndarray:
        """Per bag: whether another accepted submission has it (each such submission added to `sources`,
        at most SOURCES_PER_BAG of them a bag: a phrase that many submissions share is common, and the
        exam's exclusion list must stay a query's size)."""
        known = np.zeros(len(hs), dtype=bool)
        uniq = [int(h) for h in np.unique(hs)]
        seen = set()
        for i in range(0, len(uniq), 500):
            part = uniq[i:i + 500]
            rows = self.db.execute(f"SELECT h, submission FROM accepted_bags WHERE h IN ({','.join('?' * len(part))}) "
                                   "AND submission != ?", (*part, exclude)).fetchall()
            per_bag: dict[int, list[str]] = {}
            for h, sub in rows:
                per_bag.setdefault(h, []).append(sub)
            seen.update(per_bag)
            for subs in per_bag.values():
                sources.update(subs[:SOURCES_PER_BAG])
        if seen:
            known = np.isin(hs, np.fromiter(seen, dtype=np.int64))
        return known

    def _own_pieces(self, ws: Sequence[str], table: str = "accepted_pieces") -> dict[int, int]:
        """The text's distinct pieces (or, for `table` accepted_letters, its kept letter runs) that no public text
        has, each with the word it first starts at."""
        hashes, public = self._channels[table]
        hs, at = hashes(ws)
        keep = ~np.isin(hs, public)
        out: dict[int, int] = {}
        for h, i in zip(hs[keep].tolist(), at[keep].tolist()):
            out[h] = min(i, out.get(h, i))
        return out

    @staticmethod
    def named_by_pieces(shared: Iterable[tuple[str, int]]) -> set[str]:
        """The submissions named by shared pieces, given as (submission, where the piece is in it): PIECES_NEED in
        all, or PIECES_NEAR within PIECES_SPAN words of it (two griddings half a span apart, so a span of a held-back
        window's length lies mostly inside one bucket of one of them)."""
        total: dict[str, int] = {}
        near: dict[tuple[str, int, int], int] = {}
        for sub, at in shared:
            total[sub] = total.get(sub, 0) + 1
            for shift in (0, PIECES_SPAN // 2):
                key = (sub, shift, (at + shift) // PIECES_SPAN)
                near[key] = near.get(key, 0) + 1
        return ({sub for sub, n in total.items() if n >= PIECES_NEED}
                | {sub for (sub, _, _), n in near.items() if n >= PIECES_NEAR})

    def _pieces_sources(self, ws: Sequence[str], exclude: str) -> set[str]:
        """The accepted submissions the text's pieces name, or its letter runs (named_by_pieces, each channel
        counted apart). Counted per submission over every piece, however many submissions share it: a cap per
        piece (as the 4-word channel's per bag) would let a sybil flood a paid text's pieces until they read as
        common."""
        out: set[str] = set()
        for table in PIECE_TABLES:
            out |= self.named_by_pieces(self.shared_pieces(ws, exclude, table))
        return out

    def shared_pieces(self, ws: Sequence[str], exclude: str, table: str = "accepted_pieces") -> list[tuple[str, int]]:
        """(submission, where the piece is in it) for every accepted submission but `exclude` holding one of the
        text's pieces (or, for `table` accepted_letters, its kept letter runs) that no public text has."""
        hs = list(self._own_pieces(ws, table))
        shared: list[tuple[str, int]] = []
        for i in range(0, len(hs), 500):
            part = hs[i:i + 500]
            shared += self.db.execute(f"SELECT submission, at FROM {table} WHERE h IN ({','.join('?' * len(part))})"
                                      " AND submission != ?", (*part, exclude)).fetchall()
        return shared

    def novelty(self, text: str, submission: str = "") -> Novelty:
        """The new part of `text`: what the public corpus, other accepted submissions (not
        `submission` itself: a retried session is not a copy of itself) and its own earlier words
        do not contain."""
        ws, spans = words(text)
        hs = bag_hashes(ws)
        sources: set[str] = set()
        known = np.isin(hs, self.public) | self._accepted(hs, submission, sources)
        # a bag that already occurred earlier in this same text is a copy of it (a block pasted twice)
        _, first = np.unique(hs, return_index=True)
        repeat = np.ones(len(hs), dtype=bool)
        repeat[first] = False
        known |= repeat
        similar = self._similar(ws, submission, sources) | self._content_covered(ws, submission)
        sources |= self._pieces_sources(ws, submission)
        return Novelty(text, self._new_spans(text, len(ws), spans, known, similar), frozenset(sources))

    def _new_spans(self, text: str, n: int, spans: list[tuple[int, int]], known: np.ndarray,
                   similar: np.ndarray) -> tuple:
        covered = similar.copy()
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

    def forget(self, submission: str) -> None:
        """Remove a submission's bags and windows (its admission was undone)."""
        self.db.execute("DELETE FROM accepted WHERE submission = ?", (submission,))
        self.db.execute("DELETE FROM accepted_bags WHERE submission = ?", (submission,))
        self.db.execute("DELETE FROM accepted_windows WHERE submission = ?", (submission,))
        self.db.execute("DELETE FROM accepted_content WHERE submission = ?", (submission,))
        for table in PIECE_TABLES:
            self.db.execute(f"DELETE FROM {table} WHERE submission = ?", (submission,))

    def remember_pieces(self, text: str, submission: str) -> None:
        """Keep the text's pieces and letter runs that no public text has as the accepted `submission`'s."""
        ws = words(text)[0]
        for table in PIECE_TABLES:
            self.db.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?, ?, ?)",
                                [(h, submission, at) for h, at in self._own_pieces(ws, table).items()])

    def accept(self, text: str, submission: str) -> None:
        """Remember every bag of an accepted submission (new and copied parts alike)."""
        ws = words(text)[0]
        hs = np.unique(bag_hashes(ws))
        self.db.executemany("INSERT OR IGNORE INTO accepted_bags VALUES (?, ?)", [(int(h), submission) for h in hs])
        self.remember_pieces(text, submission)
        _, sig = window_signatures(ws, STEP)
        keys = band_keys(sig)
        self.db.executemany("INSERT INTO accepted_windows VALUES (?, ?, ?, ?)",
                            [(b, int(keys[i, b]), submission, sig[i].tobytes())
                             for i in range(len(sig)) for b in range(BANDS)])
        content = word_hashes(ws)
        content = content[~np.isin(content, self.common)].view(np.int64)
        self.db.executemany("INSERT INTO accepted_content VALUES (?, ?, ?)",
                            [(int(h), i, submission) for i, h in enumerate(content)])
