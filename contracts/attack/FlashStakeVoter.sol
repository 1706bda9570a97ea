// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HanzoToken} from "../HanzoToken.sol";
import {StakedHanzo} from "../StakedHanzo.sol";
import {HanzoGovernor} from "../HanzoGovernor.sol";

/// @title Test helper: stakes borrowed HANZO and votes in the same transaction
/// @notice Models a flash-loan governance attack: the tokens arrive, are staked and voted with,
///         all in one block. Checkpointed votes must give it zero weight.
contract FlashStakeVoter {
    /// @notice Stake this contract's whole HANZO balance and vote For on `proposalId`.
    /// @return weight The weight the Governor counted.
    function stakeAndVote(HanzoToken token, StakedHanzo staked, HanzoGovernor governor, uint256 proposalId)
        external
        returns (uint256 weight)
    {
        uint256 amount = token.balanceOf(address(this));
        token.approve(address(staked), amount);
        staked.stake(amount);
        weight = governor.castVote(proposalId, 1);
    }
}
