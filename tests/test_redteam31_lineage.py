"""Red team, round 31: the exclusion that follows the fork (`Gate._lineage_sources`, commit 42ebc94) and the pieces
channel's near rule (commit c885733), from a greedy user who reads all the public code and from an operator. A
session must never be examined on the held-back windows of a text its fork trained on; the exclusion should not
cost an honest fork most of the domain's held-back windows, nor admission its speed. Each test states the property
that should hold; those that fail today are strict xfails with the measured numbers and a severity. Gate-level
only: nothing is trained here."""

from __future__ import annotations

import pytest

from hanzo.model.corpus import LOCAL
from hanzo.model.novelty import PIECES_NEAR, PIECES_NEED, PIECES_SPAN, words
from hanzo.model.private_eval import PrivateEvaluation
from hanzo.model.quality import PAID, Gate

from .gates import fresh_gate, verdict

TWELFTH = LOCAL.users_text("twelfth-night")  # honest users' unpublished writing (48,260 characters)
TEMPEST = LOCAL.users_text("the-tempest")
DOMAIN = "twelfth-night"


@pytest.fixture()
def gate(tmp_path, public_index):
    """A fresh gate for each test."""
    return fresh_gate(tmp_path, public_index)


def _others(gate: Gate, n: int = 9, chars: int = 2_000, start: int = 30_000) -> list[str]:
    """`n` honest users' paid sessions of `chars` characters of Twelfth Night, each on its own fork."""
    out = []
    for k in range(n):
        a = gate.admit(f"other-{k}", 100 + k, TWELFTH[start + chars * k:start + chars * (k + 1)], 8192)
        gate.record(a.submission, verdict(PAID))
        out.append(a.submission)
    return out


def _held_back_share(gate: Gate, tmp_path, subs: list[str], excluded: frozenset[str]) -> float:
    """The share of the `subs` sessions' held-back characters that an exam excluding `excluded` loses."""
    store = PrivateEvaluation(tmp_path / "private", chunks=64)
    held = {}
    for sid in subs:
        (text,) = gate.db.execute("SELECT new_text FROM submissions WHERE id = ?", (sid,)).fetchone()
        held[sid] = len(store.split(text, sid)[1])
    return sum(n for sid, n in held.items() if sid in excluded) / sum(held.values())


def _long_fork(gate: Gate, sessions: int, who: str) -> list:
    """`sessions` honest sessions of 1,000 characters of Twelfth Night on fork 1 (TWELFTH[0:30,000], no overlap
    with the other users' texts), each paid: by its owner (`owner`), or each by a new user name (`strangers`:
    anyone may train anyone's fork, and a user name is free)."""
    out = []
    for s in range(sessions):
        user = "owner" if who == "owner" else f"stranger-{s}"
        a = gate.admit(user, 1, TWELFTH[1000 * s:1000 * (s + 1)], 8192, parent=s.to_bytes(4, "big"))
        gate.record(a.submission, verdict(PAID))
        out.append(a)
    return out


def test_a_long_honest_fork_keeps_most_of_the_other_honest_users_held_back_windows(gate, tmp_path):
    """An honest fork's 31st session must still be examined on most (at least 75%) of the held-back windows of
    other honest users' texts it never saw.

    Closed (it was a strict xfail): the lineage no longer keeps the union of every earlier session's own
    sources, only what the fork's pieces name all together and the later texts that named what the session
    trains on. The finding was: Medium: a long honest fork's lineage grows to name most of the domain's other
    honest paid texts, none of which it copied: after 30 honest 1,000-character sessions on one fork, the next
    admission's sources name 7 of 9 other users' paid 2,000-character texts, so its exam loses 78% of their
    held-back characters. Each session alone names 0-1 of them (11 namings in 30 sessions, all by the 4-word-bag
    channel: one shared non-public 4-word bag names a text; pieces channel 0, similarity 0, content 0); the
    lineage keeps the union of every session's sources, so these single-bag false positives add up (3 of 9 after
    6 sessions, 6 after 15). Fix: carry into the lineage only sources named by a strong match (the pieces
    thresholds, or several shared bags), not the union of every session's single-bag sources
    """
    others = _others(gate)
    fork = _long_fork(gate, 30, "owner")
    last = fork[-1]
    per_text = frozenset().union(*(a.novelty.sources for a in fork))
    assert len(set(others) & last.novelty.sources) <= 1  # the last text itself copies (almost) nobody
    lost = _held_back_share(gate, tmp_path, others, last.sources)
    assert lost <= 0.25, (f"{len(set(others) & last.sources)} of {len(others)} other honest texts named by the "
                          f"lineage ({len(set(others) & per_text)} by the sessions' own novelty), {lost:.0%} of their "
                          "held-back characters lost")


def test_strangers_on_an_owners_fork_cannot_strip_the_owners_exam_of_held_back_windows(gate, tmp_path):
    """Other users' sessions on my fork (the chain pays the owner, not them) must not take most of the domain's
    held-back windows out of my exams.

    Closed (it was a strict xfail): the lineage no longer keeps the union of every earlier session's own
    sources, only what the fork's pieces name all together and the later texts that named what the session
    trains on. The finding was: Low (griefing, no gain to the griefer): anyone may send sessions on anyone's
    fork under free user names, and every one of them joins the owner's lineage: 28 strangers' honest
    1,000-character sessions on an owner's fork make the owner's next session name 7 of 9 other users' paid
    texts it never saw (about 78% of their held-back characters lost from its exam; before the strangers: 1 of
    9, 12%). Fix: key the lineage on the user's own chain of adapters (submissions whose parent is an adapter of
    the session's chain), not every submission sharing the fork's number
    """
    others = _others(gate)
    first = gate.admit("owner", 1, TWELFTH[29_000:30_000], 8192, parent=b"\xff" * 4)
    gate.record(first.submission, verdict(PAID))
    before = _held_back_share(gate, tmp_path, others, first.sources)
    assert before <= 0.25
    _long_fork(gate, 28, "strangers")
    after = gate.admit("owner", 1, TWELFTH[28_000:29_000], 8192, parent=b"\xfe" * 4)
    lost = _held_back_share(gate, tmp_path, others, after.sources)
    assert lost <= 0.25, (f"before the strangers {before:.0%} lost, after {lost:.0%} "
                          f"({len(set(others) & after.sources)} of {len(others)} named)")


@pytest.mark.parametrize("play", ["twelfth-night", "the-tempest"])
def test_honest_8192_character_sessions_of_one_play_share_too_few_pieces_to_name_each_other(gate, play):
    """At the longest session (8,192 characters), honest users' texts of the same play never reach the pieces
    channel's thresholds with each other. Measured (5 texts a play, each against the earlier ones): at most 6
    shared pieces in all (PIECES_NEED is 16), and the pieces channel names none of them. (The older channels do
    name some: the 5th Twelfth Night text's novelty sources hold 3 of the 4 earlier honest texts, the 5th
    Tempest text's 3 of 4 - shared 4-word bags and windows; not the pieces channel.)"""
    text = LOCAL.users_text(play)
    subs, worst_total, worst_near = [], 0, 0
    for k in range(len(text) // 8192):
        chunk = text[8192 * k:8192 * (k + 1)]
        ws = words(chunk)[0]
        rows = gate.index.shared_pieces(ws, "")
        total: dict[str, int] = {}
        near: dict[tuple, int] = {}
        for sub, at in rows:
            total[sub] = total.get(sub, 0) + 1
            for shift in (0, PIECES_SPAN // 2):
                near[(sub, shift, (at + shift) // PIECES_SPAN)] = near.get((sub, shift, (at + shift) // PIECES_SPAN),
                                                                           0) + 1
        worst_total = max([worst_total, *total.values()])
        worst_near = max([worst_near, *near.values()])
        assert not gate.index._pieces_sources(ws, "") & set(subs)
        a = gate.admit(f"{play}-{k}", 500 + k, chunk, 8192)
        subs.append(a.submission)
    assert len(subs) >= 5
    assert worst_total < PIECES_NEED and worst_near < PIECES_NEAR, (worst_total, worst_near)


@pytest.mark.parametrize("order", ["recorded-then-failed", "failed-then-recorded"])
def test_a_failed_duplicate_judgement_never_unlists_a_paid_text(gate, order):
    """A paid text stays in the index whatever a concurrent duplicate of its judgement does: a verbatim copy
    from another user is refused as a duplicate.

    Closed (it was a strict xfail): Gate.forget unlists the text only when it undid the admission, and
    Gate.record refuses (Rejected 'retry') a verdict on an admission undone meanwhile. The finding was: High:
    the same session sent twice at once (two workers: Gate.admit answers the second with no verdict while the
    first is judged) and the second made to fail (a wrong secret: Oracle.judge then calls Gate.forget) wipes the
    paid text from the novelty index: Gate.forget deletes the submission's row only while its verdict is empty,
    but calls NoveltyIndex.forget (its bags, windows, content words and pieces) either way. Measured on a
    3,000-character paid text: a sybil's verbatim copy is then admitted (19% copied: only its public part),
    names no source (the paid text not among them), so it is paid for the same text again and examined on its
    held-back windows; when the failure comes first, the row is deleted and the paid verdict lands on no row.
    Fix: in Gate.forget call self.index.forget only when the row was deleted (inside the `if`), and let
    Gate.record refuse (or re-admit) a submission whose row is gone
    """
    from hanzo.model.quality import Rejected

    paid_text = TWELFTH[20_000:23_000]
    first = gate.admit("author", 1, paid_text, 8192)
    second = gate.admit("author", 1, paid_text, 8192)  # the same request on a second worker, not yet judged
    assert second.submission == first.submission and second.verdict is None
    if order == "recorded-then-failed":
        gate.record(first.submission, verdict(PAID))
        gate.forget(second.submission)  # the second judgement failed (Oracle.judge's except)
    else:  # the first judgement's paid verdict lands on an undone admission: refused, so nothing is paid
        gate.forget(second.submission)
        with pytest.raises(Rejected) as refused:
            gate.record(first.submission, verdict(PAID))
        assert refused.value.reason == "retry"
        assert gate.db.execute("SELECT 1 FROM submissions WHERE id = ?", (first.submission,)).fetchone() is None
        return
    try:
        copy = gate.admit("sybil", 2, paid_text, 8192)
    except Rejected:
        return
    assert first.submission in copy.sources, (f"verbatim copy admitted, {copy.novelty.copied_share:.0%} copied, "
                                              f"{len(copy.sources)} sources")


def test_pieces_spread_over_many_forks_and_users_never_reach_one_sessions_training_text_unnamed(gate):
    """Escaping the lineage by moving text between forks: the sybil sends 5 of a paid text's rare 3-word runs
    (15 pieces: each run is a bag and two word pairs) with a random word after each and 600 characters of its
    own writing per neutral session, on 9 forks of its own, then as a stranger on a 10th user's fork, then on
    that fork as its owner. Carrying is per (user, fork), so no session trains on more than its own 15 pieces
    (the documented bound): every session's training text (carried + new) either holds fewer than PIECES_NEED
    of the paid text's pieces or names it. Measured:
    every session carries nothing (0 characters), its training text holds 0-8 of the paid text's pieces (novelty
    trims most runs as copied), and 9 of the 11 sessions name the paid text anyway (the other two hold 7)."""
    import random

    from hanzo.model.quality import NEUTRAL
    from tests.test_redteam30_pieces import _rare_pieces, _with_random_words

    paid_text = TWELFTH[20_000:23_000]
    paid = gate.admit("author", 1, paid_text, 8192)
    gate.record(paid.submission, verdict(PAID))
    rare = _rare_pieces(paid_text, gate.index)[0]
    own = set(gate.index._own_pieces(words(paid_text)[0]))
    rng = random.Random(31)
    steps = [("sybil", 2 + k) for k in range(9)] + [("sybil", 20), ("owner", 20)]
    for k, (user, fork) in enumerate(steps):
        part = (TEMPEST[20_000 + 700 * k:20_600 + 700 * k] + "\n"
                + _with_random_words(rare[5 * k:5 * k + 5], rng))
        a = gate.admit(user, fork, part, 8192, parent=bytes([k]))
        gate.record(a.submission, verdict(NEUTRAL))
        trained = set(gate.index._own_pieces(words(a.carried + a.novelty.new_text)[0]))
        assert len(trained & own) < PIECES_NEED or paid.submission in a.sources, (k, len(trained & own), a.carried)


def test_a_flood_of_the_domains_commonest_non_public_pairs_neither_names_nor_slows_an_honest_admission(gate):
    """Cost and grief as an operator sees it: the attacker sends texts each holding the 60 word pairs that no
    public text has and that honest Twelfth Night writing repeats most ("sir toby" in 10 of 30 honest
    1,000-character stretches, "sir andrew" 8, "in illyria" 6, then 3 or fewer), shuffled, two random public words
    after each. Measured here (60 tries: 52 admitted, the rest refused as copies of earlier flood texts; each
    admitted one names the earlier ones): an honest 8,192-character admission afterwards names none of them, and
    its pieces meet 104 accepted-piece rows of others against 0 before (2 per flood text: it holds few of the
    pairs). A script's 100 and 400 tries (59 and 101 admitted, 6,217 source links after 112): the honest
    admission took 0.11-0.12 s of CPU against 0.12 s before, and named none. Sent on an owner's fork (strangers
    may), 112 admitted flood texts all join the owner's lineage (114 sources; admission 0.05 s -> 0.08 s), but
    being unpaid they hold back no windows."""
    import random
    from collections import Counter

    import numpy as np

    from hanzo.model.novelty import piece_hashes
    from hanzo.model.quality import Rejected
    from hanzo.model.rewrites import _public_words

    df: Counter = Counter()
    for s in range(30):
        ws = words(TWELFTH[1000 * s:1000 * (s + 1)])[0]
        pairs = piece_hashes(ws)[0][len(ws) - 2:]  # the bags first, then the ordered word pairs
        rare = ~np.isin(pairs, gate.index.public_pieces)
        df.update({(ws[i], ws[i + 1]) for i in np.flatnonzero(rare).tolist()})
    common = [" ".join(p) for p, _ in df.most_common(60)]
    vocab, rng = _public_words(), random.Random(31)
    honest = TWELFTH[40_000:48_192]

    def scanned() -> tuple[int, frozenset[str]]:
        a = gate.admit("honest", 9, honest, 8192)
        rows = len(gate.index.shared_pieces(words(honest)[0], a.submission))
        gate.forget(a.submission)
        return rows, a.sources

    before, _ = scanned()
    flood = []
    for k in range(60):
        rng.shuffle(common)
        text = "\n".join(f"{p} {rng.choice(vocab)} {rng.choice(vocab)}" for p in common) + "\n"
        try:
            flood.append(gate.admit(f"flood-{k}", 1000 + k, text, 8192).submission)
        except Rejected:
            pass
    after, sources = scanned()
    assert len(flood) >= 20
    assert not sources & set(flood) and after - before <= 5 * len(flood), (len(sources & set(flood)), before, after)
