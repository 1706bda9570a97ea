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


if __name__ == "__main__":
    main()
