// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestUSD: the stablecoin HANZO is priced in on a test chain
/// @notice A plain OpenZeppelin ERC20 of 18 decimals whose whole supply is minted once, to the
///         deployer, at construction: there is no mint, no burn, no owner and no role, so nobody
///         can ever print the money HANZO is bought with. The deployment plan (hanzo/chain/plan.py)
///         passes it on at once: the pool's seed to HanzoPool, the rest (the buyers' outside money)
///         to the sale-and-liquidity holder; the deployer keeps none.
/// @dev Invariant: totalSupply() == the constructor's `supply`, forever.
contract TestUSD is ERC20 {
    /// @notice The supply is 0.
    error ZeroSupply();

    /// @param supply Wei of TestUSD minted to the deployer, the only mint there will be.
    constructor(uint256 supply) ERC20("Test USD", "tUSD") {
        if (supply == 0) revert ZeroSupply();
        _mint(msg.sender, supply);
    }
}
