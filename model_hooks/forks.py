"""A user's fork at work: one session of LoRA updates on the user's text, scored on held-out text.

The trainer knows nothing of the chain: it returns the adapter's bytes, its content hash and its
quality, and model_hooks.rewards turns those into an on-chain reward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from hanzo_econ.params import DEFAULT, Tokenomics

from . import lora
from .hllm.data import CharTokenizer
from .hllm.train import CACHE, SHIPPED, load_model
from .quality import Quality, assess

FORKS = CACHE / "forks"


class TextError(ValueError):
    """A user's text is unusable (too short, empty); the message says what is needed."""


@dataclass
class Session:
    user: str
    interactions: int
    adapter_path: Path
    adapter_hash: bytes
    quality: Quality
    median_update_ms: float


class ForkTrainer:
    """The base model (frozen) with LoRA attached; loads and saves each user's adapter."""

    def __init__(self, base: Path | None = None, cfg: lora.LoRAConfig = lora.LoRAConfig(), lr: float = 3e-3,
                 p: Tokenomics = DEFAULT, forks: Path = FORKS, seed: int = 0):
        base = base or (CACHE / "hllm" if (CACHE / "hllm" / "model.safetensors").is_file() else SHIPPED)
        self.model = load_model(base)
        self.base_id = lora.content_hash((base / "model.safetensors").read_bytes()).hex()[:16]
        self.cfg, self.lr, self.p, self.forks = cfg, lr, p, forks
        torch.manual_seed(seed)  # the adapters' random A: the same fork from the same inputs
        self.targets = lora.attach(self.model, cfg)
        self.tok = CharTokenizer.load()
        self.block = 256

    def adapter_path(self, user: str) -> Path:
        return self.forks / f"{user}.safetensors"

    def split(self, text: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The user's text: the first 80% trains, the last 20% is held out for the quality score."""
        ids = self.tok.encode(text)
        if len(ids) < 2 * 65:
            raise TextError(f"the text has {len(ids)} characters; at least 130 are needed (some to train on, some held out)")
        cut = int(len(ids) * 0.8)
        return ids[:cut], ids[cut:]

    @torch.no_grad()
    def held_out_loss(self, ids: torch.Tensor) -> float:
        self.model.eval()
        total, count = 0.0, 0
        for s in range(0, len(ids) - 1, self.block):
            chunk = ids[s:s + self.block + 1]
            if len(chunk) < 2:
                break
            logits = self.model(chunk[None, :-1])
            total += F.cross_entropy(logits[0], chunk[1:], reduction="sum").item()
            count += len(chunk) - 1
        return total / count

    def session(self, user: str, text: str, interactions: int = 8, secret: str | None = None,
                expected_hash: bytes | None = None, seed: int = 0) -> Session:
        """Load the user's fork (or start one), run `interactions` updates on 256-character windows
        of the training part, score on the held-out part, save the adapter."""
        if interactions < 1:
            raise ValueError(f"interactions: expected at least 1, got {interactions}")
        train_ids, held = self.split(text)
        path = self.adapter_path(user)
        if path.exists():
            lora.load(path, self.model, expected_hash=expected_hash, secret=secret, base_id=self.base_id)
        else:
            lora.reset(self.model)  # B = 0: a new fork starts as the base model
        before = self.held_out_loss(held)
        params = [p for n, p in self.model.named_parameters() if n.endswith((".A", ".B"))]
        opt = torch.optim.Adam(params, lr=self.lr)
        gen = torch.Generator().manual_seed(seed)
        span = min(self.block, len(train_ids) - 1)
        times = []
        self.model.train()
        for _ in range(interactions):
            s = int(torch.randint(0, len(train_ids) - span, (1,), generator=gen)) if len(train_ids) > span + 1 else 0
            x, y = train_ids[s:s + span][None], train_ids[s + 1:s + 1 + span][None]
            t0 = time.perf_counter()
            loss = F.cross_entropy(self.model(x)[0], y[0])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            times.append((time.perf_counter() - t0) * 1000)
        after = self.held_out_loss(held)
        digest = lora.save(path, self.model, self.cfg, self.base_id, secret)
        times.sort()
        return Session(user, interactions, path, digest, assess(before, after, self.p), times[len(times) // 2])
