"""The Hamiltonian Market Maker measured: gas, the controller against EIP-1559, the integrator.

(a) Gas of buy (its HANZO transfer included), sell, redeem and poke on Ape's in-process EVM,
    against a Uniswap v2 swap with its input transfer (73,500 + 34,500 gas, ../shared/toolchain.md).
(b) The leapfrog controller and EIP-1559's rule on the same demand paths (steady, step shock,
    periodic, random walk; 200 Monte Carlo runs for the random walk): settling time, overshoot,
    log-price volatility and utilization error, as a table and a PNG.
(c) Energy error after 10^6 undamped steps of a harmonic oscillator: leapfrog against explicit Euler.

Usage: python benchmarks/hmm.py [--skip-gas]   (the last line printed is one JSON object)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hanzo.econ.hmm import HMMParams, eip1559_float, leapfrog_float  # noqa: E402
from hanzo.econ.params import CONGESTION_CHARGE_ON, DEFAULT, WEI  # noqa: E402

UNISWAP_SWAP_WITH_TRANSFER = 73_500 + 34_500
OUT = ROOT / "benchmarks" / "results"
EPOCHS = 240
ELASTICITY = 1.0  # utilization falls by 1.0 per unit of log price: u = demand - elasticity * x


# ---------------------------------------------------------------- (a) gas

def measure_gas() -> dict:
    from hanzo.chain.toolchain import configure

    configure()
    import ape
    from ape.logging import logger

    from hanzo.chain.deploy import Roles, deploy_suite, project

    logger.set_level("ERROR")
    gas = {}
    with ape.networks.parse_network_choice("ethereum:local:test"):
        from ape import accounts, chain

        a = accounts.test_accounts
        deployer, whale, provider = a[0], a[4], a[8]
        s = deploy_suite(DEFAULT, Roles(deployer, a[1], a[2].address, a[3].address, whale.address),
                         proj=project(), handover=False)
        hmm, token = s.hmm, s.token
        hmm.grantRole(hmm.PROVIDER_ROLE(), provider, sender=deployer)
        trader, other = a[5], a[6]
        for t in (trader, other):
            token.transfer(t, 10_000_000 * WEI, sender=whale)
            token.approve(hmm, 2**256 - 1, sender=t)
        far = 2**64
        # every transaction a minute after the one before, from ten minutes into the epoch, and the poke at its
        # end: where the transactions fall against the epoch then does not depend on the wall clock (60 and 97
        # seconds apart give the same gas; docs/hmm.md)
        clock = [hmm.epochStart() + 600]

        def tick() -> None:
            clock[0] += 60
            chain.pending_timestamp = clock[0]

        def timed(send):
            tick()
            return send().gas_used
        tick()
        gas["buy_gas_first_of_tier"] = hmm.buy(0, 1_000, 2**255, far, sender=other).gas_used
        tick()
        gas["buy_gas_new_holder"] = hmm.buy(0, 1_000, 2**255, far, sender=trader).gas_used
        tick()
        gas["buy_gas_incl_transfer"] = hmm.buy(0, 1_000, 2**255, far, sender=trader).gas_used
        tick()
        gas["sell_gas"] = hmm.sell(0, 500, 0, far, sender=trader).gas_used
        tick()
        hmm.offerCapacity(0, 10_000, 0, sender=provider)
        tick()
        gas["offer_capacity_gas"] = hmm.offerCapacity(0, 10_000, 0, sender=provider).gas_used
        tick()
        hmm.redeem(0, 100, provider, 0, far, sender=other)
        tick()
        gas["redeem_gas"] = hmm.redeem(0, 100, provider, 0, far, sender=trader).gas_used
        clock[0] = hmm.epochStart() + DEFAULT.hmm_epoch - 60  # the epoch's end
        tick()
        gas["poke_gas"] = hmm.poke(sender=trader).gas_used  # three tiers
        # three tiers in one transaction against three single calls, both by holders of every tier
        for t in (1, 2):
            tick()
            hmm.buy(t, 1_000, 2**255, far, sender=trader)
            tick()
            hmm.buy(t, 1_000, 2**255, far, sender=other)
        tick()
        gas["buy_batch_3_tiers_gas"] = hmm.buyBatch([0, 1, 2], [1_000] * 3, 2**255, far, sender=trader).gas_used
        gas["buy_3_single_gas"] = sum(timed(lambda t=t: hmm.buy(t, 1_000, 2**255, far, sender=other)) for t in range(3))
        for t in range(3):  # a new epoch: the provider offers again
            tick()
            hmm.offerCapacity(t, 10_000, 0, sender=provider)
        tick()
        gas["redeem_batch_3_tiers_gas"] = hmm.redeemBatch([0, 1, 2], [100] * 3, provider, 0, far,
                                                          sender=trader).gas_used
        gas["redeem_3_single_gas"] = sum(timed(lambda t=t: hmm.redeem(t, 100, provider, 0, far, sender=other))
                                         for t in range(3))
        # a redemption past the provider's target share of its capacity (200 of 10,000 served so far: 8,000 more
        # passes 8,000 by 200): the holder's congestion charge (off by default: switched on as governance may),
        # larger than its refund, pulled from its balance
        tick()
        on = dataclasses.replace(HMMParams.from_tokenomics(DEFAULT), congestion_charge=CONGESTION_CHARGE_ON)
        hmm.setParams(on.as_tuple(), sender=deployer)
        tick()
        hmm.buy(0, 10_000, 2**255, far, sender=trader)
        tick()
        charged = hmm.redeem(0, 8_000, provider, -(2**255), far, sender=trader)
        gas["redeem_charged_gas"] = charged.gas_used
        gas["redeem_charge_wei"] = sum(e.charge for e in charged.decode_logs(hmm.Congested))
        # redeemAtAsk at an ask above the price (uncounted: the credits served count at the target), the holder
        # paying the provider's ask beyond its credits' part out of its refund and its balance, in a new epoch
        clock[0] = hmm.epochStart() + DEFAULT.hmm_epoch - 60
        tick()
        hmm.poke(sender=trader)
        high = 2 * hmm.countedAsk(0)
        tick()
        hmm.offerCapacity(0, 10_000, high, sender=provider)
        tick()
        hmm.redeemAtAsk(0, 100, provider, high, -(2**255), far, sender=other)
        tick()
        gas["redeem_at_ask_gas"] = hmm.redeemAtAsk(0, 100, provider, high, -(2**255), far, sender=trader).gas_used
        # a credit transfer between holders of the tier (moves the share of basis less the exit fee)
        tick()
        gas["credit_transfer_gas"] = hmm.safeTransferFrom(trader, other, 0, 100, b"", sender=trader).gas_used
        gas["batch_vs_single_buys"] = round(gas["buy_batch_3_tiers_gas"] / gas["buy_3_single_gas"], 3)
        gas["batch_vs_single_redeems"] = round(gas["redeem_batch_3_tiers_gas"] / gas["redeem_3_single_gas"], 3)
    gas["uniswap_v2_swap_with_transfer"] = UNISWAP_SWAP_WITH_TRANSFER
    gas["buy_vs_uniswap"] = round(gas["buy_gas_incl_transfer"] / UNISWAP_SWAP_WITH_TRANSFER, 3)
    gas["sell_vs_uniswap"] = round(gas["sell_gas"] / UNISWAP_SWAP_WITH_TRANSFER, 3)
    return gas


# ---------------------------------------------------------------- (b) controllers

def demand_paths(runs: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Demand level D(t) (utilization at the base price), shape (epochs, runs)."""
    t = np.arange(EPOCHS)[:, None]
    rng = np.random.default_rng(seed)
    walk = 0.8 + np.cumsum(rng.normal(0, 0.02, (EPOCHS, runs)), axis=0)
    return {
        "steady": np.full((EPOCHS, 1), 0.8),
        "step shock": np.where(t < 20, 0.8, 1.2) * np.ones((1, 1)),
        "periodic": 0.8 + 0.2 * np.sin(2 * np.pi * t / 30.0),
        "random walk": np.clip(walk, 0.2, 1.6),
    }


def simulate(controller: str, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log price and utilization paths of a controller on a demand path."""
    p = DEFAULT
    kw = dict(alpha=p.hmm_alpha / WEI, gamma=p.hmm_gamma / WEI, dt=p.hmm_dt / WEI,
              delta_max=p.hmm_delta_max / WEI, target=p.hmm_target_utilization / WEI)
    x = np.zeros(demand.shape[1])
    v = np.zeros_like(x)
    xs, us = [], []
    for d in demand:
        u = np.clip(d - ELASTICITY * x, 0.0, 1.0)
        xs.append(x.copy())
        us.append(u)
        if controller == "leapfrog":
            x, v = leapfrog_float(x, v, u, **kw)
        else:
            x = np.log(eip1559_float(np.exp(x), u, target=kw["target"], max_change=math.expm1(kw["delta_max"])))
    return np.array(xs), np.array(us)


def metrics(name: str, x: np.ndarray, u: np.ndarray, demand: np.ndarray) -> dict:
    """Settling time and overshoot after the step shock (at epoch 20); volatility of daily log
    price changes and mean |u - target| on every path, averaged over runs."""
    target = DEFAULT.hmm_target_utilization / WEI
    err = np.abs(u - target)
    out = {"settling_epochs": float("nan"), "overshoot": float("nan"),
           "log_price_volatility": float(np.mean(np.std(np.diff(x, axis=0), axis=0))),
           "utilization_error": float(np.mean(err))}
    if name == "step shock":
        shock = 20
        within = err[shock:] < 0.02  # settled: utilization within 2 points of target from then on
        outside = np.nonzero(~within[:, 0])[0]
        out["settling_epochs"] = float(0 if outside.size == 0 else outside[-1] + 1)
        before, after = (demand[shock - 1, 0] - target) / ELASTICITY, (demand[-1, 0] - target) / ELASTICITY
        out["overshoot"] = float(max(0.0, np.max(x[shock:, 0]) - after) / abs(after - before))
    return out


def compare_controllers(runs: int) -> tuple[dict, dict]:
    paths = demand_paths(runs)
    table, series = {}, {}
    for name, demand in paths.items():
        demand = np.broadcast_to(demand, (EPOCHS, max(demand.shape[1], 1)))
        for controller in ("leapfrog", "eip1559"):
            x, u = simulate(controller, demand)
            table[(name, controller)] = metrics(name, x, u, demand)
            series[(name, controller)] = (x[:, 0], u[:, 0])
    return table, series


def plot(series: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["steady", "step shock", "periodic", "random walk"]
    fig, axes = plt.subplots(2, 4, figsize=(16, 6), sharex=True)
    for col, name in enumerate(names):
        for controller, style in (("leapfrog", "-"), ("eip1559", "--")):
            x, u = series[(name, controller)]
            axes[0, col].plot(np.exp(x), style, label=controller)
            axes[1, col].plot(u, style, label=controller)
        axes[0, col].set_title(name)
        axes[1, col].axhline(DEFAULT.hmm_target_utilization / WEI, color="grey", lw=0.5)
    axes[0, 0].set_ylabel("P_ref / P_base")
    axes[1, 0].set_ylabel("utilization")
    axes[0, 0].legend()
    for ax in axes[1]:
        ax.set_xlabel("epoch (day)")
    fig.suptitle("Leapfrog controller vs EIP-1559 on the same demand paths")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


# ---------------------------------------------------------------- (c) integrator

def energy_error(steps: int, *, euler: bool, dt: float = 0.01, k: float = 1.0) -> float:
    x, v = 1.0, 0.0
    e0 = 0.5 * k
    worst = 0.0
    for _ in range(steps):
        if euler:
            x, v = x + dt * v, v - dt * k * x
            vs = v
        else:
            v -= dt * k * x
            x += dt * v
            vs = v - 0.5 * dt * k * x  # synchronise the half-step velocity
        e = 0.5 * vs * vs + 0.5 * k * x * x
        worst = max(worst, abs(e - e0) / e0)
    return worst


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-gas", action="store_true", help="skip the on-chain part")
    parser.add_argument("--runs", type=int, default=200, help="Monte Carlo runs of the random walk")
    args = parser.parse_args()
    figures: dict = {}
    if not args.skip_gas:
        gas = measure_gas()
        figures.update(gas)
        print(f"{'operation':<32}{'gas':>10}")
        for k in ("buy_gas_first_of_tier", "buy_gas_new_holder", "buy_gas_incl_transfer", "sell_gas",
                  "offer_capacity_gas", "redeem_gas", "redeem_charged_gas", "redeem_at_ask_gas", "credit_transfer_gas",
                  "poke_gas",
                  "uniswap_v2_swap_with_transfer"):
            print(f"{k:<32}{gas[k]:>10,}")
        print(f"buy / Uniswap v2 swap with transfer: {gas['buy_vs_uniswap']:.3f}   "
              f"sell / same: {gas['sell_vs_uniswap']:.3f}\n")

    table, series = compare_controllers(args.runs)
    plot(series, OUT / "hmm_controllers.png")
    print(f"{'demand path':<13}{'controller':<10}{'settling':>10}{'overshoot':>11}{'volatility':>12}{'util err':>10}")
    for (name, controller), m in table.items():
        print(f"{name:<13}{controller:<10}{m['settling_epochs']:>10.1f}{m['overshoot']:>11.3f}"
              f"{m['log_price_volatility']:>12.4f}{m['utilization_error']:>10.4f}")
    for name in ("step shock", "periodic", "random walk"):
        lf, ep = table[(name, "leapfrog")], table[(name, "eip1559")]
        key = name.replace(" ", "_")
        figures[f"{key}_util_error_leapfrog"] = round(lf["utilization_error"], 5)
        figures[f"{key}_util_error_eip1559"] = round(ep["utilization_error"], 5)
        figures[f"{key}_util_error_ratio"] = round(lf["utilization_error"] / ep["utilization_error"], 3)
    figures["step_shock_settling_leapfrog"] = table[("step shock", "leapfrog")]["settling_epochs"]
    figures["step_shock_settling_eip1559"] = table[("step shock", "eip1559")]["settling_epochs"]
    figures["step_shock_overshoot_leapfrog"] = round(table[("step shock", "leapfrog")]["overshoot"], 4)
    figures["step_shock_overshoot_eip1559"] = round(table[("step shock", "eip1559")]["overshoot"], 4)
    print(f"plot: {OUT / 'hmm_controllers.png'}\n")

    steps = 1_000_000
    lf = energy_error(steps, euler=False)
    eu = energy_error(steps, euler=True)
    print(f"energy error after {steps:,} undamped steps (harmonic oscillator, dt = 0.01): "
          f"leapfrog {lf:.3e}, explicit Euler {eu:.3e} (Euler / leapfrog = {eu / lf:.3e})")
    figures["leapfrog_energy_error"] = lf
    figures["euler_energy_error"] = eu
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
