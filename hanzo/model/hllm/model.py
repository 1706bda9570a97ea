"""A small Hamiltonian LLM, and a GPT baseline of the same size (design/hllm.md).

The hidden state of each position is a pair (q, p), position and momentum. Each layer is one
step of a Hamiltonian system H(q, p) = |p|^2 / 2 + V_l(q) with a learned potential

    V_l(q) = sum_j a_j softplus(w_j . q + b_j),   dV_l/dq = W^T (a * sigmoid(W q + b)),

whose force is written out exactly (no autograd inside the forward), plus causal attention as an
external force A_l. The step is half a kick of the potential, the attention impulse, a drift,
half a kick: four shears of (q, p).

What that makes each layer, measured in tests/test_hllm.py (not assumed):
- **exactly invertible** (`LeapfrogLayer.inverse` undoes it, to float64 rounding) and
  **volume-preserving** (det J = 1): every shear is;
- **symplectic without attention** (J^T Omega J = Omega: the potential's force is a gradient),
  **not symplectic with it**: causal attention is not the gradient of any energy (position i
  feels j < i and not the reverse), so J^T Omega J differs from Omega by O(1). The model is a
  reversible momentum network with a symplectic potential part, not a Hamiltonian system.
- The energy recorded per layer (`model.energies`, when `record_energies` is set) is that
  layer's own H_l = |p|^2/2 + V_l(q); the H_l differ between layers, so their values are not one
  conserved quantity. Recording is off by default: it costs a potential evaluation per layer and
  reading it is a host sync, neither of which training should pay.

Momentum starts from its own embedding table, smoothed along the sequence by a causal
convolution whose weights decay with distance at a learned, per-channel rate (the "local grammar"
path of the source repository). Steering adds strength * (the unit direction of a word's
embedding) to the momentum at every position.

As in nanoGPT, both models' forward takes optional targets and returns (logits, loss), the loss in
float32 whatever the autocast; `optimizer` decays matrices and embeddings only, never norms,
biases or the potential's per-unit scales.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class HLLMConfig:
    vocab_size: int = 79
    block_size: int = 256
    d_model: int = 192
    n_layer: int = 5
    n_head: int = 4
    potential_width: int = 256
    dt: float = 0.5
    conv_kernel: int = 4
    reversible: bool = False  # backprop by inverting the layers instead of storing their activations
    # where the attention acts in a step: "kick", one kick of dt before the drift (the shipped model),
    # or "split", a half kick before and after it as the potential's (Strang splitting: two attentions)
    attention: str = "kick"


@dataclass
class GPTConfig:
    vocab_size: int = 79
    block_size: int = 256
    d_model: int = 128
    n_layer: int = 5
    n_head: int = 4


class CausalSelfAttention(nn.Module):
    """Multi-head causal attention with separate q, k, v, o projections (LoRA targets them by name)."""

    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.q = nn.Linear(d_model, d_model, bias=False)
        self.k = nn.Linear(d_model, d_model, bias=False)
        self.v = nn.Linear(d_model, d_model, bias=False)
        self.o = nn.Linear(d_model, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.n_head

        def split(y):
            return y.view(b, t, h, d // h).transpose(1, 2)

        y = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), is_causal=True)
        return self.o(y.transpose(1, 2).reshape(b, t, d))


class Potential(nn.Module):
    """V(q) = sum a * softplus(W q + b), with its exact gradient."""

    def __init__(self, d_model: int, width: int):
        super().__init__()
        self.W = nn.Parameter(torch.randn(width, d_model) / math.sqrt(d_model))
        self.b = nn.Parameter(torch.zeros(width))
        self.a = nn.Parameter(torch.full((width,), 0.1))

    def energy(self, q: torch.Tensor) -> torch.Tensor:
        return (F.softplus(q @ self.W.T + self.b) * self.a).sum(-1)

    def grad(self, q: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(q @ self.W.T + self.b) * self.a) @ self.W


class LeapfrogLayer(nn.Module):
    def __init__(self, cfg: HLLMConfig):
        super().__init__()
        self.potential = Potential(cfg.d_model, cfg.potential_width)
        self.norm = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg.d_model, cfg.n_head)
        self.dt = cfg.dt
        if cfg.attention not in ("kick", "split"):
            raise ValueError(f"attention: expected 'kick' or 'split', got {cfg.attention!r}")
        self.split = cfg.attention == "split"

    def forward(self, q: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.dt / 2
        p = p - h * self.potential.grad(q)
        p = p + (h if self.split else self.dt) * self.attn(self.norm(q))
        q = q + self.dt * p
        if self.split:
            p = p + h * self.attn(self.norm(q))
        p = p - h * self.potential.grad(q)
        return q, p

    def inverse(self, q: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer run backwards: each shear undone in reverse order (exact up to rounding)."""
        h = self.dt / 2
        p = p + h * self.potential.grad(q)
        if self.split:
            p = p - h * self.attn(self.norm(q))
        q = q - self.dt * p
        p = p - (h if self.split else self.dt) * self.attn(self.norm(q))
        p = p + h * self.potential.grad(q)
        return q, p

    def energy(self, q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return 0.5 * (p * p).sum(-1) + self.potential.energy(q)


class _Reversible(torch.autograd.Function):
    """Backpropagation through the leapfrog layers without storing their activations (as RevNet):
    the forward keeps only the last layer's output; the backward rebuilds each layer's input from
    its output with LeapfrogLayer.inverse and differentiates that one layer. Activation memory is
    one layer's instead of every layer's, for one more forward pass per layer."""

    @staticmethod
    def forward(ctx, q, p, layers, *params):
        ctx.layers = layers
        with torch.no_grad():
            for layer in layers:
                q, p = layer(q, p)
        ctx.save_for_backward(q, p)
        return q, p

    @staticmethod
    def backward(ctx, gq, gp):
        q, p = ctx.saved_tensors
        grads: dict[int, torch.Tensor] = {}
        for layer in reversed(ctx.layers):
            with torch.no_grad():
                q, p = layer.inverse(q, p)
            with torch.enable_grad():
                q_in, p_in = q.detach().requires_grad_(), p.detach().requires_grad_()
                trainable = [w for w in layer.parameters() if w.requires_grad]
                out = layer(q_in, p_in)
                got = torch.autograd.grad(out, (q_in, p_in, *trainable), (gq, gp), allow_unused=True)
            gq, gp = got[0], got[1]
            for w, g in zip(trainable, got[2:]):
                if g is not None:
                    grads[id(w)] = g
        params = [w for layer in ctx.layers for w in layer.parameters() if w.requires_grad]
        return (gq, gp, None, *(grads.get(id(w)) for w in params))


class DecayConv(nn.Module):
    """Causal depthwise convolution with weights exp(-rate * k) at distance k (learned rate per channel)."""

    def __init__(self, d_model: int, kernel: int):
        super().__init__()
        self.kernel = kernel
        self.rate = nn.Parameter(torch.ones(d_model))
        self.gain = nn.Parameter(torch.ones(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = torch.arange(self.kernel, device=x.device, dtype=x.dtype)
        weights = torch.exp(-F.softplus(self.rate)[:, None] * k) * self.gain[:, None]  # (d, K), k = distance
        padded = F.pad(x.transpose(1, 2), (self.kernel - 1, 0))  # (b, d, t + K - 1)
        return F.conv1d(padded, weights.flip(-1)[:, None, :], groups=x.shape[-1]).transpose(1, 2)


def _loss(logits: torch.Tensor, targets: torch.Tensor | None) -> torch.Tensor | None:
    if targets is None:
        return None
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))


class HLLM(nn.Module):
    def __init__(self, cfg: HLLMConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_q = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.embed_p = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.position = nn.Embedding(cfg.block_size, cfg.d_model)
        self.momentum_conv = DecayConv(cfg.d_model, cfg.conv_kernel)
        self.layers = nn.ModuleList(LeapfrogLayer(cfg) for _ in range(cfg.n_layer))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.record_energies = False
        self._energies: list[torch.Tensor] = []
        for emb in (self.embed_q, self.embed_p, self.position):
            nn.init.normal_(emb.weight, std=0.02)

    @property
    def energies(self) -> list[float]:
        """Per layer H_l of the last forward with `record_energies` set (read here, not in forward)."""
        return [float(e) for e in self._energies]

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                steer: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        t = idx.shape[1]
        q = self.embed_q(idx) + self.position(torch.arange(t, device=idx.device))
        p = self.momentum_conv(self.embed_p(idx))
        if steer is not None:
            p = p + steer
        energies = []
        if self.cfg.reversible and torch.is_grad_enabled():
            params = [w for layer in self.layers for w in layer.parameters() if w.requires_grad]
            q, p = _Reversible.apply(q, p, tuple(self.layers), *params)
        else:
            for layer in self.layers:
                q, p = layer(q, p)
                if self.record_energies:
                    energies.append(layer.energy(q, p).mean().detach())
        self._energies = energies  # not recorded on the reversible path
        logits = self.norm(q) @ self.embed_q.weight.T
        return logits, _loss(logits, targets)

    def steering_vector(self, token_ids: torch.Tensor, strength: float) -> torch.Tensor:
        """strength x the mean embedding of a word's characters, added to the momentum: q drifts
        toward (or away from) the output embeddings of those characters, whose logits are q . e."""
        direction = self.embed_q.weight[token_ids].mean(0)
        return strength * direction / direction.norm()


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg.d_model, cfg.n_head)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, 4 * cfg.d_model), nn.GELU(), nn.Linear(4 * cfg.d_model, cfg.d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """The baseline: a pre-LayerNorm transformer of about the same parameter count."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.position = nn.Embedding(cfg.block_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = nn.LayerNorm(cfg.d_model)
        for emb in (self.embed, self.position):
            nn.init.normal_(emb.weight, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                steer: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.embed(idx) + self.position(torch.arange(idx.shape[1], device=idx.device))
        if steer is not None:
            x = x + steer
        for block in self.blocks:
            x = block(x)
        logits = self.norm(x) @ self.embed.weight.T
        return logits, _loss(logits, targets)

    def steering_vector(self, token_ids: torch.Tensor, strength: float) -> torch.Tensor:
        direction = self.embed.weight[token_ids].mean(0)
        return strength * direction / direction.norm()


@dataclass(frozen=True)
class Size:
    """A size preset: both models' configurations and the batch they train on by default."""

    hllm: HLLMConfig
    gpt: GPTConfig
    batch_size: int
    block_size: int  # training context, at most the models' block_size


SIZES = {
    # today's shipped model (1,067,776 / 1,031,936 parameters): the defaults, unchanged
    "small": Size(HLLMConfig(), GPTConfig(), batch_size=16, block_size=128),
    # issue 19's GPU size (6,466,304 / 6,396,160 parameters), batch 64 x 256 characters; dt 0.25, not the small
    # model's 0.5: on the H200 it was the one design choice that helped, -0.051 and -0.045 nats/char (two runs,
    # 3 seeds each, +-0.007), where 0.125, 1.0, a wider potential and a split attention did not (docs/hllm.md)
    "medium": Size(HLLMConfig(d_model=384, n_layer=8, potential_width=512, dt=0.25),
                   GPTConfig(d_model=256, n_layer=8), batch_size=64, block_size=256),
    # for tests of the training protocol on CPU only (a few thousand parameters)
    "tiny": Size(HLLMConfig(block_size=64, d_model=16, n_layer=2, n_head=2, potential_width=16),
                 GPTConfig(block_size=64, d_model=16, n_layer=2, n_head=2), batch_size=4, block_size=32),
}


def build(kind: str, vocab_size: int, size: str = "small", **overrides):
    """A fresh model of a size preset; `overrides` change fields of its configuration (an ablation:
    dt=0.25, potential_width=1024, attention="split")."""
    if size not in SIZES:
        raise ValueError(f"model size: expected one of {', '.join(SIZES)}, got {size!r}")
    if kind not in ("hllm", "gpt"):
        raise ValueError(f"model kind: expected hllm or gpt, got {kind!r}")
    base = SIZES[size].hllm if kind == "hllm" else SIZES[size].gpt
    names = [f.name for f in fields(base) if f.name != "vocab_size"]  # the vocabulary is the tokenizer's
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"model overrides: {kind} has no configurable field {', '.join(map(repr, unknown))} "
                         f"(expected some of {', '.join(names)})")
    cfg = replace(base, vocab_size=vocab_size, **overrides)
    return HLLM(cfg) if kind == "hllm" else GPT(cfg)


def optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with decay on matrices and embeddings (dim >= 2) only: decaying a LayerNorm gain, a
    bias or the potential's scales a pulls them toward 0, which changes what the layer computes
    rather than regularising it (nanoGPT's rule)."""
    params = [w for w in model.parameters() if w.requires_grad]
    groups = [{"params": [w for w in params if w.dim() >= 2], "weight_decay": weight_decay},
              {"params": [w for w in params if w.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
