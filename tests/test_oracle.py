"""The quality oracle (issue 15): an evaluation no user can train on, novelty against everything
public and everything accepted, work bounded by the text, three outcomes, and a submission
judged once whatever crashed. The economics against greedy strategies at scale are in
benchmarks/farming.py; here each rule is shown to hold, on the shipped base model."""

from __future__ import annotations

import math
import os
import random
import sqlite3
import stat
from pathlib import Path

import pytest
import torch

from hanzo.econ.params import DEFAULT
from hanzo.model.corpus import LOCAL, CorpusRoles
from hanzo.model import lora
from hanzo.model.forks import ForkTrainer
from hanzo.model.novelty import NoveltyIndex
from hanzo.model.oracle import OracleConfig, QualityOracle
from hanzo.model.private_eval import PrivateEvaluation, PrivateEvalError
from hanzo.model.quality import LOW, NEUTRAL, PAID, Rejected, assess, paid_interactions, too_short_to_pay
from hanzo.model.rewrites import REWRITES, interleave, word_salad

from .gates import fresh_gate, fresh_index, verdict

HAMLET = LOCAL.users_text("hamlet")  # stands for an honest user's unpublished writing


def public_slice(n: int, seed: int) -> str:
    rng = random.Random(seed)
    texts = LOCAL.public_texts()
    t = texts[rng.choice(sorted(texts))]
    s = rng.randrange(0, len(t) - n)
    return t[s:s + n]


# ---------------------------------------------------------------- the corpus roles

def test_the_three_roles_are_disjoint_and_cover_each_domain():
    public = LOCAL.public_texts()
    assert not set(public) & set(LOCAL.domains.values())  # no held-out play is public
    for domain in LOCAL.domains:
        users, private = LOCAL.users_text(domain), "".join(LOCAL.private_passages(domain))
        assert len(users) > 20_000 and len(private) > 20_000
        assert private[:500] not in users and users[:500] not in private
    with pytest.raises(ValueError, match="private_share"):
        CorpusRoles(private_share=1.0)
    with pytest.raises(ValueError, match="no play named nowhere"):
        CorpusRoles(domains={"x": "nowhere"})
    with pytest.raises(ValueError, match="domain 'x'"):
        LOCAL.users_text("x")


# ---------------------------------------------------------------- novelty

@pytest.fixture(scope="module")
def index(tmp_path_factory, public_index):
    return fresh_index(tmp_path_factory.mktemp("novelty"), public_index)


@pytest.fixture(scope="module")
def public_gate(tmp_path_factory, public_index):
    """A gate for the rules that refuse before anything is recorded (building one indexes the public
    corpus: about 10 s); tests that admit text use users of their own."""
    return fresh_gate(tmp_path_factory.mktemp("gate"), public_index)


# what novelty does not see whole: the misspelled ones are refused before it (below); the last is
# the residual the farming benchmark prices
PARTLY = {"a letter in every 2nd word": 0.15, "a letter in every word": 0.0,
          "lines shuffled, every 3rd word a random word": 0.1}


@pytest.mark.parametrize("name", [n for n in REWRITES if n not in PARTLY])
def test_novelty_sees_through_each_rewrite_of_public_text(index, name):
    """Each rewrite of public text is found (nearly) whole: the bags, the 12-word sets and the
    meaning words in order, between them. Before the content channel, a letter in every 3rd word was
    found 21-40% and a common word in place of every 3rd 10-51% (the previous round's best farms)."""
    text = REWRITES[name](public_slice(3000, 1), random.Random(2))
    assert index.novelty(text).copied_share > 0.9, name


@pytest.mark.parametrize("name, found", sorted(PARTLY.items()))
def test_novelty_sees_part_of_the_densest_rewrites(index, name, found):
    text = REWRITES[name](public_slice(3000, 1), random.Random(2))
    assert index.novelty(text).copied_share >= found


def test_a_real_word_in_place_of_every_third_is_found_in_accepted_text_too(tmp_path):
    """A sybil's rewrite of an honest user's accepted text, every third word replaced, is a copy."""
    index = NoveltyIndex(tmp_path / "n.sqlite", [public_slice(2000, 6)])
    text = HAMLET[5000:8000]
    index.accept(text, "a")
    rewrite = REWRITES["every 3rd word replaced by a common word"](text, random.Random(1))
    assert index.novelty(rewrite, "b").copied_share > 0.9
    index.forget("a")
    assert index.novelty(rewrite, "b").copied_share < 0.35


@pytest.mark.parametrize("name", ["a letter in every 4th word", "a letter in every 3rd word",
                                  "a letter in every 2nd word", "a letter in every word"])
def test_a_copy_with_a_letter_changed_every_few_words_is_refused_as_misspelled(public_gate, name):
    """The previous round's best farm (a letter in every 3rd word: every window damaged, 21-40%
    found) and its denser neighbours, which novelty cannot see at all (0-7% found), are mostly
    words that exist nowhere: the gate refuses them before training. Honest writing in a held-out
    play's voice, names included, stays far under the limit."""
    gate = public_gate
    for k in range(3):
        with pytest.raises(Rejected) as r:
            gate.admit("farmer", 1, REWRITES[name](public_slice(3000, 20 + k), random.Random(k)), 8192)
        assert r.value.reason == "misspelled", name
    limit = DEFAULT.max_unknown_word_share / 10**18
    for domain in LOCAL.domains:
        writing = LOCAL.users_text(domain)
        shares = [gate.index.unknown_share(writing[s:s + 1000]) for s in range(0, 30_000, 1000)]
        assert max(shares) < limit * 0.6, domain


@pytest.mark.parametrize("soup", ["one word", "words of 20 letters", "words of 30 letters"])
def test_letters_with_no_space_beside_honest_writing_are_refused_as_misspelled(public_gate, soup):
    """Red team 32: 2,500 characters of honest writing with one random word of thousands of letters beside it were
    admitted (one unknown word in 378: 0.3%) and trained on as new text. An unknown word counts once for every 20
    letters it has begun, so the letters are as unknown as that many words however they are cut; the honest
    writing alone is admitted."""
    rng = random.Random(32)
    letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(5000))
    cut = {"one word": 5000, "words of 20 letters": 20, "words of 30 letters": 30}[soup]
    writing = HAMLET[10_000:12_500]
    text = writing + "\n" + " ".join(letters[i:i + cut] for i in range(0, len(letters), cut))
    with pytest.raises(Rejected) as r:
        public_gate.admit(f"souper-{cut}", 1, text, 8192)
    assert r.value.reason == "misspelled"
    assert public_gate.index.unknown_share(text) > 0.3  # the limit is 15%
    assert public_gate.index.unknown_share(writing) < 0.05


def test_public_text_cut_into_pieces_of_three_or_four_words_is_refused_as_fragments_not_honest_writing(
        public_gate):
    """The red team's third round: 3-word pieces of public text, shuffled, pass every copy channel
    (no 4-word bag survives inside a piece; 4-word pieces would leave one, and 2-word salad makes
    the model worse) and were paid up to 1.02x honest work in The Tempest. Nearly all their words
    sit in ordered 3-word runs of public text; honest writing, for all its shared phrases, at most
    78% of a 300-character piece's."""
    from hanzo.model.rewrites import fragment_salad

    gate = public_gate
    everything = "\n".join(LOCAL.public_texts()[n] for n in sorted(LOCAL.public_texts()))
    for k in (3, 4):
        for seed in range(3):
            rng = random.Random(seed)
            s = rng.randrange(0, len(everything) - 200_000)
            with pytest.raises(Rejected) as r:
                gate.admit("farmer", 1, fragment_salad(everything[s:s + 150_000], rng, k)[:1000], 8192)
            # 4-word pieces keep a bag inside each piece: novelty already calls them copied
            assert r.value.reason == ("fragments" if k == 3 else "duplicate"), (k, str(r.value))
            assert k == 4 or "patchwork of public fragments" in str(r.value)
    limit = DEFAULT.max_public_trigram_share / 10**18
    for domain in LOCAL.domains:
        writing = LOCAL.users_text(domain)
        shares = [gate.index.public_trigram_share(writing[s:s + 1000]) for s in range(0, 30_000, 1000)]
        assert max(shares) < limit - 0.05, domain
        gate.admit(f"author-{domain}", 1, writing[5000:6000], 8192)  # admitted: no exception


def test_text_with_hardly_any_letters_is_refused_before_it_can_be_a_lottery_ticket(public_gate):
    """Digits and punctuation have no words: novelty finds nothing of them in any index, so the same
    text would be new for ever (a free ticket for the exam's noise). Prose is 70% letters or more."""
    gate = public_gate
    rng = random.Random(1)
    numbers = "".join(rng.choice("0123456789 .,;:!?-\n") for _ in range(1200))
    with pytest.raises(Rejected) as r:
        gate.admit("farmer", 1, numbers, 8192)
    assert r.value.reason == "wordless"
    # a little text among the numbers is still mostly no words
    with pytest.raises(Rejected):
        gate.admit("farmer", 2, numbers[:900] + HAMLET[:300], 8192)
    assert min(gate.index.letter_share(HAMLET[s:s + 1000]) for s in range(0, 20_000, 1000)) > 0.65


def test_novelty_sees_public_text_interleaved_with_other_public_text(index):
    assert index.novelty(interleave(public_slice(1500, 3), public_slice(1500, 4))).copied_share > 0.9


def test_novelty_finds_honest_writing_new(index):
    for start in range(0, 30_000, 6000):
        # Shakespeare's common phrases recur: up to about a third of new writing is taken for a copy
        assert index.novelty(HAMLET[start:start + 3000]).copied_share < 0.35


def test_a_partly_copied_text_is_new_only_in_its_new_part(index):
    mine, theirs = HAMLET[40_000:41_500], public_slice(1500, 5)
    nov = index.novelty(mine + "\n" + theirs)
    assert abs(nov.new_chars - len(mine)) < 0.35 * len(mine)  # common phrases cost new writing up to a third
    assert mine[100:400] in nov.new_text and theirs[100:400] not in nov.new_text


def test_accents_do_not_disguise_a_copy(index):
    text = public_slice(3000, 11).replace("e", "\u00e9").replace("a", "\u00e0")
    assert index.novelty(text).copied_share > 0.9


def test_a_block_pasted_twice_is_new_once(index):
    block = HAMLET[50_000:51_200]
    nov = index.novelty(block + block)
    assert nov.new_chars < 1.2 * len(block)


def test_accepted_text_is_no_longer_new_to_anyone_else(tmp_path):
    index = NoveltyIndex(tmp_path / "n.sqlite", [public_slice(2000, 6)])
    text = HAMLET[60_000:62_000]
    assert index.novelty(text, "a").copied_share < 0.1
    index.accept(text, "a")
    assert index.novelty(text, "a").copied_share < 0.1  # its own submission again: a retry, not a copy
    assert index.novelty(text, "b").copied_share > 0.9
    assert index.novelty(REWRITES["lines shuffled"](text, random.Random(1)), "b").copied_share > 0.8


# ---------------------------------------------------------------- the private evaluation store

def test_each_session_gets_its_own_secret_draw_of_private_text(tmp_path, monkeypatch):
    monkeypatch.delenv("HANZO_ORACLE_SECRET", raising=False)
    store = PrivateEvaluation(tmp_path / "p", chunks=8)
    store.seed("hamlet", LOCAL.private_passages("hamlet"))
    assert stat.S_IMODE(os.stat(tmp_path / "p").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "p" / "secret").st_mode) == 0o600
    a, b = store.draw("hamlet", "s1"), store.draw("hamlet", "s2")
    assert a != b and store.draw("hamlet", "s1") == a and len(a) == 8 * 256
    private = "".join(LOCAL.private_passages("hamlet"))
    assert all(a[i:i + 256] in private for i in range(0, len(a), 256))
    assert a[:256] not in HAMLET
    other = PrivateEvaluation(tmp_path / "q", chunks=8)  # another operator: another secret, another exam
    other.seed("hamlet", LOCAL.private_passages("hamlet"))
    assert other.draw("hamlet", "s1") != a
    assert "secret" not in repr(store) and a[:40] not in repr(store)
    with pytest.raises(PrivateEvalError, match="holds no text for it"):
        store.draw("macbeth", "s1")


def test_a_paid_sessions_held_back_windows_join_the_exam_and_are_not_trained_on(tmp_path):
    store = PrivateEvaluation(tmp_path / "p", chunks=8, hold_back_share=0.2)
    text = HAMLET[:5120]  # 20 windows
    train, held = store.split(text, "s1")
    assert len(held) == 4 * 256 and len(train) == 16 * 256 and held[:256] not in train
    store.seed("hamlet", ["x" * 600])
    store.hold_back("hamlet", held, "s1")
    store.hold_back("hamlet", held, "s1")  # once per session
    assert store.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0] == 2


def test_held_back_text_never_becomes_most_of_the_exam_nor_its_authors(tmp_path):
    """Red team: 28 paid farmer sessions made 45% of a domain's exam their own held-back text and
    lifted their multiplier from 1-2 to 3-5. At least 70% of every draw is the operator's seed,
    and no user is examined on its own held-back windows."""
    store = PrivateEvaluation(tmp_path / "p", chunks=20)
    seed = LOCAL.private_passages("hamlet")
    store.seed("hamlet", seed)
    farmed = "".join(REWRITES["rewrapped"](public_slice(2560, k), random.Random(k)) for k in range(40))
    store.hold_back("hamlet", farmed, "s-farm", "farmer")
    exam = store.draw("hamlet", "s-1", exclude_user="someone")
    seed_text = "".join(seed)
    from_seed = sum(exam[i:i + 256] in seed_text for i in range(0, len(exam), 256))
    assert from_seed == 14 and from_seed + sum(exam[i:i + 256] in farmed for i in range(0, len(exam), 256)) == 20
    own = store.draw("hamlet", "s-2", exclude_user="farmer")
    assert all(own[i:i + 256] in seed_text for i in range(0, len(own), 256))


def test_a_text_that_matches_a_paid_session_in_part_is_never_examined_on_its_held_back_windows(tmp_path, public_index):
    """A user name is free, so excluding an author's own held-back windows by name leaves them to its
    sybils: one that rewrites the paid text (held-back windows included) and keeps the part no copy
    channel trims would be examined on text it trained on. The exclusion follows what the session's
    text matched, whoever sent it; an unrelated text still meets those windows."""
    store = PrivateEvaluation(tmp_path / "p", chunks=20)
    store.seed("hamlet", LOCAL.private_passages("hamlet"))
    # the whole public corpus (its arrays seeded): with 2,000 characters of it, the pieces channel read the play's
    # commonest word pairs ("of the") as private, and unrelated text of the play named the paid text
    index = fresh_index(tmp_path, public_index)
    paid = HAMLET[40_000:50_000]
    index.accept(paid, "s-author")
    _, held = store.split(paid, "s-author")
    store.hold_back("hamlet", held, "s-author", "author")
    def met(exam: str) -> int:  # exam windows cut from the held-back text
        return sum(exam[i:i + 256] in held for i in range(0, len(exam), 256))

    half_copied = HAMLET[40_000:41_500] + "\n" + HAMLET[70_000:71_500]  # half trimmed as a copy, half new
    for text in (half_copied, REWRITES["rewrapped"](paid[:3000], random.Random(3))):
        sources = index.novelty(text, "s-sybil").sources
        assert sources == {"s-author"}
        assert all(met(store.draw("hamlet", f"s-sybil-{k}", exclude_user="sybil", exclude_sessions=sources)) == 0
                   for k in range(10))
    unrelated = index.novelty(HAMLET[70_000:72_000], "s-other").sources
    assert unrelated == frozenset()
    assert sum(met(store.draw("hamlet", f"s-other-{k}", exclude_user="other", exclude_sessions=unrelated))
               for k in range(10)) > 0


def test_an_old_forks_exam_leaves_out_more_sessions_than_sqlite_binds_in_one_statement(tmp_path):
    """An old fork's lineage names every session on it and what its pieces name: thousands. SQLite binds at most
    32,766 values a statement in most builds (999 before 3.32); the store is held to 999 here, and an exam leaving
    out 5,000 sessions, two of them with held-back text, is drawn without them."""
    store = PrivateEvaluation(tmp_path / "p", chunks=20)
    store.db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    store.seed("hamlet", LOCAL.private_passages("hamlet"))
    held = {sid: HAMLET[40_000 + 3_000 * k:42_000 + 3_000 * k] for k, sid in enumerate(("s-7", "s-4321", "s-kept"))}
    for sid, text in held.items():
        store.hold_back("hamlet", text, sid, "author")
    lineage = frozenset(f"s-{k}" for k in range(5_000))
    exams = [store.draw("hamlet", f"s-old-{k}", exclude_user="owner", exclude_sessions=lineage) for k in range(10)]
    windows = [exam[i:i + 256] for exam in exams for i in range(0, len(exam), 256)]
    assert not any(w in held["s-7"] or w in held["s-4321"] for w in windows)
    assert any(w in held["s-kept"] for w in windows)


def test_a_short_or_bad_secret_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HANZO_ORACLE_SECRET", "short")
    with pytest.raises(PrivateEvalError, match="at least 32 characters"):
        PrivateEvaluation(tmp_path / "p")
    monkeypatch.delenv("HANZO_ORACLE_SECRET")
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "secret").write_bytes(b"123")
    with pytest.raises(PrivateEvalError, match="expected 32 bytes"):
        PrivateEvaluation(tmp_path / "q")


# ---------------------------------------------------------------- the rules of a verdict

def chunks(*values):
    return torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize("drops, outcome, multiplier", [
    ((0.01, 0.012, 0.011, 0.009), PAID, 1),
    ((0.03, 0.031, 0.029, 0.03), PAID, 3),
    ((0.2, 0.2, 0.2, 0.2), PAID, 10),
    ((0.06, -0.05, 0.07, -0.06), NEUTRAL, 1),  # a mean of +0.005 that noise explains
    ((0.0, 0.0, 0.0, 0.0), NEUTRAL, 1),
    ((-0.02, -0.021, -0.019, -0.02), LOW, 1),  # worse beyond noise, by more than 0.01 nats
    ((-0.004, -0.0041, -0.0039, -0.004), NEUTRAL, 1),  # a small step back (a few lines on a trained fork)
])
def test_three_outcomes_paid_neutral_and_low_quality(drops, outcome, multiplier):
    before = {"domain": chunks(2.0, 2.0, 2.0, 2.0), "base": chunks(2.0, 2.0)}
    after = {"domain": before["domain"] - chunks(*drops), "base": chunks(2.0, 2.0)}
    q = assess(before, after, DEFAULT, chars=1000)
    assert q.outcome == outcome and (outcome != PAID or q.multiplier == multiplier)


def test_the_multiplier_rates_the_gain_per_character_so_merging_or_splitting_a_text_leaves_it_unchanged():
    """Red team, third round: on the whole text's gain the multiplier counted the gain a second time
    (pay convex in it), so judging 8,000 honest characters whole or as four sessions changed the pay
    up to 1.5x either way. Per 1,000 characters, a text four times as long with four times the gain
    has the same multiplier, and its interactions (the total gain) are four times as many."""
    before = {"domain": chunks(*[2.0] * 8), "base": chunks(2.0, 2.0)}
    drops = [0.031, 0.029, 0.030, 0.031, 0.029, 0.030, 0.030, 0.030]
    one = assess(before, {"domain": before["domain"] - chunks(*drops), "base": chunks(2.0, 2.0)}, DEFAULT,
                 chars=1000)
    merged = assess(before, {"domain": before["domain"] - 4 * chunks(*drops), "base": chunks(2.0, 2.0)}, DEFAULT,
                    chars=4000)
    assert one.multiplier == merged.multiplier == 3
    assert paid_interactions(merged, DEFAULT) == pytest.approx(4 * paid_interactions(one, DEFAULT), abs=4)  # each rounded up
    # the same gain spread over eight times the text is an ordinary session: multiplier 1
    thin = assess(before, {"domain": before["domain"] - chunks(*drops), "base": chunks(2.0, 2.0)}, DEFAULT,
                  chars=8000)
    assert thin.outcome == PAID and thin.multiplier == 1


def test_a_session_that_makes_the_base_model_worse_is_low_quality_unless_it_clearly_teaches_the_domain():
    before = {"domain": chunks(2.0, 2.0, 2.0, 2.0), "base": chunks(1.8, 1.8)}
    assert assess(before, {"domain": chunks(2.0, 2.0, 2.0, 2.0), "base": chunks(1.9, 1.9)}, DEFAULT,
                  chars=1000).outcome == LOW
    # specialisation (or the small base set's noise) next to a clear gain: neither paid nor burned
    taught = assess(before, {"domain": chunks(1.5, 1.51, 1.5, 1.49), "base": chunks(1.9, 1.9)}, DEFAULT, chars=1000)
    assert taught.outcome == NEUTRAL and "base set worsens by +0.1000" in taught.reason


def test_paid_interactions_follow_the_gain_not_the_characters():
    """One interaction per quality_gain_per_interaction of noise-discounted gain, at least one, at
    most the contract's cap: a session's length is not in the rule, so padding a text with filler
    (the red team's own 1,000 characters padded with 2,000 of shuffled public fragments: paid 1.04x
    an honest session when characters capped the pay) earns only what the filler teaches."""
    before = {"domain": chunks(*[2.0] * 8), "base": chunks(2.0, 2.0)}

    def paid_for(drops):
        q = assess(before, {"domain": before["domain"] - chunks(*drops), "base": chunks(2.0, 2.0)}, DEFAULT,
                   chars=3000)
        assert q.outcome == PAID
        return q, paid_interactions(q, DEFAULT)

    q, n = paid_for([0.0016, 0.0015, 0.0014, 0.0015, 0.0016, 0.0014, 0.0015, 0.0015])
    gain = DEFAULT.quality_gain_per_interaction / 10**18
    assert n == math.ceil((q.score - 1.64 * q.score_se) / gain) == 3
    _, doubled = paid_for([0.0032, 0.0030, 0.0028, 0.0030, 0.0032, 0.0028, 0.0030, 0.0030])
    assert doubled == 6  # twice the gain (and twice its noise): twice the pay
    # the same mean gain measured with more noise is paid less: filler widens the se
    _, noisy = paid_for([0.0001, 0.0029, 0.0003, 0.0027, 0.0002, 0.0028, 0.0015, 0.0015])
    assert noisy < n
    _, huge = paid_for([0.5] * 8)
    assert huge == DEFAULT.max_interactions_per_op
    _, tiny = paid_for([0.00001] * 8)
    assert tiny == 1  # paid at all: at least one


def test_a_paid_verdict_on_too_little_text_is_neutral_and_only_a_paid_one():
    """Red team: 300 characters of shuffled public fragments were paid 7 times in 19 (9 in 12 when
    screened offline against the public start): a few Adam steps move the exam by more than its
    standard error says, whatever the text is worth. Below the oracle's minimum, "paid" is neutral
    (no pay, no burn, the text carried); low quality and neutral verdicts are left as they are."""
    before = {"domain": chunks(*[2.0] * 8), "base": chunks(2.0, 2.0)}
    paid = assess(before, {"domain": before["domain"] - 0.003, "base": chunks(2.0, 2.0)}, DEFAULT, chars=1000)
    assert paid.outcome == PAID
    short = too_short_to_pay(paid, 300, 768)
    assert short.outcome == NEUTRAL and "fewer than 768 are not paid" in short.reason and short.score == paid.score
    assert too_short_to_pay(paid, 768, 768) == paid
    low = assess(before, {"domain": before["domain"] + 0.05, "base": chunks(2.0, 2.0)}, DEFAULT, chars=1000)
    assert low.outcome == LOW and too_short_to_pay(low, 300, 768) == low
    assert OracleConfig(Path("x")).min_paid_chars == 768


# ---------------------------------------------------------------- the oracle, on the shipped base model

@pytest.fixture(scope="module")
def oracle(tmp_path_factory, public_index):
    os.environ["HANZO_ORACLE_SECRET"] = "a test secret of at least thirty-two characters"
    try:
        folder = tmp_path_factory.mktemp("oracle")
        public_index(folder / "oracle" / "gate.sqlite")
        yield QualityOracle(ForkTrainer(forks=folder / "forks"), OracleConfig(folder / "oracle"))
    finally:
        os.environ.pop("HANZO_ORACLE_SECRET", None)


def first_paid(oracle, user, fork, domain, text, start, length=1500, tries=4):
    """The writer's first paid session of up to `tries`, each on the next `length` characters of
    `text` from `start`: an honest first session is paid in most cases, not all (the exam is a
    random draw and the public start leaves a small gain), and these tests are about what follows."""
    for k in range(tries):
        verdict = oracle.judge(user, fork, domain, text[start + k * length:start + (k + 1) * length])
        if verdict.outcome == PAID:
            return verdict
        assert verdict.outcome == NEUTRAL, verdict.quality  # honest writing is never junk
    raise AssertionError(f"{tries} honest sessions of {length:,} characters, none paid")


def test_honest_writing_is_paid_and_its_copies_and_public_text_are_refused(oracle):
    honest = first_paid(oracle, "ophelia", 1, "hamlet", HAMLET, 64_000, 2000)
    assert honest.new_chars + honest.carried_chars > 1500  # a few common phrases are found elsewhere
    assert 1 <= honest.interactions == paid_interactions(honest.quality, DEFAULT)
    mine = HAMLET[64_000:66_000]  # the first she sent: admitted, paid or not
    for user, fork, text in (("copier", 2, mine),  # someone's accepted text, on a sybil fork
                             ("copier", 3, REWRITES["all of the above"](mine, random.Random(1))),
                             ("farmer", 4, public_slice(3000, 7)),
                             ("farmer", 5, REWRITES["lines shuffled"](public_slice(3000, 8), random.Random(2)))):
        with pytest.raises(Rejected) as r:
            oracle.judge(user, fork, "hamlet", text)
        assert r.value.reason == "duplicate"


def test_junk_is_low_quality_or_refused_and_repetition_length_and_domain_are_refused(oracle):
    rng = random.Random(3)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz   \n") for _ in range(2000))
    with pytest.raises(Rejected) as refused:
        oracle.judge("spammer", 6, "hamlet", noise)  # random letters: words that exist nowhere
    assert refused.value.reason == "misspelled"
    assert oracle.judge("spammer", 6, "hamlet", word_salad(2000, rng)).outcome == LOW  # real words, no sense
    with pytest.raises(Rejected, match="repeats itself"):
        oracle.judge("repeater", 7, "hamlet", (HAMLET[3000:3080] + "\n") * 40)
    with pytest.raises(Rejected, match="at most 8,192"):
        oracle.judge("long", 8, "hamlet", HAMLET[10_000:19_000])
    cyrillic = public_slice(2000, 9).replace("a", "\u0430").replace("e", "\u0435")  # look-alike letters
    with pytest.raises(Rejected, match="outside the model's alphabet, e.g. '\u0430'"):
        oracle.judge("homoglyph", 8, "hamlet", cyrillic)
    with pytest.raises(Rejected, match="outside the model's alphabet"):
        oracle.judge("invisible", 8, "hamlet", public_slice(2000, 10).replace(" ", " \u200b"))
    with pytest.raises(ValueError, match="domain 'macbeth'"):
        oracle.judge("x", 9, "macbeth", HAMLET[20_000:21_000])


def test_the_work_follows_the_text_not_the_user(oracle):
    """Updates are two passes over the windows of what is trained on: a text twice as long makes
    about twice the updates, and nothing else a user sends changes the count."""
    short = oracle.judge("polonius", 10, "the-tempest", LOCAL.users_text("the-tempest")[:1024])
    long = oracle.judge("polonius", 11, "the-tempest", LOCAL.users_text("the-tempest")[1024:3072])
    assert short.session.updates == 2 * 4
    assert long.session.updates == 2 * 7  # 8 windows, one held back by the secret draw
    for v in (short, long):  # and pay follows the gain (a neutral session pays none, a low-quality one burns one)
        assert v.interactions == {PAID: paid_interactions(v.quality, DEFAULT), NEUTRAL: 0, LOW: 1}[v.outcome]


def test_a_submission_is_judged_once_whatever_was_lost(oracle):
    """Hole 3: the gate used to record the text under the reward hook's session id, so a lost
    session store made the text a duplicate of itself and the session unpayable for good. Now
    the same user's same text on the same fork is the same submission: judged again, it is
    answered from the record (the same adapter, so the chain pays it once), without training."""
    text = LOCAL.users_text("julius-caesar")[:1500]
    first = oracle.judge("brutus", 12, "julius-caesar", text)
    again = oracle.judge("brutus", 12, "julius-caesar", text)
    assert again.replayed and not first.replayed and again.cpu_s == 0
    assert again.session.adapter_hash == first.session.adapter_hash and again.outcome == first.outcome
    with pytest.raises(Rejected, match="submitted before"):
        oracle.judge("brutus", 13, "julius-caesar", text)  # on another fork it is a copy
    with pytest.raises(Rejected, match="submitted before"):
        oracle.judge("cassius", 12, "julius-caesar", text)


def test_a_fork_head_has_one_paid_child(oracle):
    """Red team: five sessions judged from one head before any was paid were each paid as a fresh
    fork's first (2-2.8x the same user going one session at a time). A head has one paid child;
    the next session must start from it."""
    writing = LOCAL.users_text("the-tempest")
    first = first_paid(oracle, "ariel", 20, "the-tempest", writing, 10_000)
    with pytest.raises(Rejected) as r:
        oracle.judge("ariel", 20, "the-tempest", writing[20_000:21_500])  # from the same (empty) head
    assert r.value.reason == "pending"
    oracle.trainer.promote(first.session)
    later = oracle.judge("ariel", 20, "the-tempest", writing[20_000:21_500], fork_head=first.session.adapter_hash)
    assert later.session.version == 2


def test_a_failed_judgement_leaves_the_text_the_users(oracle):
    """Red team: a session that failed after the gate (here, a head whose adapter file is missing)
    left its text admitted, so the author's next try on a working fork was refused as a copy."""
    text = LOCAL.users_text("hamlet")[30_000:31_500]
    with pytest.raises(lora.AdapterError, match="file is missing"):
        oracle.judge("gertrude", 21, "hamlet", text, fork_head=b"\x01" * 32)
    assert oracle.judge("gertrude", 22, "hamlet", text).new_chars > 1000


def test_a_fork_continues_from_the_adapter_the_chain_paid(oracle):
    """The starting point is the head the caller reads from the ledger, never a fresh fork once
    it has history: a continued fork's 'before' is the paid adapter's 'after'."""
    writing = LOCAL.users_text("twelfth-night")
    first = first_paid(oracle, "viola", 14, "twelfth-night", writing, 0)
    oracle.trainer.promote(first.session)
    second = oracle.judge("viola", 14, "twelfth-night", writing[9000:10_500], fork_head=first.session.adapter_hash)
    assert second.session.version == first.session.version + 1


def test_another_user_trains_a_fork_from_its_owners_head(oracle):
    """Red team: a stranger's session on a fork whose owner had a paid head failed (the trainer
    looked for the head in the stranger's own folder), so nobody but the owner could train it."""
    writing = LOCAL.users_text("twelfth-night")
    head = first_paid(oracle, "olivia", 15, "twelfth-night", writing, 20_000)
    oracle.trainer.promote(head.session)
    with pytest.raises(lora.AdapterError, match="file is missing"):  # without the owner's name: not found
        oracle.judge("sebastian", 15, "twelfth-night", writing[30_000:31_500], fork_head=head.session.adapter_hash)
    stranger = oracle.judge("sebastian", 15, "twelfth-night", writing[30_000:31_500],
                            fork_head=head.session.adapter_hash, head_owner="olivia")
    assert stranger.session.version == head.session.version + 1
    assert stranger.session.adapter_path.parent.name == "sebastian"  # the candidate is the stranger's


# ---------------------------------------------------------------- a neutral session's text is carried, not lost

def test_a_neutral_sessions_text_is_carried_to_its_authors_next_session_and_paid_once(tmp_path, public_index):
    """A neutral session's text used to be spent: admitted (so never new again) but neither paid
    nor trained into the fork. Now the author's next session on the fork trains on it again and, if
    paid, is paid for it; once paid it is never carried again, and two sessions admitted side by
    side never carry the same text."""
    gate = fresh_gate(tmp_path, public_index)
    a, b, c, d, e = (HAMLET[k * 1500:(k + 1) * 1500] for k in range(5))
    first = gate.admit("ophelia", 1, a, 8192)
    assert first.carried == ""
    gate.record(first.submission, verdict(NEUTRAL))
    assert gate.admit("laertes", 1, HAMLET[20_000:21_500], 8192).carried == ""  # hers, not the fork's
    assert gate.admit("ophelia", 2, HAMLET[21_500:23_000], 8192).carried == ""  # this fork's, not hers elsewhere
    second = gate.admit("ophelia", 1, b, 8192)
    assert second.carried == first.novelty.new_text and len(second.carried) > 1000
    side_by_side = gate.admit("ophelia", 1, c, 8192)
    assert side_by_side.carried == ""
    gate.record(second.submission, verdict(PAID))
    gate.record(side_by_side.submission, verdict(NEUTRAL))
    retried = gate.admit("ophelia", 1, b, 8192)  # a retry of the paid one is answered from its record
    assert retried.verdict == verdict(PAID) and retried.carried == first.novelty.new_text
    head = b"\x01" * 32  # the paid session's adapter, once the chain paid it
    fourth = gate.admit("ophelia", 1, d, 8192, parent=head)
    assert fourth.carried == side_by_side.novelty.new_text  # the first text was paid: never again
    gate.forget(fourth.submission)  # a failed judgement gives its carry back
    fifth = gate.admit("ophelia", 1, e, 8192, parent=head)
    assert fifth.carried == side_by_side.novelty.new_text
    gate.record(fifth.submission, verdict(LOW))  # junk does not take the honest carry with it
    assert gate.admit("ophelia", 1, d, 8192, parent=head).carried == side_by_side.novelty.new_text


def test_a_carry_stays_within_a_session_and_its_oldest_text_expires(tmp_path, public_index):
    gate = fresh_gate(tmp_path, public_index)
    texts = [HAMLET[k * 1500:(k + 1) * 1500] for k in range(3)]
    for text in texts[:2]:
        gate.record(gate.admit("ophelia", 1, text, 8192).submission, verdict(NEUTRAL))
    third = gate.admit("ophelia", 1, texts[2], 4000)  # room for one earlier text beside this one
    newest = gate.admit("ophelia", 1, texts[1], 8192)
    assert third.carried == newest.novelty.new_text and 0 < len(third.carried) + third.novelty.new_chars <= 4000
    gate.record(third.submission, verdict(NEUTRAL))
    # the text that did not fit expired; the carried one and the third are carried on
    assert gate.admit("ophelia", 1, HAMLET[6000:7500], 8192).carried == newest.novelty.new_text + third.novelty.new_text


def test_a_carried_text_keeps_what_it_matched_so_its_next_session_avoids_those_held_back_windows(
        tmp_path, public_index):
    """The exam excludes the held-back windows of every paid text the session's text matched. A
    sybil's rewrite of a paid text judged neutral is carried into its next session, which is
    examined then: the carried text's matches are kept with it, so the next session is excluded
    from the same windows though its own new text matches nothing. Anyone else's is not."""
    gate = fresh_gate(tmp_path, public_index)
    paid = gate.admit("author", 1, HAMLET[10_000:16_000], 8192)
    gate.record(paid.submission, verdict(PAID))
    rewrite = gate.admit("sybil", 7, HAMLET[10_000:11_000] + "\n" + HAMLET[30_000:32_000], 8192)  # a third copied
    assert rewrite.novelty.sources == {paid.submission} and rewrite.sources == {paid.submission}
    gate.record(rewrite.submission, verdict(NEUTRAL))
    later = gate.admit("sybil", 7, HAMLET[50_000:51_500], 8192)
    assert later.carried == rewrite.novelty.new_text and later.novelty.sources == frozenset()
    assert later.sources == {paid.submission, rewrite.submission}  # and the fork's own history (the lineage)
    other = gate.admit("horatio", 3, HAMLET[60_000:61_500], 8192)
    assert other.carried == "" and other.sources == frozenset()
    # a retry of the later session (a lost session store) reads the carry's matches again
    assert gate.admit("sybil", 7, HAMLET[50_000:51_500], 8192).sources == {paid.submission, rewrite.submission}


def test_a_paid_session_is_paid_for_the_text_its_author_carried(oracle):
    """The same oracle folder judged once under a threshold no session reaches (so: neutral), then
    under the deployed one: the second session trains on both texts and pays for both. (In the
    domain whose honest sessions are paid most often: this is about the carry, not the exam's draw.)"""
    writing = LOCAL.users_text("twelfth-night")
    strict = QualityOracle(oracle.trainer, OracleConfig(oracle.config.folder),
                           DEFAULT.replace(quality_threshold=10**18))
    neutral = strict.judge("viola", 40, "twelfth-night", writing[36_000:37_500])
    assert neutral.outcome == NEUTRAL and not neutral.needs_op
    paid = oracle.judge("viola", 40, "twelfth-night", writing[37_500:39_000])
    # the carried text is the neutral session's new spans, each stripped of its edge whitespace
    assert paid.outcome == PAID and neutral.new_chars - 16 <= paid.carried_chars <= neutral.new_chars
    # paid for both texts: both are trained on and appraised, so the gain the pay follows is theirs
    assert paid.interactions == paid_interactions(paid.quality, DEFAULT)
    assert paid.session.updates == 2 * 9  # both texts: 11 windows less 2 held back (the new text alone: 6)


def test_another_users_paid_session_never_locks_the_forks_owner_out(tmp_path, public_index):
    """Red team: a stranger's paid session on a newly minted fork made every later session from the
    owner's head "pending", for good (the stranger's adapter never becomes the head: the chain
    records the owner's). A head has one paid child per user: the stranger is paid once from it,
    and the owner goes on."""
    gate = fresh_gate(tmp_path, public_index)
    stranger = gate.admit("mallory", 1, HAMLET[0:1500], 8192)
    gate.record(stranger.submission, verdict(PAID))
    owner = gate.admit("ophelia", 1, HAMLET[1500:3000], 8192)  # the owner, from the same (empty) head
    assert owner.verdict is None
    with pytest.raises(Rejected) as again:
        gate.admit("mallory", 1, HAMLET[3000:4500], 8192)  # the stranger again from the same head
    assert again.value.reason == "pending"
