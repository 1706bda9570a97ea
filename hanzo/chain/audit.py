"""The post-deploy audit: who holds power in a deployment, read from the chain and compared with
what the deployment is supposed to be.

What it is supposed to be is the tables below (the one place to extend when a contract or a role
is added), the `Roles` the operator named and the parameters (`hanzo.econ.params`). Everything
found is read from the chain, never from the Python record of the deployment:

- every role of every contract with AccessControl: its members, replayed from every RoleGranted
  and RoleRevoked event since the deployment's first block and confirmed by `hasRole`, must be
  exactly `EXPECTED_ROLES` (an extra holder, a missing one, a role nobody should hold, a role whose
  admin a RoleAdminChanged made other than DEFAULT_ADMIN_ROLE are each a finding); the timelock's
  proposers, executors, cancellers and admins are among them, the token's minters too;
- the timelock's operations: one scheduled (CallScheduled) and still pending (neither executed nor
  cancelled) is a finding, with its target and calldata decoded; so is a Governor proposal that is
  not settled;
- every address a contract names (`EXPECTED_ADDRESSES`): the owners of Ownable contracts (and no
  pending owner), ModelNFT's treasury, the emission pools, the vesting wallet's beneficiary, and
  the wiring between the contracts;
- the settings (`EXPECTED_SETTINGS`): the Governor's, the timelock's delay, the vesting schedule,
  the emission schedule, the token's cap;
- genesis: the Genesis contract's allocations, and every HANZO ever minted (the token's Transfer
  events from address 0), per recipient, against the parameters' allocations plus what emission
  released to its pools;
- the deployer: no HANZO, no TestUSD, and neither the oracle nor the registrar.

It returns one line per finding (contract, what, expected, found); `hanzo deploy` refuses to
call a deployment done while any remains.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from eth_utils import keccak

from .deploy import address_of

ANYONE = "0x0000000000000000000000000000000000000000"

# Who is meant to hold power, in one place. A holder is a contract of the suite (its name in
# deploy.CONTRACT_NAMES), an address the operator named in Roles ("@oracle", "@registrar", ...),
# or ANYONE (the zero address: a role open to all).
#
# contract -> role -> its exact member set. A contract with AccessControl that is not listed is a
# finding; a role a contract declares (or that events name) but that is not listed must have no
# member.
EXPECTED_ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "HanzoTimelock": {
        "DEFAULT_ADMIN_ROLE": ("HanzoTimelock",),
        "PROPOSER_ROLE": ("HanzoGovernor",),
        "CANCELLER_ROLE": ("HanzoGovernor",),
        "EXECUTOR_ROLE": (ANYONE,),
    },
    # No admin: the minters and the deposit role are fixed at the wiring (deploy.ADMINLESS; issue
    # 16, finding 7). A role listed with () must have no member at all.
    "HanzoToken": {"DEFAULT_ADMIN_ROLE": (), "MINTER_ROLE": ("EmissionSchedule",)},
    "StakedHanzo": {"DEFAULT_ADMIN_ROLE": (), "DEPOSIT_ROLE": ("HanzoGovernor",)},
    "ModelNFT": {"DEFAULT_ADMIN_ROLE": ("HanzoTimelock",), "REGISTRAR_ROLE": ("@registrar",)},
    "TrainingRewards": {"DEFAULT_ADMIN_ROLE": ("HanzoTimelock",), "ORACLE_ROLE": ("@oracle",)},
    "HamiltonianMarketMaker": {"DEFAULT_ADMIN_ROLE": ("HanzoTimelock",), "GOVERNANCE_ROLE": ("HanzoTimelock",)},
}

# (contract, address-valued getter) -> who it must name. Every contract with `owner()` must have
# its ("...", "owner") entry here. A getter the contract lacks is skipped (here and in the settings).
EXPECTED_ADDRESSES: dict[tuple[str, str], str] = {
    ("TeamVesting", "owner"): "@team_beneficiary",  # the vesting wallet's beneficiary is its owner
    ("ModelNFT", "treasury"): "HanzoTreasury",
    ("EmissionSchedule", "trainingPool"): "TrainingRewards",
    ("EmissionSchedule", "computePool"): "HanzoTreasury",
    ("HanzoTreasury", "governance"): "HanzoTimelock",
    ("HanzoTreasury", "token"): "HanzoToken",
    ("EmissionSchedule", "token"): "HanzoToken",
    ("Genesis", "token"): "HanzoToken",
    ("StakedHanzo", "hanzo"): "HanzoToken",
    ("ModelNFT", "token"): "HanzoToken",
    ("ModelNFT", "rewards"): "TrainingRewards",
    ("TrainingRewards", "token"): "HanzoToken",
    ("TrainingRewards", "models"): "ModelNFT",
    ("HanzoGovernor", "timelock"): "HanzoTimelock",
    ("HanzoGovernor", "token"): "StakedHanzo",
    ("HanzoGovernor", "stakedHanzo"): "StakedHanzo",
    ("HamiltonianMarketMaker", "hanzo"): "HanzoToken",
    ("HamiltonianMarketMaker", "treasury"): "HanzoTreasury",
    ("HanzoTimelock", "exitWindow"): "HanzoGovernor",
    ("HanzoPool", "hanzo"): "HanzoToken",
    ("HanzoPool", "usd"): "TestUSD",
}

# (contract, getter, arguments) -> its value from the parameters.
EXPECTED_SETTINGS: dict[tuple[str, str, tuple], Callable[[Any], int]] = {
    ("HanzoTimelock", "getMinDelay", ()): lambda p: p.timelock_delay,
    ("HanzoTimelock", "gracePeriod", ()): lambda p: p.execution_grace_period,
    ("HanzoGovernor", "queueWindow", ()): lambda p: p.proposal_queue_window,
    ("HanzoTreasury", "limit", ()): lambda p: p.treasury_release_limit,
    ("HanzoTreasury", "maxLimit", ()): lambda p: p.treasury_max_release_limit,
    ("HanzoTreasury", "period", ()): lambda p: p.treasury_release_period,
    ("HanzoTreasury", "raiseDelay", ()): lambda p: p.treasury_limit_raise_delay,
    ("HanzoTreasury", "raiseAt", ()): lambda p: 0,
    ("HanzoGovernor", "votingDelay", ()): lambda p: p.voting_delay,
    ("HanzoGovernor", "votingPeriod", ()): lambda p: p.voting_period,
    ("HanzoGovernor", "proposalThreshold", ()): lambda p: p.proposal_threshold,
    ("HanzoGovernor", "quorum", (0,)): lambda p: p.quorum,
    ("HanzoGovernor", "proposalDeposit", ()): lambda p: p.proposal_deposit,
    ("StakedHanzo", "cooldown", ()): lambda p: p.unstake_cooldown,
    ("HanzoToken", "cap", ()): lambda p: p.token_cap,
    ("TeamVesting", "duration", ()): lambda p: p.team_vesting_duration,
    ("EmissionSchedule", "eraLength", ()): lambda p: p.era_length,
    ("EmissionSchedule", "firstEraEmission", ()): lambda p: p.first_era_emission,
    ("EmissionSchedule", "maxEmission", ()): lambda p: p.max_emission,
    ("EmissionSchedule", "trainingShareBps", ()): lambda p: p.training_share_bps,
    ("TrainingRewards", "rewardPerInteraction", ()): lambda p: p.reward_per_interaction,
    ("TrainingRewards", "burnBps", ()): lambda p: p.training_burn_bps,
    ("TrainingRewards", "userShareBps", ()): lambda p: p.user_share_bps,
    ("TrainingRewards", "maxInteractionsPerOp", ()): lambda p: p.max_interactions_per_op,
    ("TrainingRewards", "maxInteractionsPerForkDay", ()): lambda p: p.max_interactions_per_fork_day,
    ("ModelNFT", "baseMintFee", ()): lambda p: p.nft_base_mint_fee,
    ("ModelNFT", "feeBurnBps", ()): lambda p: p.nft_fee_burn_bps,
    ("TrainingRewards", "poolPaceBps", ()): lambda p: p.pool_pace_bps,
    ("HamiltonianMarketMaker", "tierCount", ()): lambda p: len(p.inference_tiers),
    # the HANZO market: no owner, no role, no setting to change; seeded once with the Liquidity
    # allocation at the initial price, against TestUSD's fixed supply (nobody can mint more)
    ("HanzoPool", "feeBps", ()): lambda p: p.pool_fee_bps,
    ("HanzoPool", "seedHanzo", ()): lambda p: p.pool_seed_hanzo,
    ("HanzoPool", "seedUsd", ()): lambda p: p.pool_seed_usd,
    ("HanzoPool", "seeded", ()): lambda p: 1,
    ("TestUSD", "totalSupply", ()): lambda p: p.test_usd_supply,
}

def market_checks(read: Callable[..., Any], p: Any, sale_holder: str) -> list[str]:
    """What the deployer could leave in the markets before the handover that no role or setting
    shows (red team, round 16), read through `read(contract, getter, *args)` (either chain):
    the market maker's controller and fees as the parameters say, no capacity offered on any tier
    (an offer outlives its provider's role: the deployer granted itself the role, offered, renounced,
    and was still paid the epoch's redemptions), HanzoPool's reserves exactly its seed (a swap right
    after seed() took 45M of its 50M HANZO for a second key) and TestUSD's float with its holder."""
    from hanzo.econ.hmm import HMMParams

    problems = []
    found = tuple(int(x) for x in read("HamiltonianMarketMaker", "params"))
    expected = HMMParams.from_tokenomics(p).as_tuple()
    if found != expected:
        problems.append(f"HamiltonianMarketMaker: params() is {found}; expected {expected}")
    for tier in range(int(read("HamiltonianMarketMaker", "tierCount"))):
        # at any ask: capacity at an ask the price does not cover is not in the tier's count, and can still be
        # paid (credits bought at a higher reference price in an earlier epoch cover it)
        offered = int(read("HamiltonianMarketMaker", "offered", int(read("HamiltonianMarketMaker", "epoch")), tier))
        if offered:
            problems.append(f"HamiltonianMarketMaker: tier {tier} has {offered} credits of capacity offered; "
                            "expected none at the deployment")
    reserves = tuple(int(x) for x in read("HanzoPool", "getReserves"))
    if reserves != (p.pool_seed_hanzo, p.pool_seed_usd):
        problems.append(f"HanzoPool: reserves are {reserves[0]} HANZO and {reserves[1]} TestUSD wei; expected "
                        f"exactly its seed ({p.pool_seed_hanzo}, {p.pool_seed_usd}): someone traded before the audit")
    float_held = int(read("TestUSD", "balanceOf", sale_holder))
    if float_held != p.test_usd_float:
        problems.append(f"TestUSD: the sale holder holds {float_held} wei; expected the whole float {p.test_usd_float}")
    return problems


# Genesis allocation (hanzo.econ.params.ALLOCATIONS) -> who receives it; emission pools likewise.
GENESIS_RECIPIENTS: dict[str, str] = {
    "model_developers": "@model_developers",
    "community_treasury": "HanzoTreasury",
    "team": "TeamVesting",
    "public_sale": "@sale_and_liquidity",
    "liquidity": "HanzoPool",  # locked there as the pool's HANZO reserve
    "training_rewards": "TrainingRewards",
    "compute_providers": "HanzoTreasury",
}

# Vesting and emission start when the suite is deployed: at least the timestamp of the block before
# the deployment's first, at most this many seconds after the audit's head block.
START_SLACK = 3600

# Governor.ProposalState values that are not settled: Pending, Active, Succeeded, Queued.
UNSETTLED_PROPOSALS = {0: "Pending", 1: "Active", 4: "Succeeded", 5: "Queued"}


def _addr(x: Any) -> str:
    """An account's or contract's address, lower-cased to compare with event fields."""
    return address_of(x).lower()


def _has_method(contract: Any, name: str) -> bool:
    ct = contract.contract_type
    return name in ct.view_methods or name in ct.mutable_methods


def _has_access_control(contract: Any) -> bool:
    return _has_method(contract, "hasRole") and "RoleGranted" in contract.contract_type.events


def role_names(contract: Any) -> dict[bytes, str]:
    """role id -> name, for every role the contract declares (its `*_ROLE()` views)."""
    names = {}
    for abi in contract.contract_type.view_methods:
        if abi.name.endswith("_ROLE") and not abi.inputs and len(abi.outputs) == 1 and abi.outputs[0].type == "bytes32":
            names[bytes(getattr(contract, abi.name)())] = abi.name
    return names


# The events the audit replays, fetched in one query over all the suite's contracts.
AUDITED_EVENTS = ("RoleGranted", "RoleRevoked", "RoleAdminChanged", "CallScheduled", "ProposalCreated")


def suite_logs(contracts: list[Any], first_block: int, events: tuple[str, ...] = AUDITED_EVENTS,
               topics: list[Any] | None = None) -> list[Any]:
    """The `events` the `contracts` emitted since `first_block`, decoded, in chain order: one
    eth_getLogs over every address (a node scans its blocks once, not once per contract and event)."""
    from ape import chain
    from ape.types import LogFilter

    abis = {}
    for contract in contracts:
        for abi in contract.contract_type.events:
            if abi.name in events:
                abis[abi.selector] = abi
    if not abis:
        return []
    log_filter = LogFilter(addresses=[c.address for c in contracts], events=list(abis.values()),
                           topic_filter=topics or [], start_block=first_block,
                           stop_block=chain.blocks.head.number)
    by_address = {_addr(c): c for c in contracts}
    logs = []
    for log in chain.provider.get_contract_logs(log_filter):
        contract = by_address.get(_addr(log.contract_address))
        # an event is taken only from a contract whose ABI declares it (ERC721's Transfer is not ERC20's)
        if contract is not None and log.event_name in {e.name for e in contract.contract_type.events}:
            logs.append(log)
    return _ordered(logs)


def _ordered(logs: list[Any]) -> list[Any]:
    return sorted(logs, key=lambda log: (log.block_number, log.transaction_index or 0, log.log_index))


def role_members(contract: Any, first_block: int, logs: list[Any] | None = None) -> dict[bytes, set[str]]:
    """role id -> its members now: RoleGranted and RoleRevoked replayed in chain order, each member
    confirmed by `hasRole` (and every account ever named that is not a member confirmed not to be).
    `logs`: the suite's logs already fetched (suite_logs), else fetched here."""
    members: dict[bytes, set[str]] = defaultdict(set)
    named: set[tuple[bytes, str]] = set()
    if logs is None:
        logs = suite_logs([contract], first_block, ("RoleGranted", "RoleRevoked"))
    address = _addr(contract)
    for log in logs:
        if _addr(log.contract_address) != address or log.event_name not in ("RoleGranted", "RoleRevoked"):
            continue
        role, account = bytes(log.role), _addr(log.account)
        named.add((role, account))
        if log.event_name == "RoleGranted":
            members[role].add(account)
        else:
            members[role].discard(account)
    for role, account in named:
        held = bool(contract.hasRole(role, account))
        if held != (account in members[role]):
            # the events and the state disagree (a role granted without an event): trust the state
            (members[role].add if held else members[role].discard)(account)
    return {role: accounts for role, accounts in members.items() if accounts}


def role_holders(contract: Any, first_block: int) -> dict[str, set[str]]:
    """role name (or 0x id) -> accounts holding it now."""
    names = role_names(contract)
    members = role_members(contract, first_block)
    return {names.get(role, "0x" + role.hex()): accounts for role, accounts in members.items()}


class _Audit:
    """One audit's state: the deployment, its expected addresses and the findings so far."""

    def __init__(self, deployment: Any) -> None:
        self.d = deployment
        self.c = deployment.contracts
        self.problems: list[str] = []
        self.deployer = _addr(deployment.roles.deployer)
        # address -> how to name it in a finding
        self.labels: dict[str, str] = {ANYONE: "anyone (address 0)"}
        for field in ("oracle", "registrar", "team_beneficiary", "model_developers", "sale_and_liquidity"):
            address = _addr(getattr(deployment.roles, field))
            self.labels.setdefault(address, f"{field} {address}")
        for name, contract in self.c.items():
            self.labels[_addr(contract)] = f"{name} {_addr(contract)}"
        self.labels[self.deployer] = f"the deployer {self.deployer}"
        self.logs = suite_logs(list(self.c.values()), deployment.block)
        self.role_names = {name: role_names(c) for name, c in self.c.items() if _has_access_control(c)}

    def resolve(self, who: str) -> str:
        """A holder of the tables above -> its lower-case address."""
        if who == ANYONE:
            return ANYONE
        if who.startswith("@"):
            return _addr(getattr(self.d.roles, who[1:]))
        return _addr(self.c[who])

    def who(self, address: str) -> str:
        return self.labels.get(address.lower(), address.lower())

    def whos(self, addresses: set[str]) -> str:
        return "{" + ", ".join(sorted(self.who(a) for a in addresses)) + "}" if addresses else "no one"

    def add(self, line: str) -> None:
        self.problems.append(line)

    # ------------------------------------------------------------------ roles

    def roles(self) -> None:
        for name, contract in self.c.items():
            if not _has_access_control(contract):
                continue
            table = EXPECTED_ROLES.get(name)
            if table is None:
                self.add(f"{name}: has AccessControl but no expected roles (add it to audit.EXPECTED_ROLES)")
                continue
            names = self.role_names[name]
            ids = {role_name: role for role, role_name in names.items()}
            for role_name in table:
                if role_name not in ids:
                    expected = self.whos({self.resolve(w) for w in table[role_name]})
                    self.add(f"{name}: declares no {role_name}, expected {expected}")
            found = role_members(contract, self.d.block, self.logs)
            admin = next((r for r, n in names.items() if n == "DEFAULT_ADMIN_ROLE"), bytes(32))
            for role in sorted(set(names) | set(found)):
                role_name = names.get(role, "role 0x" + role.hex())
                expected = {self.resolve(w) for w in table.get(role_name, ())}
                held = found.get(role, set())
                for account in sorted(a for a in held if a not in expected or a == self.deployer):
                    self.add(f"{name}: {role_name} held by {self.who(account)}; expected exactly {self.whos(expected)}")
                for account in sorted(expected - held):
                    self.add(f"{name}: {role_name} not held by {self.who(account)}; "
                             f"expected exactly {self.whos(expected)}")
            # A role's admin changes only with a RoleAdminChanged event (constructors included).
            admins: dict[bytes, bytes] = {}
            for log in self.logs:
                if log.event_name == "RoleAdminChanged" and _addr(log.contract_address) == _addr(contract):
                    admins[bytes(log.role)] = bytes(log.newAdminRole)
            for role, role_admin in sorted(admins.items()):
                if role_admin != admin:
                    self.add(f"{name}: {names.get(role, 'role 0x' + role.hex())} is administered by "
                             f"{names.get(role_admin, 'role 0x' + role_admin.hex())}; expected DEFAULT_ADMIN_ROLE")

    # ------------------------------------------------------------------ queued power

    def decode(self, target: str, data: bytes) -> str:
        """`Contract.method(arg=value, ...)` where the target is one of the suite's, else the raw call."""
        by_address = {_addr(c): (n, c) for n, c in self.c.items()}
        if target.lower() in by_address:
            name, contract = by_address[target.lower()]
            try:
                selector, args = contract.decode_input(bytes(data))
            except Exception:  # noqa: BLE001 - not a method of its ABI
                return f"{name}: call 0x{bytes(data).hex()}"
            roles = self.role_names.get(name, {})
            shown = []
            for key, value in args.items():
                if isinstance(value, (bytes, bytearray)) and bytes(value) in roles:
                    value = roles[bytes(value)]
                elif isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                    value = self.who(value)
                shown.append(f"{key}={value}")
            return f"{name}.{selector.split('(')[0]}({', '.join(shown)})"
        return f"{self.who(target)}: call 0x{bytes(data).hex()}"

    def timelock_operations(self) -> None:
        timelock = self.c["HanzoTimelock"]
        calls: dict[bytes, list[Any]] = defaultdict(list)
        for log in self.logs:
            if log.event_name == "CallScheduled" and _addr(log.contract_address) == _addr(timelock):
                calls[bytes(log.id)].append(log)
        for op, logs in calls.items():
            if not timelock.isOperationPending(op):
                continue
            ready = timelock.getTimestamp(op)
            what = "; ".join(self.decode(str(log.target), log.data) + (f" with {log.value} wei" if log.value else "")
                             for log in logs)
            self.add(f"HanzoTimelock: operation 0x{op.hex()[:16]}… is queued (executable at {ready}): {what}; "
                     "expected no pending operation")

    def governor_proposals(self) -> None:
        governor = self.c["HanzoGovernor"]
        for log in self.logs:
            if log.event_name != "ProposalCreated" or _addr(log.contract_address) != _addr(governor):
                continue
            state = int(governor.state(log.proposalId))
            if state in UNSETTLED_PROPOSALS:
                self.add(f"HanzoGovernor: proposal {log.proposalId} by {self.who(str(log.proposer))} is "
                         f"{UNSETTLED_PROPOSALS[state]}; expected no unsettled proposal")

    # ------------------------------------------------------------------ addresses and settings

    def addresses(self) -> None:
        for name, contract in self.c.items():
            if _has_method(contract, "owner") and (name, "owner") not in EXPECTED_ADDRESSES:
                self.add(f"{name}: owned by {self.who(str(contract.owner()))}, but no owner is expected "
                         "(add it to audit.EXPECTED_ADDRESSES)")
            if _has_method(contract, "pendingOwner") and _addr(contract.pendingOwner()) != ANYONE:
                self.add(f"{name}: pending owner {self.who(str(contract.pendingOwner()))}; expected none")
        for (name, getter), who in EXPECTED_ADDRESSES.items():
            if name not in self.c or not _has_method(self.c[name], getter):
                continue
            found, expected = _addr(getattr(self.c[name], getter)()), self.resolve(who)
            if found != expected or found == self.deployer:
                what = "owned by" if getter == "owner" else f"{getter}() is"
                self.add(f"{name}: {what} {self.who(found)}; expected {self.who(expected)}")

    def settings(self) -> None:
        for (name, getter, args), value in EXPECTED_SETTINGS.items():
            if name not in self.c or not _has_method(self.c[name], getter):
                continue
            found, expected = int(getattr(self.c[name], getter)(*args)), value(self.d.params)
            if found != expected:
                self.add(f"{name}: {getter}() is {found}; expected {expected}")
        from ape import chain

        first = chain.blocks[max(self.d.block - 1, 0)].timestamp
        last = chain.blocks.head.timestamp + START_SLACK
        for name in ("TeamVesting", "EmissionSchedule"):
            start = int(self.c[name].start())
            if not first <= start <= last:
                self.add(f"{name}: start() is {start}; expected the deployment's time ({first}..{last})")
        vesting = self.c["TeamVesting"]
        cliff = int(vesting.cliff()) - int(vesting.start())  # cliff() is a timestamp
        if cliff != self.d.params.team_vesting_cliff:
            self.add(f"TeamVesting: cliff() is {cliff} s after start(); expected {self.d.params.team_vesting_cliff}")
        if int(self.c["TeamVesting"].start()) != int(self.c["EmissionSchedule"].start()):
            self.add(f"TeamVesting: start() is {self.c['TeamVesting'].start()}; expected the emission's start "
                     f"{self.c['EmissionSchedule'].start()}")

    # ------------------------------------------------------------------ genesis and supply

    def genesis(self) -> None:
        genesis, token, emission = self.c["Genesis"], self.c["HanzoToken"], self.c["EmissionSchedule"]
        if not genesis.executed():
            self.add("Genesis: not executed; expected executed")
        expected = [(n, self.resolve(GENESIS_RECIPIENTS[n]), a) for n, a in self.d.params.genesis_allocations]
        count = int(genesis.allocationCount())
        if count != len(expected):
            self.add(f"Genesis: {count} allocations; expected {len(expected)}")
        for i, (label, recipient, amount) in enumerate(expected):
            if i >= count:
                break
            _, found_recipient, found_amount = genesis.allocation(i)
            if _addr(found_recipient) != recipient or recipient == self.deployer:
                self.add(f"Genesis: the {label} allocation went to {self.who(str(found_recipient))}; "
                         f"expected {self.who(recipient)}")
            if int(found_amount) != amount:
                self.add(f"Genesis: the {label} allocation is {found_amount} wei; expected {amount}")
        # Every HANZO ever minted, per recipient: the allocations plus emission's releases.
        should: dict[str, int] = defaultdict(int)
        for _, recipient, amount in expected:
            should[recipient] += amount
        released, to_training = int(emission.released()), int(emission.releasedToTraining())
        should[self.resolve(EXPECTED_ADDRESSES[("EmissionSchedule", "trainingPool")])] += to_training
        should[self.resolve(EXPECTED_ADDRESSES[("EmissionSchedule", "computePool")])] += released - to_training
        minted: dict[str, int] = defaultdict(int)
        mint = "0x" + keccak(text="Transfer(address,address,uint256)").hex().removeprefix("0x")
        for log in suite_logs([token], self.d.block, ("Transfer",), [mint, "0x" + "00" * 32]):
            if _addr(log.event_arguments["from"]) == ANYONE:
                minted[_addr(log.event_arguments["to"])] += int(log.event_arguments["value"])
        for account in sorted(set(should) | set(minted)):
            if minted.get(account, 0) != should.get(account, 0):
                self.add(f"HanzoToken: {minted.get(account, 0)} wei minted to {self.who(account)}; "
                         f"expected {should.get(account, 0)}")
        supply = int(token.totalSupply())
        if supply > sum(minted.values()):
            self.add(f"HanzoToken: total supply {supply} wei; expected at most the {sum(minted.values())} minted")

    def deployer_kept(self) -> None:
        balance = self.c["HanzoToken"].balanceOf(self.deployer)
        if balance:
            self.add(f"HanzoToken: the deployer holds {balance} wei of HANZO; expected 0")
        if "TestUSD" in self.c:
            usd = self.c["TestUSD"].balanceOf(self.deployer)
            if usd:
                self.add(f"TestUSD: the deployer holds {usd} wei; expected 0 (all of it passed on at the wiring)")
        for field in ("oracle", "registrar", "team_beneficiary", "model_developers", "sale_and_liquidity"):
            if _addr(getattr(self.d.roles, field)) == self.deployer:
                self.add(f"roles: the {field} is the deployer {self.deployer}; expected another address")

    def deployed_in_range(self) -> None:
        """Every contract's code appeared at or after the deployment's first block, so the events
        replayed from it are all the events there are."""
        from ape import chain

        if self.d.block == 0:
            return
        for name, contract in self.c.items():
            try:
                code = chain.provider.get_code(contract.address, block_id=self.d.block - 1)
            except Exception:  # noqa: BLE001 - a node without that block's state: nothing to compare
                return
            if code:
                self.add(f"{name}: deployed before block {self.d.block}; expected the deployment's blocks "
                         "(earlier events would not be replayed)")


def audit_deployment(deployment: Any) -> list[str]:
    """Findings of a handed-over deployment, one line each (contract: what found; expected what).
    Empty when the chain holds exactly the deployment it is supposed to."""
    audit = _Audit(deployment)
    audit.deployed_in_range()
    audit.roles()
    audit.timelock_operations()
    audit.governor_proposals()
    audit.addresses()
    audit.settings()
    audit.genesis()
    audit.deployer_kept()
    if "HanzoPool" in audit.c:
        audit.problems += market_checks(lambda name, getter, *args: getattr(audit.c[name], getter)(*args),
                                        deployment.params, _addr(deployment.roles.sale_and_liquidity))
    return audit.problems
