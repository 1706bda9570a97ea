// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The few Foundry cheatcodes the invariant suites use (no forge-std: offline, from npm).
interface Vm {
    /// @notice An event recorded since recordLogs.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256 timestamp) external;
    function prank(address sender) external;
    function envUint(string calldata name) external view returns (uint256);
    function envAddress(string calldata name) external view returns (address);
    function envString(string calldata name) external view returns (string memory);
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function createSelectFork(string calldata url) external returns (uint256);
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// @dev The cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
Vm constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

/// @dev x mapped into [lo, hi] (fuzz inputs are whole uint256s).
function bound(uint256 x, uint256 lo, uint256 hi) pure returns (uint256) {
    return lo + x % (hi - lo + 1);
}
