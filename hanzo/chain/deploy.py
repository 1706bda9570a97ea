"""The chain layer: deploy and wire the contract suite through Ape.

`deploy_suite` is the one place that turns hanzo.econ.params into constructor arguments, so the
contracts and the reference model always run on the same numbers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hanzo.econ.params import Tokenomics
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
    "Genesis",
    "HamiltonianMarketMaker",
)


class DeployError(RuntimeError):
    """A deployment could not be completed; the message is one line for the user."""


def address_of(who: Any) -> str:
    """An Ape account's address, or the address string itself."""
    return str(getattr(who, "address", who))


@dataclass
class Roles:
    """The accounts a deployment gives roles to. The deployer signs the deployment and keeps
    nothing; the others are accounts or plain addresses (the registrar defaults to the oracle)."""

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
    d = roles.deployer
    tx = {"sender": d}
    c: dict[str, Any] = {}
    first_block = chain.blocks.head.number + 1

    say("HanzoTimelock")
    c["HanzoTimelock"] = proj.HanzoTimelock.deploy(
        params.timelock_delay, [], ["0x0000000000000000000000000000000000000000"], d.address, **tx
    )
    timelock = c["HanzoTimelock"]
    say("HanzoToken")
    c["HanzoToken"] = token = proj.HanzoToken.deploy(d.address, params.token_cap, **tx)
    # The Community Treasury, the Compute Providers pool and the mint fees sit in HanzoTreasury, which
    # only the timelock may draw on, at a bounded rate (issue 16, finding 7): the timelock holds no HANZO.
    say("HanzoTreasury")
    c["HanzoTreasury"] = treasury = proj.HanzoTreasury.deploy(
        token.address,
        timelock.address,
        params.treasury_release_limit,
        params.treasury_max_release_limit,
        params.treasury_release_period,
        params.treasury_limit_raise_delay,
        **tx,
    )
    say("StakedHanzo")
    c["StakedHanzo"] = staked = proj.StakedHanzo.deploy(token.address, d.address, params.unstake_cooldown, **tx)
    say("HanzoGovernor")
    c["HanzoGovernor"] = governor = proj.HanzoGovernor.deploy(
        staked.address,
        timelock.address,
        params.voting_delay,
        params.voting_period,
        params.proposal_threshold,
        params.quorum,
        params.proposal_deposit,
        **tx,
    )
    # TrainingRewards creates its ModelNFT (the only recorder of trained adapters is the contract
    # that created it): one transaction wires the pair, with no address predicted.
    say("TrainingRewards and ModelNFT")
    c["TrainingRewards"] = rewards = proj.TrainingRewards.deploy(
        token.address,
        d.address,
        address_of(roles.oracle),  # the only oracle: it alone passes its role on (rotateOracle)
        (
            treasury.address,  # the ModelNFT treasury, fixed
            params.nft_base_mint_fee,
            params.nft_fee_burn_bps,
            params.nft_max_performance,
            params.boost_ref_stake,
            params.boost_max_extra_bps,
        ),
        params.reward_per_interaction,
        params.training_burn_bps,
        params.user_share_bps,
        0 if params.burn_mode == "from_reward" else 1,
        params.max_interactions_per_op,
        params.max_interactions_per_fork_day,
        params.pool_pace_bps,
        **tx,
    )
    c["ModelNFT"] = models = proj.ModelNFT.at(rewards.models())
    start = chain.pending_timestamp
    say("TeamVesting")
    c["TeamVesting"] = vesting = proj.TeamVesting.deploy(
        roles.team_beneficiary, start, params.team_vesting_duration, params.team_vesting_cliff, **tx
    )
    # The Compute Providers pool is held by the treasury, under its rate limit, until a rule pays
    # providers from it (governance can pay them only within the limit).
    compute_pool = treasury.address
    say("EmissionSchedule")
    c["EmissionSchedule"] = emission = proj.EmissionSchedule.deploy(
        token.address,
        rewards.address,
        compute_pool,
        start,
        params.era_length,
        params.first_era_emission,
        params.max_emission,
        params.training_share_bps,
        **tx,
    )
    recipients = {
        "model_developers": roles.model_developers,
        "community_treasury": treasury.address,
        "team": vesting.address,
        "public_sale": roles.sale_and_liquidity,
        "liquidity": roles.sale_and_liquidity,
        "training_rewards": rewards.address,
        "compute_providers": compute_pool,
    }
    allocations = [(name, recipients[name], amount) for name, amount in params.genesis_allocations]
    say("Genesis")
    c["Genesis"] = genesis = proj.Genesis.deploy(
        token.address,
        [name.upper().encode().ljust(32, b"\0") for name, _, _ in allocations],
        [r for _, r, _ in allocations],
        [a for _, _, a in allocations],
        **tx,
    )

    say("HamiltonianMarketMaker")
    from hanzo.econ.hmm import HMMParams

    c["HamiltonianMarketMaker"] = hmm = proj.HamiltonianMarketMaker.deploy(
        token.address, d.address, c["HanzoTreasury"].address, HMMParams.from_tokenomics(params).as_tuple(), **tx
    )
    for _, base_price in params.inference_tiers:
        hmm.addTier(base_price, params.hmm_depth, **tx)

    say("roles and genesis")
    minter = token.MINTER_ROLE()
    token.grantRole(minter, genesis.address, **tx)
    genesis.execute(**tx)
    token.grantRole(minter, emission.address, **tx)
    models.grantRole(models.REGISTRAR_ROLE(), address_of(roles.registrar), **tx)
    staked.grantRole(staked.DEPOSIT_ROLE(), governor.address, **tx)
    timelock.grantRole(timelock.PROPOSER_ROLE(), governor.address, **tx)
    timelock.grantRole(timelock.CANCELLER_ROLE(), governor.address, **tx)
    timelock.bindExitWindow(governor.address, **tx)
    if handover:
        say("admin handover to the timelock")
        hand_over(c, d)

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


# Contracts whose admin nobody holds after the handover: their roles are fixed at the wiring
# (issue 16, finding 7: the quorum is bought for about $700k, and a captured governance that
# administers them takes far more than the treasury's rate limit lets out). HanzoToken's admin
# grants MINTER_ROLE: with it a passed proposal minted the whole unreleased headroom, so the
# minters stay the EmissionSchedule alone. StakedHanzo's admin grants DEPOSIT_ROLE: with it a
# passed proposal locked and slashed (burned) any staker's stake, so it stays the Governor's.
ADMINLESS = ("HanzoToken", "StakedHanzo")


def hand_over(c: dict[str, Any], deployer: Any) -> None:
    """Make the timelock the only admin (and the market maker's governance) of every contract but
    those in ADMINLESS, whose admin role nobody holds after it; the deployer renounces every role
    it held for the wiring."""
    tx = {"sender": deployer}
    timelock, hmm = c["HanzoTimelock"], c["HamiltonianMarketMaker"]
    hmm.grantRole(hmm.GOVERNANCE_ROLE(), timelock.address, **tx)
    hmm.renounceRole(hmm.GOVERNANCE_ROLE(), deployer.address, **tx)
    for name in ("HanzoToken", "StakedHanzo", "ModelNFT", "TrainingRewards", "HamiltonianMarketMaker"):
        contract = c[name]
        admin_role = contract.DEFAULT_ADMIN_ROLE()
        if name not in ADMINLESS:
            contract.grantRole(admin_role, timelock.address, **tx)
        contract.renounceRole(admin_role, deployer.address, **tx)
    timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer.address, **tx)


def write_deployment(deployment: Deployment, path: Path | None = None) -> Path:
    """Write the addresses and deployment block to deployments/<network>.json."""
    if path is None:
        DEPLOYMENTS_DIR.mkdir(exist_ok=True)
        path = DEPLOYMENTS_DIR / (deployment.network.replace(":", "-") + ".json")
    path.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    return path
