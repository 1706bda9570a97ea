"""The suite's deployment plan, written once for every backend: which contracts, in which order,
with which constructor arguments from hanzo.econ.params, and the role grants and the handover
that wire them.

`deploy.deploy_suite` runs it through Ape (`ApeSteps`), `hanzo.chain.evm` through pyrevm (its own
steps): the two deploy the same suite because neither keeps its own copy of the arguments. A
backend supplies five small steps (the `Steps` protocol); a contract handle is whatever its
`deploy` returns, with an `.address`.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from hanzo.econ.params import Tokenomics

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

# Contracts whose admin nobody holds after the handover: their roles are fixed at the wiring
# (issue 16, finding 7: the quorum is bought for about $700k, and a captured governance that
# administers them takes far more than the treasury's rate limit lets out). HanzoToken's admin
# grants MINTER_ROLE: with it a passed proposal minted the whole unreleased headroom, so the
# minters stay the EmissionSchedule alone. StakedHanzo's admin grants DEPOSIT_ROLE: with it a
# passed proposal locked and slashed (burned) any staker's stake, so it stays the Governor's.
ADMINLESS = ("HanzoToken", "StakedHanzo")


def address_of(who: Any) -> str:
    """An account's or contract's address, or the address string itself."""
    return str(getattr(who, "address", who))


class Steps(Protocol):
    """What a backend does for the plan; every transaction is the deployer's."""

    def deploy(self, name: str, *args: Any) -> Any:
        """Deploy the compiled contract `name` with constructor arguments `args`; its handle."""

    def at(self, name: str, address: str) -> Any:
        """The handle of the contract `name` already at `address`."""

    def view(self, contract: Any, method: str, *args: Any) -> Any:
        """A view's value."""

    def send(self, contract: Any, method: str, *args: Any) -> None:
        """A transaction from the deployer; raises if it reverts."""

    def pending_timestamp(self) -> int:
        """The timestamp the next transaction will be mined with."""


def wire_suite(params: Tokenomics, roles: Any, steps: Steps, say: Callable[[str], None] = lambda _s: None
               ) -> tuple[dict[str, Any], list[tuple[str, str, int]]]:
    """Deploy every contract, mint genesis and grant the wiring's roles (the deployer still holds
    every admin role: `hand_over` gives them up). `roles` is deploy.Roles. Returns the contracts by
    name (deploy.CONTRACT_NAMES) and the genesis allocations (name, recipient, wei)."""
    d = address_of(roles.deployer)
    c: dict[str, Any] = {}

    say("HanzoTimelock")
    c["HanzoTimelock"] = timelock = steps.deploy("HanzoTimelock", params.timelock_delay, params.execution_grace_period,
                                                 [], [ZERO_ADDRESS], d)
    say("HanzoToken")
    c["HanzoToken"] = token = steps.deploy("HanzoToken", d, params.token_cap)
    # The Community Treasury, the Compute Providers pool and the mint fees sit in HanzoTreasury, which
    # only the timelock may draw on, at a bounded rate (issue 16, finding 7): the timelock holds no HANZO.
    say("HanzoTreasury")
    c["HanzoTreasury"] = treasury = steps.deploy(
        "HanzoTreasury",
        token.address,
        timelock.address,
        params.treasury_release_limit,
        params.treasury_max_release_limit,
        params.treasury_release_period,
        params.treasury_limit_raise_delay,
    )
    say("StakedHanzo")
    c["StakedHanzo"] = staked = steps.deploy("StakedHanzo", token.address, d, params.unstake_cooldown)
    say("HanzoGovernor")
    c["HanzoGovernor"] = governor = steps.deploy(
        "HanzoGovernor",
        staked.address,
        timelock.address,
        params.voting_delay,
        params.voting_period,
        params.proposal_threshold,
        params.quorum,
        params.proposal_deposit,
        params.proposal_queue_window,
    )
    # TrainingRewards creates its ModelNFT (the only recorder of trained adapters is the contract
    # that created it): one transaction wires the pair, with no address predicted.
    say("TrainingRewards and ModelNFT")
    c["TrainingRewards"] = rewards = steps.deploy(
        "TrainingRewards",
        token.address,
        d,
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
    )
    c["ModelNFT"] = models = steps.at("ModelNFT", steps.view(rewards, "models"))
    start = steps.pending_timestamp()
    say("TeamVesting")
    c["TeamVesting"] = vesting = steps.deploy(
        "TeamVesting", roles.team_beneficiary, start, params.team_vesting_duration, params.team_vesting_cliff
    )
    # The Compute Providers pool is held by the treasury, under its rate limit, until a rule pays
    # providers from it (governance can pay them only within the limit).
    compute_pool = treasury.address
    say("EmissionSchedule")
    c["EmissionSchedule"] = emission = steps.deploy(
        "EmissionSchedule",
        token.address,
        rewards.address,
        compute_pool,
        start,
        params.era_length,
        params.first_era_emission,
        params.max_emission,
        params.training_share_bps,
    )
    # The HANZO market (issue 18): a constant-product pool against TestUSD, whose whole fixed supply
    # is minted to the deployer and passed on below (the pool's seed, the buyers' float). Genesis
    # mints the Liquidity allocation straight into the pool, where it stays: no LP share, no owner.
    say("TestUSD and HanzoPool")
    c["TestUSD"] = usd = steps.deploy("TestUSD", params.test_usd_supply)
    c["HanzoPool"] = pool = steps.deploy(
        "HanzoPool", token.address, usd.address, params.pool_fee_bps, params.pool_seed_hanzo, params.pool_seed_usd
    )
    recipients = {
        "model_developers": roles.model_developers,
        "community_treasury": treasury.address,
        "team": vesting.address,
        "public_sale": roles.sale_and_liquidity,
        "liquidity": pool.address,
        "training_rewards": rewards.address,
        "compute_providers": compute_pool,
    }
    allocations = [(name, recipients[name], amount) for name, amount in params.genesis_allocations]
    say("Genesis")
    c["Genesis"] = genesis = steps.deploy(
        "Genesis",
        token.address,
        [name.upper().encode().ljust(32, b"\0") for name, _, _ in allocations],
        [r for _, r, _ in allocations],
        [a for _, _, a in allocations],
    )

    say("HamiltonianMarketMaker")
    from hanzo.econ.hmm import HMMParams

    c["HamiltonianMarketMaker"] = hmm = steps.deploy(
        "HamiltonianMarketMaker", token.address, d, treasury.address, HMMParams.from_tokenomics(params).as_tuple()
    )
    for _, base_price in params.inference_tiers:
        steps.send(hmm, "addTier", base_price, params.hmm_depth)

    say("roles and genesis")
    minter = steps.view(token, "MINTER_ROLE")
    steps.send(token, "grantRole", minter, genesis.address)
    steps.send(genesis, "execute")
    # the pool's seed: the Liquidity allocation (just minted to it) against the same value of TestUSD
    steps.send(usd, "transfer", pool.address, params.pool_seed_usd)
    steps.send(usd, "transfer", address_of(roles.sale_and_liquidity), params.test_usd_float)
    steps.send(pool, "seed")
    steps.send(token, "grantRole", minter, emission.address)
    steps.send(models, "grantRole", steps.view(models, "REGISTRAR_ROLE"), address_of(roles.registrar))
    steps.send(staked, "grantRole", steps.view(staked, "DEPOSIT_ROLE"), governor.address)
    steps.send(timelock, "grantRole", steps.view(timelock, "PROPOSER_ROLE"), governor.address)
    steps.send(timelock, "grantRole", steps.view(timelock, "CANCELLER_ROLE"), governor.address)
    steps.send(timelock, "bindExitWindow", governor.address)
    return c, allocations


def hand_over(c: dict[str, Any], deployer: Any, steps: Steps) -> None:
    """Make the timelock the only admin (and the market maker's governance) of every contract but
    those in ADMINLESS, whose admin role nobody holds after it; the deployer renounces every role
    it held for the wiring."""
    d = address_of(deployer)
    timelock, hmm = c["HanzoTimelock"], c["HamiltonianMarketMaker"]
    governance = steps.view(hmm, "GOVERNANCE_ROLE")
    steps.send(hmm, "grantRole", governance, timelock.address)
    steps.send(hmm, "renounceRole", governance, d)
    for name in ("HanzoToken", "StakedHanzo", "ModelNFT", "TrainingRewards", "HamiltonianMarketMaker"):
        contract = c[name]
        admin_role = steps.view(contract, "DEFAULT_ADMIN_ROLE")
        if name not in ADMINLESS:
            steps.send(contract, "grantRole", admin_role, timelock.address)
        steps.send(contract, "renounceRole", admin_role, d)
    steps.send(timelock, "renounceRole", steps.view(timelock, "DEFAULT_ADMIN_ROLE"), d)


class ApeSteps:
    """The plan's steps through Ape: each transaction `sender=deployer`, as deploy_suite always sent them."""

    def __init__(self, deployer: Any, proj: Any = None):
        self.deployer, self.proj = deployer, proj

    def deploy(self, name: str, *args: Any) -> Any:
        return getattr(self.proj, name).deploy(*args, sender=self.deployer)

    def at(self, name: str, address: str) -> Any:
        return getattr(self.proj, name).at(address)

    def view(self, contract: Any, method: str, *args: Any) -> Any:
        return getattr(contract, method)(*args)

    def send(self, contract: Any, method: str, *args: Any) -> None:
        getattr(contract, method)(*args, sender=self.deployer)

    def pending_timestamp(self) -> int:
        from ape import chain

        return chain.pending_timestamp
