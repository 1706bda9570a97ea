// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HanzoToken} from "./HanzoToken.sol";

/// @title Genesis: the one-time mint of the initial allocations
/// @notice The allocations are fixed at construction and public before they are minted; anyone
///         may execute them once the contract holds MINTER_ROLE. It renounces the role after.
contract Genesis {
    /// @notice The token being allocated.
    HanzoToken public immutable token;
    /// @notice Whether the allocations have been minted.
    bool public executed;

    bytes32[] private _labels;
    address[] private _recipients;
    uint256[] private _amounts;

    /// @notice One allocation was minted.
    event GenesisAllocated(bytes32 indexed label, address indexed recipient, uint256 amount);
    /// @notice All allocations were minted; `total` is their sum.
    event GenesisExecuted(uint256 total);

    /// @notice execute() was called a second time.
    error AlreadyExecuted();
    /// @notice The allocation arrays differ in length or are empty.
    error BadAllocations();
    /// @notice An allocation has the zero address as recipient.
    error ZeroRecipient(uint256 index);

    /// @param token_ The HANZO token.
    /// @param labels Names of the allocations (for example "TEAM_VESTING"), for the events.
    /// @param recipients Who receives each allocation.
    /// @param amounts Wei of each allocation.
    constructor(HanzoToken token_, bytes32[] memory labels, address[] memory recipients, uint256[] memory amounts) {
        if (labels.length == 0 || labels.length != recipients.length || labels.length != amounts.length) {
            revert BadAllocations();
        }
        for (uint256 i; i < recipients.length; ++i) {
            if (recipients[i] == address(0)) revert ZeroRecipient(i);
        }
        token = token_;
        _labels = labels;
        _recipients = recipients;
        _amounts = amounts;
    }

    /// @notice The allocation at `index`.
    function allocation(uint256 index) external view returns (bytes32 label, address recipient, uint256 amount) {
        return (_labels[index], _recipients[index], _amounts[index]);
    }

    /// @notice Number of allocations.
    function allocationCount() external view returns (uint256) {
        return _labels.length;
    }

    /// @notice Mint every allocation, once, then renounce MINTER_ROLE.
    function execute() external {
        if (executed) revert AlreadyExecuted();
        executed = true;
        uint256 total = 0;
        for (uint256 i; i < _recipients.length; ++i) {
            token.mint(_recipients[i], _amounts[i]);
            total += _amounts[i];
            emit GenesisAllocated(_labels[i], _recipients[i], _amounts[i]);
        }
        token.renounceRole(token.MINTER_ROLE(), address(this));
        emit GenesisExecuted(total);
    }
}
