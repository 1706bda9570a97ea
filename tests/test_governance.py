"""StakedHanzo and HanzoGovernor: voting power, cooldown, deposits, and full proposal lifecycles."""

from __future__ import annotations

import ape
import pytest

from hanzo.econ.params import WEI
from hanzo.econ.reference import deposit_outcome

FOR, AGAINST = 1, 0
PARAMETER, MODEL_UPGRADE, TOKENOMICS, TREASURY = 0, 1, 2, 3


@pytest.fixture(scope="module")
def stakers(suite, whale, users):
    """users[0] stakes 6M (can propose, not reach quorum alone), users[1] 5M, users[2] 200k."""
    token, staked = suite.token, suite.staked
    for user, amount in zip(users[:3], (6_000_000, 5_000_000, 200_000)):
        token.transfer(user, amount * WEI, sender=whale)
        token.approve(staked, amount * WEI, sender=user)
        staked.stake(amount * WEI, sender=user)
    return users[:3]


def _treasury_proposal(suite, recipient, amount):
    targets = [suite.treasury.address]
    calldatas = [suite.treasury.release.encode_input(recipient, amount)]
    return targets, [0], calldatas


def _advance(chain, seconds):
    chain.pending_timestamp = chain.blocks.head.timestamp + seconds
    chain.mine()


def test_stake_gives_checkpointed_votes_and_is_not_transferable(suite, stakers, chain):
    staked = suite.staked
    assert staked.getVotes(stakers[0]) == 6_000_000 * WEI
    assert staked.delegates(stakers[0]) == stakers[0].address
    assert staked.CLOCK_MODE() == "mode=timestamp"
    with ape.reverts(staked.NonTransferable):
        staked.transfer(stakers[1], 1, sender=stakers[0])


def test_unstake_burns_votes_now_and_pays_after_cooldown(suite, stakers, params, chain):
    staked, token = suite.staked, suite.token
    user = stakers[2]
    staked.requestUnstake(50_000 * WEI, sender=user)
    assert staked.getVotes(user) == 150_000 * WEI
    with ape.reverts(staked.WithdrawalNotReady):
        staked.withdraw(sender=user)
    _advance(chain, params.unstake_cooldown)
    before = token.balanceOf(user)
    staked.withdraw(sender=user)
    assert token.balanceOf(user) - before == 50_000 * WEI
    with ape.reverts(staked.WithdrawalNotReady, readyAt=0):
        staked.withdraw(sender=user)
    with ape.reverts(staked.InsufficientUnlockedStake):
        staked.requestUnstake(10**30, sender=user)


def test_deposit_functions_need_deposit_role(suite, stakers):
    staked = suite.staked
    for call in (staked.lock, staked.release, staked.slash):
        with ape.reverts(staked.AccessControlUnauthorizedAccount):
            call(stakers[0], 1, sender=stakers[0])


def test_full_lifecycle_propose_vote_queue_execute_returns_deposit(suite, stakers, params, chain):
    gov, token, staked = suite.governor, suite.token, suite.staked
    proposer, recipient = stakers[0], stakers[2]
    targets, values, calldatas = _treasury_proposal(suite, recipient.address, 1_000 * WEI)
    description = "Treasury: fund the first compute grant"
    receipt = gov.proposeTyped(targets, values, calldatas, description, TREASURY, sender=proposer)
    pid = receipt.decode_logs(gov.ProposalCreated)[0].proposalId
    assert gov.proposalDepositOf(pid) == (TREASURY, params.proposal_deposit)
    assert staked.locked(proposer) == params.proposal_deposit
    with ape.reverts(gov.DepositNotSettleable):
        gov.settleDeposit(pid, sender=recipient)

    _advance(chain, params.voting_delay + 1)
    gov.castVote(pid, FOR, sender=stakers[0])
    gov.castVote(pid, FOR, sender=stakers[1])  # 11M For: quorum of 10M reached
    _advance(chain, params.voting_period)
    assert gov.state(pid) == 4  # Succeeded
    desc_hash = chain.provider.web3.keccak(text=description)
    gov.queue(targets, values, calldatas, desc_hash, sender=recipient)
    _advance(chain, params.timelock_delay)
    before = token.balanceOf(recipient)
    gov.execute(targets, values, calldatas, desc_hash, sender=recipient)
    assert gov.state(pid) == 7  # Executed
    assert token.balanceOf(recipient) - before == 1_000 * WEI

    supply = token.totalSupply()
    receipt = gov.settleDeposit(pid, sender=recipient)
    returned, burned = deposit_outcome(params, "Executed")
    assert staked.locked(proposer) == 0 and staked.balanceOf(proposer) == 6_000_000 * WEI
    assert token.totalSupply() == supply and burned == 0 and returned == params.proposal_deposit
    assert not receipt.decode_logs(gov.DepositSettled)[0].burned
    with ape.reverts(gov.NoDeposit):
        gov.settleDeposit(pid, sender=recipient)


def test_defeated_proposal_burns_its_deposit(suite, stakers, params, chain):
    gov, token, staked = suite.governor, suite.token, suite.staked
    proposer = stakers[0]
    targets, values, calldatas = _treasury_proposal(suite, proposer.address, 10**6 * WEI)
    pid = gov.proposeTyped(targets, values, calldatas, "Treasury: pay me", TREASURY,
                           sender=proposer).decode_logs(gov.ProposalCreated)[0].proposalId
    _advance(chain, params.voting_delay + 1)
    gov.castVote(pid, AGAINST, sender=stakers[1])
    gov.castVote(pid, FOR, sender=stakers[0])  # 6M For < quorum of 10M: Defeated
    _advance(chain, params.voting_period)
    assert gov.state(pid) == 3  # Defeated
    supply, staked_supply = token.totalSupply(), staked.totalSupply()
    gov.settleDeposit(pid, sender=stakers[2])
    returned, burned = deposit_outcome(params, "Defeated")
    assert returned == 0
    assert supply - token.totalSupply() == burned == params.proposal_deposit
    assert staked_supply - staked.totalSupply() == burned
    assert staked.balanceOf(proposer) == 6_000_000 * WEI - burned
    assert staked.locked(proposer) == 0


def test_deposit_is_locked_and_cannot_be_unstaked(suite, stakers, params):
    gov, staked = suite.governor, suite.staked
    proposer = stakers[0]
    targets, values, calldatas = _treasury_proposal(suite, proposer.address, 1)
    gov.propose(targets, values, calldatas, "Parameter: nothing", sender=proposer)
    unlocked = staked.balanceOf(proposer) - params.proposal_deposit
    with ape.reverts(staked.InsufficientUnlockedStake, requested=unlocked + 1, unlocked=unlocked):
        staked.requestUnstake(unlocked + 1, sender=proposer)


def test_propose_below_threshold_reverts(suite, users, whale, params):
    gov, token, staked = suite.governor, suite.token, suite.staked
    small = users[3]
    token.transfer(small, 99_999 * WEI, sender=whale)
    token.approve(staked, 99_999 * WEI, sender=small)
    staked.stake(99_999 * WEI, sender=small)
    targets, values, calldatas = _treasury_proposal(suite, small.address, 1)
    with ape.reverts(gov.GovernorInsufficientProposerVotes):
        gov.propose(targets, values, calldatas, "too small", sender=small)


def test_flash_staked_votes_in_the_same_block_count_zero(suite, stakers, attack_contracts, whale, params, chain):
    gov, token = suite.governor, suite.token
    targets, values, calldatas = _treasury_proposal(suite, stakers[0].address, 1)
    pid = gov.propose(targets, values, calldatas, "Parameter: flash test",
                      sender=stakers[0]).decode_logs(gov.ProposalCreated)[0].proposalId
    _advance(chain, params.voting_delay + 1)
    attacker = attack_contracts["FlashStakeVoter"].deploy(sender=whale)
    token.transfer(attacker, 30_000_000 * WEI, sender=whale)  # "borrowed": 3x the quorum
    receipt = attacker.stakeAndVote(token, suite.staked, gov, pid, sender=whale)
    [vote] = receipt.decode_logs(gov.VoteCast)
    assert vote.weight == 0
    assert gov.proposalVotes(pid) == (0, 0, 0)


def test_governance_settings_change_only_through_governance(suite, stakers):
    with ape.reverts(suite.governor.GovernorOnlyExecutor):
        suite.governor.setVotingPeriod(1, sender=stakers[0])
    with ape.reverts(suite.timelock.AccessControlUnauthorizedAccount):
        suite.timelock.schedule(stakers[0], 0, b"", b"\x00" * 32, b"\x00" * 32, 10**6, sender=stakers[0])


def test_a_voter_who_unstakes_after_the_snapshot_is_still_locked_when_the_proposal_executes(suite, stakers, params,
                                                                                           chain):
    """Finding 5: with a 7-day cooldown under a 7-day vote and a 2-day timelock, a voter could vote,
    exit, and be gone before what it voted for ran. The cooldown now covers both."""
    gov, staked = suite.governor, suite.staked
    assert params.unstake_cooldown >= params.voting_period + params.timelock_delay
    targets, values, calldatas = _treasury_proposal(suite, stakers[2].address, 1 * WEI)
    description = "Treasury: vote and run"
    pid = gov.proposeTyped(targets, values, calldatas, description, TREASURY,
                           sender=stakers[0]).decode_logs(gov.ProposalCreated)[0].proposalId
    _advance(chain, params.voting_delay + 1)
    voter = stakers[1]
    staked.requestUnstake(staked.balanceOf(voter), sender=voter)  # right after the snapshot
    gov.castVote(pid, FOR, sender=stakers[0])
    gov.castVote(pid, FOR, sender=voter)  # the snapshot's votes still count
    _advance(chain, params.voting_period)
    desc_hash = chain.provider.web3.keccak(text=description)
    gov.queue(targets, values, calldatas, desc_hash, sender=voter)
    _advance(chain, params.timelock_delay)
    with ape.reverts(staked.WithdrawalNotReady):
        staked.withdraw(sender=voter)
    gov.execute(targets, values, calldatas, desc_hash, sender=voter)
    with ape.reverts(staked.WithdrawalNotReady):  # still exposed in the block that executes
        staked.withdraw(sender=voter)


def test_a_governor_whose_voters_could_exit_before_execution_cannot_be_deployed_or_configured(project, suite, accounts,
                                                                                               params):
    d = accounts[0]
    short = project.StakedHanzo.deploy(suite.token, d, params.voting_period + params.timelock_delay - 1, sender=d)
    with pytest.raises(ape.exceptions.ContractLogicError) as refused:
        project.HanzoGovernor.deploy(short, suite.timelock, params.voting_delay, params.voting_period,
                                     params.proposal_threshold, params.quorum, params.proposal_deposit,
                                     params.proposal_queue_window, sender=d)
    assert type(refused.value).__name__ == "ExitBeforeExecution"
    assert refused.value.inputs == {"votingPeriod": params.voting_period, "timelockDelay": params.timelock_delay,
                                    "cooldown": params.voting_period + params.timelock_delay - 1}


def test_parameters_refuse_a_cooldown_shorter_than_voting_and_timelock(params):
    from hanzo.econ.params import DAY, ParameterError

    with pytest.raises(ParameterError, match="unstake_cooldown: must be longer than voting_period"):
        params.replace(unstake_cooldown=7 * DAY)


def test_parameters_refuse_a_cooldown_equal_to_voting_and_timelock(params):
    """Hole 5 (issue 16): at equality a voter withdraws in the second the proposal can first execute."""
    from hanzo.econ.params import ParameterError

    latest = params.voting_period + params.proposal_queue_window + params.timelock_delay + params.execution_grace_period
    with pytest.raises(ParameterError, match="unstake_cooldown: must be longer than voting_period"):
        params.replace(unstake_cooldown=latest)
    params.replace(unstake_cooldown=latest + 1)


def test_a_governor_whose_voters_could_exit_in_the_second_of_execution_cannot_be_deployed(project, suite, accounts,
                                                                                        params):
    """Hole 5 (issue 16): cooldown == voting period + timelock delay was accepted (and, red team 16,
    the windows to queue and to execute count too: the latest execution is what the cooldown must pass)."""
    d = accounts[0]
    window = params.voting_period + params.proposal_queue_window + params.timelock_delay + params.execution_grace_period
    equal = project.StakedHanzo.deploy(suite.token, d, window, sender=d)
    with pytest.raises(ape.exceptions.ContractLogicError) as refused:
        project.HanzoGovernor.deploy(equal, suite.timelock, params.voting_delay, params.voting_period,
                                     params.proposal_threshold, params.quorum, params.proposal_deposit,
                                     params.proposal_queue_window, sender=d)
    assert type(refused.value).__name__ == "ExitBeforeExecution"
    longer = project.StakedHanzo.deploy(suite.token, d, window + 1, sender=d)
    project.HanzoGovernor.deploy(longer, suite.timelock, params.voting_delay, params.voting_period,
                                 params.proposal_threshold, params.quorum, params.proposal_deposit,
                                 params.proposal_queue_window, sender=d)


def test_at_the_exit_window_the_earliest_execution_comes_before_the_earliest_withdrawal(suite, stakers, params,
                                                                                        chain):
    """The arithmetic the strict rule rests on, on the chain: a voter unstaking at snapshot + 1 (the
    first second that keeps its vote) is ready at snapshot + 1 + cooldown; the proposal executes at
    snapshot + period + delay + 1 at the earliest, which is before it exactly when the rule holds."""
    gov, staked = suite.governor, suite.staked
    targets, values, calldatas = _treasury_proposal(suite, stakers[2].address, 1 * WEI)
    description = "Treasury: earliest execution"
    pid = gov.proposeTyped(targets, values, calldatas, description, TREASURY,
                           sender=stakers[0]).decode_logs(gov.ProposalCreated)[0].proposalId
    snapshot, deadline = gov.proposalSnapshot(pid), gov.proposalDeadline(pid)
    chain.pending_timestamp = snapshot + 1
    voter = stakers[1]
    ready_at = staked.requestUnstake(staked.balanceOf(voter), sender=voter).decode_logs(
        staked.UnstakeRequested)[0].readyAt
    gov.castVote(pid, FOR, sender=stakers[0])
    gov.castVote(pid, FOR, sender=voter)
    chain.pending_timestamp = deadline + 1
    desc_hash = chain.provider.web3.keccak(text=description)
    gov.queue(targets, values, calldatas, desc_hash, sender=voter)
    earliest = deadline + 1 + params.timelock_delay
    assert earliest == snapshot + params.voting_period + params.timelock_delay + 1
    assert ready_at == snapshot + 1 + params.unstake_cooldown > earliest
    chain.pending_timestamp = earliest
    gov.execute(targets, values, calldatas, desc_hash, sender=voter)
    with ape.reverts(staked.WithdrawalNotReady):
        staked.withdraw(sender=voter)


def test_the_timelock_is_bound_once_to_the_governors_exit_window(suite, stakers):
    timelock = suite.timelock
    assert timelock.exitWindow() == suite.governor.address
    with ape.reverts(timelock.AccessControlUnauthorizedAccount):
        timelock.bindExitWindow(stakers[0], sender=stakers[0])
    with ape.reverts(timelock.TimelockUnauthorizedCaller):
        timelock.updateDelay(0, sender=stakers[0])
    with ape.reverts(suite.governor.ExitBeforeExecution):
        suite.governor.checkTimelockDelay(suite.staked.cooldown() - suite.governor.votingPeriod())


EXPIRED, QUEUED, SUCCEEDED = 6, 5, 4  # OpenZeppelin's ProposalState


def _passed(suite, stakers, chain, params, description):
    gov = suite.governor
    targets, values, calldatas = _treasury_proposal(suite, stakers[2].address, 1 * WEI)
    pid = gov.proposeTyped(targets, values, calldatas, description, TREASURY,
                           sender=stakers[0]).decode_logs(gov.ProposalCreated)[0].proposalId
    chain.pending_timestamp = gov.proposalSnapshot(pid) + 1
    gov.castVote(pid, FOR, sender=stakers[0])
    gov.castVote(pid, FOR, sender=stakers[1])
    chain.pending_timestamp = gov.proposalDeadline(pid) + 1
    chain.mine()
    assert gov.state(pid) == SUCCEEDED
    return pid, (targets, values, calldatas, chain.provider.web3.keccak(text=description))


def test_a_passed_proposal_not_queued_within_its_window_expires_and_burns_its_deposit(suite, stakers, params, chain):
    """Red team 16: a Succeeded proposal never expired, so the voters who passed it could withdraw their
    stake and only then queue and run it. Now it must be queued within proposal_queue_window."""
    gov = suite.governor
    pid, call = _passed(suite, stakers, chain, params, "Treasury: queue late")
    chain.pending_timestamp = gov.proposalDeadline(pid) + params.proposal_queue_window + 1
    chain.mine()
    assert gov.state(pid) == EXPIRED
    with ape.reverts(gov.GovernorUnexpectedProposalState):
        gov.queue(*call, sender=stakers[1])
    assert gov.settleDeposit(pid, sender=stakers[1]).decode_logs(gov.DepositSettled)[0].burned


def test_a_queued_operation_not_executed_within_its_grace_period_expires_on_both_paths(suite, stakers, params, chain):
    """Neither the Governor nor the timelock (whose execution is open to anyone) runs it late."""
    gov, timelock = suite.governor, suite.timelock
    pid, call = _passed(suite, stakers, chain, params, "Treasury: run late")
    gov.queue(*call, sender=stakers[1])
    eta = gov.proposalEta(pid)
    chain.pending_timestamp = eta + params.execution_grace_period + 1
    chain.mine()
    assert gov.state(pid) == EXPIRED
    with ape.reverts(gov.GovernorUnexpectedProposalState):
        gov.execute(*call, sender=stakers[1])
    targets, values, calldatas, desc_hash = call
    # the Governor's salt for the timelock: bytes20(its address) XOR the description's hash
    salt = bytes(a ^ b for a, b in zip(bytes.fromhex(gov.address[2:]).ljust(32, b"\0"), bytes(desc_hash)))
    with ape.reverts(timelock.OperationExpired):
        timelock.executeBatch(targets, values, calldatas, bytes(32), salt, sender=stakers[1])


def test_a_queued_operation_executes_within_its_grace_period(suite, stakers, params, chain):
    gov = suite.governor
    pid, call = _passed(suite, stakers, chain, params, "Treasury: run in time")
    gov.queue(*call, sender=stakers[1])
    chain.pending_timestamp = gov.proposalEta(pid) + params.execution_grace_period
    before = suite.token.balanceOf(stakers[2])
    gov.execute(*call, sender=stakers[1])
    assert suite.token.balanceOf(stakers[2]) - before == 1 * WEI and gov.state(pid) == 7
