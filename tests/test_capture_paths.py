"""Every path a captured governance has to HANZO outside the treasury (issue 16, finding 7).

An attacker who bought and staked more than the quorum passes any proposal it makes; the
timelock then executes it. The treasury's rate limit (tests/test_treasury.py) bounds what it
takes from HanzoTreasury; these tests try every other path the timelock had, each through a real
proposal, vote, queue and execution, and each succeeded before its fix:

- minting: the timelock was the token's admin and could make itself a minter of the whole
  unreleased headroom (the cap binds only the total). The admin is renounced at the handover, so
  the minter set (the EmissionSchedule) is fixed for good;
- the oracle: the timelock administered ORACLE_ROLE and could make itself an oracle and sign
  ops paying itself from the Training Rewards pool. An oracle is now set at construction and
  replaced only by itself (`rotateOracle`: one key at a time); governance may only revoke it;
- deposits: the timelock administered StakedHanzo's DEPOSIT_ROLE, and the Governor's `relay`
  let a proposal act as the Governor, which holds it: either locked and slashed (burned) any
  staker's stake. StakedHanzo's admin is renounced and `relay` is refused;
- mint fees: `ModelNFT.setTreasury` redirected half of every fork's mint fee; the treasury is now
  fixed at construction (HanzoTreasury, under its rate limit).

What remains is the market maker's surplus (fees, bounded by its parameters' bounds) and
griefing: a captured governance can stop rewards (revoke the oracle) but not take them."""

from __future__ import annotations

import secrets

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak

from hanzo.econ.attest import TrainingOp, sign_training_op
from .capture import proposal_runner, stake_quorum
from hanzo.econ.params import WEI

PARAMETER = 0


@pytest.fixture(scope="module")
def attacker(suite, whale, users):
    """Bought and staked 11M HANZO: more than the 10M quorum, so every proposal it makes passes."""
    return stake_quorum(suite, whale, users[0])


@pytest.fixture(scope="module")
def victim(suite, whale, users):
    """An honest staker with 1M HANZO staked."""
    who = users[1]
    suite.token.transfer(who, 1_000_000 * WEI, sender=whale)
    suite.token.approve(suite.staked, 1_000_000 * WEI, sender=who)
    suite.staked.stake(1_000_000 * WEI, sender=who)
    return who


@pytest.fixture(scope="module")
def capture(suite, attacker, params, chain):
    """Run `calls` as one Parameter proposal of the attacker's (see tests/capture.py)."""
    return proposal_runner(suite, attacker, params, chain, PARAMETER, "Parameter")


def _raw(signature: str, types: list[str], args: list) -> bytes:
    return keccak(text=signature)[:4] + encode(types, args)


def test_a_passed_proposal_cannot_add_a_minter(suite, capture, attacker):
    """Before: the timelock granted the attacker MINTER_ROLE and it minted the unreleased headroom
    (cap - totalMinted: hundreds of millions of HANZO). The token now has no admin at all."""
    token = suite.token
    minter, admin = token.MINTER_ROLE(), token.DEFAULT_ADMIN_ROLE()
    minted, before = token.totalMinted(), token.balanceOf(attacker)
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(token, "grantRole", minter, attacker.address)])
    with pytest.raises(ape.exceptions.ContractLogicError):  # nor make itself admin first
        capture([(token, "grantRole", admin, attacker.address),
                 (token, "grantRole", minter, attacker.address)])
    assert not token.hasRole(minter, attacker) and not token.hasRole(admin, suite.timelock)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.mint(attacker, token.cap() - token.totalMinted(), sender=attacker)
    assert (token.totalMinted(), token.balanceOf(attacker)) == (minted, before)
    # the wiring stands: the EmissionSchedule is the one minter, for good
    assert token.hasRole(minter, suite.emission) and not token.hasRole(minter, suite.genesis)


def test_a_passed_proposal_cannot_make_an_oracle(suite, capture, attacker, fork_of, users, chain, released, params):
    """Before: the timelock granted the attacker ORACLE_ROLE; its own signatures then paid it from
    the Training Rewards pool (0.2% of the pool a day: about half of it in a year)."""
    rewards, oracle = suite.rewards, suite.roles.oracle
    role = rewards.ORACLE_ROLE()
    released(params.year_seconds)
    model = fork_of(attacker)
    pool, before = suite.token.balanceOf(rewards), suite.token.balanceOf(attacker)
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(rewards, "grantRole", role, attacker.address)])
    with pytest.raises(ape.exceptions.ContractLogicError):  # nor revoke the oracle, then appoint itself
        capture([(rewards, "revokeRole", role, oracle.address), (rewards, "grantRole", role, attacker.address)])
    assert not rewards.hasRole(role, attacker) and rewards.hasRole(role, oracle)
    op = TrainingOp(attacker.address, model, secrets.token_bytes(32), 10, 1_000, False, 1, 2**64)
    sig = sign_training_op(attacker.private_key, op, chain.chain_id, rewards.address)
    with ape.reverts(rewards.InvalidSigner, recovered=attacker.address):
        rewards.rewardTraining(op.as_tuple(), sig, sender=attacker)
    assert suite.token.balanceOf(rewards) == pool and suite.token.balanceOf(attacker) == before


def test_a_captured_governance_can_stop_rewards_but_not_take_them(suite, capture, attacker, sign_op, fork_of,
                                                                released, params):
    """The emergency revoke is governance's (a leaked oracle key is stopped by one proposal); it
    leaves no oracle, and no proposal can appoint one."""
    rewards, oracle = suite.rewards, suite.roles.oracle
    role = rewards.ORACLE_ROLE()
    released(params.year_seconds)
    model = fork_of(attacker)
    capture([(rewards, "revokeRole", role, oracle.address)])
    assert not rewards.hasRole(role, oracle)
    op, sig = sign_op(attacker, model, interactions=10)
    with ape.reverts(rewards.InvalidSigner):
        rewards.rewardTraining(op.as_tuple(), sig, sender=attacker)
    for grant in ([(rewards, "grantRole", role, attacker.address)],
                  [(rewards, "rotateOracle", attacker.address)]):
        with pytest.raises(ape.exceptions.ContractLogicError):
            capture(grant)
    assert not rewards.hasRole(role, attacker)


def test_the_oracle_rotates_itself_one_key_at_a_time(suite, users, sign_op, fork_of, released, params):
    """The oracle replaces its key with `rotateOracle`: the successor signs, the old key no longer
    does, and no one (the oracle included) can add a second oracle key."""
    rewards, oracle, successor = suite.rewards, suite.roles.oracle, users[3]
    role = rewards.ORACLE_ROLE()
    released(params.year_seconds)
    model = fork_of(users[4])
    for who in (users[2], suite.roles.deployer):
        with ape.reverts(rewards.AccessControlUnauthorizedAccount):
            rewards.rotateOracle(who, sender=who)
    for who in (oracle, users[2]):
        with ape.reverts(rewards.OracleGrantedOnlyByRotation):
            rewards.grantRole(role, successor, sender=who)
    with ape.reverts(rewards.ZeroOracle):
        rewards.rotateOracle("0x" + "00" * 20, sender=oracle)
    receipt = rewards.rotateOracle(successor, sender=oracle)
    assert receipt.decode_logs(rewards.OracleRotated)[0].next == successor.address
    assert rewards.hasRole(role, successor) and not rewards.hasRole(role, oracle)
    op, sig = sign_op(users[2], model, interactions=10)
    with ape.reverts(rewards.InvalidSigner):
        rewards.rewardTraining(op.as_tuple(), sig, sender=users[2])
    op, sig = sign_op(users[2], model, interactions=10, signer=successor)
    rewards.rewardTraining(op.as_tuple(), sig, sender=users[2])
    with ape.reverts(rewards.OracleGrantedOnlyByRotation):
        rewards.grantRole(role, oracle, sender=successor)


def test_a_passed_proposal_cannot_lock_or_slash_anyones_stake(suite, capture, attacker, victim):
    """Before: the timelock granted the attacker DEPOSIT_ROLE (or relayed through the Governor,
    which holds it) and locked then slashed any staker's stake: burned, and the voter's votes with
    it. StakedHanzo now has no admin and the Governor relays nothing."""
    staked, gov = suite.staked, suite.governor
    role, admin = staked.DEPOSIT_ROLE(), staked.DEFAULT_ADMIN_ROLE()
    stake = staked.balanceOf(victim)
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(staked, "grantRole", role, attacker.address)])
    lock, slash = staked.lock.encode_input(victim.address, stake), staked.slash.encode_input(victim.address, stake)
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(gov, "relay", staked.address, 0, lock), (gov, "relay", staked.address, 0, slash)])
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(gov, "relay", staked.address, 0, lock)])
    assert not staked.hasRole(role, attacker) and not staked.hasRole(admin, suite.timelock)
    assert staked.hasRole(role, gov)
    assert staked.balanceOf(victim) == stake and staked.locked(victim) == 0
    assert staked.getVotes(victim) == stake


def test_a_passed_proposal_cannot_redirect_the_mint_fees(suite, capture, attacker, users, fund):
    """Before: ModelNFT.setTreasury(attacker) sent half of every later fork's mint fee to the
    attacker. The treasury is fixed at construction: HanzoTreasury, drawn only at its rate limit."""
    models, treasury = suite.models, suite.treasury
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(models.address, _raw("setTreasury(address)", ["address"], [attacker.address]))])
    assert "setTreasury" not in {m.name for m in models.contract_type.mutable_methods}
    assert models.treasury() == treasury.address
    # a registrar the attacker made itself raises the fee to the bound: the fee still goes to the treasury
    capture([(models, "grantRole", models.REGISTRAR_ROLE(), attacker.address)])
    models.registerBaseModel(7, models.maxPerformance(), sender=attacker)
    fee, held, before = models.mintFee(7), suite.token.balanceOf(treasury), suite.token.balanceOf(attacker)
    fund(users[4], fee / WEI)
    suite.token.approve(models, fee, sender=users[4])
    models.mint(7, secrets.token_bytes(32), fee, sender=users[4])
    kept = fee - fee * models.feeBurnBps() // 10_000
    assert suite.token.balanceOf(treasury) - held == kept and suite.token.balanceOf(attacker) == before
