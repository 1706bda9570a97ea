"""The trainer and steering (real model, real text, on CPU); forks, adapters and the quality
oracle are in tests/test_forks.py."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from hanzo.model.hllm.data import CharTokenizer, clean, corpus
from hanzo.model.hllm.model import HLLM, HLLMConfig, build, parameter_count
from hanzo.model.hllm.train import SHIPPED, CheckpointError, TrainConfig, load_model, train


@pytest.fixture(scope="module")
def tok():
    return CharTokenizer.load()


def test_corpus_is_real_text_split_by_play(tok):
    train_ids, val_ids, _ = corpus(tok)
    assert len(train_ids) > 4_000_000 and len(val_ids) > 400_000
    assert "To be, or not to be" in tok.decode(val_ids)  # Hamlet is held out
    assert "To be, or not to be" not in tok.decode(train_ids[:2_000_000])
    assert clean("**IAGO**  \nWhy, there's no remedy  \n_Exit_\n").strip() == "IAGO:\nWhy, there's no remedy"
    assert tok.decode(tok.encode("Juliet?")) == "Juliet?"


def test_both_models_are_the_same_size_and_above_a_million_parameters(tok):
    hllm, gpt = build("hllm", tok.vocab_size), build("gpt", tok.vocab_size)
    assert parameter_count(hllm) >= 1_000_000 and parameter_count(gpt) >= 1_000_000
    assert abs(parameter_count(hllm) - parameter_count(gpt)) / parameter_count(gpt) < 0.05


def test_potential_force_is_the_exact_gradient_of_the_energy():
    model = HLLM(HLLMConfig(d_model=32, n_layer=1, potential_width=16, vocab_size=10)).double()
    pot = model.layers[0].potential
    q = torch.randn(5, 32, dtype=torch.float64, requires_grad=True)
    (auto,) = torch.autograd.grad(pot.energy(q).sum(), q)
    assert torch.allclose(pot.grad(q), auto, atol=1e-12)


def test_energy_is_observable_per_layer(tok):
    model = build("hllm", tok.vocab_size)
    model(tok.encode("ROMEO:\nBut soft")[None])
    assert model.energies == []  # off by default: training pays neither the evaluation nor the sync
    model.record_energies = True
    model(tok.encode("ROMEO:\nBut soft")[None])
    assert len(model.energies) == model.cfg.n_layer and all(math.isfinite(e) for e in model.energies)


def test_loss_falls_on_a_tiny_training_run(tmp_path):
    cfg = TrainConfig(steps=40, batch_size=8, block_size=64, eval_every=40, checkpoint_every=20, eval_batches=4,
                      lr=3e-3)
    _, history = train(cfg, tmp_path, resume=False, progress=False, log=lambda _m: None)
    first = sum(l for _, l, _, _ in history[:5]) / 5
    last = sum(l for _, l, _, _ in history[-5:]) / 5
    assert last < first - 0.3
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "state.pt").is_file()


def test_training_resumes_from_its_checkpoint(tmp_path):
    cfg = TrainConfig(steps=10, batch_size=4, block_size=32, eval_every=10, checkpoint_every=5, eval_batches=2)
    train(cfg, tmp_path, resume=False, progress=False, log=lambda _m: None)
    messages = []
    cfg.steps = 15
    _, history = train(cfg, tmp_path, resume=True, progress=False, log=messages.append)
    assert messages == ["resuming hllm from step 10"]
    assert [h[0] for h in history] == list(range(1, 16))


def test_missing_or_foreign_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="train one with `hanzo train`"):
        load_model(tmp_path)
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointError, match="not a hanzo model checkpoint"):
        load_model(tmp_path)


def _word_logprob(model, tok, prompt: str, word: str, strength: float) -> float:
    ids = tok.encode(prompt + word)[None]
    steer = model.steering_vector(tok.encode(word), strength) if strength else None
    with torch.no_grad():
        logp = F.log_softmax(model(ids[:, :-1], steer=steer)[0], -1)
    targets = ids[0, len(prompt):]
    return float(logp[0, len(prompt) - 1:, :].gather(-1, targets[:, None]).sum())


def test_steering_raises_and_lowers_the_target_words_probability(tok):
    model = load_model(SHIPPED)
    prompt, word = "ROMEO:\nI will ", "love"
    neutral = _word_logprob(model, tok, prompt, word, 0.0)
    assert _word_logprob(model, tok, prompt, word, 2.0) > neutral > _word_logprob(model, tok, prompt, word, -2.0)


def test_shipped_base_model_beats_a_unigram_model(tok):
    model = load_model(SHIPPED)
    _, val_ids, _ = corpus(tok)
    counts = torch.bincount(val_ids, minlength=tok.vocab_size).double()
    unigram = float(-(counts / counts.sum() * torch.log(counts.clamp(min=1) / counts.sum())).sum())
    x = val_ids[:64 * 128].view(64, 128)
    y = val_ids[1:64 * 128 + 1].view(64, 128)
    with torch.no_grad():
        loss = model(x, y)[1].item()
    assert loss < unigram - 0.5


def _tiny_layer(attention: bool, placement: str = "kick") -> "LeapfrogLayer":
    from hanzo.model.hllm.model import LeapfrogLayer

    torch.manual_seed(0)
    layer = LeapfrogLayer(HLLMConfig(d_model=4, n_head=2, potential_width=8, attention=placement)).double()
    if not attention:
        torch.nn.init.zeros_(layer.attn.o.weight)
    return layer


def _jacobian(layer, q, p):
    t, d = q.shape[1], q.shape[2]
    n = t * d

    def f(z):
        q2, p2 = layer(z[:n].view(1, t, d), z[n:].view(1, t, d))
        return torch.cat([q2.reshape(-1), p2.reshape(-1)])

    return torch.autograd.functional.jacobian(f, torch.cat([q.reshape(-1), p.reshape(-1)]))


def _omega(n):
    eye = torch.eye(n, dtype=torch.float64)
    zero = torch.zeros(n, n, dtype=torch.float64)
    return torch.cat([torch.cat([zero, eye], 1), torch.cat([-eye, zero], 1)], 0)


@pytest.mark.parametrize("attention,placement", [(True, "kick"), (False, "kick"), (True, "split")])
def test_each_layer_is_exactly_invertible_and_volume_preserving(attention, placement):
    layer = _tiny_layer(attention, placement)
    torch.manual_seed(1)
    q, p = torch.randn(1, 3, 4, dtype=torch.float64), torch.randn(1, 3, 4, dtype=torch.float64)
    q2, p2 = layer.inverse(*layer(q, p))
    assert torch.allclose(q2, q, atol=1e-12) and torch.allclose(p2, p, atol=1e-12)
    assert abs(float(torch.linalg.det(_jacobian(layer, q, p))) - 1.0) < 1e-10


def test_a_layer_is_symplectic_without_attention_and_not_with_it():
    """The measurement behind the README's wording: the potential part preserves the symplectic
    form, causal attention (not the gradient of an energy) breaks it by O(1)."""
    torch.manual_seed(1)
    q, p = torch.randn(1, 3, 4, dtype=torch.float64), torch.randn(1, 3, 4, dtype=torch.float64)
    omega = _omega(12)
    errors = {}
    for attention in (False, True):
        j = _jacobian(_tiny_layer(attention), q, p)
        errors[attention] = float((j.T @ omega @ j - omega).abs().max())
    assert errors[False] < 1e-10
    assert errors[True] > 1e-2


@pytest.mark.parametrize("placement", ["kick", "split"])
def test_reversible_backprop_gives_the_same_gradients_without_storing_activations(placement):
    """Invertibility used: the reversible path rebuilds activations in the backward pass and must
    give the gradients ordinary backprop gives (float64, to rounding)."""
    cfg = HLLMConfig(vocab_size=20, block_size=16, d_model=8, n_layer=3, n_head=2, potential_width=16,
                     attention=placement)
    torch.manual_seed(0)
    plain = HLLM(cfg).double()
    rev = HLLM(HLLMConfig(**{**cfg.__dict__, "reversible": True})).double()
    rev.load_state_dict(plain.state_dict())
    idx = torch.randint(0, 20, (2, 16))
    grads = []
    for model in (plain, rev):
        model.zero_grad()
        model(idx[:, :-1], idx[:, 1:])[1].backward()
        grads.append({n: w.grad.clone() for n, w in model.named_parameters()})
    for name, g in grads[0].items():
        assert torch.allclose(grads[1][name], g, atol=1e-10, rtol=1e-8), name


@pytest.mark.parametrize("kind", ["hllm", "gpt"])
def test_weight_decay_reaches_matrices_and_embeddings_but_no_norm_bias_or_scale(kind):
    from hanzo.model.hllm.model import optimizer

    model = build(kind, 20)
    opt = optimizer(model, 1e-3, 0.1)
    decay = {id(w) for g in opt.param_groups if g["weight_decay"] > 0 for w in g["params"]}
    names = {n: id(w) in decay for n, w in model.named_parameters()}
    assert sum(len(g["params"]) for g in opt.param_groups) == len(names)
    assert not any(d for n, d in names.items() if "norm" in n or "ln" in n or n.endswith(".bias")), names
    assert all(d for n, d in names.items() if n.endswith(("q.weight", "embed.weight", "embed_q.weight", "W"))), names
    if kind == "hllm":
        assert not names["layers.0.potential.a"] and not names["layers.0.potential.b"]
    # and it acts: one step with zero gradient shrinks a decayed matrix and leaves a norm's gain alone
    for w in model.parameters():
        w.grad = torch.zeros_like(w)
    norm_before, embed_before = model.norm.weight.clone(), next(iter(model.parameters())).clone()
    opt.step()
    assert torch.equal(model.norm.weight, norm_before)
    assert next(iter(model.parameters())).abs().sum() < embed_before.abs().sum()


def test_forward_returns_the_loss_the_logits_give():
    model = build("hllm", 20)
    idx = torch.randint(0, 20, (2, 9))
    logits, loss = model(idx[:, :-1], idx[:, 1:])
    assert model(idx[:, :-1])[1] is None
    expected = F.cross_entropy(logits.reshape(-1, 20), idx[:, 1:].reshape(-1))
    assert torch.allclose(loss, expected)
