// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title HanzoTimelock: the executor of governance and the admin of every contract
/// @notice OpenZeppelin's TimelockController, unchanged. The Governor is its only proposer and
///         canceller; anyone may execute a queued operation once its delay has passed. It holds
///         the Community Treasury.
contract HanzoTimelock is TimelockController {
    /// @param minDelay Seconds between queueing and execution.
    /// @param proposers Accounts allowed to queue (the Governor, granted after its deployment).
    /// @param executors Accounts allowed to execute (address(0): anyone).
    /// @param admin Temporary admin for wiring; renounced at the end of deployment.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
