"""The quality oracle's rules (tokenomics D3): what a session's text is admitted as, and what its
measurement is worth.

The first oracle scored sessions on a window of public text (the last 30% of a character's
lines, computable for any epoch), so a farmer trained on the exam and earned up to 500x honest
work; its copy gate normalised only case and whitespace, so rewrites passed. Now:

- **The gate** (before training) refuses text that is repetitive (zlib ratio above
  `max_compression_ratio`: prose compresses 2-3x, a repeated line 20x and more) and finds what
  is *new* in the rest (hanzo.model.novelty: against the whole public corpus and every earlier
  accepted submission, surviving case, punctuation, word swaps, reordering, interleaving and
  sparse edits). A text more than `max_duplicate_share` copied is refused whole; otherwise only its
  new part is trained on and paid. Every admitted text is remembered, so it is never new again.
- **The score** is the text's appraisal (hanzo.model.forks.ForkTrainer.appraise): the loss drop
  (nats per character) on the oracle's *private* text in the session's domain (hanzo.model.private_eval:
  a different secret draw every session) of the public start trained on the session's text, with
  its standard error over 256-character chunks. Three outcomes:

      paid         score - z*se >  quality_threshold      multiplier = min(10, 1 + floor(((score - z*se) per 1,000
                                                          characters trained on - threshold) / step))
                                                          interactions = ceil((score - z*se) / gain)
      low quality  score + z*se < -max_base_regression, or the base set worsens by more than max_base_regression
                   (a session that is paid by its score but worsens the base set so much is neutral)
      neutral      otherwise: not distinguishable from noise; no pay and no burn

- **Interactions** paid are one per quality_gain_per_interaction of the noise-discounted gain
  (at least one, at most max_interactions_per_op): pay follows what the text teaches, not its
  length. The updates the oracle makes follow from the text (a fixed number of passes over it):
  asking for more earns nothing and costs the oracle nothing.

Every constant is a tokenomics parameter (hanzo.econ.params), like every number that moves money.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch

from hanzo.econ.params import WEI, Tokenomics
from hanzo.econ.records import add_columns, immediate

from .novelty import PIECE_TABLES, Novelty, NoveltyIndex

WINDOW = 256  # characters of text per paid interaction (the trainer's window)
PAID, NEUTRAL, LOW = "paid", "neutral", "low quality"


class Rejected(ValueError):
    """The gate refused a submission; `reason` is one word (repetitive, duplicate, short)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Quality:
    score: float  # mean loss drop on the private domain text, nats per character
    score_se: float  # its standard error over chunks
    base_change: float  # mean loss change on the base set (positive: worse)
    outcome: str  # PAID, NEUTRAL or LOW
    multiplier: int  # 1..10; meaningful when paid
    reason: str = ""

    @property
    def low_quality(self) -> bool:
        return self.outcome == LOW

    @property
    def paid(self) -> bool:
        return self.outcome == PAID


def _mean_se(d: torch.Tensor) -> tuple[float, float]:
    n = len(d)
    if n < 2:
        raise ValueError(f"an evaluation set needs at least two chunks to measure its noise, got {n}")
    return float(d.mean()), float(d.std(unbiased=True)) / math.sqrt(n)


def assess(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor], p: Tokenomics, *, chars: int) -> Quality:
    """Judge a session from its per-chunk losses on the oracle's sets "domain" and "base", its text
    `chars` characters long (what was trained on)."""
    for name in ("domain", "base"):
        if name not in before or name not in after:
            raise ValueError(f"evaluation set {name!r} missing: the oracle measures 'domain' and 'base'")
        if not (torch.isfinite(before[name]).all() and torch.isfinite(after[name]).all()):
            raise ValueError(f"losses on {name!r} must be finite")
    score, se = _mean_se(before["domain"] - after["domain"])
    base_change = float((after["base"] - before["base"]).mean())
    threshold, step, z = p.quality_threshold / WEI, p.quality_step / WEI, p.quality_z / WEI
    if base_change > p.max_base_regression / WEI:
        # a text that clearly teaches the domain while the base set (16 windows of public text) worsens
        # is specialisation, or the base set's noise, not junk: not paid, not burned. The demo's honest
        # 5,222-character session measured +0.0056 ± 0.0016 on the domain and was burned before this.
        if score - z * se > threshold:
            return Quality(score, se, base_change, NEUTRAL, 1, f"score {score:+.4f} ± {se:.4f}, but the base set "
                                                               f"worsens by {base_change:+.4f} nats")
        return Quality(score, se, base_change, LOW, 1, f"base regression {base_change:+.4f} nats")
    # low quality is harm, not a small step back: a few honest lines on a trained fork can cost it a
    # few thousandths of a nat (measured -0.004), which is not worth a burn; noise costs -0.02
    if score + z * se < -p.max_base_regression / WEI:
        return Quality(score, se, base_change, LOW, 1, f"score {score:+.4f} ± {se:.4f}: worse beyond noise")
    scored = score - z * se
    if scored <= threshold:
        return Quality(score, se, base_change, NEUTRAL, 1, f"score {score:+.4f} ± {se:.4f}: not beyond noise")
    # the multiplier rates what each 1,000 characters teach, not the whole text's gain, which the
    # interactions already pay: on the total, pay was convex in the gain (the gain counted twice), so
    # the red team's 8,000 honest characters earned 0.486 HANZO judged whole (multiplier 2) against
    # 0.315 as four sessions in one domain, and the reverse in others: the session's size, not the
    # writing, set the pay. Per 1,000 characters, merging or splitting leaves the multiplier as it was.
    density = scored * 1000 / max(1, chars)
    multiplier = min(p.max_multiplier, 1 + math.floor((density - threshold) / step))
    return Quality(score, se, base_change, PAID, max(1, multiplier))


def too_short_to_pay(quality: Quality, chars: int, min_chars: int) -> Quality:
    """A paid verdict on fewer than `min_chars` characters of text trained on becomes neutral (its
    text is carried into the author's next session on the fork, so an honest short text is paid
    once enough has gathered).

    Why: the appraisal's standard error measures the exam's draw, not the training's own noise.
    Two or three Adam steps move every adapter weight by about the learning rate whatever the text
    is worth, so a 300-character text shifts the exam by about 0.0015 nats either way: the red team
    had 300 characters of shuffled public fragments paid 7 times in 19, and 9 in 12 when it first
    screened candidates against the public start, 1.9-2.7x honest pay per 1,000 characters. Longer
    texts average that noise out (1,000 characters of the same salad: paid 1 in 3, 0.006 HANZO a
    session against honest 0.03)."""
    if quality.outcome != PAID or chars >= min_chars:
        return quality
    return Quality(quality.score, quality.score_se, quality.base_change, NEUTRAL, 1,
                   f"score {quality.score:+.4f} ± {quality.score_se:.4f} on {chars} characters: fewer than "
                   f"{min_chars} are not paid (carried into your next session on the fork)")


def compression_ratio(text: str) -> float:
    raw = text.encode()
    return len(raw) / max(1, len(zlib.compress(raw, 9)))


def paid_interactions(quality: Quality, p: Tokenomics) -> int:
    """Interactions a paid session is paid for: one per quality_gain_per_interaction of its
    noise-discounted gain (score - z*se), at least one, at most the contract's per-op cap.

    Why the gain alone and not the characters: characters are what a user can inflate, and any
    cap by characters that binds on honest text pays padding. With one interaction per 256
    characters capped by the gain, a short honest text (whose gain per character is the highest:
    the appraisal's gain grows slower than its length) hit the character cap while the same text
    padded with 2,000 characters of shuffled public fragments (which no novelty channel calls a
    copy) did not, so padding earned 1.04x an honest session of the same own text in the farming
    benchmark. Paid by the gain, filler adds only what it teaches, and its noise (a wider se)
    costs it z*se."""
    scored = quality.score - p.quality_z / WEI * quality.score_se
    return max(1, min(p.max_interactions_per_op, math.ceil(scored / (p.quality_gain_per_interaction / WEI))))


def submission_id(user: str, fork: int, text: str) -> str:
    """A submission's identity: the same text from the same user on the same fork is one
    submission, whichever session id a worker gave it (a lost session store gives a new one)."""
    return hashlib.sha256(f"{user}\0{fork}\0{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Admission:
    submission: str
    novelty: Novelty
    verdict: dict | None  # the verdict recorded for this submission before (a retry), else None
    carried: str = ""  # the user's new text from earlier neutral sessions on this fork, trained on again
    carried_sources: frozenset[str] = frozenset()  # the accepted submissions the carried texts matched in part
    # what the fork's whole history matched (Gate._lineage_sources): every submission on the fork, this one and
    # the carried ones included, the texts they matched either way, the ones their pieces name all together,
    # and the paid sessions any of those was carried into
    lineage_sources: frozenset[str] = frozenset()

    @property
    def carried_chars(self) -> int:
        return len(self.carried)

    @property
    def sources(self) -> frozenset[str]:
        """Every accepted submission the text trained on (new and carried) matched in part: the
        exam must not hold their held-back windows (hanzo.model.private_eval.draw)."""
        return self.novelty.sources | self.carried_sources | self.lineage_sources


class Gate:
    """Refuses repetitive text, finds what is new, and remembers every admitted submission and its
    verdict (SQLite beside the novelty index, shared by every worker of the oracle)."""

    def __init__(self, path: Path, public: Iterable[str], p: Tokenomics):
        self.p = p
        self.index = NoveltyIndex(path, public)
        self.db = self.index.db
        self.db.execute("CREATE TABLE IF NOT EXISTS submissions (id TEXT PRIMARY KEY, user TEXT NOT NULL, "
                        "fork INTEGER NOT NULL, verdict TEXT, parent TEXT NOT NULL DEFAULT '', "
                        "outcome TEXT, new_text TEXT NOT NULL DEFAULT '', carried_into TEXT, "
                        "sources TEXT NOT NULL DEFAULT '[]')")
        # a gate recorded before carrying (or before sources were kept: such a carry excludes only its own)
        add_columns(self.db, "submissions", {"new_text": "TEXT NOT NULL DEFAULT ''", "carried_into": "TEXT",
                                             "sources": "TEXT NOT NULL DEFAULT '[]'"})
        # who named whom, kept both ways: a text sent before the one it copies is named by that later text only
        # (red team 30), and a fork that trained on the earlier must not be examined on the later's windows
        links_missing = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                        "name = 'source_links'").fetchone() is None
        self.db.execute("CREATE TABLE IF NOT EXISTS source_links (source TEXT NOT NULL, submission TEXT NOT NULL, "
                        "PRIMARY KEY (source, submission)) WITHOUT ROWID")
        self.db.execute("CREATE INDEX IF NOT EXISTS submissions_fork ON submissions (fork)")
        if self.index.pieces_missing or links_missing:
            # a gate made before the pieces channel or the links: the new text of every admission (what held-back
            # windows are cut from) gives its pieces, its recorded sources its links, so an upgrade keeps paid
            # texts' windows from their re-sales
            with self._transaction():
                for sid, new_text, sources in self.db.execute("SELECT id, new_text, sources FROM submissions"):
                    if self.index.pieces_missing:
                        self.index.remember_pieces(new_text, sid)
                    self.db.executemany("INSERT OR IGNORE INTO source_links VALUES (?, ?)",
                                        [(src, sid) for src in json.loads(sources)])

    def _transaction(self):
        """Atomic across the oracle's workers (they share the SQLite file)."""
        return immediate(self.db)

    def admit(self, user: str, fork: int, text: str, max_chars: int, alphabet: str | None = None,
              parent: bytes | None = None) -> Admission:
        """Admit `text` (recording it, so nobody's later text can copy it) or raise Rejected.
        Atomic across workers. The same user's same text on the same fork is the same submission:
        admitted again (a retry after any crash or a lost session store), with its verdict if one
        was recorded; from anyone else, or on another fork, it is a copy. A fork's head (`parent`,
        the adapter the chain last paid for it) has at most one paid child: a session judged from a
        head that already has one is refused until that child settles on chain and becomes the head
        (otherwise every session judged before the first is paid gets a fresh fork's gains)."""
        if len(text) < WINDOW:
            raise Rejected("short", f"the text has {len(text)} characters; a paid interaction needs {WINDOW}")
        if len(text) > max_chars:
            raise Rejected("long", f"the text has {len(text):,} characters; one session takes at most {max_chars:,} "
                                   "(split it into sessions)")
        foreign = sorted(set(text) - set(alphabet)) if alphabet is not None else []
        if foreign:
            # the model reads such characters as '?', and look-alike letters from other scripts or
            # invisible ones would split copied words so that novelty saw them as new
            raise Rejected("alphabet", f"{len(foreign)} characters outside the model's alphabet, e.g. "
                                       f"{', '.join(repr(c) for c in foreign[:5])}")
        letters = self.index.letter_share(text)
        if letters < self.p.min_letter_share / WEI:
            raise Rejected("wordless", f"{letters:.0%} of the characters are letters of words (the least is "
                                       f"{self.p.min_letter_share / WEI:.0%}; prose: 70% or more)")
        unknown = self.index.unknown_share(text)
        if unknown > self.p.max_unknown_word_share / WEI:
            # misspelled text teaches a fork misspellings, and it is how a copy hides from novelty:
            # a letter changed in every 4th word or more often leaves no window of it intact
            raise Rejected("misspelled", f"{unknown:.0%} of the words are in no public text (the limit is "
                                         f"{self.p.max_unknown_word_share / WEI:.0%}; honest writing: at most 8%)")
        ratio = compression_ratio(text)
        if ratio > self.p.max_compression_ratio / WEI:
            raise Rejected("repetitive", f"the text compresses {ratio:.1f}x (prose: about 2-3x; the limit is "
                                         f"{self.p.max_compression_ratio / WEI:g}x): it repeats itself")
        sid = submission_id(user, fork, text)
        with self._transaction():
            row = self.db.execute("SELECT verdict FROM submissions WHERE id = ?", (sid,)).fetchone()
            novelty = self.index.novelty(text, sid)
            head = (parent or b"").hex()
            if row is None:
                limit = self.p.max_duplicate_share / WEI
                if novelty.copied_share > limit:
                    # no figure: how much is copied depends on other users' private accepted text, and a
                    # refusal records nothing, so a number would answer "is this passage in someone's
                    # unpublished writing?" for free, as often as asked (red team 15)
                    raise Rejected("duplicate", f"more than {limit:.0%} of the text is in the public corpus or was "
                                                "submitted before")
                if novelty.new_chars < WINDOW:
                    raise Rejected("duplicate", f"fewer than {WINDOW} characters of the text are new (a paid "
                                                "interaction needs that many)")
                # of what novelty calls new (a copy is refused or trimmed above): the red team's third
                # round cut public text into 3-word pieces and shuffled them, which passes every copy
                # channel (no 4-word bag lies inside a piece) and, from a public start that is not at the
                # optimum on public text, was paid 1.02x honest work in The Tempest
                fragments = self.index.public_trigram_share(novelty.new_text)
                if fragments > self.p.max_public_trigram_share / WEI:
                    raise Rejected("fragments", f"{fragments:.0%} of the new words sit in 3-word runs of public text "
                                                f"(the limit is {self.p.max_public_trigram_share / WEI:.0%}; honest "
                                                "writing: at most 78%): a patchwork of public fragments")
                # per user: a head's paid child becomes the head only for the fork's owner (the chain
                # records the owner's adapters), so another user's paid session from it must not lock
                # the owner out (red team: one stranger's session on a new fork refused its owner for good)
                child = self.db.execute("SELECT 1 FROM submissions WHERE fork = ? AND parent = ? AND user = ? AND "
                                        "outcome = 'paid'", (fork, head, user)).fetchone()
                if child:
                    raise Rejected("pending", f"fork {fork} already has a paid session of yours from this adapter; "
                                              "continue from the adapter the chain pays for it once it settles")
                self.index.accept(text, sid)
                # the matches are kept because the text may be carried into a later session, which is
                # examined then: a carried rewrite of a paid text must not meet that text's held-back part
                self.db.execute("INSERT INTO submissions (id, user, fork, parent, new_text, sources) "
                                "VALUES (?, ?, ?, ?, ?, ?)",
                                (sid, user, fork, head, novelty.new_text, json.dumps(sorted(novelty.sources))))
                self.db.executemany("INSERT OR IGNORE INTO source_links VALUES (?, ?)",
                                    [(src, sid) for src in novelty.sources])
                self._claim_carry(user, fork, sid, max_chars - novelty.new_chars)
            rows = self.db.execute("SELECT new_text, sources, id FROM submissions WHERE carried_into = ? "
                                   "ORDER BY rowid", (sid,)).fetchall()
            carried_sources = frozenset(s for r in rows for s in json.loads(r[1]))
            lineage = self._lineage_sources(fork, [sid] + [r[2] for r in rows], novelty.sources | carried_sources)
            lineage -= {sid}  # its own held-back windows are cut after its exam
        return Admission(sid, novelty, None if row is None or row[0] is None else json.loads(row[0]),
                         "".join(r[0] for r in rows), carried_sources, lineage)

    def _lineage_sources(self, fork: int, trained: list[str], matched: frozenset[str]) -> frozenset[str]:
        """Whose held-back windows a session on `fork` must never be examined on: what its own text and the texts
        it carries (`trained`) matched (`matched`), and more, since its adapter continues the fork's paid sessions
        and it trains on carried text, so a bound per text (the pieces channel's) spread over sessions bounded
        nothing (red team 30: nine neutral sessions of 15 pieces each, carried into a tenth, trained on 93% of a
        paid text's rare pieces and named none). Every submission on the fork (any user's: a stranger's session
        starts from the owner's adapter too), every accepted text the fork's pieces name all together
        (NoveltyIndex.named_by_pieces), the later texts that named what it trains on (a text sent before the one
        it copies is named by that one only), and the sessions any of those was carried into (held-back windows
        are cut from the text a paid session trained on, carried text included, and filed under the paid
        session). Not the union of every earlier session's own sources: one shared 4-word bag names a text, and
        over 30 honest sessions those single-bag matches named 7 of 9 other users' paid texts (red team 31); what
        an earlier session learnt of a text in earnest, its pieces show."""
        on_fork = "SELECT id FROM submissions WHERE fork = ?"
        out = set(matched) | {r[0] for r in self.db.execute(on_fork, (fork,))}
        marks = ",".join("?" * len(trained))
        out.update(r[0] for r in self.db.execute(f"SELECT submission FROM source_links WHERE source IN ({marks})",
                                                 trained))
        for table in PIECE_TABLES:  # each channel counted apart, as for one text
            out |= self.index.named_by_pieces(self.db.execute(
                f"SELECT submission, at FROM {table} WHERE h IN (SELECT p.h FROM {table} p JOIN submissions s ON "
                f"p.submission = s.id WHERE s.fork = ?) AND submission NOT IN ({on_fork})", (fork, fork)))
        named = sorted(out)
        for i in range(0, len(named), 500):
            part = named[i:i + 500]
            out.update(r[0] for r in self.db.execute(
                f"SELECT carried_into FROM submissions WHERE id IN ({','.join('?' * len(part))}) AND "
                "carried_into IS NOT NULL AND carried_into != 'expired'", part))
        return frozenset(out)

    def _claim_carry(self, user: str, fork: int, submission: str, room: int) -> None:
        """A neutral session's new text is not lost: the same user's next session on the fork trains
        on it again with its own (most recent first, while the session stays within `room` more
        characters; older text that no longer fits expires) and, if that session is paid, is paid
        for it. The claim is taken inside the admission's transaction, so two concurrent sessions
        never carry the same text; a session that is not paid releases it."""
        rows = self.db.execute("SELECT id, length(new_text) FROM submissions WHERE user = ? AND fork = ? AND "
                               "outcome = 'neutral' AND carried_into IS NULL ORDER BY rowid DESC",
                               (user, fork)).fetchall()
        for carry_id, chars in rows:
            fits = chars <= room
            room -= chars if fits else 0
            self.db.execute("UPDATE submissions SET carried_into = ? WHERE id = ?",
                            (submission if fits else "expired", carry_id))
            if not fits:
                room = -1  # what is older than text that did not fit expires too: the carry stays recent

    def record(self, submission: str, verdict: dict) -> None:
        """The verdict of a submission, so a retry is answered without training again."""
        outcome = verdict["quality"]["outcome"]
        with self._transaction():
            if not self.db.execute("UPDATE submissions SET verdict = ?, outcome = ? WHERE id = ?",
                                   (json.dumps(verdict), outcome, submission)).rowcount:
                # undone meanwhile (the same session's other judgement failed): a verdict on no record would be
                # paid while the text is in no index; refused, nothing recorded, the session can be sent again
                raise Rejected("retry", f"submission {submission[:12]}: its admission was undone by a failed "
                                        "judgement of the same session; send the session again")
            if outcome != PAID:  # paid text is spent; otherwise what this session carried is carried on
                self.db.execute("UPDATE submissions SET carried_into = NULL WHERE carried_into = ?", (submission,))

    def forget(self, submission: str) -> None:
        """Undo an admission whose judgement failed (a missing adapter, a wrong key): the text is
        the user's again, not a copy of itself."""
        with self._transaction():
            # only an admission with no verdict is undone: the same session judged twice at once (two workers)
            # and the second failing must not unlist the first's paid text (red team 31: a verbatim copy was then
            # admitted and named nothing)
            if self.db.execute("DELETE FROM submissions WHERE id = ? AND verdict IS NULL", (submission,)).rowcount:
                self.db.execute("UPDATE submissions SET carried_into = NULL WHERE carried_into = ?", (submission,))
                self.db.execute("DELETE FROM source_links WHERE submission = ?", (submission,))
                self.index.forget(submission)

