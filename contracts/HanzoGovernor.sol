// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {StakedHanzo} from "./StakedHanzo.sol";

/// @notice The timelock's execution grace period (HanzoTimelock).
interface IGracePeriod {
    function gracePeriod() external view returns (uint256);
}

/// @title HanzoGovernor: staked-HANZO governance with typed proposals and burnable deposits
/// @notice OpenZeppelin Governor over sHANZO votes (timestamp clock), executed through a timelock.
///         Proposing needs `proposalThreshold()` votes and locks `proposalDeposit` of the
///         proposer's stake. Once the proposal is settled anyone may call settleDeposit: a
///         Defeated or Expired proposal burns the deposit, any other outcome returns it
///         (tokenomics D5). Quorum is an absolute number of votes, not a fraction of supply.
/// @dev With GovernorTimelockControl a proposal never reaches Expired (only the Compound
///      timelock has a grace period); the branch stays so that the rule reads as designed.
contract HanzoGovernor is Governor, GovernorSettings, GovernorCountingSimple, GovernorVotes, GovernorTimelockControl {
    /// @notice What a proposal is about. `propose` without a type records Parameter.
    enum ProposalType {
        Parameter,
        ModelUpgrade,
        TokenomicsChange,
        Treasury
    }

    /// @notice A proposal's type and its locked deposit (zero once settled).
    struct ProposalDeposit {
        ProposalType kind;
        uint128 amount;
    }

    /// @notice The staking contract whose stake is locked as deposit.
    StakedHanzo public immutable stakedHanzo;
    /// @notice Stake locked per proposal (wei of sHANZO).
    uint256 public immutable proposalDeposit;
    /// @notice Seconds after a proposal's vote ends during which it may be queued; then it expires.
    uint256 public immutable queueWindow;
    uint256 private immutable _quorumVotes;

    mapping(uint256 proposalId => ProposalDeposit) private _deposits;
    ProposalType private transient _pendingType;

    /// @notice A proposal was given its type and its deposit was locked.
    event ProposalTyped(uint256 indexed proposalId, ProposalType kind, uint256 deposit);
    /// @notice A proposal's deposit was burned (`burned`) or returned.
    event DepositSettled(uint256 indexed proposalId, address indexed proposer, uint256 amount, bool burned);

    /// @notice The proposal has no unsettled deposit.
    error NoDeposit(uint256 proposalId);
    /// @notice The unstake cooldown is not longer than voting period plus timelock delay.
    error ExitBeforeExecution(uint256 votingPeriod, uint256 timelockDelay, uint256 cooldown);
    /// @notice `relay` is disabled.
    error RelayDisabled();
    /// @notice The proposal is still Pending or Active.
    error DepositNotSettleable(uint256 proposalId, ProposalState state);

    /// @param staked sHANZO (voting power and deposits); this Governor needs its DEPOSIT_ROLE.
    /// @param timelock Executor of passed proposals.
    /// @param votingDelay_ Seconds from proposal to snapshot.
    /// @param votingPeriod_ Seconds of voting.
    /// @param threshold Votes needed to propose (wei).
    /// @param quorumVotes Absolute quorum (wei of votes).
    /// @param deposit Stake locked per proposal (wei).
    /// @param queueWindow_ Seconds after the vote ends during which a passed proposal may be queued.
    constructor(
        StakedHanzo staked,
        TimelockController timelock,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 threshold,
        uint256 quorumVotes,
        uint256 deposit,
        uint256 queueWindow_
    )
        Governor("HanzoGovernor")
        GovernorSettings(votingDelay_, votingPeriod_, threshold)
        GovernorVotes(IVotes(address(staked)))
        GovernorTimelockControl(timelock)
    {
        stakedHanzo = staked;
        proposalDeposit = deposit;
        _quorumVotes = quorumVotes;
        queueWindow = queueWindow_;
        _checkExitWindow(votingPeriod_, timelock.getMinDelay(), staked.cooldown());
    }

    /// @notice Change the voting period. Only governance. Refused if a voter could then unstake
    ///         and withdraw before the proposal it voted for executes.
    function setVotingPeriod(uint32 newVotingPeriod) public override onlyGovernance {
        _checkExitWindow(newVotingPeriod, TimelockController(payable(timelock())).getMinDelay(), stakedHanzo.cooldown());
        _setVotingPeriod(newVotingPeriod);
    }

    /// @notice Reverts ExitBeforeExecution unless a timelock delay of `newDelay` seconds, with the
    ///         current voting period, keeps every voter staked until a proposal can execute.
    ///         HanzoTimelock calls it from `updateDelay`, so the delay is held to the same rule.
    function checkTimelockDelay(uint256 newDelay) external view {
        _checkExitWindow(votingPeriod(), newDelay, stakedHanzo.cooldown());
    }

    /// @dev Votes count at the snapshot s (a checkpoint at s itself counts), so the earliest unstake
    ///      that keeps its vote is at s + 1 and its HANZO is free at s + 1 + cooldown. The proposal
    ///      is Succeeded from s + period + 1, may be queued until s + period + queueWindow (then it
    ///      expires: `state`), is ready `delay` after it is queued and executes at most the
    ///      timelock's grace period after that (then it expires). So the latest execution is
    ///      s + period + queueWindow + delay + grace, and the cooldown must be strictly longer than
    ///      period + queueWindow + delay + grace: every voter is still staked when what it voted for
    ///      runs, whoever picks the time (red team 16: with no expiry, the voters withdrew and only
    ///      then queued and executed). The voting delay moves s only, so it does not enter.
    function _checkExitWindow(uint256 period, uint256 delay, uint256 cooldown) private view {
        uint256 grace = IGracePeriod(timelock()).gracePeriod();
        if (period + queueWindow + delay + grace >= cooldown) revert ExitBeforeExecution(period, delay, cooldown);
    }

    /// @notice Propose with an explicit type. Same checks and deposit as `propose`.
    function proposeTyped(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        ProposalType kind
    ) external returns (uint256) {
        _pendingType = kind;
        return propose(targets, values, calldatas, description);
    }

    /// @notice A proposal's type and its unsettled deposit.
    function proposalDepositOf(uint256 proposalId) external view returns (ProposalType kind, uint256 amount) {
        ProposalDeposit memory d = _deposits[proposalId];
        return (d.kind, d.amount);
    }

    /// @notice Burn (Defeated, Expired) or return (any other final or passed state) the deposit
    ///         of `proposalId`. Anyone may call, once per proposal.
    function settleDeposit(uint256 proposalId) external returns (bool burned) {
        ProposalDeposit storage d = _deposits[proposalId];
        uint256 amount = d.amount;
        if (amount == 0) revert NoDeposit(proposalId);
        ProposalState s = state(proposalId);
        if (s == ProposalState.Pending || s == ProposalState.Active) revert DepositNotSettleable(proposalId, s);
        d.amount = 0;
        address proposer = proposalProposer(proposalId);
        burned = s == ProposalState.Defeated || s == ProposalState.Expired;
        if (burned) stakedHanzo.slash(proposer, amount);
        else stakedHanzo.release(proposer, amount);
        emit DepositSettled(proposalId, proposer, amount, burned);
    }

    /// @notice Refused: a proposal cannot act as the Governor. The Governor holds StakedHanzo's
    ///         DEPOSIT_ROLE, and `relay` let a passed proposal lock and slash (burn) any staker's
    ///         stake, and its votes with it (issue 16, finding 7: a captured governance). The
    ///         Governor needs no other call of its own: what governance runs, the timelock runs
    ///         (HANZO sent to the Governor by mistake stays there).
    function relay(address, uint256, bytes calldata) public payable override onlyGovernance {
        revert RelayDisabled();
    }

    /// @notice Absolute quorum, whatever the timepoint.
    function quorum(uint256) public view override returns (uint256) {
        return _quorumVotes;
    }

    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        ProposalType kind = _pendingType;
        _pendingType = ProposalType.Parameter;
        uint256 deposit = proposalDeposit;
        _deposits[proposalId] = ProposalDeposit(kind, uint128(deposit));
        if (deposit != 0) stakedHanzo.lock(proposer, deposit);
        emit ProposalTyped(proposalId, kind, deposit);
    }

    // ---- overrides required by Solidity for the OpenZeppelin modules

    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @notice A proposal's state; a passed proposal not queued within `queueWindow` of its vote's
    ///         end, or queued and not executed within the timelock's grace period of its eta, is
    ///         Expired (and its deposit burned: settleDeposit).
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        ProposalState s = super.state(proposalId);
        if (s == ProposalState.Succeeded && clock() > proposalDeadline(proposalId) + queueWindow) {
            return ProposalState.Expired;
        }
        if (s == ProposalState.Queued && block.timestamp > proposalEta(proposalId) + IGracePeriod(timelock()).gracePeriod()) {
            return ProposalState.Expired;
        }
        return s;
    }

    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
