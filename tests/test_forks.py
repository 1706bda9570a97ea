"""Forks and the quality oracle (issue 9): an adapter belongs to one user's fork and loads only
as exactly what its NFT records; a session is judged on the oracle's text, and each way a greedy
user found to be paid more than honest work (a repeater, a copier, sybil forks, a spammer, asking
for more interactions) earns no more than an honest session."""

from __future__ import annotations

import dataclasses
import random

import pytest
import torch

from hanzo.econ.params import DEFAULT
from hanzo.model import lora
from hanzo.model.forks import ForkTrainer, TextError, fork_seed
from hanzo.model.hllm.data import CharTokenizer
from hanzo.model.hllm.model import build, optimizer
from hanzo.model.hllm.train import TrainConfig, save_checkpoint
from hanzo.model.oracle import QualityOracle, public_text, shakespeare_sets
from hanzo.model.quality import Gate, Rejected, assess, compression_ratio, paid_interactions

JULIET = public_text("JULIET")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    """A small random base model saved as a checkpoint (fork mechanics need no training)."""
    folder = tmp_path_factory.mktemp("base")
    model = build("hllm", CharTokenizer.load().vocab_size)
    save_checkpoint(folder, model, optimizer(model, 1e-3, 0.01), 0, TrainConfig(), [])
    return folder


@pytest.fixture
def trainer(base_dir, tmp_path):
    return ForkTrainer(base=base_dir, forks=tmp_path / "forks")


def adapters(model):
    return {k: v.clone() for k, v in lora.adapter_state(model).items()}


# ---------------------------------------------------------------- fork integrity

def test_a_session_changes_only_adapter_weights_and_writes_a_candidate(trainer):
    base = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if not n.endswith((".A", ".B"))}
    s = trainer.session("juliet", 1, JULIET[:3000], interactions=4)
    after = dict(trainer.model.named_parameters())
    assert all(torch.equal(base[n], after[n]) for n in base)
    assert any(after[n].abs().sum() > 0 for n in after if n.endswith(".B"))  # B started at zero
    assert s.adapter_path.name == "fork-1.candidate" and s.version == 1
    assert not trainer.adapter_path("juliet", 1).exists()  # not the fork's until promoted
    trainer.promote(s)
    assert trainer.adapter_path("juliet", 1).exists() and s.adapter_path.stat().st_size < 1_000_000


def test_a_new_fork_inherits_nothing_from_the_fork_trained_before_it(trainer):
    """reset() used to zero only B, so a new fork kept the previous user's trained A."""
    trainer.session("juliet", 1, JULIET[:3000], interactions=4)
    trained_a = {k: v for k, v in adapters(trainer.model).items() if k.endswith(".A")}
    trainer.load_fork("romeo", 2, None, None)
    fresh = adapters(trainer.model)
    assert all(not torch.equal(fresh[k], v) for k, v in trained_a.items())
    assert all(float(v.abs().sum()) == 0 for k, v in fresh.items() if k.endswith(".B"))
    trainer.load_fork("romeo", 2, None, None)  # the same fork starts the same way every time
    assert all(torch.equal(fresh[k], v) for k, v in adapters(trainer.model).items())
    assert fork_seed("romeo", 2) != fork_seed("romeo", 3) != fork_seed("juliet", 2)


def test_a_fork_continues_only_from_the_adapter_its_nft_records(trainer):
    first = trainer.session("juliet", 1, JULIET[:3000], interactions=2)
    trainer.promote(first)
    saved = adapters(trainer.model)
    trainer.load_fork("juliet", 1, None, None)  # something else in the model
    assert trainer.load_fork("juliet", 1, first.adapter_hash, None) == 1
    assert all(torch.equal(saved[k], v) for k, v in adapters(trainer.model).items())
    with pytest.raises(lora.AdapterError, match="is not the recorded"):
        trainer.load_fork("juliet", 1, bytes(31) + b"\x01", None)
    second = trainer.session("juliet", 1, JULIET[3000:6000], interactions=2, recorded_hash=first.adapter_hash)
    assert second.version == 2
    trainer.promote(second)
    # the older version, restored over the newer file, does not load as the fork's current adapter
    with pytest.raises(lora.AdapterError, match="is not the recorded"):
        trainer.load_fork("juliet", 1, first.adapter_hash, None)


def test_another_users_or_another_forks_file_does_not_load(trainer):
    mine = trainer.session("juliet", 1, JULIET[:3000], interactions=2)
    trainer.promote(mine)
    theirs_path = trainer.adapter_path("romeo", 5)
    theirs_path.parent.mkdir(parents=True, exist_ok=True)
    theirs_path.write_bytes(mine.adapter_path.read_bytes())  # juliet's file put in romeo's place
    with pytest.raises(lora.AdapterError, match="bound to user 'juliet', not 'romeo'"):
        trainer.load_fork("romeo", 5, mine.adapter_hash, None)
    other_fork = trainer.adapter_path("juliet", 2)
    other_fork.write_bytes(mine.adapter_path.read_bytes())
    with pytest.raises(lora.AdapterError, match="bound to fork 1, not 2"):
        trainer.load_fork("juliet", 2, mine.adapter_hash, None)


def test_encrypted_adapters_are_bound_to_user_and_fork_and_need_the_key(trainer):
    s = trainer.session("nurse", 3, JULIET[:3000], interactions=2, secret="correct horse")
    trainer.promote(s)
    blob = s.adapter_path.read_bytes()
    assert blob.startswith(lora.MAGIC)
    plain, binding = lora.decrypt(blob, "correct horse")
    assert lora.content_hash(plain) == s.adapter_hash  # the hash is the plaintext's
    assert (binding.user, binding.fork, binding.version) == ("nurse", 3, 1)
    with pytest.raises(lora.AdapterError, match="wrong key, or the file was altered"):
        trainer.load_fork("nurse", 3, s.adapter_hash, "wrong horse")
    with pytest.raises(lora.AdapterError, match="encrypted; give the user's secret"):
        trainer.load_fork("nurse", 3, s.adapter_hash, None)
    # the header rewritten to claim another user: refused before decryption, and the tag would fail too
    forged = blob.replace(b'"user":"nurse"', b'"user":"romeo"')
    trainer.adapter_path("romeo", 3).parent.mkdir(parents=True, exist_ok=True)
    trainer.adapter_path("romeo", 3).write_bytes(forged)
    with pytest.raises(lora.AdapterError, match="wrong key, or the file was altered"):
        trainer.load_fork("romeo", 3, s.adapter_hash, "correct horse")
    trainer.load_fork("nurse", 3, s.adapter_hash, "correct horse")


def _rewrite(trainer, s, mutate):
    """Re-save the adapter with `mutate(state, cfg)` applied, as an attacker with the file would."""
    state = {k: v.clone() for k, v in lora.adapter_state(trainer.model).items()}
    cfg = mutate(state, trainer.cfg)
    data = lora.serialize(state, cfg, lora.Binding(s.user, s.fork, trainer.base_id, s.version))
    trainer.adapter_path(s.user, s.fork).write_bytes(data)
    return lora.content_hash(data)


@pytest.mark.parametrize("what, mutate, message", [
    ("nan", lambda st, c: (st[next(iter(st))].view(-1).__setitem__(0, float("nan")), c)[1], "NaN or infinite"),
    ("inf", lambda st, c: (st[next(iter(st))].view(-1).__setitem__(0, float("inf")), c)[1], "NaN or infinite"),
    ("alpha", lambda st, c: dataclasses.replace(c, alpha=c.alpha * 100), "LoRA configuration"),
])
def test_a_plaintext_adapter_with_bad_tensors_or_config_does_not_load(trainer, what, mutate, message):
    """Even when the NFT recorded exactly this file (an attacker's own fork), it does not load."""
    s = trainer.session("juliet", 1, JULIET[:3000], interactions=2)
    trainer.promote(s)
    before = adapters(trainer.model)
    digest = _rewrite(trainer, s, mutate)
    with pytest.raises(lora.AdapterError, match=message):
        trainer.load_fork("juliet", 1, digest, None)
    assert all(torch.equal(before[k], v) for k, v in adapters(trainer.model).items())  # unchanged


@pytest.mark.parametrize("user", ["../evil", "..", ".hidden", "a/b", "", "-rf", "x" * 65])
def test_user_names_cannot_leave_the_forks_folder(trainer, user):
    with pytest.raises(lora.AdapterError, match="user"):
        trainer.adapter_path(user, 1)


def test_garbage_and_foreign_targets_do_not_load(trainer, base_dir, tmp_path):
    s = trainer.session("juliet", 1, JULIET[:3000], interactions=1)
    trainer.promote(s)
    other = ForkTrainer(base=base_dir, cfg=lora.LoRAConfig(rank=4, targets=("attn.o",)), forks=tmp_path / "o")
    o = other.session("juliet", 1, JULIET[:3000], interactions=1)
    other.promote(o)
    with pytest.raises(lora.AdapterError, match="LoRA configuration"):
        lora.load(o.adapter_path, trainer.model, trainer.cfg, expected_hash=o.adapter_hash,
                  binding=lora.Binding("juliet", 1, trainer.base_id, None))
    garbage = b"garbage" * 10
    trainer.adapter_path("juliet", 1).write_bytes(garbage)
    with pytest.raises(lora.AdapterError, match="not a readable adapter"):
        trainer.load_fork("juliet", 1, lora.content_hash(garbage), None)


def test_too_short_text_is_refused(trainer):
    with pytest.raises(TextError, match="at least 130 are needed"):
        trainer.session("x", 1, "Hi.", interactions=1)


# ---------------------------------------------------------------- the quality oracle

def chunks(*values):
    return torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize("drops, low, multiplier", [
    ((0.0, 0.0, 0.0, 0.0), True, 1),
    ((0.003, 0.003, 0.003, 0.003), False, 1),
    ((0.02, 0.02, 0.02, 0.02), False, 2),
    ((0.2, 0.2, 0.2, 0.2), False, 10),
    ((0.06, -0.05, 0.07, -0.06), True, 1),  # a mean of +0.005 that is only noise: one SE low, not paid
])
def test_quality_pays_the_loss_drop_one_standard_error_low(drops, low, multiplier):
    before = {"domain": chunks(2.0, 2.0, 2.0, 2.0), "base": chunks(2.0, 2.0)}
    after = {"domain": before["domain"] - chunks(*drops), "base": chunks(2.0, 2.0)}
    q = assess(before, after, DEFAULT)
    assert q.low_quality is low and (low or q.multiplier == multiplier)
    assert q.score == pytest.approx(sum(drops) / 4)


def test_quality_refuses_a_session_that_makes_the_base_model_worse():
    before = {"domain": chunks(2.0, 2.0), "base": chunks(1.8, 1.8)}
    after = {"domain": chunks(1.5, 1.5), "base": chunks(1.9, 1.9)}  # great on the domain, worse at all else
    q = assess(before, after, DEFAULT)
    assert q.low_quality and "base regression" in q.reason


def test_quality_rejects_non_finite_losses_and_missing_sets():
    with pytest.raises(ValueError, match="finite"):
        assess({"domain": chunks(float("nan")), "base": chunks(1.0)}, {"domain": chunks(1.0), "base": chunks(1.0)},
               DEFAULT)
    with pytest.raises(ValueError, match="'base' missing"):
        assess({"domain": chunks(1.0)}, {"domain": chunks(1.0)}, DEFAULT)


def test_paid_interactions_follow_the_text_not_the_request():
    """The reward was linear in interactions the user chose: 64 updates on one text earned 40x."""
    assert paid_interactions("x" * 3000, 64, DEFAULT) == 11  # 3,000 characters: 11 windows of 256
    assert paid_interactions("x" * 3000, 4, DEFAULT) == 4
    assert paid_interactions("x" * 10**6, 10**6, DEFAULT) == DEFAULT.max_interactions_per_op


def test_the_gate_refuses_repetition_copies_and_short_text(tmp_path):
    gate = Gate(tmp_path / "gate.db", DEFAULT)
    rng = random.Random(1)
    junk = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(40))
    assert compression_ratio(JULIET[:5000]) < 3 < compression_ratio((junk * 125)[:5000])
    with pytest.raises(Rejected) as r:
        gate.admit("rep", 1, (junk * 125)[:5000])
    assert r.value.reason == "repetitive"
    with pytest.raises(Rejected) as r:
        gate.admit("rep", 1, (JULIET[:60] + "\n") * 80)
    assert r.value.reason == "repetitive"
    with pytest.raises(Rejected) as r:
        gate.admit("rep", 1, JULIET[:2500] + JULIET[:2500])  # a block pasted twice
    assert r.value.reason == "duplicate"
    gate.admit("juliet", 1, JULIET[:3000])
    with pytest.raises(Rejected) as r:
        gate.admit("copier", 9, JULIET[:3000])
    assert r.value.reason == "duplicate"
    with pytest.raises(Rejected) as r:
        gate.admit("copier", 9, JULIET[100:2900].upper())  # case and a shifted window change nothing
    assert r.value.reason == "duplicate"
    with pytest.raises(Rejected) as r:
        gate.admit("juliet", 1, JULIET[:3000])  # not even the author is paid twice for the same text
    assert r.value.reason == "duplicate"
    with pytest.raises(Rejected) as r:
        gate.admit("x", 1, "too short")
    assert r.value.reason == "short"
    gate.admit("juliet", 1, JULIET[3000:6000])  # new text passes


# ---------------------------------------------------------------- adversaries, on the shipped base model

@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracle")
    return QualityOracle(ForkTrainer(forks=folder / "forks"), shakespeare_sets(), folder / "gate.db")


def earned(verdict) -> int:
    """What a session is paid, in reward units: interactions x multiplier, 0 if low quality."""
    return 0 if verdict.low_quality else verdict.interactions * verdict.multiplier


def test_honest_sessions_earn_and_every_greedy_strategy_earns_no_more(oracle):
    honest = oracle.judge("juliet", 1, "JULIET", JULIET[:3000], 8)
    assert not honest.low_quality and earned(honest) > 0
    fair = earned(honest)
    rng = random.Random(7)
    # the repeater: a random string, or one real line, repeated; asks for 64 updates
    for text in ("".join(rng.choice("abcdefghij ") for _ in range(40)) * 125, (JULIET[:80] + "\n") * 60):
        with pytest.raises(Rejected, match="repeats itself"):
            oracle.judge("repeater", 2, "JULIET", text, 64)
    # the copier and the sybil: someone's accepted text again, on another fork
    with pytest.raises(Rejected, match="submitted before"):
        oracle.judge("copier", 3, "JULIET", JULIET[:3000], 8)
    with pytest.raises(Rejected, match="submitted before"):
        oracle.judge("juliet", 4, "JULIET", JULIET[:3000], 8)
    # the spammer: fresh noise passes the gate, teaches nothing about the domain, is not paid
    noise = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ qxzj") for _ in range(3000))
    spam = oracle.judge("spammer", 5, "MACBETH", noise, 8)
    assert spam.low_quality and earned(spam) == 0
    # asking for more updates on the same amount of honest text pays no more interactions
    greedy = oracle.judge("prospero", 6, "PROSPERO", public_text("PROSPERO")[:3000], 64)
    text = public_text("PROSPERO")[:3000]
    assert greedy.interactions == paid_interactions(text, 11, DEFAULT) == 11  # what 11 honest updates get
    assert greedy.interactions < 64
    # every refused or low-quality strategy earned nothing; the honest session earned `fair` > 0
    assert earned(spam) == 0 < fair


def test_the_score_is_reported_with_its_noise_across_seeds(oracle):
    """The same honest text, five training seeds: the reported standard error is the same order
    as the spread across seeds, so the one-SE-low score does not pay for luck."""
    scores, ses = [], []
    text = public_text("ROMEO")[:3000]
    for seed in range(5):
        oracle.gate.db.execute("DELETE FROM shingles WHERE user = 'romeo'")
        v = oracle.judge("romeo", 10 + seed, "ROMEO", text, 8, seed=seed)
        scores.append(v.quality.score)
        ses.append(v.quality.score_se)
    spread = float(torch.tensor(scores).std())
    mean_se = sum(ses) / len(ses)
    assert all(s > 0 for s in scores)
    assert spread < 3 * mean_se  # the SE covers the seed noise


def test_the_measurement_before_a_session_is_the_last_sessions_after_not_recomputed(trainer, monkeypatch):
    """Throughput: the fork is measured once per state and evaluation set."""
    sets = {"domain": trainer.encode(JULIET[5000:6000]), "base": trainer.encode(JULIET[6000:7000])}
    first = trainer.session("juliet", 1, JULIET[:3000], 2, eval_sets=sets)
    trainer.promote(first)
    calls = []
    real = trainer.chunk_losses
    monkeypatch.setattr(trainer, "chunk_losses", lambda ids: (calls.append(1), real(ids))[1])
    second = trainer.session("juliet", 1, JULIET[3000:6000], 2, eval_sets=sets, recorded_hash=first.adapter_hash)
    assert len(calls) == 2  # only the two "after" measurements ran
    assert all(torch.equal(second.before[k], first.after[k]) for k in sets)
    # and the cached "before" is what a fresh measurement gives
    trainer.load_fork("juliet", 1, first.adapter_hash, None)
    assert torch.allclose(real(sets["domain"]), first.after["domain"])


def test_a_session_that_crashed_after_the_gate_is_admitted_again_and_no_other(tmp_path):
    """The gate records text before training; a worker that dies before the reward retries the
    same session and must not find its own text refused as a copy. Another session still is."""
    gate = Gate(tmp_path / "gate.db", DEFAULT)
    gate.admit("juliet", 1, JULIET[:3000], session="s-1")
    gate.admit("juliet", 1, JULIET[:3000], session="s-1")  # the retry
    with pytest.raises(Rejected, match="submitted before"):
        gate.admit("juliet", 1, JULIET[:3000], session="s-2")
    with pytest.raises(Rejected, match="submitted before"):
        gate.admit("copier", 2, JULIET[:3000])
