// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @notice What the timelock asks before changing its delay: the Governor's exit-window rule.
interface IExitWindow {
    /// @notice Reverts unless a timelock delay of `newDelay` seconds keeps voters staked until execution.
    function checkTimelockDelay(uint256 newDelay) external view;
}

/// @title HanzoTimelock: the executor of governance and the admin of every contract
/// @notice OpenZeppelin's TimelockController. The Governor is its only proposer and canceller;
///         anyone may execute a queued operation once its delay has passed, and until
///         `gracePeriod` after that: then it expires. Once bound to the Governor (at deployment,
///         once), a change of its delay must pass the Governor's exit window rule: unstake
///         cooldown > voting period + queue window + delay + grace period.
/// @dev Invariant: an operation executes in [ready, ready + gracePeriod]. Without the upper bound
///      the voters who passed a proposal could withdraw their stake and only then execute it
///      (red team, round 16): the exit window bounded the earliest execution, not the execution.
contract HanzoTimelock is TimelockController {
    /// @notice Seconds after an operation is ready during which it may execute; after, it expires.
    uint256 public immutable gracePeriod;

    /// @notice The Governor whose exit-window rule `updateDelay` must pass (zero until bound).
    IExitWindow public exitWindow;

    /// @notice The timelock was bound to `governor`'s exit-window rule.
    event ExitWindowBound(address indexed governor);

    /// @notice The exit window is already bound, or the address given is zero.
    error ExitWindowNotBindable();
    /// @notice Operation `id` was executable until `expiredAt` and has expired.
    error OperationExpired(bytes32 id, uint256 expiredAt);
    /// @notice A grace period of zero would leave no second to execute in.
    error ZeroGracePeriod();

    /// @param minDelay Seconds between queueing and execution.
    /// @param gracePeriod_ Seconds after an operation is ready during which it may execute.
    /// @param proposers Accounts allowed to queue (the Governor, granted after its deployment).
    /// @param executors Accounts allowed to execute (address(0): anyone).
    /// @param admin Temporary admin for wiring; renounced at the end of deployment.
    constructor(uint256 minDelay, uint256 gracePeriod_, address[] memory proposers, address[] memory executors,
                address admin) TimelockController(minDelay, proposers, executors, admin)
    {
        if (gracePeriod_ == 0) revert ZeroGracePeriod();
        gracePeriod = gracePeriod_;
    }

    /// @notice Execute a ready operation (anyone), at most `gracePeriod` after it became ready.
    function execute(address target, uint256 value, bytes calldata payload, bytes32 predecessor, bytes32 salt)
        public
        payable
        override
    {
        _checkNotExpired(hashOperation(target, value, payload, predecessor, salt));
        super.execute(target, value, payload, predecessor, salt);
    }

    /// @notice Execute a ready batch (anyone), at most `gracePeriod` after it became ready.
    function executeBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt
    ) public payable override {
        _checkNotExpired(hashOperationBatch(targets, values, payloads, predecessor, salt));
        super.executeBatch(targets, values, payloads, predecessor, salt);
    }

    /// @dev getTimestamp: 0 unset, 1 done (the base contract's checks name those), else when ready.
    function _checkNotExpired(bytes32 id) private view {
        uint256 readyAt = getTimestamp(id);
        if (readyAt > 1 && block.timestamp > readyAt + gracePeriod) revert OperationExpired(id, readyAt + gracePeriod);
    }

    /// @notice Bind the delay to `governor`'s exit-window rule. Once; only DEFAULT_ADMIN_ROLE
    ///         (the deployer during wiring, before it renounces).
    function bindExitWindow(IExitWindow governor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(exitWindow) != address(0) || address(governor) == address(0)) revert ExitWindowNotBindable();
        exitWindow = governor;
        emit ExitWindowBound(address(governor));
    }

    /// @notice Change the delay (only the timelock itself, i.e. through a passed proposal); refused
    ///         (the Governor's ExitBeforeExecution) if a voter could then withdraw before execution.
    function updateDelay(uint256 newDelay) public override {
        if (msg.sender != address(this)) revert TimelockUnauthorizedCaller(msg.sender);
        IExitWindow guard = exitWindow;
        if (address(guard) != address(0)) guard.checkTimelockDelay(newDelay);
        super.updateDelay(newDelay);
    }
}
