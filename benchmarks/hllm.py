"""The HLLM trainer measured: training speed and loss at equal wall time against the GPT
baseline, loss spikes without warm-up or clipping, LoRA interaction latency and adapter size
against the sources' ~35 ms and ~100 MB, end-to-end rewards per second on anvil, and the reward
path alone with 1, 10 and 100 users: one op per transaction (the first hook's way) against one
batch per round, with the node calls each op costs.

Usage: python benchmarks/hllm.py [--case all|train|lora|e2e|hook|memory|seeds] [--seconds S]
       python benchmarks/hllm.py --case scale --out DIR [--tiny]   (issue 19: ~6.4M parameters, one GPU, ~10 min)
       python benchmarks/hllm.py --case ablate --out DIR [--designs a,b] [--tiny]  (issue 19: the HLLM's dt,
                  potential width and attention's place against the preset, one GPU, ~6-8 min)
Time with the other core idle; figures are medians. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

SOURCES_LORA_MS = 35.0
SOURCES_ADAPTER_BYTES = 100 * 1024 * 1024


def spikes(losses: list[float], window: int = 50) -> int:
    """Steps whose loss rises more than 10% over the running mean of the previous `window` steps."""
    count = 0
    for i in range(window, len(losses)):
        mean = sum(losses[i - window:i]) / window
        count += losses[i] > 1.10 * mean
    return count


def train_case(seconds: float) -> dict:
    from hanzo.model.hllm.train import TrainConfig, train

    out = {}
    for kind in ("hllm", "gpt"):
        cfg = TrainConfig(kind=kind, steps=100_000, batch_size=16, block_size=128, eval_every=10**9,
                          checkpoint_every=10**9, time_limit_s=seconds, eval_batches=40)
        _, history = train(cfg, Path(tempfile.mkdtemp()), resume=False, progress=False, log=lambda _m: None)
        steps, seconds_used = history[-1][0], history[-1][3]
        out[kind] = {"val_loss": history[-1][2], "steps": steps,
                     "tokens_per_s": steps * cfg.batch_size * cfg.block_size / seconds_used,
                     "spikes": spikes([h[1] for h in history])}
        print(f"{kind:<5} {out[kind]['tokens_per_s']:>8,.0f} tokens/s   validation loss {out[kind]['val_loss']:.3f} "
              f"after {seconds_used:.0f} s ({steps} steps)   loss spikes {out[kind]['spikes']}", flush=True)
    return {"hllm_val_loss": round(out["hllm"]["val_loss"], 4), "gpt_val_loss": round(out["gpt"]["val_loss"], 4),
            "hllm_tokens_per_s": round(out["hllm"]["tokens_per_s"]), "gpt_tokens_per_s": round(out["gpt"]["tokens_per_s"]),
            "hllm_spikes": out["hllm"]["spikes"], "gpt_spikes": out["gpt"]["spikes"], "equal_wall_time_s": seconds}


def lora_case(n: int = 60) -> dict:
    from hanzo.model.forks import ForkTrainer
    from hanzo.model.hllm.data import speeches

    trainer = ForkTrainer(forks=Path(tempfile.mkdtemp()))
    text = speeches("romeo-and-juliet", "JULIET")[:1024]  # four windows: a session's updates follow its text
    trainer.session("warmup", 1, text, 2)
    session = trainer.session("bench", 1, text, 1)
    per = []  # sessions of four updates, each update timed around its forward, backward and step
    for i in range(n):
        s = trainer.session("bench", 1, text, 1, seed=i)
        per.append(s.median_update_ms)
    per.sort()
    median, p95 = statistics.median(per), per[int(0.95 * (len(per) - 1))]
    size = session.adapter_path.stat().st_size
    print(f"LoRA update on 256 characters: median {median:.1f} ms, p95 {p95:.1f} ms (sources: ~{SOURCES_LORA_MS:.0f} ms; "
          f"ratio {median / SOURCES_LORA_MS:.2f})   adapter {size:,} bytes (sources: ~100 MB; ratio "
          f"{size / SOURCES_ADAPTER_BYTES:.5f})   base model {sum(p.numel() for n, p in trainer.model.named_parameters() if not n.endswith(('.A', '.B'))):,} parameters",
          flush=True)
    return {"lora_median_ms": round(median, 2), "lora_p95_ms": round(p95, 2), "adapter_bytes": size,
            "lora_vs_sources": round(median / SOURCES_LORA_MS, 3)}


def e2e_case(ops: int = 20) -> dict:
    from hanzo.chain.toolchain import configure

    configure()
    import io
    from contextlib import redirect_stdout

    from hanzo.cli import rewards_demo as demo

    start = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        result = demo.run("ethereum:local:foundry", sessions=max(1, ops // 3), say=lambda _m: None)
    seconds = time.perf_counter() - start
    rate = result["ops"] / result["loop_seconds"]
    print(f"end to end on anvil (gate and novelty -> two passes over the new text's windows -> the private exam "
          f"before and after -> signed op -> mined reward; refused and neutral sessions take time and count no op): "
          f"{result['ops']} ops in {result['loop_seconds']:.1f} s = {rate:.2f} ops/s "
          f"({seconds:.1f} s with the deployment)", flush=True)
    return {"e2e_ops": result["ops"], "e2e_seconds": round(result["loop_seconds"], 2), "e2e_ops_per_s": round(rate, 3)}


def seeds_case(seconds: float, seeds: int = 3) -> dict:
    """HLLM against GPT at equal wall time, `seeds` seeds each, the learning-rate schedule fitted to
    the time budget, the loss on the whole validation split; means with 95% t-intervals."""
    from hanzo.model.hllm.data import corpus
    from hanzo.model.hllm.train import TrainConfig, evaluate_full, train

    _, val_ids, _ = corpus()
    losses: dict[str, list[float]] = {"hllm": [], "gpt": []}
    for seed in range(seeds):
        for kind in ("hllm", "gpt"):
            cfg = TrainConfig(kind=kind, steps=10**6, batch_size=16, block_size=128, eval_every=10**9,
                              checkpoint_every=10**9, time_limit_s=seconds, seed=1000 + seed)
            model, history = train(cfg, Path(tempfile.mkdtemp()), resume=False, progress=False, log=lambda _m: None)
            loss = evaluate_full(model, val_ids, 128)
            losses[kind].append(loss)
            print(f"  seed {seed} {kind:<5} {history[-1][0]:>6} steps in {history[-1][3]:.0f} s   full validation "
                  f"loss {loss:.4f} nats/char", flush=True)
    t975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776}.get(seeds, 2.0)

    def ci(xs):
        m = statistics.mean(xs)
        return m, t975 * statistics.stdev(xs) / len(xs) ** 0.5

    out = {"seeds": seeds, "seconds_each": seconds}
    for kind in ("hllm", "gpt"):
        m, h = ci(losses[kind])
        out[f"{kind}_full_val_loss_mean"], out[f"{kind}_full_val_loss_ci95"] = round(m, 4), round(h, 4)
        print(f"{kind:<5} {m:.4f} ± {h:.4f} nats/char (95% CI, {seeds} seeds, {seconds:.0f} s each)", flush=True)
    diff = [a - b for a, b in zip(losses["hllm"], losses["gpt"])]
    m, h = ci(diff)
    out["hllm_minus_gpt_mean"], out["hllm_minus_gpt_ci95"] = round(m, 4), round(h, 4)
    print(f"HLLM - GPT: {m:+.4f} ± {h:.4f} nats/char (paired by seed)", flush=True)
    return out


def _memory_step(reversible: bool, batch: int, block: int, queue) -> None:
    import resource


    from hanzo.model.hllm.model import HLLM, HLLMConfig

    torch.manual_seed(0)
    model = HLLM(HLLMConfig(block_size=block, reversible=reversible))
    idx = torch.randint(0, model.cfg.vocab_size, (batch, block + 1))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        model(idx[:, :-1], idx[:, 1:])[1].backward()
        times.append(time.perf_counter() - t0)
    queue.put({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base,
               "step_s": statistics.median(times)})


def memory_case(batch: int = 16, block: int = 1024) -> dict:
    """One training step of the HLLM at batch x block, backprop storing every layer's activations
    against the reversible path (activations rebuilt from the inverse), each in its own process."""
    import multiprocessing as mp

    out = {}
    for reversible in (False, True):
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_memory_step, args=(reversible, batch, block, queue))
        proc.start()
        r = queue.get()
        proc.join()
        key = "reversible" if reversible else "stored"
        out[f"memory_{key}_peak_mb"] = round(r["peak_mb"], 1)
        out[f"memory_{key}_step_s"] = round(r["step_s"], 3)
        print(f"training step, {batch} x {block} characters, {key:<10}: peak +{r['peak_mb']:7.1f} MB, "
              f"{r['step_s']:.3f} s a step", flush=True)
    out["memory_reversible_vs_stored"] = round(out["memory_reversible_peak_mb"] / out["memory_stored_peak_mb"], 3)
    out["time_reversible_vs_stored"] = round(out["memory_reversible_step_s"] / out["memory_stored_step_s"], 3)
    print(f"  reversible / stored: memory {out['memory_reversible_vs_stored']:.2f}x, time "
          f"{out['time_reversible_vs_stored']:.2f}x", flush=True)
    return out


@contextlib.contextmanager
def plain_anvil(port: int = 8546):
    """anvil from node_modules as a chain runs: Ape starts its own with --steps-tracing (it traces
    every transaction for its debugger), which made mining one 100-op batch take 1.6 s here. Same
    mnemonic and accounts as Ape's, so Ape connects to it as its foundry provider. Yields its URL
    and stops it on the way out."""
    import subprocess

    from hanzo.chain.toolchain import anvil_dir

    proc = subprocess.Popen([str(anvil_dir() / "anvil"), "--port", str(port), "--mnemonic",
                             "test test test test test test test test test test test junk", "--accounts", "12",
                             "--hardfork", "cancun"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()


def hook_case(sizes=(1, 10, 100), rounds: int = 3) -> dict:
    """The reward path on anvil, training left out (adapters are random hashes): N users each with
    a fork they own, `rounds` sessions each, paid one op per transaction (`pay`) or one batch per
    round (`reward_many`). Both through the same hook, the same store and the same checks, on an
    anvil without Ape's step tracing (plain_anvil)."""
    import secrets

    import ape
    from ape.logging import logger

    from hanzo.chain.deploy import Roles, deploy_suite, project
    from hanzo.econ.params import DAY, DEFAULT
    from hanzo.chain.toolchain import configure
    from hanzo.chain.rewards import RewardHook
    from hanzo.chain.tx import abi_of
    from hanzo.econ.attest import Oracle

    configure()
    logger.set_level("ERROR")
    p = DEFAULT
    out = {}
    with plain_anvil() as url, \
            ape.networks.parse_network_choice("ethereum:local:foundry", provider_settings={"host": url}) as provider:
        from ape import accounts, chain

        a = accounts.test_accounts
        deployer, oracle, whale = a[0], a[1], a[4]
        s = deploy_suite(p, Roles(deployer, oracle, a[2].address, a[3].address, whale.address), proj=project())
        chain.pending_timestamp = s.emission.start() + 30 * DAY
        s.emission.release(sender=deployer)
        s.models.registerBaseModel(1, 0, sender=oracle)
        s.token.approve(s.models, 2**256 - 1, sender=whale)
        fee = s.models.mintFee(1)
        people = []
        for _ in range(2 * max(sizes)):  # a set of users for each mode
            user = "0x" + secrets.token_bytes(20).hex()
            s.models.mint(1, bytes(32), fee, sender=whale)
            fork = s.models.totalForks()
            s.models.transferFrom(whale, user, fork, sender=whale)
            people.append((user, fork))
        abi = abi_of(s.rewards)
        for n in sizes:
            for mode, group in (("single", people[:n]), ("batch", people[max(sizes):max(sizes) + n])):
                hook = RewardHook(provider.web3, str(s.rewards.address), abi,
                                  Oracle(oracle.private_key, chain.chain_id, s.rewards.address), a[2].private_key,
                                  Path(tempfile.mkdtemp()), deployment_block=s.block)
                t0, calls0, ops = time.perf_counter(), hook.rpc_calls, 0
                for _ in range(rounds):
                    if mode == "single":
                        for user, fork in group:
                            hook.pay(user, fork, secrets.token_bytes(32), 2, 8, False)
                            ops += 1
                    else:
                        items = [(hook.open_session(user, fork), secrets.token_bytes(32), 2, 8, False)
                                 for user, fork in group]
                        ops += len(hook.reward_many(items))
                seconds = time.perf_counter() - t0
                rate, per_op = ops / seconds, (hook.rpc_calls - calls0) / ops
                out[f"hook_{mode}_{n}_users_ops_per_s"] = round(rate, 2)
                out[f"hook_{mode}_{n}_users_rpc_per_op"] = round(per_op, 1)
                print(f"reward path, {n:>3} users, {mode:<6}: {ops:>4} ops in {seconds:6.2f} s = {rate:7.1f} ops/s, "
                      f"{per_op:5.1f} node calls per op", flush=True)
            ratio = out[f"hook_batch_{n}_users_ops_per_s"] / out[f"hook_single_{n}_users_ops_per_s"]
            out[f"hook_batch_vs_single_{n}_users"] = round(ratio, 2)
            print(f"  batch / single at {n} users: {ratio:.2f}x", flush=True)
    return out


# ---------------------------------------------------------------------------------------------------
# The scale case (issue 19): HLLM against GPT at ~6.4M parameters on one GPU, GPT trained as its
# practitioners train it (linear warm-up, clipping at 1.0, its learning rate tuned) beside both
# models without those stabilisers, at equal steps and at equal wall time, over seeds.

# the grid every variant's learning rate is tuned over, on seed 1: the issue's three and 1e-3, since on the
# H200 (2026-11-29, 800 steps) all four variants were best at 3e-3, the grid's edge, and better still at 1e-3
SCALE_LRS = (1e-3, 3e-3, 1e-2, 3e-2)
SCALE_MAX_STEPS, SCALE_MIN_STEPS = 1500, 300  # 1,500: the issue's quick look; 300: twice the warm-up
ISSUE_MS_PER_STEP = {"hllm": 31.3, "gpt": 28.7}  # issue 19 on one H200: 1,500 steps in 42-47 s / 30-43 s
VARIANTS = ("gpt", "hllm", "gpt_warmup_clip", "hllm_warmup_clip")  # GPT-with-warm-up-and-clipping tuned first
# The ablation case: the HLLM's design choices, each one changed alone from the medium preset, trained as GPT's
# practitioners train it, beside that GPT. The overrides are absolute. The first two runs on the H200 (2026-11-30,
# benchmarks/results/hllm_ablate_h200) were against the preset as it then was, dt 0.5: dt 0.25 was the one choice
# that helped, and is the preset now; "dt_0.5" is that old preset.
ABLATIONS = {"base": {}, "dt_0.5": {"dt": 0.5}, "dt_0.25": {"dt": 0.25}, "dt_0.125": {"dt": 0.125},
             "dt_1.0": {"dt": 1.0}, "width_1024": {"potential_width": 1024}, "attention_split": {"attention": "split"},
             "dt_0.25_split": {"dt": 0.25, "attention": "split"}}
ABLATE_DESIGNS = ("base", "dt_0.5", "width_1024", "attention_split")  # the default: what the next GPU should see
ABLATION_COST = {"width_1024": 1.3, "attention_split": 1.4, "dt_0.25_split": 1.4}  # a step against base's (plan)
ABLATE_STEPS, ABLATE_LR = 800, 1e-3  # the scale run's steps and the best lr it found for both stabilised models
SPIKE_FACTOR, PLATEAU_FLAT, PLATEAU_ABOVE = 1.5, 0.005, 0.2
RUN_OVERHEAD_S = 1.0  # a run's fixed cost outside its steps, for the plan (0.75 s seen on 2 CPU cores)
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042}


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (table; 1.96 past 30)."""
    if df < 1:
        return float("nan")
    return T975.get(df) or next((T975[k] for k in sorted(T975) if k >= df), 1.96)


def interval(xs: list[float]) -> tuple[float, float, int]:
    """Mean, half-width of its 95% t-interval, and n, over the finite values of xs."""
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return float("nan"), float("nan"), 0
    if len(xs) == 1:
        return xs[0], float("nan"), 1
    return statistics.mean(xs), t975(len(xs) - 1) * statistics.stdev(xs) / len(xs) ** 0.5, len(xs)


def loss_spikes(losses: list[float], window: int = 50, factor: float = SPIKE_FACTOR) -> tuple[int, int]:
    """(spikes, spike steps): a spike step's training loss is above `factor` times the median of the
    `window` steps before it (a non-finite loss counts); consecutive spike steps are one spike."""
    events = steps = 0
    before = False
    for i in range(window, len(losses)):
        x = losses[i]
        hit = not math.isfinite(x) or x > factor * statistics.median(losses[i - window:i])
        steps += hit
        events += hit and not before
        before = hit
    return events, steps


def plateau_steps(losses: list[float], window: int, smooth: int = 25) -> tuple[int, float | None]:
    """(steps on a plateau, the loss there): a step is on a plateau when the training loss, smoothed
    over `smooth` steps, moves by less than 0.5% over the `window` steps around it while sitting more
    than 0.2 nats above where the run ends (stuck, not converged). Returns the count and the mean
    smoothed loss over those steps (None when there are none)."""
    smooth = min(smooth, window)
    finite = [x if math.isfinite(x) else float("inf") for x in losses]
    sm = [sum(finite[max(0, i - smooth + 1):i + 1]) / (i + 1 - max(0, i - smooth + 1)) for i in range(len(finite))]
    if len(sm) <= window:
        return 0, None
    end = sm[-1]
    flat = [False] * len(sm)
    for i in range(window, len(sm)):
        a, b = sm[i - window], sm[i]
        if math.isfinite(a) and math.isfinite(b) and abs(b - a) < PLATEAU_FLAT * a and b > end + PLATEAU_ABOVE:
            for j in range(i - window, i + 1):
                flat[j] = True
    on = [sm[i] for i in range(len(sm)) if flat[i]]
    return len(on), (sum(on) / len(on) if on else None)


def diverged(losses: list[float], val: float) -> bool:
    """A run diverged when a loss is not finite or it ends (last 10 steps' mean) above where it began
    (first step): whatever it learnt, it lost again."""
    end = losses[-10:]
    return not math.isfinite(val) or not all(math.isfinite(x) for x in losses) or sum(end) / len(end) > losses[0]


def _finite(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def _round(obj, digits: int = 4):
    if isinstance(obj, float):
        return round(obj, digits) if math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {k: _round(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v, digits) for v in obj]
    return obj


def _clean(obj):
    """JSON-safe: NaN and infinities become null."""
    if isinstance(obj, float):
        return _finite(obj)
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _calibrate(kind: str, size: str, batch: int, block: int, bf16: bool, dev: str, data, steps: int) -> float:
    """Milliseconds a training step (forward, backward, clipping, AdamW, the loss read back), after a
    few warm-up steps, for the run plan's estimate."""
    from hanzo.model.hllm.model import build, optimizer
    from hanzo.model.hllm.train import batches, loss_of

    train_ids, _, tok = data
    model = build(kind, tok.vocab_size, size).to(dev)
    opt = optimizer(model, 1e-3, 0.01)
    it = batches(train_ids, block, batch, torch.Generator().manual_seed(0), dev)
    warm = max(2, steps // 4)
    for i in range(warm + steps):
        if i == warm:
            t0 = time.perf_counter()
        loss = loss_of(model, *next(it), bf16=bf16)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
    return (time.perf_counter() - t0) / steps * 1000


def scale_plan(steps: int, seeds: int, lrs, ms: dict[str, float], eval_steps: int = 50,
               run_s: float | None = None) -> dict:
    """The run list's size and its estimated seconds: every variant on seed 1 at every lr of the grid,
    then seeds 2..n at its best lr, then the faster model's two variants again for each seed with the
    slower model's wall time as their limit (equal wall time). `eval_steps`: the evaluations of a run,
    in steps' worth of time; `run_s`: a run's fixed cost (building the model, the final checkpoint)."""
    run_s = RUN_OVERHEAD_S if run_s is None else run_s
    per_run = {k: (steps + eval_steps) * ms[k] / 1000 + run_s for k in ("hllm", "gpt")}
    equal_steps = [v.split("_")[0] for v in VARIANTS for _ in range(len(lrs) + seeds - 1)]
    slow = max(per_run.values())
    seconds = sum(per_run[k] for k in equal_steps) + 2 * seeds * slow
    return {"runs": len(equal_steps) + 2 * seeds, "equal_steps_runs": len(equal_steps),
            "equal_time_runs": 2 * seeds, "steps": steps, "estimate_s": seconds}


def ablation_cost(design: str | None) -> float:
    return ABLATION_COST.get(design or "base", 1.0)


def ablation_plan(steps: int, seeds: int, ms: dict[str, float], eval_steps: int = 50,
                  designs: tuple[str, ...] = ABLATE_DESIGNS) -> dict:
    """Runs and estimated seconds of the ablation case: each design and the stabilised GPT, every seed."""
    per_seed = sum((steps + eval_steps) * ms["hllm"] * ablation_cost(d) / 1000 + RUN_OVERHEAD_S for d in designs)
    per_seed += (steps + eval_steps) * ms["gpt"] / 1000 + RUN_OVERHEAD_S
    return {"runs": (len(designs) + 1) * seeds, "steps": steps, "estimate_s": per_seed * seeds}


def ablation_designs(text: str) -> tuple[str, ...]:
    """--designs: names from ABLATIONS, comma-separated; "base" (the preset) is always run, first, for pairing."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ABLATIONS]
    if unknown or not names:
        raise SystemExit(f"--designs: expected names from {', '.join(ABLATIONS)}, got {text!r}")
    return ("base", *dict.fromkeys(n for n in names if n != "base"))


def _variant(name: str) -> tuple[str, bool]:
    return name.split("_")[0], name.endswith("warmup_clip")


def scale_case(args) -> dict:
    """The scale protocol (issue 19) on the GPU; with --tiny at a tiny size on the CPU, one thread."""
    from hanzo.model.hllm.train import device

    dev = device()
    if dev != "cuda" and not args.tiny:
        print("no GPU here (torch.cuda.is_available() is False): the scale case runs ~6.4M-parameter models for "
              "about 10 minutes on one GPU and is skipped; --tiny runs its whole protocol at a tiny size on the CPU",
              flush=True)
        return {"scale": "skipped: no GPU"}
    threads = torch.get_num_threads()
    if args.tiny:
        torch.set_num_threads(1)  # tiny models gain nothing from threads and the cores may be shared
    try:
        return _scale_case(args, dev)
    finally:
        torch.set_num_threads(threads)


def _scale_case(args, dev: str) -> dict:
    from hanzo.model.hllm.data import corpus
    from hanzo.model.hllm.model import SIZES, build, parameter_count
    from hanzo.model.hllm.train import TrainConfig, evaluate_full, train

    started = time.perf_counter()
    tiny = args.tiny
    size = "tiny" if tiny else "medium"
    preset = SIZES[size]
    batch, block = preset.batch_size, preset.block_size
    bf16 = dev == "cuda"  # bf16 autocast on the GPU only; the CPU's tiny runs stay in float32
    lrs = tuple(float(x) for x in args.lrs.split(","))
    seeds = list(range(1, args.seeds + 1))
    if len(seeds) < 2:
        raise SystemExit("--seeds: the scale case needs at least 2 seeds for its intervals (3 by default)")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    runs_file = out / "runs.jsonl"
    runs_file.write_text("")
    data = corpus()
    train_ids, val_ids, tok = data
    val_eval = val_ids[:4096] if tiny else val_ids  # the whole validation split on the GPU
    params = {k: parameter_count(build(k, tok.vocab_size, size)) for k in ("hllm", "gpt")}

    ms = {k: _calibrate(k, size, batch, block, bf16, dev, data, 3 if tiny else 20) for k in ("hllm", "gpt")}
    ablate = args.case == "ablate"
    designs = ablation_designs(args.designs)
    if args.steps is not None:
        steps = args.steps
    elif tiny:
        steps = 12
    elif ablate:
        fits = [s for s in range(ABLATE_STEPS, SCALE_MIN_STEPS - 1, -50)
                if ablation_plan(s, len(seeds), ms, designs=designs)["estimate_s"] <= args.budget_s]
        steps = fits[0] if fits else SCALE_MIN_STEPS
    else:
        fits = [s for s in range(SCALE_MAX_STEPS, SCALE_MIN_STEPS - 1, -50)
                if scale_plan(s, len(seeds), lrs, ms)["estimate_s"] <= args.budget_s]
        steps = fits[0] if fits else SCALE_MIN_STEPS
    # linear warm-up over the first 10% of the run: 150 steps at the issue's 1,500, as practitioners scale it
    warmup = args.warmup if args.warmup is not None else (3 if tiny else round(steps / 10))
    if steps <= warmup:
        raise SystemExit(f"--steps: expected more than the {warmup} warm-up steps, got {steps}")
    plan = scale_plan(steps, len(seeds), lrs, ms)
    issue = scale_plan(steps, len(seeds), lrs, ISSUE_MS_PER_STEP)
    eval_every = max(1, steps // (4 if tiny else 10))
    window = min(50, max(3, steps // 6))
    plateau_window = max(3, steps // 10)
    issue_note = "" if tiny else f"; issue 19's timings would give {issue['estimate_s']:.0f} s"
    if ablate:
        plan = ablation_plan(steps, len(seeds), ms, designs=designs)
        print(f"ablations ({size}, {dev}{', bf16' if bf16 else ''}): the HLLM ({params['hllm']:,} parameters as "
              f"preset) with one design choice changed at a time ({', '.join(designs)}) and GPT "
              f"({params['gpt']:,}), all with warm-up {warmup} steps and clipping at 1.0, lr {args.ablate_lr:g}, "
              f"{steps} steps, seeds {seeds[0]}-{seeds[-1]}: {plan['runs']} runs, estimated "
              f"{plan['estimate_s']:.0f} s", flush=True)
    else:
        print(f"scale ({size}, {dev}{', bf16' if bf16 else ''}): HLLM {params['hllm']:,} / GPT {params['gpt']:,} "
              f"parameters, batch {batch} x {block} characters, {steps} steps a run, warm-up {warmup} steps and "
              f"clipping at 1.0 for the *_warmup_clip variants, lr grid {', '.join(f'{lr:g}' for lr in lrs)}, "
              f"seeds {seeds[0]}-{seeds[-1]}", flush=True)
        print(f"planned: {plan['runs']} runs ({plan['equal_steps_runs']} at {steps} steps: 4 variants x "
              f"{len(lrs)} learning rates on seed 1, then seeds 2-{seeds[-1]} at each variant's best; "
              f"{plan['equal_time_runs']} of the faster model at the slower one's wall time); estimated "
              f"{plan['estimate_s']:.0f} s from {ms['hllm']:.1f} / {ms['gpt']:.1f} ms a step (HLLM / GPT, measured "
              f"here){issue_note}", flush=True)

    records: list[dict] = []

    def run(name: str, lr: float, seed: int, phase: str, time_limit: float | None = None,
            design: str | None = None) -> dict | None:
        kind, stabilised = _variant(name)
        overrides = ABLATIONS[design] if design else {}
        train_s = steps * ms[kind] * ablation_cost(design) / 1000 if time_limit is None else time_limit
        guess = RUN_OVERHEAD_S + 50 * ms[kind] / 1000 + train_s
        label = f"{name} {design}" if design else name
        if time.perf_counter() - started + guess > args.deadline_s:
            print(f"  skipped {label} lr {lr:g} seed {seed}: it would end past the {args.deadline_s:.0f} s deadline",
                  flush=True)
            return None
        cfg = TrainConfig(kind=kind, size=size, steps=steps if time_limit is None else 20 * steps, batch_size=batch,
                          block_size=block, lr=lr, seed=seed, eval_every=eval_every, eval_batches=2 if tiny else 8,
                          checkpoint_every=10**9, bf16=bf16, time_limit_s=time_limit,
                          warmup_steps=warmup if stabilised else 0, grad_clip=1.0 if stabilised else None,
                          model=dict(overrides))
        with tempfile.TemporaryDirectory() as folder:
            model, history = train(cfg, Path(folder), resume=False, progress=False, log=lambda _m: None, data=data)
        losses = [h[1] for h in history]
        val = evaluate_full(model, val_eval, block) if all(math.isfinite(x) for x in losses[-5:]) else float("nan")
        n_params = parameter_count(model)
        del model
        seconds = [h[3] for h in history]
        gaps = sorted(b - a for a, b in zip(seconds, seconds[1:]))
        spikes_n, spike_steps = loss_spikes(losses, window)
        flat, level = plateau_steps(losses, plateau_window)
        rec = {"name": name, "design": design, "model": overrides, "params": n_params,
               "kind": kind, "warmup_clip": stabilised, "lr": lr, "seed": seed, "phase": phase,
               "budget": "time" if time_limit is not None else "steps", "time_limit_s": time_limit,
               "steps": history[-1][0], "seconds": seconds[-1],
               "ms_per_step": 1000 * statistics.median(gaps) if gaps else 1000 * seconds[-1],
               "val_loss": val, "diverged": diverged(losses, val),
               "spikes": spikes_n, "spike_steps": spike_steps, "plateau_steps": flat, "plateau_loss": level,
               "warmup_steps": cfg.warmup_steps, "grad_clip": cfg.grad_clip, "size": size,
               "batch": batch, "block": block, "device": dev, "bf16": bf16,
               "curve": {"train_loss": losses, "seconds": seconds,
                         "val": [(h[0], h[2]) for h in history if h[2] is not None]}}
        records.append(rec)
        with runs_file.open("a") as f:
            f.write(json.dumps(_clean(rec)) + "\n")
        print(f"  {phase:<10} {label:<17} lr {lr:<6g} seed {seed}  {rec['steps']:>5} steps {seconds[-1]:6.1f} s "
              f"({rec['ms_per_step']:.1f} ms/step)  val {val:.4f} nats/char  spikes {spikes_n}  plateau "
              f"{flat} steps", flush=True)
        return rec

    if ablate:
        return _ablations(run, records, seeds, designs, args.ablate_lr, out, runs_file, started,
                          {"scale_size": size, "device": dev, "bf16": bf16, "seeds": len(seeds), "steps": steps,
                           "batch": batch, "block": block, "warmup_steps": warmup, "grad_clip": 1.0,
                           "lr": args.ablate_lr, "planned_runs": plan["runs"],
                           "estimate_s": round(plan["estimate_s"], 1),
                           "calibrated_ms_per_step": {k: round(v, 2) for k, v in ms.items()}})
    # 1. the learning-rate sweep on seed 1, every variant (GPT with warm-up and clipping first)
    best: dict[str, float] = {}
    for name in ("gpt_warmup_clip", "hllm_warmup_clip", "gpt", "hllm"):
        got = [r for r in (run(name, lr, seeds[0], "sweep") for lr in lrs) if r is not None]
        ok = [r for r in got if math.isfinite(r["val_loss"])]
        best[name] = min(ok, key=lambda r: (r["val_loss"], r["lr"]))["lr"] if ok else lrs[0]
    print("  best learning rates (seed 1): " + ", ".join(f"{v} {best[v]:g}" for v in VARIANTS), flush=True)
    # 2. the other seeds at each variant's best learning rate: equal steps
    for seed in seeds[1:]:
        for name in VARIANTS:
            run(name, best[name], seed, "seeds")

    def main_runs(name: str, budget: str = "steps") -> list[dict]:
        return sorted((r for r in records if r["name"] == name and r["lr"] == best[name] and r["budget"] == budget),
                      key=lambda r: r["seed"])

    # 3. equal wall time: the faster model's two variants again, limited to the slower one's median time
    step_ms = {k: statistics.median([r["ms_per_step"] for r in records if r["kind"] == k] or [ms[k]])
               for k in ("hllm", "gpt")}
    slow = max(step_ms, key=step_ms.get)
    fast = "gpt" if slow == "hllm" else "hllm"
    timed_slow = [r["seconds"] for name in (slow, slow + "_warmup_clip") for r in main_runs(name)]
    equal_time = statistics.median(timed_slow) if timed_slow else float("nan")
    for seed in seeds if timed_slow else []:
        for name in (fast, fast + "_warmup_clip"):
            run(name, best[name], seed, "equal_time", time_limit=equal_time)

    figures: dict = {"scale_size": size, "device": dev, "bf16": bf16, "seeds": len(seeds), "params": params,
                     "steps": steps, "batch": batch, "block": block, "warmup_steps": warmup, "grad_clip": 1.0,
                     "lr_grid": list(lrs), "equal_time_s": equal_time, "equal_time_slower_model": slow,
                     "planned_runs": plan["runs"], "runs": len(records), "estimate_s": round(plan["estimate_s"], 1),
                     "calibrated_ms_per_step": {k: round(v, 2) for k, v in ms.items()},
                     "spike_definition": f"a step whose training loss exceeds {SPIKE_FACTOR}x the median of the "
                                         f"{window} steps before it; consecutive such steps are one spike",
                     "plateau_definition": f"smoothed training loss ({min(25, plateau_window)} steps) moving less than "
                                           f"{PLATEAU_FLAT:.1%} over {plateau_window} steps while more than "
                                           f"{PLATEAU_ABOVE} nats above the run's end"}
    vals: dict[str, dict[int, float]] = {}
    vals_time: dict[str, dict[int, float]] = {}
    for name in VARIANTS:
        rs = main_runs(name)
        vals[name] = {r["seed"]: r["val_loss"] for r in rs}
        m, h, n = interval(list(vals[name].values()))
        figures[f"{name}_val_mean"], figures[f"{name}_val_ci95"], figures[f"{name}_val_n"] = m, h, n
        figures[f"{name}_val_by_seed"] = [vals[name].get(s) for s in seeds]
        figures[f"{name}_lr"] = best[name]
        figures[f"{name}_ms_per_step"] = statistics.median(r["ms_per_step"] for r in rs) if rs else None
        figures[f"{name}_spikes"] = sum(r["spikes"] for r in rs)
        figures[f"{name}_plateau_runs"] = sum(r["plateau_steps"] > 0 for r in rs)
        figures[f"{name}_diverged"] = sum(r["diverged"] for r in rs)
        figures[f"{name}_lr_sweep"] = {f"{r['lr']:g}": {"val": r["val_loss"], "spikes": r["spikes"],
                                                         "plateau_steps": r["plateau_steps"], "diverged": r["diverged"]}
                                       for r in records if r["name"] == name and r["phase"] == "sweep"}
        timed = main_runs(name, "time") if name.startswith(fast) else rs
        vals_time[name] = {r["seed"]: r["val_loss"] for r in timed}
        m, h, _ = interval(list(vals_time[name].values()))
        figures[f"{name}_equal_time_val_mean"], figures[f"{name}_equal_time_val_ci95"] = m, h
        figures[f"{name}_equal_time_steps"] = statistics.median(r["steps"] for r in timed) if timed else None
    for a, b in (("hllm", "gpt_warmup_clip"), ("hllm_warmup_clip", "gpt_warmup_clip"), ("hllm", "gpt"),
                 ("hllm_warmup_clip", "hllm")):
        for key, table in (("", vals), ("_equal_time", vals_time)):
            diff = [table[a][s] - table[b][s] for s in seeds if s in table[a] and s in table[b]]
            m, h, _ = interval(diff)
            figures[f"{a}_minus_{b}{key}_mean"], figures[f"{a}_minus_{b}{key}_ci95"] = m, h
    figures = _clean(_round(figures))
    figures["seconds_total"] = round(time.perf_counter() - started, 1)
    figures["plot"] = str(_scale_plot(records, best, fast, slow, equal_time, lrs, out / "scale.png"))
    figures["runs_file"] = str(runs_file)
    (out / "summary.json").write_text(json.dumps(figures, indent=1) + "\n")
    for name in VARIANTS:
        print(f"{name:<17} lr {figures[f'{name}_lr']:<6g} equal steps {figures[f'{name}_val_mean'] or float('nan'):.4f}"
              f" ± {figures[f'{name}_val_ci95'] or float('nan'):.4f}   equal time "
              f"{figures[f'{name}_equal_time_val_mean'] or float('nan'):.4f} ± "
              f"{figures[f'{name}_equal_time_val_ci95'] or float('nan'):.4f} nats/char   "
              f"{figures[f'{name}_ms_per_step'] or float('nan'):.1f} ms/step   spikes {figures[f'{name}_spikes']}   "
              f"plateaus {figures[f'{name}_plateau_runs']}/{figures[f'{name}_val_n']}", flush=True)
    print(f"runs {runs_file}   plot {figures['plot']}   {figures['seconds_total']:.0f} s in all", flush=True)
    return figures


def _ablations(run, records: list[dict], seeds: list[int], designs: tuple[str, ...], lr: float, out: Path,
               runs_file: Path, started: float, figures: dict) -> dict:
    """The ablation case's runs and summary: seed by seed (so a deadline leaves whole seeds), the stabilised
    GPT and then each HLLM design; each design's loss with its 95% interval, and paired by seed against the
    preset HLLM and against GPT."""
    for seed in seeds:
        run("gpt_warmup_clip", lr, seed, "ablate")
        for design in designs:
            run("hllm_warmup_clip", lr, seed, "ablate", design=design)
    by: dict[str, dict[int, dict]] = {}
    for r in records:
        by.setdefault(r["design"] or "gpt", {})[r["seed"]] = r
    gpt = by.get("gpt", {})
    figures["runs"] = len(records)
    for design in ("gpt", *designs):
        rs = by.get(design, {})
        vals = {s: r["val_loss"] for s, r in rs.items()}
        m, h, n = interval(list(vals.values()))
        key = f"ablate_{design}"
        figures[f"{key}_val_mean"], figures[f"{key}_val_ci95"], figures[f"{key}_val_n"] = m, h, n
        figures[f"{key}_params"] = next(iter(rs.values()))["params"] if rs else None
        figures[f"{key}_ms_per_step"] = statistics.median(r["ms_per_step"] for r in rs.values()) if rs else None
        figures[f"{key}_spikes"] = sum(r["spikes"] for r in rs.values())
        figures[f"{key}_plateau_runs"] = sum(r["plateau_steps"] > 0 for r in rs.values())
        figures[f"{key}_diverged"] = sum(r["diverged"] for r in rs.values())
        for ref_name, ref in (("base", by.get("base", {})), ("gpt", gpt)):
            if design == ref_name:
                continue
            diff = [vals[s] - ref[s]["val_loss"] for s in seeds if s in vals and s in ref]
            m, h, _ = interval(diff)
            figures[f"{key}_minus_{ref_name}_mean"], figures[f"{key}_minus_{ref_name}_ci95"] = m, h
    ran = [d for d in designs if math.isfinite(figures[f"ablate_{d}_val_mean"])]
    best = min(ran, key=lambda d: figures[f"ablate_{d}_val_mean"]) if ran else None
    figures["ablate_best_design"] = best
    figures = _clean(_round(figures))
    figures["seconds_total"] = round(time.perf_counter() - started, 1)
    figures["designs"] = list(designs)
    figures["plot"] = str(_ablation_plot(records, designs, out / "ablations.png"))
    figures["runs_file"] = str(runs_file)
    (out / "summary.json").write_text(json.dumps(figures, indent=1) + "\n")
    for design in ("gpt", *designs):
        key = f"ablate_{design}"
        f = {k[len(key) + 1:]: (v if v is not None else float("nan")) for k, v in figures.items()
             if k.startswith(key + "_")}
        vs = "" if design in ("gpt", "base") else \
            f"   vs base {f['minus_base_mean']:+.4f} ± {f['minus_base_ci95']:.4f}"
        print(f"{design:<16} val {f['val_mean']:.4f} ± {f['val_ci95']:.4f}   {f['ms_per_step']:.1f} ms/step   params "
              f"{f['params']:,.0f}{vs}   spikes {f['spikes']}   plateaus {f['plateau_runs']}/{f['val_n']}", flush=True)
    print(f"runs {runs_file}   plot {figures['plot']}   {figures['seconds_total']:.0f} s in all", flush=True)
    return figures


def _ablation_plot(records: list[dict], designs: tuple[str, ...], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    names = ["gpt", *designs]
    for i, design in enumerate(names):
        for j, r in enumerate(r for r in records if (r["design"] or "gpt") == design):
            pts = r["curve"]["val"]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", ms=2.5, lw=0.9, alpha=0.8, color=f"C{i}",
                    label=("GPT, warm-up + clipping" if design == "gpt" else f"HLLM {design}") if j == 0 else None)
    ax.set(title="validation loss, every seed (warm-up and clipping for all)", xlabel="step", ylabel="nats/char")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _scale_plot(records: list[dict], best: dict, fast: str, slow: str, equal_time: float, lrs, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"gpt": "tab:orange", "hllm": "tab:blue", "gpt_warmup_clip": "tab:red", "hllm_warmup_clip": "tab:green"}

    def smooth(xs, k=25):
        k = max(1, min(k, len(xs) // 10 or 1))
        out, acc = [], 0.0
        for i, x in enumerate(xs):
            acc += x if math.isfinite(x) else 10.0
            if i >= k:
                prev = xs[i - k]
                acc -= prev if math.isfinite(prev) else 10.0
            out.append(acc / min(i + 1, k))
        return out

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (a1, a2), (a3, a4) = axes
    for name in VARIANTS:
        main = [r for r in records if r["name"] == name and r["lr"] == best[name] and r["budget"] == "steps"]
        for i, r in enumerate(main):
            label = f"{name} (lr {best[name]:g})" if i == 0 else None
            losses = r["curve"]["train_loss"]
            a1.plot(range(1, len(losses) + 1), smooth(losses), color=colors[name], lw=0.9, alpha=0.8, label=label)
            pts = r["curve"]["val"]
            a2.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colors[name], ms=3, lw=0.9, alpha=0.8,
                    label=label)
            if name.split("_")[0] == slow:
                a3.plot(r["curve"]["seconds"], smooth(losses), color=colors[name], lw=0.9, alpha=0.8, label=label)
        for i, r in enumerate(r for r in records if r["name"] == name and r["budget"] == "time"):
            a3.plot(r["curve"]["seconds"], smooth(r["curve"]["train_loss"]), color=colors[name], lw=0.9, alpha=0.8,
                    label=f"{name} (lr {best[name]:g})" if i == 0 else None)
        sweep = sorted((r for r in records if r["name"] == name and r["phase"] == "sweep"), key=lambda r: r["lr"])
        ys = [r["val_loss"] if math.isfinite(r["val_loss"]) else None for r in sweep]
        a4.plot([r["lr"] for r in sweep], [y if y is not None else float("nan") for y in ys], "o-",
                color=colors[name], label=name)
        for r, y in zip(sweep, ys):
            if y is None:
                a4.plot([r["lr"]], [a4.get_ylim()[1]], "x", color=colors[name], ms=9)
    a3.axvline(equal_time, color="grey", ls=":", lw=1)
    a1.set(title="training loss at equal steps (smoothed; each line a seed)", xlabel="step", ylabel="nats/char")
    a2.set(title="validation loss at equal steps", xlabel="step", ylabel="nats/char")
    a3.set(title=f"equal wall time ({equal_time:.1f} s): training loss (smoothed)", xlabel="seconds",
           ylabel="nats/char")
    a4.set(title="learning-rate sweep, seed 1: full validation loss", xlabel="peak learning rate",
           ylabel="nats/char", xscale="log")
    for ax in (a1, a2, a3, a4):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["all", "train", "lora", "e2e", "hook", "memory", "seeds", "scale", "ablate"],
                        default="all")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per model (seeds and scale cases)")
    parser.add_argument("--seconds", type=float, default=300.0, help="equal wall time per model (train case)")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "hllm-scale",
                        help="scale case: folder for runs.jsonl, summary.json and scale.png")
    parser.add_argument("--tiny", action="store_true",
                        help="scale case: the whole protocol with tiny models and a few steps, on the CPU (a test)")
    parser.add_argument("--steps", type=int, default=None,
                        help="scale case: steps a run (default: the most, up to 1,500, that fit --budget-s)")
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="scale case: planned training time on the GPU, seconds (the margin to 10 minutes is "
                             "for start-up, calibration and the planning error)")
    parser.add_argument("--deadline-s", type=float, default=560.0,
                        help="scale case: skip any run that would end later than this after the start")
    parser.add_argument("--lrs", default=",".join(str(lr) for lr in SCALE_LRS),
                        help="scale case: the learning-rate grid every variant is tuned over (seed 1)")
    parser.add_argument("--ablate-lr", type=float, default=ABLATE_LR,
                        help="ablate case: the learning rate of every run (default: the scale run's best, 1e-3)")
    parser.add_argument("--designs", default=",".join(ABLATE_DESIGNS),
                        help=f"ablate case: the HLLM designs to run, from {', '.join(ABLATIONS)} (base always)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="scale case: warm-up steps (default: 10%% of the steps, 150 at 1,500; tiny 3)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    figures = {}
    if args.case in ("all", "lora"):
        figures.update(lora_case())
    if args.case in ("all", "train"):
        figures.update(train_case(args.seconds))
    if args.case in ("all", "e2e"):
        figures.update(e2e_case())
    if args.case in ("all", "hook"):
        figures.update(hook_case())
    if args.case in ("all", "memory"):
        figures.update(memory_case())
    if args.case == "seeds":  # long: 2 x seeds x --seconds; not part of "all"
        figures.update(seeds_case(args.seconds, args.seeds))
    if args.case in ("scale", "ablate"):  # the GPU's: not part of "all"
        figures.update(scale_case(args))
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
