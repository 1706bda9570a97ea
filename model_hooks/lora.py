"""Per-user forks: LoRA adapters on a frozen base model, stored as safetensors with a content hash,
optionally encrypted at rest with a key derived from the user's secret.

An adapter adds (alpha / rank) * B A x to a target Linear's output; only A and B train, so a
fork is a few hundred kilobytes and the base is never touched. The adapter file's sha256 is the
content hash the fork's ModelNFT holds. An encrypted file is `HZA1 | salt | nonce | AES-GCM
ciphertext` with the key from scrypt(user secret, salt): a wrong key or any flipped byte fails
authentication, and loading says so instead of returning garbage.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

MAGIC = b"HZA1"


class AdapterError(RuntimeError):
    """An adapter is corrupt, wrongly keyed, or does not fit the model; the message says which."""


@dataclass(frozen=True)
class LoRAConfig:
    """Rank, scale and targets of the adapters. `last_layers` puts them only in the last N layers:
    the backward pass then stops there, which is most of the speed of an interaction (all five
    layers: about 40 ms an update here; the last two: about 24 ms; benchmarks/hllm.py)."""

    rank: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = ("attn.q", "attn.v")
    last_layers: int | None = 2


class LoRALinear(nn.Module):
    """A frozen Linear plus a trainable low-rank update."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.A = nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
        self.B = nn.Parameter(torch.zeros(base.out_features, rank))  # zero: the fork starts as the base
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale


def attach(model: nn.Module, cfg: LoRAConfig) -> list[str]:
    """Freeze `model` and wrap every Linear whose name ends with a target; returns their names."""
    import re

    for p in model.parameters():
        p.requires_grad_(False)
    layer_of = lambda n: int(m.group(2)) if (m := re.match(r"(layers|blocks)\.(\d+)\.", n)) else None  # noqa: E731
    depth = max((i for n, _ in model.named_modules() if (i := layer_of(n)) is not None), default=0) + 1
    first = 0 if cfg.last_layers is None else depth - cfg.last_layers
    wrapped = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            layer = layer_of(full)
            if layer is not None and layer < first:
                continue
            if isinstance(child, nn.Linear) and any(full.endswith(t) for t in cfg.targets):
                setattr(module, child_name, LoRALinear(child, cfg.rank, cfg.alpha))
                wrapped.append(full)
    if not wrapped:
        raise AdapterError(f"no Linear layer matches the LoRA targets {cfg.targets}")
    return wrapped


def adapter_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if n.endswith((".A", ".B"))}


def reset(model: nn.Module) -> None:
    """Back to the base model: A random, B zero (a fresh fork)."""
    for module in model.modules():
        if isinstance(module, LoRALinear):
            nn.init.zeros_(module.B)


def serialize(state: dict[str, torch.Tensor], cfg: LoRAConfig, base_id: str) -> bytes:
    meta = {"lora": json.dumps({**asdict(cfg), "targets": list(cfg.targets)}), "base": base_id}  # noqa: E501
    return st_save({k: v.contiguous() for k, v in sorted(state.items())}, metadata=meta)


def content_hash(data: bytes) -> bytes:
    """The 32-byte sha256 of the adapter file as stored (what the ModelNFT records)."""
    return hashlib.sha256(data).digest()


def _key(secret: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(secret.encode())


def encrypt(data: bytes, secret: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    return MAGIC + salt + nonce + AESGCM(_key(secret, salt)).encrypt(nonce, data, MAGIC)


def decrypt(blob: bytes, secret: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob.startswith(MAGIC) or len(blob) < 4 + 16 + 12 + 16:
        raise AdapterError("not an encrypted adapter (bad header)")
    salt, nonce, body = blob[4:20], blob[20:32], blob[32:]
    try:
        return AESGCM(_key(secret, salt)).decrypt(nonce, body, MAGIC)
    except InvalidTag:
        raise AdapterError("the adapter does not decrypt: wrong key, or the file was altered") from None


def save(path: Path, model: nn.Module, cfg: LoRAConfig, base_id: str, secret: str | None = None) -> bytes:
    """Write the adapter (encrypted if `secret`); returns the content hash of the stored bytes."""
    data = serialize(adapter_state(model), cfg, base_id)
    if secret is not None:
        data = encrypt(data, secret)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return content_hash(data)


def load(path: Path, model: nn.Module, *, expected_hash: bytes | None = None, secret: str | None = None,
         base_id: str | None = None) -> LoRAConfig:
    """Load an adapter into a model that has LoRA attached. Verifies the content hash (when given),
    decrypts (when a secret is given), and checks that it fits; never loads silently."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise AdapterError(f"{path}: no such adapter") from None
    if expected_hash is not None and content_hash(blob) != expected_hash:
        raise AdapterError(f"{path}: content hash {content_hash(blob).hex()} is not the recorded {expected_hash.hex()}")
    if blob.startswith(MAGIC):
        if secret is None:
            raise AdapterError(f"{path}: the adapter is encrypted; give the user's secret")
        blob = decrypt(blob, secret)
    try:
        state = st_load(blob)
        # the metadata sits in the safetensors header: 8 bytes of length, then JSON
        header_len = int.from_bytes(blob[:8], "little")
        meta = json.loads(blob[8:8 + header_len]).get("__metadata__", {})
        cfg_dict = json.loads(meta["lora"])
    except Exception as exc:  # noqa: BLE001 - any parse failure is a corrupt adapter
        raise AdapterError(f"{path}: not a readable adapter ({type(exc).__name__})") from None
    if base_id is not None and meta.get("base") != base_id:
        raise AdapterError(f"{path}: made for base model {meta.get('base')!r}, not {base_id!r}")
    params = dict(model.named_parameters())
    missing = [k for k in state if k not in params]
    if missing or len(state) != len(adapter_state(model)):
        raise AdapterError(f"{path}: does not fit this model (unexpected {missing[:2]} or a different target set)")
    with torch.no_grad():
        for k, v in state.items():
            if params[k].shape != v.shape:
                raise AdapterError(f"{path}: {k} has shape {tuple(v.shape)}, the model expects {tuple(params[k].shape)}")
            params[k].copy_(v)
    return LoRAConfig(cfg_dict["rank"], cfg_dict["alpha"], tuple(cfg_dict["targets"]), cfg_dict.get("last_layers"))
