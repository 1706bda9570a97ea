"""Forks (issue 9): an adapter belongs to one user's fork and loads only as exactly what its NFT
records; a session's updates follow from its text. The quality oracle's tests are in
tests/test_oracle.py."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from hanzo.model import lora
from hanzo.model import forks
from hanzo.model.forks import START_FILE, ForkTrainer, PublicStart, TextError, fork_seed
from hanzo.model.hllm.data import CharTokenizer
from hanzo.model.hllm.model import build, optimizer
from hanzo.model.hllm.train import TrainConfig, save_checkpoint
from hanzo.model.hllm.data import speeches

JULIET = speeches("romeo-and-juliet", "JULIET")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    """A small random base model saved as a checkpoint (fork mechanics need no training)."""
    folder = tmp_path_factory.mktemp("base")
    model = build("hllm", CharTokenizer.load().vocab_size)
    save_checkpoint(folder, model, optimizer(model, 1e-3, 0.01), 0, TrainConfig(), [])
    return folder


TINY_START = PublicStart(updates=20)  # the recipe's mechanics; the shipped start's effect is in test_oracle


@pytest.fixture(scope="module", autouse=True)
def starts(tmp_path_factory):
    """Public starts built by these tests go to a folder of their own, not the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("starts")
        mp.setattr(forks, "STARTS", folder)
        yield folder


@pytest.fixture
def trainer(base_dir, tmp_path):
    return ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=None)


def adapters(model):
    return {k: v.clone() for k, v in lora.adapter_state(model).items()}


# ---------------------------------------------------------------- fork integrity

def test_a_session_changes_only_adapter_weights_and_writes_a_candidate(trainer):
    base = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if not n.endswith((".A", ".B"))}
    s = trainer.session("juliet", 1, JULIET[:3000], passes=1)
    after = dict(trainer.model.named_parameters())
    assert all(torch.equal(base[n], after[n]) for n in base)
    assert any(after[n].abs().sum() > 0 for n in after if n.endswith(".B"))  # B started at zero
    assert s.adapter_path.name == "fork-1.candidate" and s.version == 1
    assert not trainer.adapter_path("juliet", 1).exists()  # not the fork's until promoted
    trainer.promote(s)
    assert trainer.adapter_path("juliet", 1).exists() and s.adapter_path.stat().st_size < 1_000_000


def test_a_new_fork_inherits_nothing_from_the_fork_trained_before_it(trainer):
    """reset() used to zero only B, so a new fork kept the previous user's trained A."""
    trainer.session("juliet", 1, JULIET[:3000], passes=1)
    trained_a = {k: v for k, v in adapters(trainer.model).items() if k.endswith(".A")}
    trainer.load_fork("romeo", 2, None, None)
    fresh = adapters(trainer.model)
    assert all(not torch.equal(fresh[k], v) for k, v in trained_a.items())
    assert all(float(v.abs().sum()) == 0 for k, v in fresh.items() if k.endswith(".B"))
    trainer.load_fork("romeo", 2, None, None)  # the same fork starts the same way every time
    assert all(torch.equal(fresh[k], v) for k, v in adapters(trainer.model).items())
    assert fork_seed("romeo", 2) != fork_seed("romeo", 3) != fork_seed("juliet", 2)


def test_every_new_fork_starts_from_the_public_start_and_nothing_else(base_dir, tmp_path):
    trainer = ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=TINY_START)
    start = {k: v.clone() for k, v in trainer.start.items()}
    assert any(float(v.abs().sum()) > 0 for k, v in start.items() if k.endswith(".B"))  # it learnt something
    trainer.session("juliet", 1, JULIET[:3000], passes=1)
    for user, fork in (("romeo", 2), ("juliet", 3)):
        assert trainer.load_fork(user, fork, bytes(32), None) == 0
        assert all(torch.equal(start[k], v) for k, v in adapters(trainer.model).items())


def test_the_public_start_lowers_the_loss_on_public_text(base_dir, tmp_path):
    text = forks.public_corpus()[:40_000]
    bare = ForkTrainer(base=base_dir, forks=tmp_path / "a", start=None)
    bare.load_fork("romeo", 1, None, None)
    started = ForkTrainer(base=base_dir, forks=tmp_path / "b", start=TINY_START)
    started.load_fork("romeo", 1, None, None)
    ids = bare.encode(text)
    assert float(started.chunk_losses(ids).mean()) < float(bare.chunk_losses(ids).mean()) - 0.05


def test_the_public_start_is_built_once_the_same_every_time_and_rebuilt_when_damaged(base_dir, tmp_path, starts):
    first = ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=PublicStart(updates=7))
    path = first.start_path
    assert path.parent == starts and path.name == f"{first.start_id}.safetensors"
    stamp = path.stat().st_mtime_ns
    again = ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=PublicStart(updates=7))
    assert path.stat().st_mtime_ns == stamp  # read, not rebuilt
    assert all(torch.equal(first.start[k], again.start[k]) for k in first.start)
    def same(trainer):  # tensors, not bytes: safetensors writes its metadata in no fixed order
        return all(torch.equal(first.start[k], trainer.start[k]) for k in first.start)

    good = path.read_bytes()
    path.unlink()
    assert same(ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=PublicStart(updates=7)))  # deterministic
    path.write_bytes(good[:-64])  # damaged: not half-used, rebuilt
    rebuilt = ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=PublicStart(updates=7))
    assert same(rebuilt) and len(path.read_bytes()) == len(good)
    other = ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=PublicStart(updates=7, seed=1))
    assert other.start_id != first.start_id and other.start_path != path  # another recipe, another start


def test_a_shipped_start_is_used_only_if_it_is_this_bases_and_this_recipes(base_dir, tmp_path, starts):
    built = ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=PublicStart(updates=5))
    shipped = base_dir / START_FILE
    shipped.write_bytes(built.start_path.read_bytes())
    try:
        assert ForkTrainer(base=base_dir, forks=tmp_path / "f", start=PublicStart(updates=5)).start_path == shipped
        stale = ForkTrainer(base=base_dir, forks=tmp_path / "f", start=PublicStart(updates=6))
        assert stale.start_path.parent == starts  # the shipped file is another recipe's: not used
    finally:
        shipped.unlink()


def test_the_shipped_base_ships_its_current_public_start():
    """If the base, the LoRA shape, the recipe or the public corpus change, the committed start is
    stale: rebuild it (ForkTrainer() builds it into the cache; copy it to hanzo/model/hllm/base)."""
    from hanzo.model.hllm.train import SHIPPED

    trainer = ForkTrainer(base=SHIPPED, start=None)
    trainer.start_id = trainer._start_id(PublicStart())
    assert trainer._read_start(SHIPPED / START_FILE) is not None, "hanzo/model/hllm/base/public-start is stale"


def test_a_bad_public_start_recipe_is_refused():
    with pytest.raises(ValueError, match="updates"):
        PublicStart(updates=0)
    with pytest.raises(ValueError, match="lr"):
        PublicStart(lr=0.0)


def test_an_appraisal_depends_on_the_text_alone_not_on_the_fork_the_model_held(base_dir, tmp_path):
    """The oracle pays on the appraisal: the public start trained on the text and measured. Whatever
    fork the trainer held before (trained or new), the same text, seed and sets give the same
    losses, and no adapter file is written or changed."""
    trainer = ForkTrainer(base=base_dir, forks=tmp_path / "forks", start=TINY_START)
    sets = {"domain": trainer.encode(JULIET[6000:8000]), "base": trainer.encode(forks.public_corpus()[:2000])}
    fresh = trainer.appraise(JULIET[3000:5000], sets, seed=7)
    trainer.promote(trainer.session("juliet", 1, JULIET[:3000], passes=2))
    trained = trainer.session("juliet", 1, JULIET[9000:11_000], passes=2, recorded_hash=None)
    files = sorted((p, p.read_bytes()) for p in (tmp_path / "forks").rglob("*") if p.is_file())
    again = trainer.appraise(JULIET[3000:5000], sets, seed=7)
    assert fresh.updates == again.updates == 2 * 8
    for name in sets:
        assert torch.equal(fresh.before[name], again.before[name]) and torch.equal(fresh.after[name], again.after[name])
    assert sorted((p, p.read_bytes()) for p in (tmp_path / "forks").rglob("*") if p.is_file()) == files
    # ...and it started from the public start, not from the fork the session left in the model
    trainer.promote(trained)
    trainer.load_fork("juliet", 1, trained.adapter_hash, None)
    held = trainer.chunk_losses(sets["domain"])
    trainer.load_fork("romeo", 9, None, None)
    assert torch.equal(trainer.chunk_losses(sets["domain"]), fresh.before["domain"])
    assert not torch.equal(held, fresh.before["domain"])
    other = trainer.appraise(JULIET[8000:10_000], sets, seed=7)  # another text: another worth
    assert not torch.equal(other.after["domain"], fresh.after["domain"])


def test_a_fork_continues_only_from_the_adapter_its_nft_records(trainer):
    first = trainer.session("juliet", 1, JULIET[:3000], passes=1)
    trainer.promote(first)
    saved = adapters(trainer.model)
    trainer.load_fork("juliet", 1, None, None)  # something else in the model
    assert trainer.load_fork("juliet", 1, first.adapter_hash, None) == 1
    assert all(torch.equal(saved[k], v) for k, v in adapters(trainer.model).items())
    with pytest.raises(lora.AdapterError, match="is not the recorded"):
        trainer.load_fork("juliet", 1, bytes(31) + b"\x01", None)
    second = trainer.session("juliet", 1, JULIET[3000:6000], passes=1, recorded_hash=first.adapter_hash)
    assert second.version == 2
    trainer.promote(second)
    # the older version, restored over the newer file, does not load as the fork's current adapter
    with pytest.raises(lora.AdapterError, match="is not the recorded"):
        trainer.load_fork("juliet", 1, first.adapter_hash, None)


def test_another_users_or_another_forks_file_does_not_load(trainer):
    mine = trainer.session("juliet", 1, JULIET[:3000], passes=1)
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
    s = trainer.session("nurse", 3, JULIET[:3000], passes=1, secret="correct horse")
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
    s = trainer.session("juliet", 1, JULIET[:3000], passes=1)
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
    s = trainer.session("juliet", 1, JULIET[:3000], passes=1)
    trainer.promote(s)
    other = ForkTrainer(base=base_dir, cfg=lora.LoRAConfig(rank=4, targets=("attn.o",)), forks=tmp_path / "o",
                        start=None)
    o = other.session("juliet", 1, JULIET[:3000], passes=1)
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
        trainer.session("x", 1, "Hi.", passes=1)


