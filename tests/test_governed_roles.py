"""Every role-gated function, refused to others and to the deployer, and allowed when governance
runs it: a typed proposal, a vote that reaches quorum, the timelock's delay, execution (issue 8,
item 7). Also revoke and renounce, a revoked oracle's signature, the deadline boundary, and
receiver re-entrancy on ERC1155 credits and ERC721 forks."""

from __future__ import annotations

import dataclasses
import secrets

import ape
import pytest

from hanzo.econ.attest import TrainingOp, sign_training_op
from hanzo.econ.fixedpoint import WAD
from hanzo.econ.hmm import HMMParams
from hanzo.econ.params import WEI

PARAMETER = 0


@pytest.fixture(scope="module")
def voters(suite, whale, users):
    """Two stakers whose 11M votes pass the 10M quorum."""
    for user, amount in zip(users[:2], (6_000_000, 5_000_000)):
        suite.token.transfer(user, amount * WEI, sender=whale)
        suite.token.approve(suite.staked, amount * WEI, sender=user)
        suite.staked.stake(amount * WEI, sender=user)
    return users[:2]


@pytest.fixture(scope="module")
def govern(suite, voters, params, chain):
    """Run `calls` [(contract, method, *args)] as one proposal through vote, queue and the timelock."""

    def advance(seconds):
        chain.pending_timestamp = chain.blocks.head.timestamp + seconds
        chain.mine()

    def _govern(calls, description=None):
        gov = suite.governor
        targets = [c.address for c, _, *_ in calls]
        calldatas = [getattr(c, m).encode_input(*args) for c, m, *args in calls]
        values = [0] * len(calls)
        description = description or f"governed change {secrets.token_hex(4)}"
        receipt = gov.proposeTyped(targets, values, calldatas, description, PARAMETER, sender=voters[0])
        pid = receipt.decode_logs(gov.ProposalCreated)[0].proposalId
        advance(params.voting_delay + 1)
        for v in voters:
            gov.castVote(pid, 1, sender=v)
        advance(params.voting_period)
        desc_hash = chain.provider.web3.keccak(text=description)
        gov.queue(targets, values, calldatas, desc_hash, sender=voters[0])
        advance(params.timelock_delay)
        return gov.execute(targets, values, calldatas, desc_hash, sender=voters[0])

    return _govern


def refused_to(contract, method, args, *accounts):
    for who in accounts:
        with ape.reverts(contract.AccessControlUnauthorizedAccount):
            getattr(contract, method)(*args, sender=who)


def test_market_parameters_change_only_through_governance(suite, govern, users, params):
    hmm = suite.hmm
    new = dataclasses.replace(HMMParams.from_tokenomics(params), buy_fee=WAD // 100).as_tuple()
    refused_to(hmm, "setParams", (new,), users[3], suite.roles.deployer)
    receipt = govern([(hmm, "setParams", new)])
    assert hmm.params().buyFee == WAD // 100
    assert receipt.decode_logs(hmm.ParamsChanged)


def test_a_governed_parameter_change_is_still_bounded(suite, govern, params):
    """Governance cannot set a sell fee under the intertemporal bound: the execution reverts."""
    hmm = suite.hmm
    bad = dataclasses.replace(HMMParams.from_tokenomics(params), sell_fee=WAD // 20).as_tuple()
    with pytest.raises(ape.exceptions.ContractLogicError):
        govern([(hmm, "setParams", bad)])
    assert hmm.params().sellFee == params.hmm_sell_fee


def test_tiers_are_added_only_through_governance(suite, govern, users):
    hmm = suite.hmm
    refused_to(hmm, "addTier", (10**15, 10**9), users[3], suite.roles.deployer)
    count = hmm.tierCount()
    receipt = govern([(hmm, "addTier", 10**15, 10**9)])
    assert hmm.tierCount() == count + 1
    assert receipt.decode_logs(hmm.TierAdded)[0].tier == count


def test_providers_are_granted_and_revoked_only_through_governance(suite, govern, users):
    hmm, provider = suite.hmm, users[3]
    role = hmm.PROVIDER_ROLE()
    refused_to(hmm, "grantRole", (role, provider), provider, suite.roles.deployer)
    govern([(hmm, "grantRole", role, provider.address)])
    hmm.offerCapacity(0, 1_000, 0, sender=provider)
    govern([(hmm, "revokeRole", role, provider.address)])
    with ape.reverts(hmm.NotProvider, provider=provider.address):
        hmm.offerCapacity(0, 1_000, 0, sender=provider)


def test_a_passed_proposal_cannot_add_a_minter(suite, govern, users):
    """The token has no admin after the handover (issue 16, finding 7): the minters are fixed at the
    wiring (the EmissionSchedule), and no proposal, outsider or deployer can add one."""
    token, minter = suite.token, users[3]
    role = token.MINTER_ROLE()
    refused_to(token, "grantRole", (role, minter), minter, suite.roles.deployer)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.mint(minter, 1, sender=minter)
    with pytest.raises(ape.exceptions.ContractLogicError):
        govern([(token, "grantRole", role, minter.address)])
    assert not token.hasRole(role, minter) and token.hasRole(role, suite.emission)
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.mint(minter, 5 * WEI, sender=minter)


def test_a_revoked_oracle_signature_pays_nothing(suite, govern, fork_of, users, chain, released, params):
    """Governance's emergency stop: it may revoke the oracle (never grant it: test_capture_paths)."""
    rewards, oracle = suite.rewards, suite.roles.oracle
    released(params.year_seconds)
    model = fork_of(users[4])
    op = TrainingOp(users[2].address, model, secrets.token_bytes(32), 1, 10, False, 7, 2**64)
    sig = sign_training_op(oracle.private_key, op, chain.chain_id, rewards.address)
    refused_to(rewards, "revokeRole", (rewards.ORACLE_ROLE(), oracle), users[3], suite.roles.deployer)
    govern([(rewards, "revokeRole", rewards.ORACLE_ROLE(), oracle.address)])
    with ape.reverts(rewards.InvalidSigner, recovered=oracle.address):
        rewards.rewardTraining(op.as_tuple(), sig, sender=users[2])
    assert not rewards.adapterPaid(model, op.adapterHash)


def test_an_oracle_that_renounces_its_role_can_no_longer_sign(suite, fork_of, users, chain, released, params):
    rewards, oracle = suite.rewards, suite.roles.oracle
    released(params.year_seconds)
    model = fork_of(users[4])
    rewards.renounceRole(rewards.ORACLE_ROLE(), oracle, sender=oracle)
    op = TrainingOp(users[2].address, model, secrets.token_bytes(32), 1, 10, False, 8, 2**64)
    sig = sign_training_op(oracle.private_key, op, chain.chain_id, rewards.address)
    with ape.reverts(rewards.InvalidSigner):
        rewards.rewardTraining(op.as_tuple(), sig, sender=users[2])


def test_the_voting_period_changes_through_governance_only_within_the_exit_window(suite, govern, users, params):
    gov = suite.governor
    with ape.reverts(gov.GovernorOnlyExecutor):
        gov.setVotingPeriod(params.voting_period - 1, sender=users[3])
    govern([(gov, "setVotingPeriod", params.voting_period - 86_400)])
    assert gov.votingPeriod() == params.voting_period - 86_400
    too_long = params.unstake_cooldown - params.timelock_delay + 1
    with pytest.raises(ape.exceptions.ContractLogicError):
        govern([(gov, "setVotingPeriod", too_long)])
    assert gov.votingPeriod() == params.voting_period - 86_400


def test_a_voting_period_that_fills_the_exit_window_exactly_is_refused(suite, govern, params):
    """Hole 5 (issue 16): under the defaults setVotingPeriod(8 days) made cooldown == period + delay,
    so a voter could withdraw in the second the proposal first executes. It is now refused (and, red
    team 16, the windows to queue and to execute count too: the period that fills the window is
    cooldown - delay - queue window - grace, 7.5 days)."""
    gov = suite.governor
    windows = params.proposal_queue_window + params.execution_grace_period
    exact = params.unstake_cooldown - params.timelock_delay - windows
    assert exact == 7.5 * 86_400
    with pytest.raises(ape.exceptions.ContractLogicError) as refused:
        govern([(gov, "setVotingPeriod", exact)])
    assert type(refused.value).__name__ in ("ExitBeforeExecution", "FailedCall")
    assert gov.votingPeriod() == params.voting_period
    govern([(gov, "setVotingPeriod", exact - 1)])
    assert gov.votingPeriod() == exact - 1


def test_the_timelock_delay_changes_through_governance_only_within_the_exit_window(suite, govern, params):
    """Hole 5 (issue 16): raising the timelock's delay was not checked against the cooldown at all."""
    timelock = suite.timelock
    exact = (params.unstake_cooldown - params.voting_period - params.proposal_queue_window
             - params.execution_grace_period)
    for delay in (exact, exact + 86_400):
        with pytest.raises(ape.exceptions.ContractLogicError):
            govern([(timelock, "updateDelay", delay)])
        assert timelock.getMinDelay() == params.timelock_delay
    receipt = govern([(timelock, "updateDelay", exact - 1)])
    assert timelock.getMinDelay() == exact - 1
    assert receipt.decode_logs(timelock.MinDelayChange)


def test_an_op_is_paid_at_its_deadline_and_refused_one_second_after(suite, fork_of, users, chain, released, params):
    rewards, oracle = suite.rewards, suite.roles.oracle
    released(params.year_seconds)
    model = fork_of(users[4])
    deadline = chain.pending_timestamp + 100

    def op(nonce):
        o = TrainingOp(users[2].address, model, secrets.token_bytes(32), 1, 10, False, nonce, deadline)
        return o, sign_training_op(oracle.private_key, o, chain.chain_id, rewards.address)

    at, late = op(101), op(102)
    chain.pending_timestamp = deadline
    rewards.rewardTraining(at[0].as_tuple(), at[1], sender=users[2])
    chain.pending_timestamp = deadline + 1
    with ape.reverts(rewards.OpExpired, deadline=deadline, nowTimestamp=deadline + 1):
        rewards.rewardTraining(late[0].as_tuple(), late[1], sender=users[2])


def test_a_trade_is_accepted_at_its_deadline_and_refused_one_second_after(suite, fund, users, chain):
    hmm, trader = suite.hmm, users[3]
    fund(trader, 1_000)
    suite.token.approve(hmm, 2**256 - 1, sender=trader)
    deadline = chain.pending_timestamp + 50
    chain.pending_timestamp = deadline
    hmm.buy(0, 1_000, 2**255, deadline, sender=trader)
    chain.pending_timestamp = deadline + 1
    with ape.reverts(hmm.Expired, deadline=deadline):
        hmm.buy(0, 1_000, 2**255, deadline, sender=trader)


def test_a_credit_receiver_cannot_sell_inside_its_own_purchase(attack_contracts, suite, fund, users):
    """ERC1155 credits reach a contract through onERC1155Received, after the buy's state is written
    but inside the buy: a re-entrant sell is refused, and the whole purchase with it."""
    hmm = suite.hmm
    buyer = attack_contracts["ReentrantCreditBuyer"].deploy(hmm, suite.token, sender=users[3])
    fund(buyer, 10_000)
    with ape.reverts(hmm.ReentrancyGuardReentrantCall):
        buyer.attack(0, 10**6, True, sender=users[3])
    assert hmm.balanceOf(buyer, 0) == 0 and hmm.tier(0).supply == 0
    buyer.attack(0, 10**6, False, sender=users[3])  # the same receiver, not re-entering, buys
    assert hmm.balanceOf(buyer, 0) == 10**6
    assert hmm.costBasis(buyer, 0) == hmm.reserve()


def test_a_fork_receiver_that_mints_again_pays_for_both_forks(attack_contracts, suite, fund, users, oracle):
    """ERC721 forks reach a contract through onERC721Received; a re-entrant mint is a second,
    fully paid mint with its own id, never a free one."""
    models = suite.models
    models.registerBaseModel(1, 0, sender=oracle)
    fee = models.mintFee(1)
    minter = attack_contracts["ReentrantForkMinter"].deploy(models, suite.token, sender=users[3])
    fund(minter, 3 * fee / WEI)
    before = suite.token.balanceOf(minter)
    minter.attack(1, sender=users[3])
    assert minter.receivedCount() == 2 and models.balanceOf(minter) == 2
    assert {minter.received(0), minter.received(1)} == {1, 2} == {models.totalForks() - 1, models.totalForks()}
    assert before - suite.token.balanceOf(minter) == 2 * fee
