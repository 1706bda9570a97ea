"""The chain layer: deploy and wire the contract suite through Ape.

`plan.wire_suite` is the one place that turns hanzo.econ.params into constructor arguments, so the
contracts and the reference model always run on the same numbers; `deploy_suite` runs it through
Ape, hanzo.chain.evm through an embedded EVM.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hanzo.econ.params import Tokenomics
from . import plan
from .plan import ApeSteps, address_of, wire_suite
from .toolchain import ROOT, configure

configure()

LOCAL_NETWORK = "ethereum:local:test"
ANVIL_NETWORK = "ethereum:local:foundry"
DEPLOYMENTS_DIR = ROOT / "deployments"

# Order matters: it is the order of deployment and of the JSON file.
CONTRACT_NAMES = (
    "HanzoTimelock",
    "HanzoToken",
    "HanzoTreasury",
    "StakedHanzo",
    "HanzoGovernor",
    "ModelNFT",
    "TrainingRewards",
    "TeamVesting",
    "EmissionSchedule",
    "TestUSD",
    "HanzoPool",
    "Genesis",
    "HamiltonianMarketMaker",
)


class DeployError(RuntimeError):
    """A deployment could not be completed; the message is one line for the user."""


@dataclass
class Roles:
    """The accounts a deployment gives roles to. The deployer signs the deployment and keeps
    nothing; the others are accounts or plain addresses (the registrar defaults to the oracle).
    `sale_and_liquidity` receives the Public Sale allocation and TestUSD's float (the buyers' money);
    the Liquidity allocation itself is minted into HanzoPool, as its HANZO reserve."""

    deployer: Any
    oracle: Any
    team_beneficiary: str
    model_developers: str
    sale_and_liquidity: str
    registrar: Any = None

    def __post_init__(self) -> None:
        if self.registrar is None:
            self.registrar = self.oracle


@dataclass
class Deployment:
    """A deployed, wired suite."""

    network: str
    chain_id: int
    block: int
    params: Tokenomics
    contracts: dict[str, Any]
    roles: Roles
    genesis_allocations: list[tuple[str, str, int]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        # deployment.token, deployment.rewards, ... read naturally in tests and scripts
        aliases = {
            "token": "HanzoToken",
            "staked": "StakedHanzo",
            "governor": "HanzoGovernor",
            "models": "ModelNFT",
            "rewards": "TrainingRewards",
            "vesting": "TeamVesting",
            "emission": "EmissionSchedule",
            "genesis": "Genesis",
            "timelock": "HanzoTimelock",
            "treasury": "HanzoTreasury",
            "hmm": "HamiltonianMarketMaker",
            "pool": "HanzoPool",
            "usd": "TestUSD",
        }
        contracts = self.__dict__.get("contracts", {})
        if name in aliases and aliases[name] in contracts:
            return contracts[aliases[name]]
        raise AttributeError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "chain_id": self.chain_id,
            "deployment_block": self.block,
            "deployed_at": int(time.time()),
            "contracts": {name: str(c.address) for name, c in self.contracts.items()},
            "roles": {
                "deployer": str(self.roles.deployer.address),
                "oracle": address_of(self.roles.oracle),
                "registrar": address_of(self.roles.registrar),
                "team_beneficiary": self.roles.team_beneficiary,
                "model_developers": self.roles.model_developers,
                "sale_and_liquidity": self.roles.sale_and_liquidity,
                "governance_admin": str(self.contracts["HanzoTimelock"].address),
            },
            "genesis": [{"allocation": n, "recipient": r, "wei": str(a)} for n, r, a in self.genesis_allocations],
            "parameters": self.params.to_human(),
        }


def project():
    """The Ape project at the repository root (compiles on first use)."""
    import ape

    return ape.Project(ROOT)


def deploy_suite(
    params: Tokenomics,
    roles: Roles,
    *,
    proj: Any = None,
    handover: bool = True,
    log: Any = None,
) -> Deployment:
    """Deploy every contract, mint genesis, grant roles, and (handover) make the timelock the
    only admin. Must run inside an Ape network context."""
    from ape import chain

    proj = proj or project()
    say = log or (lambda *_: None)
    first_block = chain.blocks.head.number + 1
    # the plan (constructor arguments, order, wiring) is shared with the embedded EVM (hanzo.chain.evm)
    steps = ApeSteps(roles.deployer, proj)
    c, allocations = wire_suite(params, roles, steps, say)
    if handover:
        say("admin handover to the timelock")
        plan.hand_over(c, roles.deployer, steps)

    deployment = Deployment(
        network=chain.provider.network_choice,
        chain_id=chain.chain_id,
        block=first_block,
        params=params,
        contracts=c,
        roles=roles,
        genesis_allocations=allocations,
    )
    if handover:
        say("audit: every role, owner, pool, allocation and setting, read from the chain")
        from .audit import audit_deployment

        problems = audit_deployment(deployment)
        if problems:
            raise DeployError("the post-deploy audit failed: " + "; ".join(problems))
    return deployment


ADMINLESS = plan.ADMINLESS  # the contracts nobody administers after the handover (see plan.py)


def hand_over(c: dict[str, Any], deployer: Any) -> None:
    """Make the timelock the only admin of the suite through Ape (plan.hand_over)."""
    plan.hand_over(c, deployer, ApeSteps(deployer))


def write_deployment(deployment: Deployment, path: Path | None = None) -> Path:
    """Write the addresses and deployment block to deployments/<network>.json."""
    if path is None:
        DEPLOYMENTS_DIR.mkdir(exist_ok=True)
        path = DEPLOYMENTS_DIR / (deployment.network.replace(":", "-") + ".json")
    path.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    return path
