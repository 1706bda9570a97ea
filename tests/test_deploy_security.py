"""Finding 2 of the review: a deployment from a named account used to give the deployer the oracle
and registrar roles, the team's vesting wallet and 250M HANZO of allocations (one self-signed op
then paid it 48.6M). Now role addresses are explicit and distinct, and an on-chain audit refuses
any deployment in which the deployer kept anything."""

from __future__ import annotations

import json

import pytest

from hanzo.chain.audit import audit_deployment, role_holders
from hanzo.chain.deploy import DeployError, Roles, deploy_suite
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
    for kept in ("TrainingRewards: the deployer", "ORACLE_ROLE", "ModelNFT: the deployer", "REGISTRAR_ROLE",
                 "owns the team's vesting wallet", "allocation went to the deployer", "HanzoToken: the deployer holds"):
        assert kept in message, kept


def test_a_clean_deployment_passes_the_audit_and_the_deployer_holds_no_role_anywhere(suite):
    assert audit_deployment(suite) == []
    deployer = str(suite.roles.deployer.address).lower()
    for name in ("HanzoTimelock", "HanzoToken", "StakedHanzo", "ModelNFT", "TrainingRewards", "HamiltonianMarketMaker"):
        holders = role_holders(suite.contracts[name], suite.block)
        assert holders, name  # the events were found: the audit is not vacuous
        assert all(deployer not in accounts for accounts in holders.values()), (name, holders)
        assert holders.get("DEFAULT_ADMIN_ROLE") == {str(suite.timelock.address).lower()}, name


def test_the_audit_finds_a_role_granted_to_the_deployer_before_handover(project, accounts, params):
    """Without the handover the deployer is admin everywhere: the audit lists every contract."""
    roles = Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address, accounts[4].address)
    s = deploy_suite(params, roles, proj=project, handover=False)
    problems = audit_deployment(s)
    for name in ("HanzoTimelock", "HanzoToken", "StakedHanzo", "ModelNFT", "TrainingRewards", "HamiltonianMarketMaker"):
        assert any(p.startswith(f"{name}: the deployer") and "DEFAULT_ADMIN_ROLE" in p for p in problems), name
    assert any("GOVERNANCE_ROLE" in p for p in problems)


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
    assert "audit     the deployer holds no role" in ok.stdout
    written = json.loads(out.read_text())["roles"]
    assert written["deployer"] == str(accounts[0].address)
    assert written["oracle"] == str(accounts[1].address) and written["registrar"] == str(accounts[2].address)
