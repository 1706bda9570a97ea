"""The `hanzo` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .params import ParameterError, load
from .toolchain import check, configure


def fail(message: str) -> None:
    """One line on stderr and exit status 1: the contract for every user-facing error."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
@click.version_option(package_name="hanzo-econ")
def main() -> None:
    """hanzo-econ: deploy, simulate and test the Hanzo token economy."""
    configure()


@main.command()
@click.option("--network", default="ethereum:local:test", show_default=True,
              help="Ape network choice; ethereum:local:foundry starts anvil.")
@click.option("--account", default=None,
              help="Ape account alias of the deployer (required off local networks).")
@click.option("--params", "params_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file overriding tokenomics parameters.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write the deployment JSON (default deployments/<network>.json).")
def deploy(network: str, account: str | None, params_file: str | None, out: str | None) -> None:
    """Deploy and wire the whole contract suite."""
    missing = check()
    if missing:
        fail("; ".join(missing))
    try:
        params = load(params_file)
    except ParameterError as exc:
        fail(str(exc))
    from . import deploy_cli

    deploy_cli.run(network, account, params, Path(out) if out else None, fail)


@main.command()
@click.argument("scenario")
@click.option("--years", type=float, default=None, help="Horizon in years (default: the scenario's).")
@click.option("--seed", type=int, default=None, help="Master seed (default: the scenario's).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/<scenario>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--chain", is_flag=True, help="Run the agents against the deployed contracts and reconcile.")
@click.option("--network", default="ethereum:local:test", show_default=True, help="With --chain: the Ape network.")
@click.option("--days", type=int, default=30, show_default=True, help="With --chain: days to run on chain.")
@click.option("--chain-users", type=int, default=6, show_default=True, help="With --chain: user accounts on chain.")
def simulate(scenario: str, years: float | None, seed: int | None, out: str | None, quiet: bool, chain: bool,
             network: str, days: int, chain_users: int) -> None:
    """Run SCENARIO (a name from sim/scenarios/ or a TOML file) and write its report."""
    from sim.run import simulate as run, write
    from sim.scenario import ScenarioError, load

    if chain:
        _simulate_on_chain(scenario, seed, network, days, chain_users, quiet)
        return
    try:
        sc = load(scenario)
        if years is not None and not (1 / 365 <= years <= 100):
            raise ScenarioError(f"--years: expected a value in [{1 / 365:.4f}, 100], got {years}")
        result = run(sc, years=years, seed=seed, progress=not quiet)
    except ScenarioError as exc:
        fail(str(exc))
    folder = Path(out) if out else Path("out") / result.scenario.name
    files = write(result, folder)
    s = result.summary
    click.echo(f"{s['scenario']}: {s['days']} days, seed {s['seed']}, "
               f"{s['choices']['emission_mode']} emission, {s['choices']['burn_mode']} burn, "
               f"{s['choices']['controller']} controller")
    click.echo(f"  users {s['users_final']:,}   supply {s['total_supply']:,.0f}   burned {s['burned']:,.0f}   "
               f"staked {s['staked']:,.0f}   treasury {s['treasury']:,.0f}")
    click.echo(f"  HANZO ${s['hanzo_price_usd']['final']:.4f}   reward Gini {s['reward_gini']:.3f}   "
               + (f"emission exhausted on day {s['emission_exhausted_day']}" if s["emission_exhausted_day"] is not None
                  else "emission not exhausted within the horizon"))
    click.echo(f"report    {files['report']}")


def _simulate_on_chain(scenario: str, seed: int | None, network: str, days: int, users: int, quiet: bool) -> None:
    from sim.onchain import ChainRunError, run_on_chain
    from sim.scenario import ScenarioError, load

    if not 1 <= days <= 3650:
        fail(f"--days: expected 1 to 3650, got {days}")
    if not 1 <= users <= 200:
        fail(f"--chain-users: expected 1 to 200, got {users}")
    try:
        sc = load(scenario)
        if seed is not None:
            sc = sc.with_overrides(**{"scenario.seed": seed})
    except ScenarioError as exc:
        fail(str(exc))
    from ape.exceptions import ApeException
    from ape.logging import logger

    logger.set_level("ERROR")
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=days, unit="day", desc=f"{sc.name} on {network}")
    try:
        result = run_on_chain(sc, network=network, days=days, users=users,
                              progress=bar.update if bar else None)
    except (ChainRunError, ApeException) as exc:
        fail(f"chain run on {network}: {' '.join(str(exc).split())}")
    finally:
        if bar:
            bar.close()
    click.echo(f"{sc.name} on {network}: {result.days} days, {users} users, {result.transactions} transactions")
    if result.ok:
        click.echo(f"reconciled: all {result.checked} balances, supply, burn, emission and market figures agree to the wei")
    else:
        click.echo(f"NOT reconciled: {len(result.differences)} of {result.checked} figures differ:")
        for line in result.differences:
            click.echo(f"  {line}")
        sys.exit(2)


@main.command()
@click.argument("scenario")
@click.option("--param", "params", multiple=True, metavar="TABLE.KEY=V1,V2,...",
              help="Values to sweep (repeatable: the grid is their product).")
@click.option("--runs", type=int, default=10, show_default=True, help="Monte Carlo runs per grid point.")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (default: a local Ray).")
@click.option("--seed", type=int, default=None, help="Master seed (default: the scenario's).")
@click.option("--years", type=float, default=None, help="Horizon in years (default: the scenario's).")
@click.option("--workers", type=int, default=None, help="Local processes (default: one per core).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: out/<scenario>-sweep).")
def sweep(scenario, params, runs, backend, address, seed, years, workers, out) -> None:
    """Monte Carlo runs and parameter sweeps of SCENARIO."""
    from sim.scenario import ScenarioError, load
    from sim.sweep import parse_params, sweep as run_sweep

    try:
        sc = load(scenario)
        if years is not None:
            sc = sc.with_overrides(**{"scenario.years": years})
        grid = parse_params(params)
        folder = Path(out) if out else Path("out") / f"{sc.name}-sweep"
        summary = run_sweep(sc, grid, runs=runs, out=folder, backend=backend, master_seed=seed,
                            workers=workers, address=address, progress=True)
    except ScenarioError as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(f"--backend {backend}: {exc}")
    keys = [k for k, _ in parse_params(params)]
    cols = keys + ["runs", "hanzo_price_final_q05", "hanzo_price_final_q50", "hanzo_price_final_q95",
                   "burned_mean", "staked_mean", "reward_gini_mean"]
    click.echo(summary[cols].to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    click.echo(f"dataset   {folder / 'dataset'}\nsummary   {folder / 'summary.csv'}\nfan chart {folder / 'fan_charts.png'}")


if __name__ == "__main__":
    main()
