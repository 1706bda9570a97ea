"""`hanzo deploy`: the Ape side of the command, with every failure turned into one line."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from .params import WEI, Tokenomics


def _accounts_for(network: str, alias: str | None, fail: Callable[[str], None]):
    from ape import accounts

    local = network.split(":")[1:2] == ["local"]
    if alias is None:
        if not local:
            fail(f"network {network!r} is not local: name the deployer with --account ALIAS (see `ape accounts list`)")
        test = accounts.test_accounts
        return test[0], test[1], test[2].address, test[3].address, test[4].address
    try:
        deployer = accounts.load(alias)
    except Exception:  # noqa: BLE001 - Ape raises several kinds for an unknown alias
        known = ", ".join(a.alias for a in accounts) or "none"
        fail(f"no Ape account named {alias!r} (known: {known})")
    a = deployer.address
    return deployer, deployer, a, a, a


def run(network: str, alias: str | None, params: Tokenomics, out: Path | None, fail: Callable[[str], None]) -> None:
    from ape import networks
    from ape.exceptions import ApeException
    from ape.logging import logger

    logger.set_level("WARNING")

    from .chain import Roles, deploy_suite, write_deployment

    try:
        context = networks.parse_network_choice(network)
    except ApeException as exc:
        reason = " ".join(str(exc).split())
        fail(f"unknown network {network!r}: {reason} (list them with `ape networks list`)")
    deployer, oracle, team, devs, sale = _accounts_for(network, alias, fail)
    try:
        with context:
            roles = Roles(deployer, oracle, team, devs, sale)
            click.echo(f"deploying to {network} from {deployer.address}", err=True)
            steps = []
            deployment = deploy_suite(params, roles, log=lambda s: (steps.append(s), click.echo(f"  {s}", err=True)))
            path = write_deployment(deployment, out)
            _print_summary(deployment, path)
    except ApeException as exc:
        fail(f"deployment on {network} failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    except (OSError, ValueError) as exc:
        fail(f"deployment on {network} failed: {exc}")


def _print_summary(deployment, path: Path) -> None:
    token = deployment.token
    click.echo(f"network   {deployment.network} (chain id {deployment.chain_id}, block {deployment.block})")
    for name, contract in deployment.contracts.items():
        click.echo(f"  {name:<18} {contract.address}")
    supply = token.totalSupply() / WEI
    cap = token.cap() / WEI
    click.echo(f"genesis   {supply:,.0f} HANZO minted of a {cap:,.0f} cap ({deployment.params.emission_mode} mode)")
    for name, recipient, amount in deployment.genesis_allocations:
        click.echo(f"  {name:<18} {amount / WEI:>14,.0f}  -> {recipient}")
    click.echo(f"written   {path}")
