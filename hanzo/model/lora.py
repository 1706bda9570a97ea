"""Per-user forks: LoRA adapters on a frozen base model, stored as safetensors with a content hash,
optionally encrypted at rest with a key derived from the user's secret.

An adapter adds (alpha / rank) * B A x to a target Linear's output; only A and B train, so a
fork is a few hundred kilobytes and the base is never touched. The sha256 of the adapter's
plaintext (the safetensors bytes) is the content hash the fork's ModelNFT holds: the same adapter
has the same hash whether it is stored encrypted or not.

Binding: an adapter belongs to one fork. Its `Binding` (user, fork id, base model id, version)
sits in the safetensors metadata and, for an encrypted file, is the AES-GCM associated data:
`HZA2 | len | binding JSON | salt | nonce | ciphertext`, key from scrypt(user secret, salt). A
wrong key, a flipped byte, another user's file, another fork's or an older version all fail,
and loading says which instead of returning garbage. Tensors must be finite and the LoRA
configuration must be the model's: a file with NaN, Inf or a changed alpha does not load.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

MAGIC = b"HZA2"
USER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


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


@dataclass(frozen=True)
class Binding:
    """Whose adapter this is: the user, the fork (ModelNFT id), the base model and the version
    (sessions saved so far). Bound into the file, checked on every load."""

    user: str
    fork: int
    base: str
    version: int | None  # None when loading: any version, as the recorded hash pins it

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Binding":
        d = json.loads(text)
        return cls(str(d["user"]), int(d["fork"]), str(d["base"]), int(d["version"]))


def check_user_name(user: str) -> str:
    """A user name that is safe as a file name: letters, digits, `_ . -`, not starting with a dot
    (so never `..` or a path)."""
    if not isinstance(user, str) or not USER_NAME.match(user):
        raise AdapterError(f"user {user!r}: expected 1-64 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
    return user


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


def reset(model: nn.Module, seed: int) -> None:
    """A fresh fork: B zero (the fork starts as the base model) and A drawn anew from `seed` (the
    fork's own), so a new fork inherits nothing from whichever fork the model held before."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, LoRALinear):
                module.A.copy_(torch.randn(module.A.shape, generator=gen) / module.A.shape[1] ** 0.5)
                module.B.zero_()


def config_json(cfg: LoRAConfig) -> str:
    return json.dumps({**asdict(cfg), "targets": list(cfg.targets)}, sort_keys=True)


def serialize(state: dict[str, torch.Tensor], cfg: LoRAConfig, binding: Binding) -> bytes:
    meta = {"lora": config_json(cfg), "base": binding.base, "binding": binding.to_json()}
    return st_save({k: v.contiguous() for k, v in sorted(state.items())}, metadata=meta)


def content_hash(data: bytes) -> bytes:
    """The 32-byte sha256 of the adapter's plaintext bytes (what the ModelNFT records)."""
    return hashlib.sha256(data).digest()


def _key(secret: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(secret.encode())


def encrypt(data: bytes, secret: str, binding: Binding) -> bytes:
    """AES-GCM with the binding as associated data: the header names whose file it is, and the
    tag fails if the header is changed or the file is loaded as someone else's."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    bound = binding.to_json().encode()
    header = MAGIC + len(bound).to_bytes(2, "big") + bound
    salt, nonce = os.urandom(16), os.urandom(12)
    return header + salt + nonce + AESGCM(_key(secret, salt)).encrypt(nonce, data, header)


def decrypt(blob: bytes, secret: str, expected: Binding | None = None) -> tuple[bytes, Binding]:
    """(plaintext, binding). With `expected`, the file must be that user's, fork's and base's
    (and version's, unless expected.version is None): checked on the header before any key is
    derived, and again by the tag."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob.startswith(MAGIC) or len(blob) < 6:
        raise AdapterError("not an encrypted adapter (bad header)")
    n = int.from_bytes(blob[4:6], "big")
    header, rest = blob[:6 + n], blob[6 + n:]
    if len(rest) < 16 + 12 + 16:
        raise AdapterError("not an encrypted adapter (truncated)")
    try:
        binding = Binding.from_json(header[6:].decode())
    except Exception:  # noqa: BLE001 - any malformed header
        raise AdapterError("not an encrypted adapter (unreadable binding)") from None
    if expected is not None:
        _check_binding(binding, expected)
    salt, nonce, body = rest[:16], rest[16:28], rest[28:]
    try:
        return AESGCM(_key(secret, salt)).decrypt(nonce, body, header), binding
    except InvalidTag:
        raise AdapterError("the adapter does not decrypt: wrong key, or the file was altered") from None


def _check_binding(found: Binding, expected: Binding) -> None:
    for name in ("user", "fork", "base", "version"):
        if name == "version" and expected.version is None:
            continue  # the recorded hash pins the version: the binding is inside the hashed plaintext
        if getattr(found, name) != getattr(expected, name):
            raise AdapterError(f"the adapter is bound to {name} {getattr(found, name)!r}, not {getattr(expected, name)!r} "
                               f"(another user's or fork's file, or an older version)")


def save(path: Path, model: nn.Module, cfg: LoRAConfig, binding: Binding, secret: str | None = None) -> bytes:
    """Write the adapter atomically (encrypted if `secret`); returns the content hash of its plaintext."""
    data = serialize(adapter_state(model), cfg, binding)
    stored = encrypt(data, secret, binding) if secret is not None else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(stored)
    os.replace(tmp, path)
    return content_hash(data)


def load(path: Path, model: nn.Module, cfg: LoRAConfig, *, expected_hash: bytes, binding: Binding,
         secret: str | None = None) -> Binding:
    """Load a fork's adapter into a model that has LoRA attached (with `cfg`). Checks, in order:
    the file's binding (user, fork, base, version), decryption, the plaintext's hash against the
    one the fork's NFT records, that it parses, that its configuration is `cfg`, that every
    tensor fits and is finite. Any failure raises AdapterError and leaves the model unchanged."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise AdapterError(f"{path}: no such adapter") from None
    try:
        if blob.startswith(MAGIC):
            if secret is None:
                raise AdapterError("the adapter is encrypted; give the user's secret")
            blob, _ = decrypt(blob, secret, binding)
        elif secret is not None:
            raise AdapterError("the adapter is not encrypted but a secret was given (a substituted file?)")
        if content_hash(blob) != expected_hash:
            raise AdapterError(f"content hash {content_hash(blob).hex()} is not the recorded {expected_hash.hex()}")
        try:
            state = st_load(blob)
            meta = metadata(blob)
            found_cfg, found_binding = meta["lora"], Binding.from_json(meta["binding"])
        except Exception as exc:  # noqa: BLE001 - any parse failure is a corrupt adapter
            raise AdapterError(f"not a readable adapter ({type(exc).__name__})") from None
        _check_binding(found_binding, binding)
        if json.loads(found_cfg) != json.loads(config_json(cfg)):
            raise AdapterError(f"its LoRA configuration {found_cfg} is not this model's {config_json(cfg)}")
        params = dict(model.named_parameters())
        expected = adapter_state(model)
        if set(state) != set(expected):
            odd = sorted(set(state) ^ set(expected))[:2]
            raise AdapterError(f"does not fit this model (tensors {odd} differ: a different target set)")
        for k, v in state.items():
            if params[k].shape != v.shape:
                raise AdapterError(f"{k} has shape {tuple(v.shape)}, the model expects {tuple(params[k].shape)}")
            if not bool(torch.isfinite(v).all()):
                raise AdapterError(f"{k} holds NaN or infinite values")
    except AdapterError as exc:
        raise AdapterError(f"{path}: {exc}") from None
    put(model, state)
    return found_binding


def metadata(blob: bytes) -> dict[str, str]:
    """A safetensors file's metadata: it sits in the header, 8 bytes of length, then JSON."""
    return json.loads(blob[8:8 + int.from_bytes(blob[:8], "little")]).get("__metadata__", {})


def put(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy adapter tensors (already checked to fit) into the model's LoRA parameters."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v)
