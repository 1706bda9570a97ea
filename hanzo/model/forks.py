"""A user's fork at work: one session of LoRA updates on the user's text.

The trainer knows nothing of the chain or of rewards. It loads the fork's adapter (checked
against the hash the fork's NFT records, bound to the user and the fork), trains on the user's
text, and measures the model before and after on evaluation sets it is handed: the quality
oracle's (hanzo.model.quality), which the user does not control. The adapter it writes is a
candidate: the fork's current adapter is whatever the NFT records, so a session that is not
paid leaves the fork as it was.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load as st_load, save as st_save

from . import lora
from .hllm.data import CharTokenizer
from .hllm.train import CACHE, SHIPPED, load_model

FORKS = CACHE / "forks"
STARTS = CACHE / "public-start"  # public starts built here for bases that do not ship one
WINDOW = 256  # characters per update and per evaluation chunk
START_FILE = "public-start.safetensors"  # a base's own public start, shipped beside its weights


class TextError(ValueError):
    """A user's text is unusable (too short, empty); the message says what is needed."""


@dataclass
class Session:
    user: str
    fork: int
    version: int  # this adapter's version: sessions saved on the fork so far, this one included
    updates: int  # updates made (passes x windows of the text)
    adapter_path: Path
    adapter_hash: bytes
    median_update_ms: float


def fork_seed(user: str, fork: int) -> int:
    """The seed of a new fork's random A: its own, from who owns it and which fork it is."""
    return int.from_bytes(hashlib.sha256(f"{user}:{fork}".encode()).digest()[:8], "big")


@dataclass
class Appraisal:
    """A text's measured worth: losses per chunk of each evaluation set before and after the public
    start is trained on it (ForkTrainer.appraise)."""

    updates: int
    before: dict[str, torch.Tensor]
    after: dict[str, torch.Tensor]


@dataclass(frozen=True)
class PublicStart:
    """How the operator trains the adapter every new fork starts from: `updates` LoRA updates, one
    random WINDOW of the public corpus each (batch 1, Adam at `lr`, windows drawn from `seed`).

    Why a new fork does not start from the bare base: the base is underfit on its own public text,
    so a fork's first session gained about as much from shuffled fragments of public text (which
    no novelty channel can call a copy) as from honest writing: padding 1,000 own characters with
    2,000 of fragment salad earned 7.3 times an honest 1,000-character session. From a start that
    has already learnt the public text, only what is not in it still improves the exam, and salad
    makes the model worse at public text (the base set), so it is refused as low quality.
    Measured on the shipped base (8 sessions each, 256-char exam windows): fragment salad alone
    paid 6/8 from a fresh fork, 0/8 from this start; salad padding 4/4 -> 0/4 at 10,000 updates
    (1/4 at 3,000); honest 3,000-character first sessions 8/8 paid either way, honest 1,000-character
    ones 8/8 -> 6/8 (their gain is small next to the exam's noise). 10,000 updates take about
    five CPU-minutes, once per base model.

    Tried and not kept (session 10): 12,000 updates of 4 windows with a cosine-decaying rate from
    2e-3 (public loss 1.854 -> 1.841 nats/char) made public text cut into 3-word pieces worthless
    too (the 3 public plays nearest each domain, 1,500 characters, gate off: +0.0006 -> -0.0012
    nats on average, beyond the exam's noise 5/12 -> 0/12) and appraised honest writing the same,
    but in the farming benchmark it paid fewer honest sessions (0.86 -> 0.72: 6,000 characters
    8/8 -> 4/8, a 7-session series 7/7 -> 3/7, neutral), most likely because from a start nearer
    the public optimum a long session worsens the base set beyond its limit. Such salad is refused
    at the gate (max_public_trigram_share), so this start stays until the base-set rule is
    measured against a sharper start."""

    updates: int = 10_000
    lr: float = 1e-3
    seed: int = 12345

    def __post_init__(self):
        if not isinstance(self.updates, int) or self.updates < 1:
            raise ValueError(f"updates: expected a positive number of updates, got {self.updates!r}")
        if not self.lr > 0:
            raise ValueError(f"lr: expected a positive learning rate, got {self.lr!r}")


def public_corpus() -> str:
    """Everything anyone may read (hanzo.model.corpus), in a fixed order."""
    from .corpus import LOCAL

    texts = LOCAL.public_texts()
    return "\n".join(texts[name] for name in sorted(texts))


class ForkTrainer:
    """The base model (frozen) with LoRA attached; loads and saves each user's adapter."""

    def __init__(self, base: Path | None = None, cfg: lora.LoRAConfig = lora.LoRAConfig(), lr: float = 3e-3,
                 forks: Path = FORKS, start: PublicStart | None = PublicStart()):
        base = base or (CACHE / "hllm" if (CACHE / "hllm" / "model.safetensors").is_file() else SHIPPED)
        self.model = load_model(base)
        self.base_id = lora.content_hash((base / "model.safetensors").read_bytes()).hex()[:16]
        self.cfg, self.lr, self.forks = cfg, lr, forks
        self.targets = lora.attach(self.model, cfg)
        self.tok = CharTokenizer.load()
        self.block = WINDOW
        # what a fork with no recorded adapter starts from: the operator's public start, or (None)
        # the bare base with the fork's own random A
        self.start, self.start_id, self.start_path = None, None, None
        if start is not None:
            self.start_id = self._start_id(start)
            self.start, self.start_path = self._public_start(base, start)
        # evaluation set digest -> the public start's chunk losses on it (the base set is the same
        # every session; each session's exam is its own)
        self._measured: OrderedDict[bytes, torch.Tensor] = OrderedDict()

    def adapter_path(self, user: str, fork: int) -> Path:
        lora.check_user_name(user)
        if not isinstance(fork, int) or fork < 1:
            raise lora.AdapterError(f"fork {fork!r}: expected a ModelNFT id (a positive integer)")
        return self.forks / user / f"fork-{fork}.safetensors"

    def encode(self, text: str, what: str = "the text") -> torch.Tensor:
        ids = self.tok.encode(text)
        if len(ids) < 2 * 65:
            raise TextError(f"{what} has {len(ids)} characters; at least 130 are needed")
        return ids

    @torch.no_grad()
    def chunk_losses(self, ids: torch.Tensor, batch: int = 8) -> torch.Tensor:
        """Mean loss (nats per character) of each WINDOW-character chunk of `ids`; whole chunks
        are measured `batch` at a time (one call per chunk was most of a session's time)."""
        self.model.eval()
        starts = [s for s in range(0, len(ids) - 1, self.block) if len(ids) - s >= 2]
        whole = [s for s in starts if s + self.block + 1 <= len(ids)]
        out = []
        for i in range(0, len(whole), batch):
            rows = torch.stack([ids[s:s + self.block + 1] for s in whole[i:i + batch]])
            logits = self.model(rows[:, :-1])[0].float()
            losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), rows[:, 1:], reduction="none")
            out.extend(losses.mean(dim=1).tolist())
        for s in starts[len(whole):]:  # the tail, shorter than a window
            chunk = ids[s:s + self.block + 1]
            out.append(self.model(chunk[None, :-1], chunk[None, 1:])[1].item())
        return torch.tensor(out)

    def load_fork(self, user: str, fork: int, recorded_hash: bytes | None, secret: str | None,
                  head_owner: str | None = None) -> int:
        """Put the fork's adapter in the model; returns its version. A fork whose NFT records no
        adapter (None or the zero hash) starts from the public start (or, without one, fresh from
        its own seed); otherwise the file must exist and be exactly what the NFT records. The head
        is its owner's file: `head_owner` when another user trains the fork (the chain's head is
        the owner's last paid adapter), else the user's own."""
        owner = head_owner or user  # whose file the head is, and so whose binding it carries
        path = self.adapter_path(owner, fork)
        if recorded_hash is None or recorded_hash == bytes(32):
            if self.start is None:
                lora.reset(self.model, fork_seed(owner, fork))
            else:
                lora.put(self.model, self.start)
            return 0
        if not path.exists():
            raise lora.AdapterError(f"{path}: the fork's NFT records adapter {recorded_hash.hex()[:16]}… but the file "
                                    "is missing")
        found = lora.load(path, self.model, self.cfg, expected_hash=recorded_hash, secret=secret,
                          binding=lora.Binding(owner, fork, self.base_id, None))
        return int(found.version)

    def session(self, user: str, fork: int, text: str, passes: int = 2, *, recorded_hash: bytes | None = None,
                secret: str | None = None, seed: int = 0, lr: float | None = None,
                head_owner: str | None = None) -> Session:
        """Load the fork, make `passes` passes over the WINDOW-character windows of `text` (one
        update each, in an order drawn from `seed`), and save the adapter as the fork's next version
        (a candidate file beside the current one: `promote` makes it current once it is paid). The
        work follows from the text: no caller asks for more. What the text is worth is `appraise`'s."""
        ids = self.encode(text)
        version = self.load_fork(user, fork, recorded_hash, secret, head_owner)
        times = sorted(self._train(ids, passes, seed, lr or self.lr))
        candidate = self.candidate_path(user, fork)
        binding = lora.Binding(user, fork, self.base_id, version + 1)
        digest = lora.save(candidate, self.model, self.cfg, binding, secret)
        return Session(user, fork, version + 1, len(times), candidate, digest, times[len(times) // 2])

    def _train(self, ids: torch.Tensor, passes: int, seed: int, lr: float) -> list[float]:
        """`passes` passes over the WINDOW-character windows of `ids` (the tail too), one Adam update
        each, in an order drawn from `seed`; returns each update's milliseconds."""
        if passes < 1:
            raise ValueError(f"passes: expected at least 1, got {passes}")
        params = [p for n, p in self.model.named_parameters() if n.endswith((".A", ".B"))]
        opt = torch.optim.Adam(params, lr=lr)
        gen = torch.Generator().manual_seed(seed)
        span = min(self.block, len(ids) - 1)
        starts = list(range(0, len(ids) - span, self.block)) or [0]
        if starts[-1] + span < len(ids) - 1:
            starts.append(len(ids) - 1 - span)
        times = []
        self.model.train()
        for _ in range(passes):
            for k in torch.randperm(len(starts), generator=gen).tolist():
                s = starts[k]
                t0 = time.perf_counter()
                _, loss = self.model(ids[s:s + span][None], ids[s + 1:s + 1 + span][None])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                times.append((time.perf_counter() - t0) * 1000)
        return times

    def appraise(self, text: str, eval_sets: dict[str, torch.Tensor], passes: int = 2, *, seed: int = 0,
                 lr: float = 1e-3) -> Appraisal:
        """What `text` teaches a model that already knows everything public: the public start (or,
        without one, the bare base with the operator's A) measured on `eval_sets`, trained on the
        text as a session trains a fork, and measured again. No fork is loaded or written.

        Why the oracle pays on this and not on the fork's own change: from a fork's third session
        on, the change a session makes to the fork is mostly the adapter's drift between the texts
        it was last trained on, not what the new text adds (8 honest 3,000-character sessions on
        one fork, on a fixed 768-window exam: +0.0048, +0.0008, -0.0020, +0.0038, +0.0004, -0.0045,
        +0.0028, -0.0003 nats; benchmarks/fork_drift.py), so the farming benchmark paid an honest
        seven-session series for its first two sessions only. Each of those texts appraised from the
        start gained +0.0026 to +0.0061."""
        ids = self.encode(text)
        self._put_start()
        before = {name: self._start_losses(e) for name, e in eval_sets.items()}
        updates = len(self._train(ids, passes, seed, lr))
        after = {name: self.chunk_losses(e) for name, e in eval_sets.items()}
        return Appraisal(updates, before, after)

    def _put_start(self) -> None:
        if self.start is None:
            lora.reset(self.model, fork_seed("operator", 0))
        else:
            lora.put(self.model, self.start)

    # ---------------------------------------------------------------- the public start

    def _start_id(self, recipe: PublicStart) -> str:
        """Names one public start: the base, the LoRA shape, the recipe and the public text it
        learnt. A start whose id differs from this is another model's or stale."""
        what = {"base": self.base_id, "lora": lora.config_json(self.cfg), "recipe": asdict(recipe),
                "corpus": hashlib.sha256(public_corpus().encode()).hexdigest()}
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]

    def _public_start(self, base: Path, recipe: PublicStart) -> tuple[dict[str, torch.Tensor], Path]:
        """The start shipped beside the base if it is this one, else the one built before in
        STARTS, else built now (and kept there)."""
        built = STARTS / f"{self.start_id}.safetensors"
        for path in (base / START_FILE, built):
            state = self._read_start(path)
            if state is not None:
                return state, path
        state = self._build_start(recipe)
        built.parent.mkdir(parents=True, exist_ok=True)
        tmp = built.with_suffix(".tmp")
        tmp.write_bytes(self.start_bytes(state))
        tmp.replace(built)
        return state, built

    def start_bytes(self, state: dict[str, torch.Tensor]) -> bytes:
        meta = {"public_start": self.start_id, "base": self.base_id, "lora": lora.config_json(self.cfg)}
        return st_save({k: v.contiguous() for k, v in sorted(state.items())}, metadata=meta)

    def _read_start(self, path: Path) -> dict[str, torch.Tensor] | None:
        """The start in `path` if it is exactly this trainer's (id, tensors, shapes, finite);
        None otherwise: an absent, stale or damaged start is rebuilt, never half-used."""
        try:
            blob = path.read_bytes()
            if lora.metadata(blob).get("public_start") != self.start_id:
                return None
            state = st_load(blob)
        except Exception:  # noqa: BLE001 - unreadable is the same as absent
            return None
        own = lora.adapter_state(self.model)
        if set(state) != set(own) or any(state[k].shape != own[k].shape or not bool(torch.isfinite(state[k]).all())
                                         for k in own):
            return None
        return state

    def _build_start(self, recipe: PublicStart) -> dict[str, torch.Tensor]:
        ids = self.tok.encode(public_corpus())
        lora.reset(self.model, fork_seed("operator", 0))
        params = [p for n, p in self.model.named_parameters() if n.endswith((".A", ".B"))]
        opt = torch.optim.Adam(params, lr=recipe.lr)
        gen = torch.Generator().manual_seed(recipe.seed)
        span, t0, recent = self.block, time.perf_counter(), []
        print(f"public start: training the adapter new forks start from ({recipe.updates:,} updates on public "
              f"text, once per base model)", file=sys.stderr, flush=True)
        self.model.train()
        for step in range(1, recipe.updates + 1):
            s = int(torch.randint(0, len(ids) - span - 1, (1,), generator=gen))
            _, loss = self.model(ids[s:s + span][None], ids[s + 1:s + 1 + span][None])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            recent.append(loss.item())
            if step % 1000 == 0 or step == recipe.updates:
                print(f"public start: {step:,}/{recipe.updates:,} updates, loss {sum(recent) / len(recent):.3f} "
                      f"nats/char, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
                recent = []
        self.model.eval()
        return lora.adapter_state(self.model)

    def _start_losses(self, ids: torch.Tensor) -> torch.Tensor:
        """The public start's chunk losses on `ids` (the start must be in the model), remembered."""
        key = hashlib.sha256(ids.numpy().tobytes()).digest()
        if key in self._measured:
            self._measured.move_to_end(key)
            return self._measured[key]
        self._measured[key] = losses = self.chunk_losses(ids)
        while len(self._measured) > 4096:
            self._measured.popitem(last=False)
        return losses

    def candidate_path(self, user: str, fork: int) -> Path:
        return self.adapter_path(user, fork).with_suffix(".candidate")

    def promote(self, session: Session) -> Path:
        """The session's adapter becomes the fork's current one (after its NFT recorded the hash)."""
        path = self.adapter_path(session.user, session.fork)
        session.adapter_path.replace(path)
        session.adapter_path = path
        return path
