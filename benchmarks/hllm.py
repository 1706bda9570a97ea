"""The HLLM trainer measured: training speed and loss at equal wall time against the GPT
baseline, loss spikes without warm-up or clipping, LoRA interaction latency and adapter size
against the sources' ~35 ms and ~100 MB, end-to-end rewards per second on anvil, and the reward
path alone with 1, 10 and 100 users: one op per transaction (the first hook's way) against one
batch per round, with the node calls each op costs.

Usage: python benchmarks/hllm.py [--case all|train|lora|e2e|hook] [--seconds S]
Time with the other core idle; figures are medians. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
    text = speeches("romeo-and-juliet", "JULIET")
    trainer.session("warmup", 1, text, interactions=5)
    session = trainer.session("bench", 1, text, interactions=1)
    per = []  # one interaction at a time, each timed around its forward, backward and step
    for i in range(n):
        s = trainer.session("bench", 1, text, interactions=1, seed=i)
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
        result = demo.run("ethereum:local:foundry", sessions=max(1, ops // 3), interactions=8, say=lambda _m: None)
    seconds = time.perf_counter() - start
    rate = result["ops"] / result["loop_seconds"]
    print(f"end to end on anvil (gate -> 8 LoRA updates -> oracle evaluation -> signed op -> mined reward, per "
          f"judged op; refused sessions not counted): "
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


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["all", "train", "lora", "e2e", "hook", "memory", "seeds"], default="all")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per model (seeds case)")
    parser.add_argument("--seconds", type=float, default=300.0, help="equal wall time per model (train case)")
    args = parser.parse_args()
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
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
