"""The simulator against radCAD, and a million users.

--case aggregate: the anchor model of sim/aggregate.py (aggregate supply, burned, staked, price;
  emission 100M/yr halving every 4 years paid daily, 10% burned, half of net staked, 0.1% of
  stake unstaking a day, 2% daily log noise and a 1%/day chance of a 20% jump) for 14,600 days x
  100 runs, in this simulator and in radCAD 0.14 (single process; default settings, then deepcopy
  off), each in its own process so that its peak memory is its own. Both consume the same
  pre-drawn price factors, so their final states must be identical (checked, bit for bit).
--case million: the baseline scenario with 1,000,000 users for 10 years: agent-days per second
  and peak memory.

Usage: python benchmarks/sim.py [--case aggregate|million|all] [--days N] [--runs N]
The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _factors(runs: int, days: int):
    import numpy as np

    from sim.aggregate import noise_factors

    seeds = np.random.SeedSequence(2026).spawn(runs)
    return np.stack([noise_factors(int(s.generate_state(1)[0]), days) for s in seeds])


def ours(runs: int, days: int, queue) -> None:
    from sim.aggregate import run

    factors = _factors(runs, days)
    base = _peak_mb()
    start = time.perf_counter()
    state = run(factors, days)
    seconds = time.perf_counter() - start
    final = [(float(state.supply[r]), float(state.burned[r]), float(state.staked[r]), float(state.price[r]))
             for r in range(runs)]
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "baseline_mb": base, "final": final})


def radcad(runs: int, days: int, deepcopy: bool, queue) -> None:
    from radcad import Engine, Model, Simulation
    from radcad.engine import Backend

    from sim.aggregate import BURN, STAKE_SHARE, UNSTAKE, daily_emission

    factors = _factors(runs, days)

    def p_emission(params, substep, history, state):
        e = daily_emission(state["timestep"])  # the previous state's timestep: 0 on the first day
        burn = e * BURN
        return {"burn": burn, "net": e - burn}

    def s_burned(params, substep, history, state, inp):
        return "burned", state["burned"] + inp["burn"]

    def s_supply(params, substep, history, state, inp):
        return "supply", state["supply"] + inp["net"]

    def s_staked_in(params, substep, history, state, inp):
        return "staked", state["staked"] + inp["net"] * STAKE_SHARE

    def s_unstake(params, substep, history, state, inp):
        return "staked", state["staked"] - state["staked"] * UNSTAKE

    def s_price(params, substep, history, state, inp):
        # a later block sees the state already stamped with this timestep (1 on the first day)
        return "price", state["price"] * float(factors[state["run"] - 1, state["timestep"] - 1])

    blocks = [
        {"policies": {"emission": p_emission},
         "variables": {"burned": s_burned, "supply": s_supply, "staked": s_staked_in}},
        {"policies": {}, "variables": {"staked": s_unstake}},
        {"policies": {}, "variables": {"price": s_price}},
    ]
    model = Model(initial_state={"supply": 500e6, "burned": 0.0, "staked": 0.0, "price": 0.1},
                  state_update_blocks=blocks, params={})
    sim = Simulation(model=model, timesteps=days, runs=runs)
    engine = Engine(backend=Backend.SINGLE_PROCESS, deepcopy=deepcopy, raise_exceptions=True)
    base = _peak_mb()
    start = time.perf_counter()
    result = engine.run(sim) if hasattr(engine, "run") else sim.run()
    seconds = time.perf_counter() - start
    last = {}
    for row in result:
        if row["timestep"] == days and row["substep"] == len(blocks):
            last[row["run"]] = (row["supply"], row["burned"], row["staked"], row["price"])
    final = [last[r + 1] for r in range(runs)]
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "baseline_mb": base, "final": final})


def million(queue) -> None:
    from sim.run import simulate
    from sim.scenario import load

    scenario = load("baseline").with_overrides(**{"users.initial": 1_000_000, "users.max": 1_000_000,
                                                  "scenario.years": 10.0})
    start = time.perf_counter()
    result = simulate(scenario)
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "users": int(result.summary["users_final"]),
               "days": int(result.summary["days"])})


def _child(target, args, queue) -> None:
    try:
        target(*args, queue)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def in_process(target, *args) -> dict:
    """Run `target` in a fresh process (its own peak memory) and return what it reports."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(target, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    if "error" in out:
        raise RuntimeError(f"{target.__name__} failed: {out['error']}")
    return out


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["aggregate", "million", "all"], default="all")
    parser.add_argument("--days", type=int, default=14_600)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    figures: dict = {}
    if args.case in ("aggregate", "all"):
        steps = args.days * args.runs
        ours_r = in_process(ours, args.runs, args.days)
        print(f"this simulator      {steps / ours_r['seconds']:>14,.0f} run-steps/s   {ours_r['seconds']:8.2f} s   "
              f"peak {ours_r['peak_mb']:8.1f} MB", flush=True)
        nodeep = in_process(radcad, args.runs, args.days, False)
        print(f"radCAD deepcopy off {steps / nodeep['seconds']:>14,.0f} run-steps/s   {nodeep['seconds']:8.2f} s   "
              f"peak {nodeep['peak_mb']:8.1f} MB", flush=True)
        default = in_process(radcad, args.runs, args.days, True)
        print(f"radCAD default      {steps / default['seconds']:>14,.0f} run-steps/s   {default['seconds']:8.2f} s   "
              f"peak {default['peak_mb']:8.1f} MB", flush=True)
        identical = ours_r["final"] == default["final"] == nodeep["final"]
        figures.update({
            "days": args.days, "runs": args.runs,
            "ours_run_steps_per_s": round(steps / ours_r["seconds"]),
            "radcad_default_run_steps_per_s": round(steps / default["seconds"]),
            "radcad_nodeepcopy_run_steps_per_s": round(steps / nodeep["seconds"]),
            "ratio_vs_radcad_default": round(default["seconds"] / ours_r["seconds"], 1),
            "ratio_vs_radcad_nodeepcopy": round(nodeep["seconds"] / ours_r["seconds"], 1),
            "ours_peak_mb": round(ours_r["peak_mb"], 1),
            "radcad_default_peak_mb": round(default["peak_mb"], 1),
            "radcad_nodeepcopy_peak_mb": round(nodeep["peak_mb"], 1),
            "identical_end_states": identical,
        })
        print(f"ratio: {figures['ratio_vs_radcad_default']}x radCAD default, "
              f"{figures['ratio_vs_radcad_nodeepcopy']}x radCAD deepcopy off; identical end states: {identical}")
    if args.case in ("million", "all"):
        m = in_process(million)
        agent_days = m["users"] * m["days"]
        print(f"1,000,000 users x {m['days']} days: {m['seconds']:.2f} s, {agent_days / m['seconds']:,.0f} agent-days/s, "
              f"peak {m['peak_mb']:.0f} MB")
        figures.update({"million_users_seconds": round(m["seconds"], 3), "million_users_peak_mb": round(m["peak_mb"], 1),
                        "million_agent_days_per_s": round(agent_days / m["seconds"])})
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
