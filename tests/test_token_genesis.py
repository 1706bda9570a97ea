"""HanzoToken's cap and minter role, Genesis, and the team's vesting wallet."""

from __future__ import annotations

import ape
import pytest

from hanzo.econ.params import WEI
from hanzo.econ.reference import vested


@pytest.fixture
def small_token(project, deployer):
    token = project.HanzoToken.deploy(deployer, 1_000 * WEI, sender=deployer)
    token.grantRole(token.MINTER_ROLE(), deployer, sender=deployer)
    return token


def test_mint_up_to_cap_then_reverts(small_token, deployer, accounts):
    small_token.mint(accounts[5], 999 * WEI, sender=deployer)
    small_token.mint(accounts[5], WEI, sender=deployer)
    assert small_token.totalMinted() == small_token.cap()
    with ape.reverts(small_token.MintCapExceeded, requested=1, headroom=0):
        small_token.mint(accounts[5], 1, sender=deployer)


def test_burn_frees_no_headroom(small_token, deployer, accounts):
    holder = accounts[5]
    small_token.mint(holder, 1_000 * WEI, sender=deployer)
    small_token.burn(400 * WEI, sender=holder)
    assert small_token.totalSupply() == 600 * WEI
    assert small_token.totalBurned() == 400 * WEI
    with ape.reverts(small_token.MintCapExceeded):
        small_token.mint(holder, 1, sender=deployer)


def test_only_minter_role_mints(small_token, accounts):
    with ape.reverts(small_token.AccessControlUnauthorizedAccount, account=accounts[5].address,
                     neededRole=small_token.MINTER_ROLE()):
        small_token.mint(accounts[5], 1, sender=accounts[5])


def test_token_rejects_zero_cap_and_zero_admin(project, deployer):
    with ape.reverts(project.HanzoToken.ZeroCap):
        project.HanzoToken.deploy(deployer, 0, sender=deployer)
    with ape.reverts(project.HanzoToken.ZeroAddress):
        project.HanzoToken.deploy("0x0000000000000000000000000000000000000000", 1, sender=deployer)


def test_permit_sets_allowance_from_a_signature(small_token, deployer, accounts, chain):
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    owner, spender = accounts[5], accounts[6]
    deadline = chain.pending_timestamp + 600
    data = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                       {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                       {"name": "deadline", "type": "uint256"}],
        },
        "primaryType": "Permit",
        "domain": {"name": "Hanzo", "version": "1", "chainId": chain.chain_id,
                   "verifyingContract": str(small_token.address)},
        "message": {"owner": owner.address, "spender": spender.address, "value": 5, "nonce": 0, "deadline": deadline},
    }
    sig = Account.sign_message(encode_typed_data(full_message=data), owner.private_key)
    small_token.permit(owner, spender, 5, deadline, sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big"),
                       sender=deployer)
    assert small_token.allowance(owner, spender) == 5


def test_genesis_minted_every_allocation_of_params(suite, params):
    token = suite.token
    for name, recipient, amount in suite.genesis_allocations:
        assert amount == params.allocation(name)
        assert token.balanceOf(recipient) >= amount
    assert token.totalSupply() == params.genesis_total == 500_000_000 * WEI
    assert token.cap() == params.max_supply
    assert suite.genesis.executed()


def test_genesis_runs_once_and_keeps_no_minter_role(suite):
    with ape.reverts(suite.genesis.AlreadyExecuted):
        suite.genesis.execute(sender=suite.roles.deployer)
    assert not suite.token.hasRole(suite.token.MINTER_ROLE(), suite.genesis.address)
    assert suite.token.hasRole(suite.token.MINTER_ROLE(), suite.emission.address)


def test_genesis_rejects_bad_allocations(project, suite, deployer):
    with ape.reverts(project.Genesis.BadAllocations):
        project.Genesis.deploy(suite.token, [b"A".ljust(32, b"\0")], [], [1], sender=deployer)
    with ape.reverts(project.Genesis.ZeroRecipient, index=0):
        project.Genesis.deploy(suite.token, [b"A".ljust(32, b"\0")], ["0x" + "00" * 20], [1], sender=deployer)


def test_deployer_holds_no_admin_role_after_handover(suite):
    d = suite.roles.deployer.address
    for contract in (suite.token, suite.staked, suite.models, suite.rewards, suite.timelock, suite.hmm):
        assert not contract.hasRole(contract.DEFAULT_ADMIN_ROLE(), d)
    for contract in (suite.models, suite.rewards, suite.hmm):
        assert contract.hasRole(contract.DEFAULT_ADMIN_ROLE(), suite.timelock.address)
    for contract in (suite.token, suite.staked):  # no admin at all: minters and deposits fixed (issue 16, 7)
        assert not contract.hasRole(contract.DEFAULT_ADMIN_ROLE(), suite.timelock.address)


@pytest.mark.parametrize("years", [0.5, 1, 1.5, 3, 4.5])
def test_team_vesting_follows_cliff_and_linear_schedule(suite, params, chain, years):
    vesting, token = suite.vesting, suite.token
    start = vesting.start()
    elapsed = int(years * params.year_seconds)
    chain.pending_timestamp = start + elapsed
    chain.mine()
    total = params.allocation("team")
    assert vesting.vestedAmount(token.address, start + elapsed) == vested(params, total, elapsed)
    if elapsed < params.team_vesting_cliff:
        assert vesting.releasable(token.address) == 0
    else:
        vesting.release(token.address, sender=suite.roles.deployer)
        assert token.balanceOf(suite.roles.team_beneficiary) == vested(params, total, chain.blocks.head.timestamp - start)
