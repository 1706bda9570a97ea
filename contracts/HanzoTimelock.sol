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
///         anyone may execute a queued operation once its delay has passed. Once bound to the
///         Governor (at deployment, once), a change of its delay must pass the Governor's exit
///         window rule: unstake cooldown > voting period + delay.
contract HanzoTimelock is TimelockController {
    /// @notice The Governor whose exit-window rule `updateDelay` must pass (zero until bound).
    IExitWindow public exitWindow;

    /// @notice The timelock was bound to `governor`'s exit-window rule.
    event ExitWindowBound(address indexed governor);

    /// @notice The exit window is already bound, or the address given is zero.
    error ExitWindowNotBindable();

    /// @param minDelay Seconds between queueing and execution.
    /// @param proposers Accounts allowed to queue (the Governor, granted after its deployment).
    /// @param executors Accounts allowed to execute (address(0): anyone).
    /// @param admin Temporary admin for wiring; renounced at the end of deployment.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}

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
