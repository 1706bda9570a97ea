// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HanzoToken} from "./HanzoToken.sol";

/// @title EmissionSchedule: the halving emission of the reward pools
/// @notice Emission is a closed-form function of elapsed time: era k (each `eraLength` seconds)
///         emits `firstEraEmission >> k`, linearly in time within the era, and the total never
///         exceeds `maxEmission`. Anyone may release what is due; it is minted to the Training
///         Rewards pool and the Compute Providers pool in the ratio `trainingShareBps`.
/// @dev Invariants: released == emittedAt(last release) <= maxEmission;
///      releasedToTraining == released * trainingShareBps / 10_000 (floor), so neither pool is
///      ever paid past its share of maxEmission.
contract EmissionSchedule {
    uint256 private constant BPS = 10_000;

    /// @notice The token minted.
    HanzoToken public immutable token;
    /// @notice Receives the Training Rewards share (the TrainingRewards contract).
    address public immutable trainingPool;
    /// @notice Receives the Compute Providers share.
    address public immutable computePool;
    /// @notice Timestamp at which emission begins.
    uint256 public immutable start;
    /// @notice Seconds per halving era (4 years of 365 days by default).
    uint256 public immutable eraLength;
    /// @notice Wei emitted over the first era.
    uint256 public immutable firstEraEmission;
    /// @notice Bound on the total ever emitted (the pools' totals in "pools" mode).
    uint256 public immutable maxEmission;
    /// @notice Share of each release that goes to the training pool, in basis points.
    uint256 public immutable trainingShareBps;

    /// @notice Total released so far.
    uint256 public released;
    /// @notice Part of `released` that went to the training pool.
    uint256 public releasedToTraining;

    /// @notice Emission was released: the amounts to each pool and the new cumulative total.
    event EmissionReleased(uint256 toTraining, uint256 toCompute, uint256 totalReleased);

    /// @notice A constructor argument is zero or out of range.
    error InvalidSchedule();

    /// @param token_ HANZO; this contract must hold its MINTER_ROLE.
    /// @param trainingPool_ Recipient of the training share.
    /// @param computePool_ Recipient of the compute share.
    /// @param start_ Emission start timestamp.
    /// @param eraLength_ Seconds per halving era.
    /// @param firstEraEmission_ Wei emitted in era 0.
    /// @param maxEmission_ Bound on total emission (type(uint256).max for "inflation" mode).
    /// @param trainingShareBps_ Training share in basis points (6000 = 60%).
    constructor(
        HanzoToken token_,
        address trainingPool_,
        address computePool_,
        uint256 start_,
        uint256 eraLength_,
        uint256 firstEraEmission_,
        uint256 maxEmission_,
        uint256 trainingShareBps_
    ) {
        if (
            address(token_) == address(0) || trainingPool_ == address(0) || computePool_ == address(0)
                || eraLength_ == 0 || firstEraEmission_ == 0 || maxEmission_ == 0 || trainingShareBps_ > BPS
        ) revert InvalidSchedule();
        token = token_;
        trainingPool = trainingPool_;
        computePool = computePool_;
        start = start_;
        eraLength = eraLength_;
        firstEraEmission = firstEraEmission_;
        maxEmission = maxEmission_;
        trainingShareBps = trainingShareBps_;
    }

    /// @notice Total emission due by `timestamp` (cumulative, capped at maxEmission).
    function emittedAt(uint256 timestamp) public view returns (uint256 total) {
        if (timestamp <= start) return 0;
        uint256 elapsed = timestamp - start;
        uint256 era = elapsed / eraLength;
        uint256 eraEmission = firstEraEmission;
        // Each completed era adds its full emission; the loop ends when emission reaches zero
        // (at most 256 halvings), so it is bounded whatever the elapsed time.
        for (uint256 i; i < era && eraEmission != 0; ++i) {
            total += eraEmission;
            if (total >= maxEmission) return maxEmission;
            eraEmission >>= 1;
        }
        total += (eraEmission * (elapsed % eraLength)) / eraLength;
        return total < maxEmission ? total : maxEmission;
    }

    /// @notice Emission due now and not yet released.
    function releasable() external view returns (uint256) {
        return emittedAt(block.timestamp) - released;
    }

    /// @notice Mint what is due to the two pools. Anyone may call; returns the amount released.
    function release() external returns (uint256 amount) {
        uint256 due = emittedAt(block.timestamp);
        amount = due - released;
        if (amount == 0) return 0;
        uint256 trainingTotal = (due * trainingShareBps) / BPS;
        uint256 toTraining = trainingTotal - releasedToTraining;
        uint256 toCompute = amount - toTraining;
        released = due;
        releasedToTraining = trainingTotal;
        if (toTraining != 0) token.mint(trainingPool, toTraining);
        if (toCompute != 0) token.mint(computePool, toCompute);
        emit EmissionReleased(toTraining, toCompute, due);
    }
}
