"""`hanzo deploy`: the Ape side of the command, with every failure turned into one line."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from hanzo.econ.params import WEI, Tokenomics


# The addresses a real deployment must name, each its own (option name -> Roles field).
ROLE_OPTIONS = {
    "oracle": "signs training attestations (TrainingRewards ORACLE_ROLE)",
    "registrar": "registers base models (ModelNFT REGISTRAR_ROLE)",
    "team": "beneficiary of the team vesting wallet",
    "developers": "receives the model developers' allocation",
    "sale": "receives the public sale allocation and TestUSD's float (the Liquidity allocation seeds HanzoPool)",
}


def check_role_addresses(deployer: str, given: dict[str, str | None]) -> dict[str, str]:
    """The role addresses of a deployment from a named account: every one given, a valid address,
    none the deployer's and no two the same. Raises ValueError naming the option at fault."""
    from eth_utils import is_address, to_checksum_address

    missing = [f"--{name}" for name in ROLE_OPTIONS if not given.get(name)]
    if missing:
        raise ValueError(f"a deployment from a named account must name every role address: missing {', '.join(missing)} "
                         f"({'; '.join(f'--{n}: {w}' for n, w in ROLE_OPTIONS.items())})")
    out: dict[str, str] = {}
    for name in ROLE_OPTIONS:
        value = str(given[name])
        if not is_address(value):
            raise ValueError(f"--{name} {value!r} is not an address (expected 0x and 40 hex digits)")
        out[name] = to_checksum_address(value)
        if out[name].lower() == deployer.lower():
            raise ValueError(f"--{name} is the deployer {out[name]}: the deployer keeps no role; name another account")
    by_address: dict[str, list[str]] = {}
    for name, value in out.items():
        by_address.setdefault(value, []).append(f"--{name}")
    shared = [" and ".join(names) for names in by_address.values() if len(names) > 1]
    if shared:
        raise ValueError(f"{'; '.join(shared)} name the same address: each role needs its own account")
    return out


def _roles_for(network: str, alias: str | None, given: dict[str, str | None], fail: Callable[[str], None],
               yes: bool = False):
    from ape import accounts

    from hanzo.chain.deploy import Roles

    local = network.split(":")[1:2] == ["local"]
    if alias is None:
        if not local:
            fail(f"network {network!r} is not local: name the deployer with --account ALIAS (see `ape accounts list`)")
        if any(given.values()):
            fail("--oracle/--registrar/--team/--developers/--sale go with --account (the local test accounts take "
                 "these roles otherwise)")
        test = accounts.test_accounts
        return Roles(test[0], test[1], test[2].address, test[3].address, test[4].address)
    try:
        deployer = accounts.load(alias)
    except Exception:  # noqa: BLE001 - Ape raises several kinds for an unknown alias
        known = ", ".join(a.alias for a in accounts) or "none"
        fail(f"no Ape account named {alias!r} (known: {known})")
    try:
        a = check_role_addresses(str(deployer.address), given)
    except ValueError as exc:
        fail(str(exc))
    if yes:
        # one unlock (APE_ACCOUNTS_<alias>_PASSPHRASE, or a prompt) instead of a confirmation per transaction
        try:
            deployer.set_autosign(True)
        except Exception as exc:  # noqa: BLE001 - Ape's AccountsError and friends
            fail(f"could not unlock {alias!r}: {exc}")
    return Roles(deployer, a["oracle"], a["team"], a["developers"], a["sale"], registrar=a["registrar"])


def run(network: str, alias: str | None, params: Tokenomics, out: Path | None, fail: Callable[[str], None],
        given: dict[str, str | None] | None = None, yes: bool = False) -> None:
    from ape import networks
    from ape.exceptions import ApeException
    from ape.logging import logger

    logger.set_level("WARNING")

    from hanzo.chain.deploy import DeployError, deploy_suite, write_deployment

    try:
        context = networks.parse_network_choice(network)
    except ApeException as exc:
        reason = " ".join(str(exc).split())
        fail(f"unknown network {network!r}: {reason} (list them with `ape networks list`)")
    roles = _roles_for(network, alias, given or {}, fail, yes)
    try:
        with context:
            click.echo(f"deploying to {network} from {roles.deployer.address}", err=True)
            steps = []
            deployment = deploy_suite(params, roles, log=lambda s: (steps.append(s), click.echo(f"  {s}", err=True)))
            path = write_deployment(deployment, out)
            _print_summary(deployment, path)
    except ApeException as exc:
        fail(f"deployment on {network} failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    except (OSError, ValueError, DeployError) as exc:
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
    click.echo("audit     clean: every role's holders, owner, pool, allocation and setting as expected, no operation "
               "queued, the deployer holds nothing (read from the chain)")
    click.echo(f"written   {path}")
