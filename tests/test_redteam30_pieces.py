"""Red team, round 30: the pieces channel (novelty `_pieces_sources`, commit 3e8c1c3), from a greedy user who
reads all the public code. A session must never be examined on the held-back windows of a text it trained on; the
pieces channel named as a source any accepted text sharing PIECES_NEED (16) of the session's 3-word bags that no
public text has (since: its word pairs too, and PIECES_NEAR within PIECES_SPAN words). Each test states the property
that should hold; those that fail today are strict xfails with the measured numbers and a severity. Gate-level only:
nothing is trained here; two attacks were judged by the real oracle once each (scripts/redteam30/, their lines in
scripts/redteam30/results/). The Low (a separator inside the words) is closed by the letters channel."""

from __future__ import annotations

import difflib
import random
import re
from collections import Counter

import numpy as np
import pytest

from hanzo.model.corpus import LOCAL
from hanzo.model.novelty import (LETTERS, PIECE, NoveltyIndex, bag_hashes, letter_runs, piece_hashes,
                                 words)
from hanzo.model.private_eval import WINDOW, PrivateEvaluation
from hanzo.model.quality import NEUTRAL, PAID, Gate, Rejected
from hanzo.model.rewrites import _public_words

from .gates import fresh_gate, fresh_index, verdict

TWELFTH = LOCAL.users_text("twelfth-night")  # honest users' unpublished writing
TEMPEST = LOCAL.users_text("the-tempest")
PAID_TEXT = TWELFTH[20_000:23_000]  # the paid text every attack re-sells (596 words)
DOMAIN = "twelfth-night"


@pytest.fixture()
def gate(tmp_path, public_index):
    """A fresh gate for each test."""
    return fresh_gate(tmp_path, public_index)


@pytest.fixture()
def index(tmp_path, public_index):
    return fresh_index(tmp_path, public_index)


def _store(tmp_path) -> PrivateEvaluation:
    store = PrivateEvaluation(tmp_path / "private", chunks=64)
    store.seed(DOMAIN, LOCAL.private_passages(DOMAIN))
    return store


def _met(exam: str, held: str) -> int:
    """Exam windows that lie in `held` (a paid session's held-back text)."""
    return sum(exam[i:i + WINDOW] in held for i in range(0, len(exam), WINDOW))


def _with_random_words(pieces: list[str], rng: random.Random, per_line: int = 3) -> str:
    """The pieces shuffled, a random real word of the plays after each, `per_line` pieces a line."""
    pieces = list(pieces)
    rng.shuffle(pieces)
    vocab = _public_words()
    pieces = [p + " " + rng.choice(vocab) for p in pieces]
    return "\n".join(" ".join(pieces[i:i + per_line]) for i in range(0, len(pieces), per_line)) + "\n"


def _pairs(ws: tuple[str, ...], pairs: set[tuple[str, str]]) -> int:
    """How many of the word sequence's adjacent pairs `pairs` holds (what a re-sale keeps of its order)."""
    return sum((a, b) in pairs for a, b in zip(ws, ws[1:]))


def _resale_without_three_word_runs(kind: str, ws: tuple[str, ...], rng: random.Random) -> str:
    """Re-sales that keep no 3 consecutive words of the paid text together (so share none of its 3-word bags):
    `two`: its words cut into 2-word pieces; `overlapping-two`: every adjacent pair of its first 300 words as
    its own piece (all of their order, as pairs); `three-one-swapped`: 3-word pieces, one word replaced by a
    random real word (a synonym-like swap); `five-middle-swapped`: 5-word pieces, the middle word replaced."""
    vocab = _public_words()
    if kind == "two":
        pieces = [" ".join(ws[i:i + 2]) for i in range(0, len(ws) - 1, 2)]
    elif kind == "overlapping-two":
        pieces = [" ".join(ws[i:i + 2]) for i in range(299)]
    elif kind == "three-one-swapped":
        pieces = [f"{ws[i]} {ws[i + 1]} {rng.choice(vocab)}" for i in range(0, len(ws) - 2, 3)]
    else:
        pieces = [f"{ws[i]} {ws[i + 1]} {rng.choice(vocab)} {ws[i + 3]} {ws[i + 4]}" for i in range(0, len(ws) - 4, 5)]
    return _with_random_words(pieces, rng, per_line=4)


@pytest.mark.parametrize("kind", ["two", "overlapping-two", "three-one-swapped", "five-middle-swapped"])
def test_a_resale_keeping_no_three_consecutive_words_of_a_paid_text_still_names_it_as_a_source(
        gate, tmp_path, kind):
    """The pieces channel hashes 3-word runs; a paid text's word pairs survive without one. Measured on the
    3,000-character paid text (596 words): each re-sale below admitted, the paid text not among its sources.

    Closed (it was a strict xfail): the pieces channel counts the text's ordered word pairs that no public text
    has beside its 3-word bags. The finding was: Low (red team 15 measured its one 2-word re-sale: no gain on
    the held-back windows, -0.0058 nats; the longer runs kept here are unmeasured): a re-sale that never keeps 3
    consecutive words of the paid text together shares none of its 3-word bags, 4-word bags or 12-word sets:
    admitted 0-4% copied, the paid text in no channel's sources, so it is examined on the paid text's held-back
    windows (19 of 64: every held-back window of the exam). Word pairs of the paid text's 595 found in the re-
    sale: 2-word pieces 309 (every word), overlapping 2-word pieces 310 (all 299 of its first 300 words'),
    3-word pieces one word swapped 205, 5-word pieces middle swapped 250. Fix: a channel on ordered word pairs
    that no public text has, its threshold set on honest writing
    """
    paid = gate.admit(f"author-{kind}", 1, PAID_TEXT, 8192)
    gate.record(paid.submission, verdict(PAID))
    ws = words(PAID_TEXT)[0]
    resale = _resale_without_three_word_runs(kind, ws, random.Random(kind))
    admitted = gate.admit(f"sybil-{kind}", 2, resale, 8192)  # not refused
    assert admitted.novelty.copied_share < 0.5
    resale_pairs = {p for line in resale.splitlines() for p in zip(words(line)[0], words(line)[0][1:])}
    kept = _pairs(ws, resale_pairs)
    assert kept >= 190  # it keeps a third or more of the paid text's word order
    store = _store(tmp_path)
    _, held = store.split(paid.novelty.new_text, paid.submission)
    store.hold_back(DOMAIN, held + held, paid.submission, paid.submission[:8])
    unguarded = store.draw(DOMAIN, "s-sybil", exclude_user="sybil",
                           exclude_sessions=admitted.sources - {paid.submission})
    assert _met(unguarded, held + held) > 0  # what the exclusion would guard
    exam = store.draw(DOMAIN, "s-sybil", exclude_user="sybil", exclude_sessions=admitted.sources)
    assert paid.submission in admitted.sources, (
        f"{kind}: {kept} of {len(ws) - 1} word pairs kept, {admitted.novelty.copied_share:.0%} copied, "
        f"{_met(exam, held + held)} of 64 exam windows from the paid text's held-back part")


def _rare_pieces(text: str, index: NoveltyIndex) -> tuple[list[str], list[str]]:
    """(the text's 3-word pieces whose bag no public text has, those whose bag some public text has)."""
    spans = words(text)[1]
    pieces = [text[spans[i][0]:spans[i + 2][1]] for i in range(0, len(spans) - 2, 3)]
    public = [bool(np.isin(bag_hashes(words(p)[0], PIECE), index.public_pieces).any()) for p in pieces]
    return [p for p, pub in zip(pieces, public) if not pub], [p for p, pub in zip(pieces, public) if pub]


def _spaced_parts(rare: list[str], parts: int = 10, per: int = 5) -> list[list[str]]:
    """`parts` lists of `per` of the paid text's rare pieces each, far apart in it (a stride of len(rare) // per
    pieces, about 87 words here), so that no part alone shares PIECES_NEED pieces (3-word bags and word pairs)
    with it, nor PIECES_NEAR within PIECES_SPAN words."""
    stride = len(rare) // per
    return [[rare[k + j * stride] for j in range(per)] for k in range(parts)]


def _part(pieces: list[str], k: int, rng: random.Random) -> str:
    """A part: 300 characters of the sybil's own writing (a different stretch each), then the pieces."""
    return TEMPEST[30_000 + 400 * k:30_300 + 400 * k] + "\n" + _with_random_words(pieces, rng)


@pytest.fixture()
def fixed_secret(monkeypatch):
    """One secret for the private store, so which windows are held back is the same every run."""
    monkeypatch.setenv("HANZO_ORACLE_SECRET", "red team thirty: a secret of at least 32 characters")


def test_a_paid_texts_rare_pieces_spread_over_carried_neutral_sessions_name_it_when_carried_together(
        gate, tmp_path, fixed_secret):
    """The per-session bound of the pieces channel, as the oracle trains: `train_text` is the carried texts
    plus the new one. Ten sybil sessions on one fork, each 5 of the paid text's rare pieces far apart in it
    (under either bound alone, since word pairs count too) with a random word after each and 300 characters of
    its own writing, judged neutral (not beyond noise, or under min_paid_chars: too_short_to_pay), then one
    session of the sybil's own writing carries them all (each part already carries the parts before it).

    Closed (it was a strict xfail): Gate._lineage_sources counts the pieces of every submission on the fork
    together. The finding was: High: the pieces channel's bound (15 rare pieces of a paid text) is per
    submission, but a session trains on its own text and the user's earlier neutral texts it carries, and its
    sources are the union of each text's own: 9 neutral sessions of 15 rare pieces each (325-378 characters,
    admitted, none naming the paid text) carried into a 10th made of the sybil's own writing: it trains on 135
    of the paid text's 145 rare pieces (93%) and is examined on its held-back windows (19 of 64). Real oracle
    (scripts/redteam30/carry.py): the first two parts neutral (-0.0023, -0.0079), the third low quality, so the
    last session carried 30 pieces with 2,000 characters of own writing: paid (0.009 HANZO), 38 of its 128 exam
    windows the paid text's held-back part, gain there +0.0082 nats against -0.0009 on the rest; not a clear
    gain: honest controls of the play measured +0.0063 against +0.0062 and +0.0211 against +0.0065 (the held
    windows' gain is noisy, and the session held 2,000 honest characters); red team 15 measured the 3-word form
    at +0.0027 to +0.0118. Fix: compute the sources of the text trained on, carried + new (the pieces channel on
    the joined words)
    """
    paid = gate.admit("author", 1, PAID_TEXT, 8192)
    gate.record(paid.submission, verdict(PAID))
    rare, _ = _rare_pieces(PAID_TEXT, gate.index)
    rng = random.Random(30)
    parts = _spaced_parts(rare)
    refused = 0
    for k, pieces in enumerate(parts):
        while True:  # a refusal is free: shuffle the pieces and draw other random words until one is admitted
            try:
                part = gate.admit("sybil", 7, _part(pieces, k, rng), 8192)
                break
            except Rejected:
                refused += 1
                assert refused < 20
        assert paid.submission not in part.novelty.sources and part.novelty.copied_share < 0.5  # each alone
        gate.record(part.submission, verdict(NEUTRAL))
    final = gate.admit("sybil", 7, TEMPEST[40_000:42_000], 8192)
    carried = sum(p in final.carried for pieces in parts for p in pieces)
    assert carried == 50  # every piece of the ten sessions is trained on again, in one session
    store = _store(tmp_path)
    _, held = store.split(paid.novelty.new_text, paid.submission)
    store.hold_back(DOMAIN, held + held, paid.submission, "author")
    exam = store.draw(DOMAIN, final.submission, exclude_user="sybil", exclude_sessions=final.sources)
    assert paid.submission in final.sources, (
        f"trained on {carried} of {len(rare)} rare pieces ({refused} tries refused), {_met(exam, held + held)} of 64 "
        "exam windows from the paid text's held-back part")


def test_a_paid_texts_rare_pieces_spread_over_paid_sessions_of_one_fork_name_it_in_the_next(gate):
    """The neighbour of the carried spread: the fork's adapter continues from its last paid session, so ten
    paid sessions of 5 rare pieces each (under either bound alone) leave an adapter that learnt 50 of them, whatever
    any one session carried. The next session (the sybil's own writing, nothing carried) names the paid text: the
    fork's pieces are counted together (Gate._lineage_sources), each part alone names nothing."""
    paid = gate.admit("author", 1, PAID_TEXT, 8192)
    gate.record(paid.submission, verdict(PAID))
    rare, _ = _rare_pieces(PAID_TEXT, gate.index)
    rng = random.Random(31)
    alone = []
    for k, pieces in enumerate(_spaced_parts(rare)):
        for _ in range(20):  # a refusal is free: draw other random words until one is admitted
            try:
                part = gate.admit("sybil", 8, _part(pieces, k, rng), 8192,
                                  parent=bytes([k]))  # each from the adapter the chain paid last
                break
            except Rejected:
                continue
        alone.append(paid.submission in part.novelty.sources)
        gate.record(part.submission, verdict(PAID))
    final = gate.admit("sybil", 8, TEMPEST[40_000:42_000], 8192, parent=bytes([10]))
    assert final.carried == "" and not any(alone)
    assert paid.submission in final.sources


def _carried_into_paid(gate: Gate):
    """The author's first session is neutral; its new text is carried into the author's next session on the fork,
    which is paid. Returns (the first text, the neutral admission, the paid one)."""
    first = TWELFTH[20_000:23_000]
    neutral = gate.admit("author", 1, first, 8192)
    gate.record(neutral.submission, verdict(NEUTRAL))
    paid = gate.admit("author", 1, TWELFTH[24_000:25_500], 8192)
    assert paid.carried == neutral.novelty.new_text
    gate.record(paid.submission, verdict(PAID))
    return first, neutral, paid


def test_a_resale_of_a_text_carried_into_a_paid_session_is_never_examined_on_that_sessions_held_back_windows(
        gate, tmp_path, fixed_secret):
    """The author's first session is neutral (too short to pay, or not beyond noise); its new text is carried
    into the author's next session on the fork, which is paid and gives `held-back:<paid session>`.

    Closed (it was a strict xfail): Gate._lineage_sources adds the paid session every named text was carried
    into. The finding was: High: a paid session's held-back windows are cut from the text it trained on, carried
    text included, and stored under the paid session's id (held-back:<paid>), but a text matching the carried
    part names the neutral session that sent it, whose held-back windows do not exist: a re-sale of the carried
    text in 3-word pieces names the neutral text (144 shared pieces) and not the paid one, and 19 of 64 exam
    windows hold the carried text. Every channel, not only the pieces one. Fix: when a source was carried into a
    paid session (submissions.carried_into), exclude that session's held-back windows too
    """
    first, neutral, paid = _carried_into_paid(gate)
    store = _store(tmp_path)
    _, held = store.split(paid.carried + paid.novelty.new_text, paid.submission)  # as QualityOracle.judge
    store.hold_back(DOMAIN, held + held, paid.submission, "author")
    resale = gate.admit("sybil", 2, _with_random_words(_rare_pieces(first, gate.index)[0], random.Random(2)), 8192)
    assert neutral.submission in resale.sources  # the pieces channel names the text it re-sells
    own = gate.index._own_pieces
    shared = len(set(own(words(resale.novelty.text)[0])) & set(own(words(first)[0])))
    exam = store.draw(DOMAIN, resale.submission, exclude_user="sybil", exclude_sessions=resale.sources)
    windows = [exam[i:i + WINDOW] for i in range(0, len(exam), WINDOW)]
    of_carried = sum(any(w[j:j + 64] in first for j in range(0, WINDOW - 63, 64)) for w in windows)
    assert of_carried == 0, f"{shared} pieces shared with the neutral text, {of_carried} of 64 exam windows hold it"


def test_a_copy_of_part_of_a_text_carried_into_a_paid_session_excludes_that_sessions_held_back_windows(gate):
    """The neighbour of the carried text's re-sale through another channel: one phrase of the carried text (6
    words, none of its 4-word bags in public text) beside the sybil's own writing names it through the 4-word
    bags, under the pieces' thresholds; the paid session it was carried into is excluded all the same (every
    text a session matched is followed to the paid session it was carried into)."""
    first, neutral, paid = _carried_into_paid(gate)
    ws, spans = words(first)
    bags = bag_hashes(ws)
    at = next(i for i in range(len(ws) - 6) if not np.isin(bags[i:i + 3], gate.index.public).any())
    phrase = first[spans[at][0]:spans[at + 5][1]]
    copy = gate.admit("sybil", 5, TEMPEST[30_000:32_000] + "\n" + phrase + "\n", 8192)
    assert neutral.submission in copy.novelty.sources
    assert neutral.submission not in gate.index._pieces_sources(words(copy.novelty.text)[0], copy.submission)
    assert paid.submission in copy.sources


def test_a_resale_sent_before_the_paid_text_and_carried_later_is_never_examined_on_its_held_back_windows(
        gate, tmp_path, fixed_secret):
    """The pieces channel (like every channel) looks back only: a text names the accepted texts before it.

    Closed (it was a strict xfail): the gate keeps who named whom both ways (source_links), and the fork's
    pieces are counted against every accepted text at each admission. The finding was: High: sources are
    computed once, when a text is admitted, against what was accepted before it; a carried text keeps them
    (carried_sources). The author's sybil sends the paid text's 3-word pieces BEFORE the paid text (admitted,
    neutral); the paid text is admitted after it (36% trimmed by the content channel) and names the re-sale
    among its own sources, but the re-sale's stored sources stay empty: carried into the sybil's next session,
    it is trained on again (all 198 pieces of the paid text) with the paid text's held-back windows in the exam
    (19 of 64). Fix: compute a carried text's sources again when it is carried, or keep the relation both ways
    (a later text naming an earlier one names the earlier in the later's sources too)
    """
    early = gate.admit("sybil", 3, _with_random_words(
        [PAID_TEXT[a[0]:b[1]] for a, b in zip(words(PAID_TEXT)[1][0::3], words(PAID_TEXT)[1][2::3])],
        random.Random(3)), 8192)
    gate.record(early.submission, verdict(NEUTRAL))
    paid = gate.admit("author", 1, PAID_TEXT, 8192)  # admitted: the re-sale sent first trims little of it
    assert paid.novelty.copied_share < 0.5 and early.submission in paid.sources
    gate.record(paid.submission, verdict(PAID))
    store = _store(tmp_path)
    _, held = store.split(paid.novelty.new_text, paid.submission)
    store.hold_back(DOMAIN, held + held, paid.submission, "author")
    later = gate.admit("sybil", 3, TEMPEST[40_000:42_000], 8192)
    assert later.carried == early.novelty.new_text  # the pieces are trained on again in this session
    exam = store.draw(DOMAIN, later.submission, exclude_user="sybil", exclude_sessions=later.sources)
    assert paid.submission in later.sources, (
        f"paid text {paid.novelty.copied_share:.0%} copied, {_met(exam, held + held)} of 64 exam windows from its "
        "held-back part")


def test_four_word_pieces_of_a_paid_text_are_refused_as_a_copy(gate):
    """4-word pieces keep a 4-word bag each: the first channel finds them (refused as more than half copied,
    measured: the 3,000-character paid text's 149 pieces with a random word after each)."""
    paid = gate.admit("author", 1, PAID_TEXT, 8192)
    gate.record(paid.submission, verdict(PAID))
    spans = words(PAID_TEXT)[1]
    pieces = [PAID_TEXT[spans[i][0]:spans[i + 3][1]] for i in range(0, len(spans) - 3, 4)]
    with pytest.raises(Rejected) as refused:
        gate.admit("sybil", 2, _with_random_words(pieces, random.Random(4)), 8192)
    assert refused.value.reason == "duplicate"


def test_forgetting_and_retrying_either_side_keeps_the_paid_text_among_the_resales_sources(gate):
    """Gate.forget (a failed judgement) removes the text's pieces; the paid text admitted again (a retry) is a
    new acceptance with the same id, and a re-sale forgotten and retried is matched again: the paid text is
    among the re-sale's sources at every step (measured: 144 of its 145 rare pieces shared)."""
    resale = _with_random_words(_rare_pieces(PAID_TEXT, gate.index)[0], random.Random(5))
    paid = gate.admit("author", 1, PAID_TEXT, 8192)
    gate.forget(paid.submission)
    assert paid.submission not in gate.index.novelty(resale, "s-probe").sources  # forgotten
    again = gate.admit("author", 1, PAID_TEXT, 8192)
    assert again.submission == paid.submission
    gate.record(again.submission, verdict(PAID))
    first = gate.admit("sybil", 2, resale, 8192)
    gate.forget(first.submission)
    retry = gate.admit("sybil", 2, resale, 8192)
    assert paid.submission in first.sources and paid.submission in retry.sources


def test_an_attacker_cannot_get_named_by_honest_writing_from_the_domains_frequent_pieces(index):
    """Grief: an attacker who wants every honest text of a domain to name its sessions (so their exam
    exclusions and the sources query grow with its flood) sends texts made of the 3-word runs honest writing of the
    play repeats most that no public text has. Measured on 16 honest 3,000-character texts of Twelfth Night: no such
    piece (3-word bag or word pair) occurs in more than 3 of them (2 for the bags alone); attacker texts made of the
    first 8 texts' 300 most repeated pieces (each with a random word after it) are named by none of the other 8
    (16 pieces needed, or 8 within 48 words). How many such texts are accepted does not matter: the count is per
    accepted text."""
    from collections import Counter

    texts = [TWELFTH[s:s + 3000] for s in range(0, 48_000, 3000)]
    seen, runs = Counter(), {}
    for text in texts[:8]:
        ws = words(text)[0]
        own = set(index._own_pieces(ws))
        hs, at = piece_hashes(ws)
        bags = len(ws) - PIECE + 1  # piece_hashes lists the 3-word bags first, then the word pairs
        for n, (h, i) in enumerate(zip(hs.tolist(), at.tolist())):
            if h in own:
                runs.setdefault(h, " ".join(ws[i:i + (PIECE if n < bags else 2)]))
        seen.update(own)
    assert max(seen.values()) <= 3
    common = [runs[h] for h, _ in seen.most_common(300)]
    rng = random.Random(6)
    for k in range(3):
        index.accept(_with_random_words(common, rng), f"s-attacker-{k}")
    named = [sorted(index._pieces_sources(words(text)[0], "s-honest")) for text in texts[8:]]
    assert named == [[]] * 8


def _split(word: str, vocab: set[str], force: bool = False) -> str:
    """`word` with an apostrophe where both halves are words of the public plays ("comma'nd", "s'he"), the more
    even split first (the first of equals); `force`: at its middle when no split is ("alphab'etical"), or "the"
    for a 1-letter word."""
    best = max(((min(i, len(word) - i), -i) for i in range(1, len(word))
                if word[:i].lower() in vocab and word[i:].lower() in vocab), default=None)
    if best is None:
        return ("the" if len(word) == 1 else word[:len(word) // 2] + "'" + word[len(word) // 2:]) if force else word
    return word[:-best[1]] + "'" + word[-best[1]:]


def apostrophe_resale(text: str, index: NoveltyIndex) -> str:
    """The paid text itself, in order, every word that splits into two public words split by an apostrophe (the
    gate's `words` reads "comma'nd" as the words "comma" and "nd", both known), then any 4-word bag or rare
    3-word bag of the paid text left (runs of words that do not split) broken by force. The characters the
    fork trains on are the paid text's with an apostrophe in most words."""
    vocab = {w for t in LOCAL.public_texts().values() for w in words(t)[0]}
    out = re.sub(r"[A-Za-z]+", lambda m: _split(m.group(), vocab), text)
    fours = set(bag_hashes(words(text)[0]).tolist())
    rare = set(index._own_pieces(words(text)[0]))
    while True:
        ws, spans = words(out)
        bad = {i + 1 for i, h in enumerate(bag_hashes(ws).tolist()) if h in fours}
        bad |= {i + 1 for i, h in enumerate(bag_hashes(ws, PIECE).tolist()) if h in rare}
        if not bad:
            return out
        for i in sorted(bad, reverse=True):
            a, b = spans[i]
            out = out[:a] + _split(out[a:b], vocab, force=True) + out[b:]


@pytest.mark.parametrize("separator", ["'", "-", " ", "3"], ids=["apostrophe", "hyphen", "space", "digit"])
def test_the_paid_text_with_a_separator_splitting_its_words_names_it_as_a_source(gate, separator):
    """Closed (it was a strict xfail, Low): novelty read [a-z]+ runs, so an apostrophe inside a word made two
    words of it, and in Shakespeare's plays almost any letters are a word ("nd", "he", "s"). The paid text itself,
    in order, with an apostrophe inside most words where both halves are words of the plays ("comma'nd", "s'he":
    409 of 596 words, 10 more split by force, 4 one-letter words replaced) kept no 4-word bag, rare 3-word bag or
    similar 12-word set; the content channel trimmed 8%: admitted, 2% unknown words, the paid text in no
    channel's sources, though every character of it but 4 letters was kept in order. On the real oracle
    (scripts/redteam30/apostrophes.py) it was low quality (-0.0218 nats) and gained nothing on the paid text's
    held-back windows (-0.0214 there against -0.0219 on the rest; an honest control of the play +0.0211 against
    +0.0065): the apostrophes cost the fork more than the text taught, which a separator the fork minds less need
    not. The class is any separator inside a word (a hyphen, a space, a digit: the words differ, the letters do
    not); the letters channel (`letter_hashes`: runs of LETTERS letters of the words joined) names the paid text
    for each: 243 of its 253 kept runs shared with the apostrophes."""
    paid = gate.admit("author", 1, PAID_TEXT, 8192)
    gate.record(paid.submission, verdict(PAID))
    resale = apostrophe_resale(PAID_TEXT, gate.index).replace("'", separator)
    letters = re.sub(r"[^A-Za-z]", "", resale)
    kept = difflib.SequenceMatcher(None, letters, re.sub(r"[^A-Za-z]", "", PAID_TEXT), autojunk=False)
    assert kept.ratio() >= 0.99  # the letters are the paid text's, in order
    assert not set(bag_hashes(words(resale)[0]).tolist()) & set(bag_hashes(words(PAID_TEXT)[0]).tolist())
    admitted = gate.admit("sybil", 2, resale, 8192)
    assert admitted.novelty.copied_share < 0.5  # no word channel sees the copy
    shared = (set(gate.index._own_pieces(words(resale)[0], "accepted_letters"))
              & set(gate.index._own_pieces(words(PAID_TEXT)[0], "accepted_letters")))
    assert len(shared) >= 200
    assert paid.submission in admitted.sources


def test_honest_texts_of_one_play_share_too_few_letter_runs_to_name_each_other(index):
    """The letters channel's thresholds (the pieces channel's: PIECES_NEED in all, PIECES_NEAR within PIECES_SPAN
    words) against honest writing: 16 3,000-character texts of Twelfth Night and 14 of The Tempest (unpublished
    writing of the plays, quoting them freely). Measured: at most 3 kept runs shared by any two (211 pairs; 2 of
    the same play's 120 pairs), never 8 within 48 words. None names another."""
    named = 0
    for play in ("twelfth-night", "the-tempest"):
        text = LOCAL.users_text(play)
        chunks = [text[i:i + 3000] for i in range(0, len(text) - 3000, 3000)]
        for k, chunk in enumerate(chunks):
            index.accept(chunk, f"{play}-{k}")
        for k, chunk in enumerate(chunks):
            rows = index.shared_pieces(words(chunk)[0], f"{play}-{k}", "accepted_letters")
            per_text = Counter(sub for sub, _ in rows)
            assert max(per_text.values(), default=0) <= 3, (play, k, per_text)
            named += len(index.named_by_pieces(rows))
    assert named == 0


def _fewest_edits_to_break_every_kept_run(text: str, index: NoveltyIndex) -> tuple[int, int]:
    """(letters, edits): the fewest letters a re-sale must change (or drop, or put something inside) so that none
    of the text's kept letter runs that no public text has survives whole, however the edits are chosen. An edit
    breaks the runs that span it, so this is the fewest points stabbing every such run's LETTERS letters:
    greedily, each point at the end of the first run not yet broken."""
    letters = "".join(words(text)[0])
    h, kept = letter_runs(letters)
    starts = np.flatnonzero(kept & ~np.isin(h.view(np.int64), index.public_letters)).tolist()
    edits, broken_until = 0, -1
    for s in starts:
        if s > broken_until:
            edits, broken_until = edits + 1, s + LETTERS - 1
    return len(letters), edits


@pytest.mark.parametrize("play", ["twelfth-night", "the-tempest", "hamlet", "julius-caesar"])
def test_breaking_every_kept_letter_run_of_a_paid_text_takes_an_edit_in_every_22_letters(index, play):
    """The letters channel's bound (red team 32, Low, accepted): its kept runs are chosen by a public hash, so an
    attacker who reads the code can change one letter in each kept run the paid text does not share with the
    public plays and leave every run unmatched. On red team 30's hyphen re-sale of PAID_TEXT that took 122-129
    readable edits (a letter dropped, a vowel elided, a digit look-alike: 1 in 18 letters, 1.7-1.9% unknown
    words) and escaped every channel; untargeted, a letter dropped every 11th escaped (11.4% unknown words, the
    gate's limit 15%), every 15th was named (45 runs shared). A secret choice of the kept runs, or every run kept,
    would only move the targeted attacker to the untargeted one. What bounds the class is value: on the real
    oracle (one run each, twelfth-night) each such whole re-sale was low quality (-0.027 to -0.086 nats, 0
    HANZO; an honest control +0.0078, paid), and a sybil's own 2,000 characters with only the paid text's
    held-back part elided beside it was paid 24% less than those 2,000 characters alone (0.117 against 0.153
    HANZO; +0.0074 nats more on the held-back windows, -0.0051 on the rest of its exam). Asserted: the bound, at
    least an edit in every 22 letters of a 3,000-character paid text, in each domain (a sparser sample of runs
    fails it); the fewest are 109-118 edits, 1 in 19.3-21.0 letters (a kept run starts about every LETTER_SAMPLE
    letters and one edit breaks those starting within LETTERS of it)."""
    text = LOCAL.users_text(play)[20_000:23_000]
    letters, edits = _fewest_edits_to_break_every_kept_run(text, index)
    print(f"{play}: {edits} edits break every kept run of {letters} letters (1 in {letters / edits:.1f})")
    assert edits * 22 >= letters


def test_a_resale_with_a_letter_dropped_in_every_15_still_names_the_paid_text(gate):
    """Beside the bound above: the hyphen re-sale (red team 30) with a letter dropped every 15 letters, regardless
    of which runs are kept, still shares enough kept runs with the paid text to name it."""
    paid = gate.admit("author", 1, PAID_TEXT, 8192)
    gate.record(paid.submission, verdict(PAID))
    resale, seen = [], 0
    for c in apostrophe_resale(PAID_TEXT, gate.index).replace("'", "-"):
        seen += c.isalpha()
        if not (c.isalpha() and seen % 15 == 0):
            resale.append(c)
    admitted = gate.admit("sybil", 2, "".join(resale), 8192)
    assert paid.submission in admitted.sources


def test_a_sybil_session_holding_a_whole_held_back_window_in_pieces_names_the_paid_text(gate, tmp_path, fixed_secret):
    """Pieces drawn only from the held-back windows (which the author finds through its own adapter: the
    script above; here the store's split with the test's secret stands for that).

    Closed (it was a strict xfail): PIECES_NEAR (8) shared pieces within PIECES_SPAN (48) words of the accepted
    text name it too. The finding was: Medium: the held-back windows are chosen by the secret 'so the user
    cannot tell which', but the author owns the adapter its session trained without them: ranking its own
    256-character windows by the adapter's loss drop from the public start found every held-back window, 5 of 5
    in 3 paid texts (scripts/redteam30/held_windows.py: held -0.0028 to 0.0127 nats, trained 0.0177-0.0476). A
    held-back window has few rare pieces (here 12 and 11 of its 16 and 15 3-word pieces), under PIECES_NEED: a
    sybil session of every 3-word piece of one held-back window, with its own writing, never names the paid text
    and is examined on its held-back windows (19 of 64). Fix: count the pieces channel per 256-character window
    of the accepted text too (a source when most of one window's rare pieces are shared, say 8 of them); the
    adapter cannot be kept from its owner, and training it on the held-back windows would leak them to others'
    sessions on it
    """
    paid = gate.admit("author", 1, PAID_TEXT, 8192)
    gate.record(paid.submission, verdict(PAID))
    store = _store(tmp_path)
    _, held = store.split(paid.novelty.new_text, paid.submission)
    store.hold_back(DOMAIN, held + held, paid.submission, "author")
    found = []
    for k in range(0, len(held), WINDOW):
        rare, public = _rare_pieces(held[k:k + WINDOW], gate.index)
        sale = _with_random_words(rare + public, random.Random(k)) + TEMPEST[40_000 + 5 * k:41_000 + 5 * k]
        admitted = gate.admit("sybil", 2 + k, sale, 8192)
        exam = store.draw(DOMAIN, admitted.submission, exclude_user="sybil", exclude_sessions=admitted.sources)
        found.append((len(rare), len(rare + public), paid.submission in admitted.sources, _met(exam, held + held)))
    assert all(named for _, _, named, _ in found), f"(rare, all pieces, named, exam windows met) per window: {found}"
