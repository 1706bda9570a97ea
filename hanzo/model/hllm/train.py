"""Training, checkpoints and generation: one plain loop (nanoGPT-style), no framework.

Checkpoints are safetensors files in the cache folder (`.cache/hllm/<kind>/` by default), written
atomically every `checkpoint_every` steps with the optimizer state beside them, so an interrupted
run resumes where it stopped. No warm-up and no gradient clipping by default: the sources claim
the Hamiltonian model trains stably without them, and benchmarks/hllm.py counts loss spikes. Both
are TrainConfig fields (`warmup_steps`, `grad_clip`) for the comparison with GPT as its
practitioners train it (benchmarks/hllm.py --case scale); `size` picks a preset of model.SIZES.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file

from .data import CharTokenizer, corpus
from .model import GPT, HLLM, GPTConfig, HLLMConfig, build
from .model import optimizer as make_optimizer

from hanzo import ROOT
CACHE = Path(os.environ.get("HANZO_CACHE", ROOT / ".cache")) / "hllm"
SHIPPED = Path(__file__).with_name("base")  # the demo's base model, trained by `hanzo train` and committed


@dataclass
class TrainConfig:
    kind: str = "hllm"
    size: str = "small"  # a preset of model.SIZES: small (the shipped model) or medium (issue 19's GPU size)
    steps: int = 3000
    batch_size: int = 16
    block_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.01
    seed: int = 1337
    eval_every: int = 250
    eval_batches: int = 20
    checkpoint_every: int = 250
    bf16: bool = True
    time_limit_s: float | None = None
    warmup_steps: int = 0  # linear warm-up: the learning rate is scaled by (step + 1) / warmup_steps until then
    grad_clip: float | None = None  # clip the gradients' global L2 norm to this (None: no clipping)
    model: dict = field(default_factory=dict)  # overrides of the size preset's model (ablations: {"dt": 0.25})


def device() -> str:
    """The GPU when there is one, else the CPU (everything here runs on both)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class CheckpointError(RuntimeError):
    """A checkpoint is missing or does not fit the model; the message says which and why."""


def batches(data: torch.Tensor, block: int, batch: int, gen: torch.Generator, dev: str = "cpu"):
    while True:
        starts = torch.randint(len(data) - block - 1, (batch,), generator=gen)
        x = torch.stack([data[s:s + block] for s in starts])
        y = torch.stack([data[s + 1:s + 1 + block] for s in starts])
        yield x.to(dev), y.to(dev)


def loss_of(model, x: torch.Tensor, y: torch.Tensor, bf16: bool = False) -> torch.Tensor:
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        return model(x, y)[1]


@torch.no_grad()
def evaluate(model, data: torch.Tensor, cfg: TrainConfig) -> float:
    model.eval()
    gen = torch.Generator().manual_seed(0)  # the same validation batches every time
    it = batches(data, cfg.block_size, cfg.batch_size, gen, next(model.parameters()).device.type)
    losses = [loss_of(model, *next(it), bf16=cfg.bf16).item() for _ in range(cfg.eval_batches)]
    model.train()
    return sum(losses) / len(losses)


@torch.no_grad()
def evaluate_full(model, data: torch.Tensor, block: int, batch: int = 64) -> float:
    """Mean loss (nats per character) over the whole of `data`, cut into consecutive blocks."""
    model.eval()
    n = (len(data) - 1) // block
    x_all = data[: n * block].view(n, block)
    y_all = data[1: n * block + 1].view(n, block)
    dev = next(model.parameters()).device
    total = 0.0
    for s in range(0, n, batch):
        x, y = x_all[s:s + batch].to(dev), y_all[s:s + batch].to(dev)
        total += model(x, y)[1].item() * y.numel()
    model.train()
    return total / (n * block)


def save_checkpoint(folder: Path, model, optimizer, step: int, cfg: TrainConfig, history: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "model.safetensors.tmp"
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp),
              metadata={"kind": cfg.kind, "config": json.dumps(asdict(model.cfg))})
    torch.save({"optimizer": optimizer.state_dict(), "step": step, "history": history,
                "rng": torch.get_rng_state()}, folder / "state.pt.tmp")
    os.replace(tmp, folder / "model.safetensors")  # atomic: a crash never leaves half a checkpoint
    os.replace(folder / "state.pt.tmp", folder / "state.pt")
    (folder / "train.json").write_text(json.dumps({"config": asdict(cfg), "step": step, "history": history}, indent=1))


def load_model(folder: Path, device: str = "cpu"):
    """The model saved in `folder` (kind and config from the file's metadata)."""
    path = folder / "model.safetensors"
    if not path.is_file():
        raise CheckpointError(f"no model at {path}: train one with `hanzo train`")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "kind" not in meta:
        raise CheckpointError(f"{path}: not a hanzo model checkpoint (no kind in its metadata)")
    config = json.loads(meta["config"])
    model = HLLM(HLLMConfig(**config)) if meta["kind"] == "hllm" else GPT(GPTConfig(**config))
    try:
        model.load_state_dict(load_file(str(path), device="cpu"))
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: does not fit a {meta['kind']} model: {str(exc).splitlines()[0]}") from None
    return model.to(device).eval()


def lr_at(cfg: TrainConfig, step: int, seconds: float) -> float:
    """Cosine decay over whichever budget ends first (with a time limit the schedule follows the
    clock, so a run that stops on time has decayed its learning rate to the end), times the linear
    warm-up ramp over the first `warmup_steps` steps when there is one."""
    done = step / cfg.steps
    if cfg.time_limit_s is not None:
        done = max(done, seconds / cfg.time_limit_s)
    lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))
    if cfg.warmup_steps > 0 and step < cfg.warmup_steps:
        lr *= (step + 1) / cfg.warmup_steps
    return lr


def train(cfg: TrainConfig, out: Path | None = None, *, resume: bool = True,
          log: Callable[[str], None] = print, progress: bool = True,
          data: tuple[torch.Tensor, torch.Tensor, CharTokenizer] | None = None) -> tuple[object, list]:
    """Train (or resume) a model; returns it and the history of (step, train loss, val loss, seconds).
    `data` is corpus()'s (train ids, validation ids, tokenizer), loaded here when not given."""
    torch.manual_seed(cfg.seed)
    out = out or CACHE / cfg.kind
    train_ids, val_ids, tok = data or corpus()
    model = build(cfg.kind, tok.vocab_size, cfg.size, **cfg.model)
    if cfg.block_size > model.cfg.block_size:
        raise ValueError(f"block_size: expected at most {model.cfg.block_size}, got {cfg.block_size}")
    step, history = 0, []
    dev = device()
    model = model.to(dev)
    optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay)
    if resume and (out / "state.pt").is_file():
        loaded = load_model(out, dev).train()
        if loaded.cfg != model.cfg:
            raise CheckpointError(f"{out}: its model is not a {cfg.size} {cfg.kind} ({loaded.cfg}); "
                                  f"start over with --fresh or train into another folder")
        model = loaded
        optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay)
        state = torch.load(out / "state.pt", weights_only=False, map_location=dev)
        try:
            optimizer.load_state_dict(state["optimizer"])
        except ValueError as exc:
            raise CheckpointError(f"{out / 'state.pt'}: its optimizer state does not fit this model's parameter "
                                  f"groups ({exc}); start over with --fresh") from None
        step, history = state["step"], state["history"]
        torch.set_rng_state(state["rng"].cpu())
        log(f"resuming {cfg.kind} from step {step}")
    gen = torch.Generator().manual_seed(cfg.seed + step)
    it = batches(train_ids, cfg.block_size, cfg.batch_size, gen, dev)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, unit="step", desc=f"train {cfg.kind}")
    start = time.perf_counter()
    elapsed0 = history[-1][3] if history else 0.0
    model.train()
    seconds = elapsed0
    while step < cfg.steps:
        lr = lr_at(cfg, step, seconds)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = next(it)
        loss = loss_of(model, x, y, bf16=cfg.bf16)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        step += 1
        seconds = elapsed0 + time.perf_counter() - start
        if bar:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        val = evaluate(model, val_ids, cfg) if step % cfg.eval_every == 0 or step == cfg.steps else None
        history.append((step, loss.item(), val, seconds))
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_checkpoint(out, model, optimizer, step, cfg, history)
        if cfg.time_limit_s is not None and seconds >= cfg.time_limit_s:
            history[-1] = (step, loss.item(), evaluate(model, val_ids, cfg), seconds)
            save_checkpoint(out, model, optimizer, step, cfg, history)
            break
    if bar:
        bar.close()
    return model.eval(), history


@torch.no_grad()
def generate(model, tok: CharTokenizer, prompt: str, n: int = 200, temperature: float = 0.8, top_k: int | None = 20,
             steer: str | None = None, strength: float = 0.0, seed: int = 0) -> str:
    """Sample `n` characters after `prompt`; steering pushes toward (strength > 0) or away from a word."""
    if temperature <= 0:
        raise ValueError(f"temperature: expected > 0, got {temperature}")
    gen = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device
    idx = (tok.encode(prompt)[None, :] if prompt else torch.zeros((1, 1), dtype=torch.long)).to(dev)
    vector = model.steering_vector(tok.encode(steer).to(dev), strength) if steer else None
    block = model.cfg.block_size
    for _ in range(n):
        logits = model(idx[:, -block:], steer=vector)[0][:, -1, :] / temperature
        if top_k:
            kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        nxt = torch.multinomial(torch.softmax(logits.float().cpu(), -1), 1, generator=gen).to(dev)
        idx = torch.cat([idx, nxt], dim=1)
    return tok.decode(idx[0, -n:])
