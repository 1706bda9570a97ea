"""The post-deploy audit: what the deployer kept, read from the chain, not from our own records.

`audit_deployment` replays every RoleGranted and RoleRevoked event that the suite's contracts
emitted since the deployment's first block, asks `hasRole` for every (role, account) pair the
events name, and checks the owners, balances and allocations that are not roles. It returns one
line per problem; `hanzo deploy` refuses to call a deployment done while any remains.
"""

from __future__ import annotations

from typing import Any

from .deploy import address_of

# Contracts whose access control the audit replays (AccessControl's events).
ACCESS_CONTROLLED = ("HanzoTimelock", "HanzoToken", "StakedHanzo", "ModelNFT", "TrainingRewards",
                     "HamiltonianMarketMaker")
ROLE_NAMES = ("DEFAULT_ADMIN_ROLE", "MINTER_ROLE", "DEPOSIT_ROLE", "REGISTRAR_ROLE", "ORACLE_ROLE",
              "GOVERNANCE_ROLE", "PROVIDER_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE")


def _addr(x: Any) -> str:
    """An account's or contract's address, lower-cased to compare with event fields."""
    return address_of(x).lower()


def role_names(contract: Any) -> dict[bytes, str]:
    """role id -> name, for the roles this contract declares."""
    names = {}
    for name in ROLE_NAMES:
        getter = getattr(contract, name, None)
        if getter is None:
            continue
        try:
            names[bytes(getter())] = name
        except Exception:  # noqa: BLE001 - the ABI has no such view
            continue
    return names


def role_holders(contract: Any, first_block: int) -> dict[str, set[str]]:
    """role name -> accounts holding it now: every account an event ever named, confirmed by hasRole."""
    from ape import chain

    names = role_names(contract)
    seen: set[tuple[bytes, str]] = set()
    stop = chain.blocks.head.number + 1
    for event in ("RoleGranted", "RoleRevoked"):
        for log in getattr(contract, event).range(first_block, stop):
            seen.add((bytes(log.role), _addr(log.account)))
    holders: dict[str, set[str]] = {}
    for role, account in seen:
        if contract.hasRole(role, account):
            holders.setdefault(names.get(role, "0x" + role.hex()), set()).add(account)
    return holders


def audit_deployment(deployment: Any) -> list[str]:
    """Problems with a handed-over deployment: any role, ownership, balance or allocation that the
    deployer (or an address that is not who the roles say) still holds. Empty when clean."""
    c = deployment.contracts
    roles = deployment.roles
    deployer = _addr(roles.deployer)
    timelock = _addr(c["HanzoTimelock"])
    problems: list[str] = []
    for name in ACCESS_CONTROLLED:
        for role, accounts in role_holders(c[name], deployment.block).items():
            if deployer in accounts:
                problems.append(f"{name}: the deployer {deployer} still holds {role}")
            if role == "DEFAULT_ADMIN_ROLE" and accounts - {timelock}:
                others = ", ".join(sorted(accounts - {timelock}))
                problems.append(f"{name}: DEFAULT_ADMIN_ROLE held by {others}, not only the timelock")
            if role == "MINTER_ROLE" and accounts - {_addr(c["EmissionSchedule"])}:
                others = ", ".join(sorted(accounts - {_addr(c["EmissionSchedule"])}))
                problems.append(f"{name}: MINTER_ROLE held by {others}, not only the emission schedule")
    vesting = c["TeamVesting"]
    if _addr(vesting.owner()) == deployer:
        problems.append(f"TeamVesting: the deployer {deployer} owns the team's vesting wallet")
    if not c["Genesis"].executed():
        problems.append("Genesis: not executed")
    for label, recipient, _ in deployment.genesis_allocations:
        if _addr(recipient) == deployer:
            problems.append(f"Genesis: the {label} allocation went to the deployer {deployer}")
    balance = c["HanzoToken"].balanceOf(deployer)
    if balance:
        problems.append(f"HanzoToken: the deployer holds {balance} wei of HANZO")
    for field in ("oracle", "registrar"):
        if _addr(getattr(roles, field)) == deployer:
            problems.append(f"roles: the {field} is the deployer {deployer}")
    return problems
