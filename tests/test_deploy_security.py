"""Finding 2 of the review: a deployment from a named account used to give the deployer the oracle
and registrar roles, the team's vesting wallet and 250M HANZO of allocations (one self-signed op
then paid it 48.6M). Now role addresses are explicit and distinct, and an on-chain audit refuses
any deployment in which the deployer kept anything."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hanzo.chain.audit import audit_deployment, role_holders
from hanzo.chain.deploy import ADMINLESS, DeployError, Roles, deploy_suite, hand_over
from hanzo.cli.deployment import check_role_addresses

from .test_cli import hanzo

A = {name: f"0x{i:040x}" for i, name in enumerate(("oracle", "registrar", "team", "developers", "sale"), start=0x11)}
DEPLOYER = "0x" + "de" * 20


def test_role_addresses_are_checksummed_when_all_are_given_and_distinct():
    out = check_role_addresses(DEPLOYER, A)
    assert set(out) == set(A) and len(set(out.values())) == 5
    assert out["oracle"] == "0x0000000000000000000000000000000000000011"


@pytest.mark.parametrize("change, message", [
    ({"team": None}, "missing --team"),
    ({"oracle": None, "sale": ""}, "missing --oracle, --sale"),
    ({"registrar": "0x1234"}, "--registrar '0x1234' is not an address"),
    ({"developers": DEPLOYER}, "--developers is the deployer"),
    ({"registrar": A["oracle"]}, "--oracle and --registrar name the same address"),
])
def test_role_addresses_refuse_missing_invalid_deployer_or_shared(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        check_role_addresses(DEPLOYER, {**A, **change})


def test_the_reviewed_deployment_where_the_deployer_took_every_role_is_refused_by_the_audit(project, accounts, params):
    """What `hanzo deploy --account` used to build: the deployer as oracle, registrar, team,
    developers and sale. The audit now names each thing it kept."""
    d = accounts[0]
    a = d.address
    with pytest.raises(DeployError) as caught:
        deploy_suite(params, Roles(d, d, a, a, a), proj=project)
    message = str(caught.value)
    for kept in ("TrainingRewards: ORACLE_ROLE held by the deployer", "ModelNFT: REGISTRAR_ROLE held by the deployer",
                 "TeamVesting: owned by the deployer", "allocation went to the deployer",
                 "HanzoToken: the deployer holds"):
        assert kept in message, kept


def test_a_clean_deployment_passes_the_audit_and_the_deployer_holds_no_role_anywhere(suite):
    assert audit_deployment(suite) == []
    deployer = str(suite.roles.deployer.address).lower()
    for name in ("HanzoTimelock", "HanzoToken", "StakedHanzo", "ModelNFT", "TrainingRewards", "HamiltonianMarketMaker"):
        holders = role_holders(suite.contracts[name], suite.block)
        assert holders, name  # the events were found: the audit is not vacuous
        assert all(deployer not in accounts for accounts in holders.values()), (name, holders)
        admins = set() if name in ADMINLESS else {str(suite.timelock.address).lower()}
        assert holders.get("DEFAULT_ADMIN_ROLE", set()) == admins, name


def test_the_audit_finds_a_role_granted_to_the_deployer_before_handover(project, accounts, params):
    """Without the handover the deployer is admin everywhere: the audit lists every contract."""
    roles = Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address, accounts[4].address)
    s = deploy_suite(params, roles, proj=project, handover=False)
    problems = audit_deployment(s)
    for name in ("HanzoTimelock", "HanzoToken", "StakedHanzo", "ModelNFT", "TrainingRewards", "HamiltonianMarketMaker"):
        assert any(p.startswith(f"{name}: DEFAULT_ADMIN_ROLE held by the deployer") for p in problems), name
    assert any(p.startswith("HamiltonianMarketMaker: GOVERNANCE_ROLE held by the deployer") for p in problems)


@pytest.mark.parametrize("args, message", [
    (["--oracle", "0x" + "11" * 20], "go with --account"),
])
def test_role_options_without_an_account_are_refused(args, message):
    result = hanzo("deploy", *args)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_deploy_from_a_named_account_needs_every_role_and_then_audits(tmp_path, accounts):
    """The path for a real network, end to end on the in-process chain: an Ape keyfile account,
    unlocked once from the environment, deploys with five distinct role addresses; without them
    it is refused before any transaction."""
    from ape_accounts import import_account_from_private_key

    from hanzo.chain.toolchain import configure

    data = tmp_path / "ape"
    env = {"APE_DATA_FOLDER": str(data), "APE_ACCOUNTS_ops_PASSPHRASE": "correct horse"}
    import os

    old = os.environ.get("APE_DATA_FOLDER")
    os.environ["APE_DATA_FOLDER"] = str(data)
    try:
        from ape.utils import ManagerAccessMixin

        cfg = ManagerAccessMixin.config_manager
        previous = cfg.DATA_FOLDER
        cfg.DATA_FOLDER = data
        try:
            import_account_from_private_key("ops", "correct horse", accounts[0].private_key)
        finally:
            cfg.DATA_FOLDER = previous
    finally:
        if old is None:
            os.environ.pop("APE_DATA_FOLDER", None)
        else:
            os.environ["APE_DATA_FOLDER"] = old
    configure()
    refused = hanzo("deploy", "--account", "ops", "--yes", "--oracle", str(accounts[1].address), env=env)
    assert refused.returncode == 1 and "missing --registrar, --team, --developers, --sale" in refused.stderr
    own = hanzo("deploy", "--account", "ops", "--yes", *sum(([f"--{n}", str(accounts[i].address)] for n, i in
                zip(("oracle", "registrar", "team", "developers"), (1, 2, 3, 5))), []), "--sale",
                str(accounts[0].address), env=env)
    assert own.returncode == 1 and "--sale is the deployer" in own.stderr
    out = tmp_path / "d.json"
    roles = dict(zip(("oracle", "registrar", "team", "developers", "sale"), (1, 2, 3, 5, 4)))
    ok = hanzo("deploy", "--account", "ops", "--yes", "--out", str(out),
               *sum(([f"--{n}", str(accounts[i].address)] for n, i in roles.items()), []), env=env)
    assert ok.returncode == 0, ok.stderr
    assert "audit     clean: every role's holders" in ok.stdout
    written = json.loads(out.read_text())["roles"]
    assert written["deployer"] == str(accounts[0].address)
    assert written["oracle"] == str(accounts[1].address) and written["registrar"] == str(accounts[2].address)


# ---------------------------------------------------------------- adversarial deployments (issue 16, hole 4)
#
# The second review: a second key holding the oracle role, the timelock's proposer role or the
# market maker's governance role passed the audit as clean, and paid itself 900 HANZO a fork a
# day; a "grant me the token's admin" operation queued before the handover passed and executed two
# days later; genesis recipients were read from the Python record. Each deployment below is the
# honest one, wired by the deployer, tampered with before (or instead of) the handover; the audit
# must name what was tampered with. The chain reverts to the wired suite after each.

ATTACKER = "0x" + "a7" * 20


@pytest.fixture(scope="module")
def wired(project, accounts, params):
    """The honest suite, wired but not yet handed over (the deployer is still admin everywhere)."""
    roles = Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address, accounts[4].address)
    return deploy_suite(params, roles, proj=project, handover=False)


def _grant(name, role):
    def tamper(s, project):
        contract = s.contracts[name]
        contract.grantRole(getattr(contract, role)(), ATTACKER, sender=s.roles.deployer)
        return s
    return tamper


def _queue_grant_admin(s, project):
    """The deployer, still the timelock's admin, makes itself proposer, queues "grant ATTACKER the
    rewards' admin", and renounces the proposer role again: every role is then as it should be."""
    timelock, rewards, d = s.timelock, s.rewards, s.roles.deployer
    timelock.grantRole(timelock.PROPOSER_ROLE(), d.address, sender=d)
    call = rewards.grantRole.encode_input(rewards.DEFAULT_ADMIN_ROLE(), ATTACKER)
    timelock.schedule(rewards.address, 0, call, bytes(32), bytes(32), timelock.getMinDelay(), sender=d)
    timelock.renounceRole(timelock.PROPOSER_ROLE(), d.address, sender=d)
    return s


def _genesis_to_another(s, project):
    """The chain minted the developers' allocation to accounts[3]; the operator named (and the
    Python record says) another address."""
    named = "0x" + "0d" * 20
    roles = dataclasses.replace(s.roles, model_developers=named)
    record = [(n, named if n == "model_developers" else r, a) for n, r, a in s.genesis_allocations]
    return dataclasses.replace(s, roles=roles, genesis_allocations=record)


def _treasury(s, project):
    """A second TrainingRewards whose ModelNFT pays the mint fees to the attacker (the treasury is
    fixed at construction), and the record names the pair."""
    r, m, d = s.rewards, s.models, s.roles.deployer
    fake = project.TrainingRewards.deploy(
        s.token.address, d.address, s.roles.oracle.address,
        (ATTACKER, m.baseMintFee(), m.feeBurnBps(), m.maxPerformance(), m.boostRefStake(), m.maxExtraBoostBps()),
        r.rewardPerInteraction(), r.burnBps(), r.userShareBps(), r.burnMode(), r.maxInteractionsPerOp(),
        r.maxInteractionsPerForkDay(), r.poolPaceBps(), sender=d)
    models = project.ModelNFT.at(fake.models())
    return dataclasses.replace(s, contracts={**s.contracts, "TrainingRewards": fake, "ModelNFT": models})


def _rotate_oracle(s, project):
    """The oracle hands its role to the attacker before the handover (no one can grant it)."""
    s.rewards.rotateOracle(ATTACKER, sender=s.roles.oracle)
    return s


def _vesting_beneficiary(s, project):
    from ape import accounts

    beneficiary = next(a for a in accounts.test_accounts if a.address == s.roles.team_beneficiary)
    s.vesting.transferOwnership(ATTACKER, sender=beneficiary)
    return s


def _emission_pool(s, project):
    """A second EmissionSchedule whose training pool is the attacker's takes the minter role, and
    the record names it: the roles are then as the record says."""
    e, d = s.emission, s.roles.deployer
    fake = project.EmissionSchedule.deploy(s.token.address, ATTACKER, e.computePool(), e.start(), e.eraLength(),
                                           e.firstEraEmission(), e.maxEmission(), e.trainingShareBps(), sender=d)
    minter = s.token.MINTER_ROLE()
    s.token.grantRole(minter, fake.address, sender=d)
    s.token.revokeRole(minter, e.address, sender=d)
    return dataclasses.replace(s, contracts={**s.contracts, "EmissionSchedule": fake})


def _undeclared_role(s, project):
    s.rewards.grantRole(b"\x42" * 32, ATTACKER, sender=s.roles.deployer)
    return s


def _open_proposal(s, project):
    """A staker (the sale allocation's holder) proposes "grant ATTACKER the token's admin" before
    the audit: a proposal still open when the deployment is called done."""
    from ape import accounts, chain

    holder = next(a for a in accounts.test_accounts if a.address == s.roles.sale_and_liquidity)
    amount = s.params.proposal_threshold + s.params.proposal_deposit
    s.token.approve(s.staked.address, amount, sender=holder)
    s.staked.stake(amount, sender=holder)
    chain.pending_timestamp = chain.blocks.head.timestamp + 2
    chain.mine()
    call = s.token.grantRole.encode_input(s.token.DEFAULT_ADMIN_ROLE(), ATTACKER)
    s.governor.proposeTyped([s.token.address], [0], [call], "grant admin", 0, sender=holder)
    return s


def _quorum(s, project):
    """The Governor on chain has the default quorum; the deployment was meant to have ten times it."""
    return dataclasses.replace(s, params=s.params.replace(quorum=s.params.quorum * 10))


def _late_first_block(s, project):
    """A record whose first block is after the contracts were created would skip their first events."""
    from ape import chain

    return dataclasses.replace(s, block=chain.blocks.head.number)


def _deployer_kept_usd(s, project):
    """The deployer keeps a wei of TestUSD (the sale holder's float sent back to it)."""
    from ape import accounts

    holder = next(a for a in accounts.test_accounts if a.address == s.roles.sale_and_liquidity)
    s.usd.transfer(s.roles.deployer, 1, sender=holder)
    return s


def _pool_on_another_stablecoin(s, project):
    """The record's HanzoPool prices HANZO in a stablecoin the deployer can still mint (its whole
    supply), seeded from the real allocation's worth: the pool names another token than TestUSD."""
    d, p = s.roles.deployer, s.params
    printed = project.TestUSD.deploy(p.test_usd_supply, sender=d)
    fake = project.HanzoPool.deploy(s.token.address, printed.address, p.pool_fee_bps, p.pool_seed_hanzo,
                                    p.pool_seed_usd, sender=d)
    return dataclasses.replace(s, contracts={**s.contracts, "HanzoPool": fake})


def _pool_fee(s, project):
    """The pool on chain has the default fee; the deployment was meant to have another."""
    return dataclasses.replace(s, params=s.params.replace(pool_fee_bps=s.params.pool_fee_bps + 1))


ADVERSARIAL = {
    "oracle role handed to another": (_rotate_oracle, [f"TrainingRewards: ORACLE_ROLE held by {ATTACKER}"]),
    "extra timelock proposer": (_grant("HanzoTimelock", "PROPOSER_ROLE"),
                                [f"HanzoTimelock: PROPOSER_ROLE held by {ATTACKER}"]),
    "extra timelock canceller": (_grant("HanzoTimelock", "CANCELLER_ROLE"),
                                 [f"HanzoTimelock: CANCELLER_ROLE held by {ATTACKER}"]),
    "extra HMM GOVERNANCE_ROLE holder": (_grant("HamiltonianMarketMaker", "GOVERNANCE_ROLE"),
                                         [f"HamiltonianMarketMaker: GOVERNANCE_ROLE held by {ATTACKER}"]),
    "extra HMM provider": (_grant("HamiltonianMarketMaker", "PROVIDER_ROLE"),
                           [f"HamiltonianMarketMaker: PROVIDER_ROLE held by {ATTACKER}; expected exactly no one"]),
    "extra minter": (_grant("HanzoToken", "MINTER_ROLE"), [f"HanzoToken: MINTER_ROLE held by {ATTACKER}"]),
    "extra registrar": (_grant("ModelNFT", "REGISTRAR_ROLE"), [f"ModelNFT: REGISTRAR_ROLE held by {ATTACKER}"]),
    "a role the contract does not declare": (_undeclared_role,
                                             [f"TrainingRewards: role 0x{'42' * 32} held by {ATTACKER}"]),
    "grant-admin operation queued before the handover": (
        _queue_grant_admin,
        ["HanzoTimelock: operation 0x", f"TrainingRewards.grantRole(role=DEFAULT_ADMIN_ROLE, account={ATTACKER})"]),
    "genesis recipient on chain is not the one named": (
        _genesis_to_another, ["Genesis: the model_developers allocation went to 0x", "minted to 0x"]),
    "ModelNFT treasury": (_treasury, [f"ModelNFT: treasury() is {ATTACKER}; expected HanzoTreasury"]),
    "vesting beneficiary": (_vesting_beneficiary, [f"TeamVesting: owned by {ATTACKER}; expected team_beneficiary"]),
    "emission pool": (_emission_pool, [f"EmissionSchedule: trainingPool() is {ATTACKER}; expected TrainingRewards"]),
    "Governor proposal open at the audit": (_open_proposal, ["HanzoGovernor: proposal", "is Pending"]),
    "Governor quorum": (_quorum, ["HanzoGovernor: quorum() is"]),
    "first block after the deployment": (_late_first_block, ["deployed before block"]),
    "the deployer kept TestUSD": (_deployer_kept_usd, ["TestUSD: the deployer holds 1 wei; expected 0"]),
    "a pool on another stablecoin, never seeded": (
        _pool_on_another_stablecoin,
        ["HanzoPool: usd() is 0x", "expected TestUSD", "HanzoPool: seeded() is 0; expected 1",
         "HanzoToken: 0 wei minted to HanzoPool", "; expected 50000000000000000000000000"]),
    "the pool's fee": (_pool_fee, ["HanzoPool: feeBps() is 30; expected 31"]),
}


def test_the_honest_wired_deployment_handed_over_passes_the_audit_clean(wired):
    hand_over(wired.contracts, wired.roles.deployer)
    assert audit_deployment(wired) == []


@pytest.mark.parametrize("case", list(ADVERSARIAL))
def test_adversarial_deployments_are_flagged_by_the_audit(wired, project, case):
    tamper, expected = ADVERSARIAL[case]
    s = tamper(wired, project)
    hand_over(s.contracts, s.roles.deployer)
    problems = audit_deployment(s)
    for line in expected:
        assert any(line in p for p in problems), (case, line, problems)


def test_a_grant_queued_before_the_handover_executes_after_it(wired, project, chain):
    """What the queued operation does if the audit lets it through: two days later anyone executes
    it and the attacker is the rewards' admin (it can then set the pool's pace and revoke the oracle)."""
    s = _queue_grant_admin(wired, project)
    hand_over(s.contracts, s.roles.deployer)
    chain.pending_timestamp += s.params.timelock_delay + 1
    call = s.rewards.grantRole.encode_input(s.rewards.DEFAULT_ADMIN_ROLE(), ATTACKER)
    s.timelock.execute(s.rewards.address, 0, call, bytes(32), bytes(32), sender=s.roles.deployer)
    assert s.rewards.hasRole(s.rewards.DEFAULT_ADMIN_ROLE(), ATTACKER)
    assert not any("HanzoTimelock: operation" in p for p in audit_deployment(s))  # executed: no longer pending
    assert any(f"TrainingRewards: DEFAULT_ADMIN_ROLE held by {ATTACKER}" in p for p in audit_deployment(s))
