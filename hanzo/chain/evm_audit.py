"""The post-deploy audit's tables (hanzo.chain.audit: EXPECTED_ROLES, EXPECTED_ADDRESSES,
EXPECTED_SETTINGS, GENESIS_RECIPIENTS) checked on an embedded chain (hanzo.chain.evm).

audit.audit_deployment reads through Ape (its contract objects, its log filters, its blocks);
this reads the same tables through the embedded chain's calls and its kept logs, so a suite
deployed by the shared plan is held to the same expectations. Role members are replayed from
every RoleGranted and RoleRevoked the chain kept and confirmed by hasRole, as the audit does.
Findings are one line each (contract: what found; expected what), empty when all is as expected.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .audit import ANYONE, EXPECTED_ADDRESSES, EXPECTED_ROLES, EXPECTED_SETTINGS, GENESIS_RECIPIENTS, market_checks
from .evm import Contract, EmbeddedChain, EVMError
from .plan import address_of


def _has(contract: Contract, method: str) -> bool:
    try:
        contract.function(method)
    except EVMError:
        return False
    return True


def role_names(chain: EmbeddedChain, contract: Contract) -> dict[bytes, str]:
    """role id -> name, for every `*_ROLE()` view the contract declares."""
    names = {}
    for entry in contract.artifact.abi:
        if (entry.get("type") == "function" and entry["name"].endswith("_ROLE") and not entry["inputs"]
                and [o["type"] for o in entry.get("outputs", [])] == ["bytes32"]):
            names[bytes(chain.call(contract, entry["name"]))] = entry["name"]
    return names


def role_members(chain: EmbeddedChain, contract: Contract, first_block: int) -> dict[bytes, set[str]]:
    """role id -> lower-case addresses holding it: the kept events replayed, confirmed by hasRole."""
    members: dict[bytes, set[str]] = defaultdict(set)
    named: set[tuple[bytes, str]] = set()
    for _, event in chain.history(first_block, ("RoleGranted", "RoleRevoked")):
        if event.address.lower() != contract.address.lower():
            continue
        role, account = bytes(event.args["role"]), event.args["account"].lower()
        named.add((role, account))
        (members[role].add if event.name == "RoleGranted" else members[role].discard)(account)
    for role, account in named:
        held = bool(chain.call(contract, "hasRole", role, account))
        (members[role].add if held else members[role].discard)(account)
    return {role: accounts for role, accounts in members.items() if accounts}


def audit_embedded(chain: EmbeddedChain, deployment: Any) -> list[str]:
    """The audit's tables against a handed-over suite on `chain` (deployment: evm.deploy_suite's)."""
    if not chain.keep_logs:
        raise EVMError("audit_embedded: the chain was made with keep_logs=False; the roles cannot be replayed")
    c, roles, p = deployment.contracts, deployment.roles, deployment.params
    problems: list[str] = []
    deployer = address_of(roles.deployer).lower()

    def resolve(who: str) -> str:
        if who == ANYONE:
            return ANYONE
        if who.startswith("@"):
            return address_of(getattr(roles, who[1:])).lower()
        return c[who].address.lower()

    labels = {resolve(f"@{f}"): f for f in ("oracle", "registrar", "team_beneficiary", "model_developers",
                                             "sale_and_liquidity")}
    labels.update({contract.address.lower(): name for name, contract in c.items()})
    labels[deployer], labels[ANYONE] = "the deployer", "anyone"

    def whos(addresses: set[str]) -> str:
        return "{" + ", ".join(sorted(labels.get(a, a) for a in addresses)) + "}" if addresses else "no one"

    for name, contract in c.items():
        if not (_has(contract, "hasRole") and any(e.name == "RoleGranted" for e in contract.events.values())):
            continue
        table = EXPECTED_ROLES.get(name)
        if table is None:
            problems.append(f"{name}: has AccessControl but no expected roles (audit.EXPECTED_ROLES)")
            continue
        names = role_names(chain, contract)
        found = role_members(chain, contract, deployment.block)
        for role in sorted(set(names) | set(found)):
            role_name = names.get(role, "role 0x" + role.hex())
            expected = {resolve(w) for w in table.get(role_name, ())}
            held = found.get(role, set())
            if held != expected or deployer in held:
                problems.append(f"{name}: {role_name} held by {whos(held)}; expected exactly {whos(expected)}")
        for role_name in set(table) - set(names.values()):
            problems.append(f"{name}: declares no {role_name}")

    for (name, getter), who in EXPECTED_ADDRESSES.items():
        if name in c and _has(c[name], getter):
            found = str(chain.call(c[name], getter)).lower()
            if found != resolve(who) or found == deployer:
                problems.append(f"{name}: {getter}() is {labels.get(found, found)}; "
                                f"expected {labels.get(resolve(who))}")

    for (name, getter, args), value in EXPECTED_SETTINGS.items():
        if name in c and _has(c[name], getter):
            found, expected = int(chain.call(c[name], getter, *args)), value(p)
            if found != expected:
                problems.append(f"{name}: {getter}() is {found}; expected {expected}")

    genesis, token = c["Genesis"], c["HanzoToken"]
    if not chain.call(genesis, "executed"):
        problems.append("Genesis: not executed; expected executed")
    expected_alloc = [(n, resolve(GENESIS_RECIPIENTS[n]), a) for n, a in p.genesis_allocations]
    count = int(chain.call(genesis, "allocationCount"))
    if count != len(expected_alloc):
        problems.append(f"Genesis: {count} allocations; expected {len(expected_alloc)}")
    minted: dict[str, int] = defaultdict(int)
    for _, event in chain.history(deployment.block, ("Transfer",)):
        if event.address.lower() == token.address.lower() and event.args["from"].lower() == ANYONE:
            minted[event.args["to"].lower()] += int(event.args["value"])
    should: dict[str, int] = defaultdict(int)
    for label, recipient, amount in expected_alloc:
        should[recipient] += amount
    emission = c["EmissionSchedule"]
    released, to_training = int(chain.call(emission, "released")), int(chain.call(emission, "releasedToTraining"))
    should[resolve("TrainingRewards")] += to_training
    should[resolve("HanzoTreasury")] += released - to_training
    for account in sorted(set(should) | set(minted)):
        if minted.get(account, 0) != should.get(account, 0):
            problems.append(f"HanzoToken: {minted.get(account, 0)} wei minted to {labels.get(account, account)}; "
                            f"expected {should.get(account, 0)}")
    if int(chain.call(token, "balanceOf", address_of(roles.deployer))):
        problems.append("HanzoToken: the deployer holds HANZO; expected none")
    if "TestUSD" in c and int(chain.call(c["TestUSD"], "balanceOf", address_of(roles.deployer))):
        problems.append("TestUSD: the deployer holds TestUSD; expected none")
    if "HanzoPool" in c:
        problems += market_checks(lambda name, getter, *args: chain.call(c[name], getter, *args), p,
                                  address_of(roles.sale_and_liquidity))
    return problems
