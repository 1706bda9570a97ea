"""The simulator against radCAD and Mesa on the same models, and the World itself.

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
--case agents: the users as agents (issue 17, item 5), against the same per-agent model in Mesa 3.3.1
  (benchmarks/mesa_users.py; `pip install -e '.[mesa]'`). The scenario is the baseline with a mix of strategies
  (AGENTS below: half honest, a fifth each holders and speculators, 5% each farmers and spammers, every trait
  drawn per user) and users who weigh their pay against a reservation wage of their own and churn below it:
  the all-honest baseline moves its users as totals and settles their rows yearly, so it would time the
  settlement rather than per-agent work; with strategies every row decides and is paid, sells and stakes its
  own way every day, the case that costs per agent. It times the World (the whole economy, users.initial =
  users.max = N) for N = 10k, 100k and 1M over 10 years, each in its own process; agent-days are the active
  users summed over the days, peak memory the process's peak resident set (getrusage ru_maxrss, imports
  included); `conserved` is true when the ledger's daily check (hanzo/sim/ledger.py, Ledger.check: accounts
  sum to what was minted, none negative, each users' account the exact sum of its rows) ran on every day of
  every run (it stops a run that fails it). Mesa replays a tape of a World run at its size (each day's View,
  what the users were paid in total, each newcomer's activity, reservation wage, strategy and traits): it
  is spared the rest of the economy, which our side's timing includes. Each Mesa size is compared with ours at
  the same size and horizon (MESA_SIZES: 10k users x 1 year, 100k x 0.1 year; ratio_vs_mesa is the larger, the
  JSON has both). Wall-clock seconds are the figures (time.perf_counter); CPU seconds (time.process_time) are
  printed beside them, as the 2 cores are shared. Before timing, both sides run 2,000 users x 2 years on the
  same tape (CHECK_OVERRIDES: so that users leave and join) and must agree (TOLERANCE) on the users' total pay,
  wallets, stake, unstaking, the Gini of holdings and active users; the script exits non-zero if they do not.
  --quick: small sizes, for development.

Usage: python benchmarks/sim.py [--case aggregate|world|agents|all] [--days N] [--runs N] [--with-default] [--quick]
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
from dataclasses import dataclass, field
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


# --case agents: the baseline with a mix of strategies, each trait drawn per user, and a reservation wage of
# each user's own (lognormal spread around 0.0002 USD an interaction) below which it trains less and may leave
AGENTS = {
    "strategies.holder_share": 0.2, "strategies.speculator_share": 0.2, "strategies.farmer_share": 0.05,
    "strategies.spammer_share": 0.05, "strategies.holder_sell_share": "uniform(0, 0.3)",
    "strategies.holder_stake_share": "uniform(0.3, 0.7)",
    "strategies.speculator_momentum_response": "lognormal(3, 0.5)",
    "strategies.farmer_pay": "lognormal(0.68, 0.3)", "strategies.farmer_cost_usd_per_interaction": "uniform(0, 0.002)",
    "strategies.spammer_low_quality": "uniform(0, 1)",
    "agents.reservation_usd_per_interaction": 0.0002, "agents.reservation_spread": 0.5, "agents.churn_per_day": 0.002,
}
CHECK_SIZE = (2_000, 2.0)  # users, years: both sides on the same tape, aggregates compared
# in the check, reservation wages 10x the timed scenario's: users leave (583 of 2,000) and others join within its
# two years, so the check covers churn and joining too
CHECK_OVERRIDES = {"agents.reservation_usd_per_interaction": 0.002}
# (users, years): Mesa timed, and ours at the same size and horizon; ratio_vs_mesa at the last
MESA_SIZES = ((10_000, 1.0), (100_000, 0.1))
# relative, but gini (absolute) and active (users): the sides differ only in who leaves (each draws its own
# leavers by the same rule) and in rounding (ours to the micro-HANZO, per row and day)
TOLERANCE = {"paid": 1e-6, "wallets": 0.01, "stake": 0.01, "unstaking": 0.01, "gini": 0.01, "active": 0.01}


def agents_scenario(users: int, years: float):
    from hanzo.sim.scenario import load

    return load("baseline").with_overrides(**{"users.initial": users, "users.max": users, "scenario.years": years,
                                              **AGENTS})


@dataclass
class Tape:
    """What the rest of the economy did each day of a World run, as the users saw it (benchmarks/mesa_users.py)."""

    cooldown_days: int
    views: list = field(default_factory=list)  # each day's View
    paid: list = field(default_factory=list)  # HANZO the users were paid in total each day
    # HANZO the market maker returned to the users each day (the curve's premium, rule 3h), alike to the active
    refunds: list = field(default_factory=list)
    newcomers: list = field(default_factory=list)  # each day's: (strategy, activity, reservation, traits) each


def record(scenario):
    """Run the World on `scenario`, taping what its users saw; returns (world, tape)."""
    import numpy as np

    from hanzo.econ.params import DAY
    from hanzo.sim.ledger import UNIT
    from hanzo.sim.world import World

    w = World(scenario)
    tape, paid, refunds = Tape(round(w.p.unstake_cooldown / DAY)), {}, {}
    receive = w.users.receive

    def receiving(ledger, frm, amounts, flow, field="wallet"):
        total = receive(ledger, frm, amounts, flow, field)
        for name, taped in (("training rewards", paid), ("curve premium back", refunds)):
            if flow == name:
                taped[int(w.env.now)] = taped.get(int(w.env.now), 0) + total
        return total

    w.users.receive = receiving
    w.run(scenario.days, lambda _: tape.views.append(w.view))
    tape.paid = [paid.get(day, 0) / UNIT for day in range(scenario.days)]
    tape.refunds = [refunds.get(day, 0) / UNIT for day in range(scenario.days)]
    users, st = w.users, w.strategies
    n = users.rows
    joined = users.joined[:n]
    starts = np.searchsorted(joined, np.arange(scenario.days + 1))  # rows are in the order they joined
    for day in range(scenario.days):
        tape.newcomers.append([(st.names[st.kind[i]], float(users.activity[i]), float(users.reservation[i]),
                                {t: float(a[i]) for t, a in st.traits[st.kind[i]].items()})
                               for i in range(starts[day], starts[day + 1])])
    return w, tape


def world_aggregates(w) -> dict:
    """`mesa_users.aggregates` of the World's user rows (HANZO)."""
    from hanzo.sim.ledger import UNIT
    from hanzo.sim.world import gini

    users, n = w.users, w.users.rows
    return {"paid": int(users.earned[:n].sum()) / UNIT, "wallets": int(users.wallet[:n].sum()) / UNIT,
            "stake": int(users.stake[:n].sum()) / UNIT, "unstaking": int(users.unstaking[:n].sum()) / UNIT,
            "gini": gini(users.holdings()), "active": users.active}


def disagreements(ours: dict, theirs: dict, tolerance: dict = TOLERANCE) -> list[str]:
    """The figures on which the two sides differ by more than `tolerance` (gini absolute, the others relative)."""
    out = []
    for name, tol in tolerance.items():
        a, b = ours[name], theirs[name]
        gap = abs(a - b) if name == "gini" else abs(a - b) / max(abs(a), 1e-12)
        if gap > tol:
            out.append(f"{name}: ours {a:,.6f}, Mesa {b:,.6f} (gap {gap:.3g} > {tol:g})")
    return out


def agents_ours(users: int, years: float, queue) -> None:
    from hanzo.sim.world import World

    scenario = agents_scenario(users, years)
    start, cpu = time.perf_counter(), time.process_time()
    w = World(scenario)
    w.run(scenario.days)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": _peak_mb(), "conserved": w.conserved,
               "agent_days": sum(r["users"] for r in w.rows), "rows": w.users.rows})


def agents_mesa(users: int, years: float, queue) -> None:
    from mesa_users import Economy

    scenario = agents_scenario(users, years)
    _, tape = record(scenario)
    model = Economy(scenario, tape)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(scenario.days):
        model.step()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": _peak_mb(), "agent_days": model.active_days})


def agents_check(users: int, years: float, queue) -> None:
    from mesa_users import Economy, aggregates

    scenario = agents_scenario(users, years).with_overrides(**CHECK_OVERRIDES)
    w, tape = record(scenario)
    model = Economy(scenario, tape)
    for _ in range(scenario.days):
        model.step()
    queue.put({"ours": world_aggregates(w), "mesa": aggregates(model), "conserved": w.conserved, "churned": w.churned,
               "joined_later": w.users.rows - users})


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


def agents(quick: bool) -> dict:
    check, mesa_sizes = ((300, 2.0), ((1_000, 0.25), (10_000, 0.02))) if quick else (CHECK_SIZE, MESA_SIZES)
    sizes = ((1_000, 1.0), (10_000, 1.0)) if quick else ((10_000, 10.0), (100_000, 10.0), (1_000_000, 10.0))
    c = in_process(agents_check, *check)
    print(f"the same model: {check[0]:,} users x {check[1]:g} years, the World and Mesa on the same tape")
    for name, tol in TOLERANCE.items():
        print(f"  {name:<10}{c['ours'][name]:>22,.6f} {c['mesa'][name]:>22,.6f}   tolerance {tol:g}")
    wrong = disagreements(c["ours"], c["mesa"])
    if wrong:
        raise SystemExit("the World's users and Mesa's disagree: " + "; ".join(wrong))
    figures: dict = {"agents_check": {"users": check[0], "years": check[1], "ours": c["ours"], "mesa": c["mesa"]}}
    conserved = c["conserved"]
    print("the World with users as rows (whole economy; the mixed-strategy scenario)")
    runs = {}
    for users, years in sizes + mesa_sizes:
        if (users, years) in runs:
            continue
        r = runs[users, years] = in_process(agents_ours, users, years)
        conserved = conserved and r["conserved"]
        rate = r["agent_days"] / r["seconds"]
        figures[f"agents_{users}_{years:g}y"] = {
            "seconds": round(r["seconds"], 2), "cpu_seconds": round(r["cpu_seconds"], 2),
            "agent_days_per_s": round(rate), "peak_mb": round(r["peak_mb"], 1), "rows": r["rows"]}
        print(f"  {users:>9,} users x {years:g} years: {rate:>13,.0f} agent-days/s {r['seconds']:8.2f} s "
              f"(CPU {r['cpu_seconds']:.2f} s)   peak {r['peak_mb']:7.1f} MB   conserved {r['conserved']}", flush=True)
    for users, years in mesa_sizes:
        m, ours = in_process(agents_mesa, users, years), runs[users, years]
        mesa_rate, ours_rate = m["agent_days"] / m["seconds"], ours["agent_days"] / ours["seconds"]
        figures[f"mesa_{users}_{years:g}y"] = {
            "seconds": round(m["seconds"], 2), "cpu_seconds": round(m["cpu_seconds"], 2),
            "peak_mb": round(m["peak_mb"], 1), "agent_days_per_s": round(mesa_rate),
            "ratio": round(ours_rate / mesa_rate, 1)}
        print(f"  Mesa {users:>9,} users x {years:g} years (the users only, on the World's tape): "
              f"{mesa_rate:>10,.0f} agent-days/s {m['seconds']:8.2f} s   peak {m['peak_mb']:7.1f} MB   "
              f"ours {ours_rate / mesa_rate:.1f}x",
              flush=True)
    largest, compared = runs[sizes[-1]], mesa_sizes[-1]
    figures.update({
        "agents_1m_seconds": round(largest["seconds"], 2), "agents_1m_cpu_seconds": round(largest["cpu_seconds"], 2),
        "agents_1m_peak_mb": round(largest["peak_mb"], 1),
        "agents_1m_size": list(sizes[-1]),  # (users, years): (1,000,000, 10) but with --quick
        "agent_days_per_s": round(largest["agent_days"] / largest["seconds"]),
        "ratio_vs_mesa": figures[f"mesa_{compared[0]}_{compared[1]:g}y"]["ratio"],
        "ratio_vs_mesa_size": list(compared),
        "conserved": conserved})
    print(f"  ratio: {figures['ratio_vs_mesa']}x Mesa at {compared[0]:,} users x {compared[1]:g} years; conserved "
          f"every day of every run: {conserved}")
    return figures


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["aggregate", "world", "agents", "all"], default="all")
    parser.add_argument("--days", type=int, default=14_600)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--with-default", action="store_true", help="also radCAD's default engine (deepcopy on)")
    parser.add_argument("--quick", action="store_true", help="--case agents at small sizes (development)")
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
    if args.case in ("agents", "all"):
        figures.update(agents(args.quick))
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
