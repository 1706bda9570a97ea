// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VestingWallet} from "@openzeppelin/contracts/finance/VestingWallet.sol";
import {VestingWalletCliff} from "@openzeppelin/contracts/finance/VestingWalletCliff.sol";

/// @title TeamVesting: the Team & Advisors allocation, vested linearly after a cliff (tokenomics D4)
/// @notice OpenZeppelin's VestingWallet with its cliff extension, unchanged: nothing is releasable
///         before start + cliff, then the vested amount is linear from start to start + duration.
contract TeamVesting is VestingWalletCliff {
    /// @param beneficiary Receives the vested tokens (the wallet's owner).
    /// @param start Vesting start timestamp.
    /// @param duration Vesting duration in seconds (4 years by default).
    /// @param cliff Cliff in seconds from start (1 year by default).
    constructor(address beneficiary, uint64 start, uint64 duration, uint64 cliff)
        VestingWallet(beneficiary, start, duration)
        VestingWalletCliff(cliff)
    {}
}
