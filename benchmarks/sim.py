"""The simulator against radCAD on the same model with the same history, and the World itself.

--case aggregate: the anchor model of hanzo/sim/aggregate.py (aggregate supply, burned, staked, price;
  emission 100M/yr halving every 4 years paid daily, 10% burned, half of net staked, 0.1% of
  stake unstaking a day, 2% daily log noise and a 1%/day chance of a 20% jump) for 14,600 days x
  100 runs, every variable recorded every day on every side, each implementation in its own
  process (its peak memory is its own):
    - this simulator (SimPy processes, runs as an array axis);
    - radCAD 0.14 as its users would tune it: the Engine attached (and checked after the run:
      single process, deepcopy off, drop_substeps), the model in one block, one radCAD run per
      Monte Carlo run;
    - radCAD with runs as an array axis: one radCAD run whose state variables are numpy arrays
      over the Monte Carlo runs, same engine settings (the closest radCAD gets to this simulator);
    - radCAD with its default engine (deepcopy on), with --with-default (slow).
  All consume the same pre-drawn price factors; their histories must be identical (checked).
--case world: the World itself (hanzo/sim/world.py, the baseline scenario, history kept as daily rows):
  days per second as users grow (1,000 to 1,000,000), and run-days per second as Monte Carlo runs
  grow (hanzo sweep's local backend, Parquet per run included).

Usage: python benchmarks/sim.py [--case aggregate|world|all] [--days N] [--runs N] [--with-default]
The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _factors(runs: int, days: int):
    import numpy as np

    from hanzo.sim.aggregate import noise_factors

    seeds = np.random.SeedSequence(2026).spawn(runs)
    return np.stack([noise_factors(int(s.generate_state(1)[0]), days) for s in seeds])


VARIABLES = ("supply", "burned", "staked", "price")


def _digest(history: dict) -> str:
    """A hash of the whole history (days x runs of every variable), to compare implementations."""
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for name in VARIABLES:
        h.update(np.ascontiguousarray(history[name], dtype=np.float64).tobytes())
    return h.hexdigest()


def ours(runs: int, days: int, queue) -> None:
    from hanzo.sim.aggregate import run

    factors = _factors(runs, days)
    base = _peak_mb()
    start = time.perf_counter()
    history: dict = {}
    run(factors, days, history)
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "baseline_mb": base, "digest": _digest(history)})


def _radcad_blocks(factors, vectorised: bool):
    """The same rules as hanzo/sim/aggregate.py in one radCAD block, written as its users would."""
    from hanzo.sim.aggregate import BURN, STAKE_SHARE, UNSTAKE, daily_emission

    def p_emission(params, substep, history, state):
        e = daily_emission(state["timestep"])  # the previous state's timestep: 0 on the first day
        burn = e * BURN
        return {"burn": burn, "net": e - burn}

    def s_burned(params, substep, history, state, inp):
        return "burned", state["burned"] + inp["burn"]

    def s_supply(params, substep, history, state, inp):
        return "supply", state["supply"] + inp["net"]

    def s_staked(params, substep, history, state, inp):
        staked = state["staked"] + inp["net"] * STAKE_SHARE  # staking in, then 0.1% unstaking, as SimPy orders them
        return "staked", staked - staked * UNSTAKE

    if vectorised:
        def s_price(params, substep, history, state, inp):
            return "price", state["price"] * factors[:, state["timestep"]]
    else:
        def s_price(params, substep, history, state, inp):
            return "price", state["price"] * float(factors[state["run"] - 1, state["timestep"]])

    return [{"policies": {"emission": p_emission},
             "variables": {"burned": s_burned, "supply": s_supply, "staked": s_staked, "price": s_price}}]


def radcad(runs: int, days: int, mode: str, queue) -> None:
    """mode: 'tuned' (one run per Monte Carlo run), 'array' (runs as an array axis), 'default'."""
    import numpy as np
    from radcad import Engine, Model, Simulation
    from radcad.engine import Backend

    factors = _factors(runs, days)
    vectorised = mode == "array"
    if vectorised:
        init = {"supply": np.full(runs, 500e6), "burned": np.zeros(runs), "staked": np.zeros(runs),
                "price": np.full(runs, 0.1)}
    else:
        init = {"supply": 500e6, "burned": 0.0, "staked": 0.0, "price": 0.1}
    model = Model(initial_state=init, state_update_blocks=_radcad_blocks(factors, vectorised), params={})
    if mode == "default":
        engine = Engine(backend=Backend.SINGLE_PROCESS, raise_exceptions=True)
    else:
        engine = Engine(backend=Backend.SINGLE_PROCESS, deepcopy=False, drop_substeps=True, raise_exceptions=True)
    sim = Simulation(model=model, timesteps=days, runs=1 if vectorised else runs)
    # radCAD 0.14 refuses engine= in the constructor (Executable pops it from its own copy of the
    # keyword arguments, then Simulation rejects it as unknown): attach it, and check below that it ran
    sim.engine = engine
    base = _peak_mb()
    start = time.perf_counter()
    result = sim.run()
    seconds = time.perf_counter() - start
    # the settings took effect: the engine that ran is ours, as configured
    settings = {"engine_attached": sim.engine is engine, "backend": sim.engine.backend.name,
                "deepcopy": sim.engine.deepcopy, "drop_substeps": sim.engine.drop_substeps}
    history = {name: np.empty((days, runs)) for name in VARIABLES}
    for row in result:
        t = row["timestep"]
        if t == 0:
            continue
        for name in VARIABLES:
            if vectorised:
                history[name][t - 1] = row[name]
            else:
                history[name][t - 1, row["run"] - 1] = row[name]
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "baseline_mb": base, "digest": _digest(history),
               "settings": settings, "rows": len(result)})


def world_users(users: int, days: int, queue) -> None:
    from hanzo.sim.run import simulate
    from hanzo.sim.scenario import load

    scenario = load("baseline").with_overrides(**{"users.initial": users, "users.max": users,
                                                  "scenario.years": days / 365})
    start = time.perf_counter()
    result = simulate(scenario)
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "days": int(result.summary["days"]),
               "rows": len(result.series)})


def world_runs(runs: int, users: int, days: int, queue) -> None:
    from hanzo.sim.scenario import load
    from hanzo.sim.sweep import sweep

    scenario = load("baseline").with_overrides(**{"users.initial": users, "users.max": users,
                                                  "scenario.years": days / 365})
    out = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    start = time.perf_counter()
    sweep(scenario, [], runs=runs, out=out, backend="local", workers=2)
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mb": _peak_mb()})


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
    parser.add_argument("--case", choices=["aggregate", "world", "all"], default="all")
    parser.add_argument("--days", type=int, default=14_600)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--with-default", action="store_true", help="also radCAD's default engine (deepcopy on)")
    args = parser.parse_args()
    figures: dict = {}
    if args.case in ("aggregate", "all"):
        steps = args.days * args.runs
        rows = {"this simulator": in_process(ours, args.runs, args.days),
                "radCAD tuned": in_process(radcad, args.runs, args.days, "tuned"),
                "radCAD runs as array axis": in_process(radcad, args.runs, args.days, "array")}
        if args.with_default:
            rows["radCAD default"] = in_process(radcad, args.runs, args.days, "default")
        print(f"{args.days:,} days x {args.runs} runs, every variable recorded every day on every side")
        for name, r in rows.items():
            print(f"  {name:<28}{steps / r['seconds']:>14,.0f} run-days/s {r['seconds']:9.2f} s   peak "
                  f"{r['peak_mb']:8.1f} MB   {r.get('settings', '')}", flush=True)
        ours_r = rows["this simulator"]
        identical = len({r["digest"] for r in rows.values()}) == 1
        figures.update({"days": args.days, "runs": args.runs, "identical_histories": identical,
                        "ours_run_days_per_s": round(steps / ours_r["seconds"]), "ours_peak_mb": round(ours_r["peak_mb"], 1)})
        for key, name in (("radcad_tuned", "radCAD tuned"), ("radcad_array", "radCAD runs as array axis"),
                          ("radcad_default", "radCAD default")):
            if name in rows:
                r = rows[name]
                assert all(r["settings"][k] == v for k, v in (("engine_attached", True), ("backend", "SINGLE_PROCESS"))), r
                figures[f"{key}_run_days_per_s"] = round(steps / r["seconds"])
                figures[f"{key}_peak_mb"] = round(r["peak_mb"], 1)
                figures[f"ratio_vs_{key}"] = round(r["seconds"] / ours_r["seconds"], 1)
        print(f"  ratio: {figures['ratio_vs_radcad_tuned']}x radCAD tuned (deepcopy off, one block, drop_substeps), "
              f"{figures['ratio_vs_radcad_array']}x radCAD with runs as an array axis; identical histories: {identical}")
    if args.case in ("world", "all"):
        days = 3650
        print(f"the World (baseline scenario, {days} days, daily rows kept)")
        for users in (1_000, 10_000, 100_000, 1_000_000):
            w = in_process(world_users, users, days)
            figures[f"world_{users}_users_days_per_s"] = round(w["days"] / w["seconds"], 1)
            figures[f"world_{users}_users_peak_mb"] = round(w["peak_mb"], 1)
            print(f"  {users:>9,} users x 1 run : {w['days'] / w['seconds']:>9,.0f} days/s   {w['seconds']:7.2f} s   "
                  f"peak {w['peak_mb']:7.1f} MB", flush=True)
        for runs in (1, 2, 4, 8):
            w = in_process(world_runs, runs, 10_000, days)
            figures[f"world_{runs}_runs_run_days_per_s"] = round(runs * days / w["seconds"], 1)
            print(f"  10,000 users x {runs} runs (sweep, 2 workers, Parquet): {runs * days / w['seconds']:>9,.0f} "
                  f"run-days/s   {w['seconds']:7.2f} s", flush=True)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
