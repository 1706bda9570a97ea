// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title HANZO, the token of the Hanzo AI network
/// @notice ERC20 with EIP-2612 permit and burning. The cap bounds everything ever minted:
///         a burn frees no headroom (tokenomics D1).
/// @dev Invariant: totalSupply() + totalBurned() == totalMinted <= cap.
///      OpenZeppelin's ERC20Capped caps totalSupply, which a burn lowers; that is the wrong rule
///      here, hence the separate totalMinted counter.
contract HanzoToken is ERC20, ERC20Permit, ERC20Burnable, AccessControl {
    /// @notice Role allowed to mint: the Genesis contract (once) and the EmissionSchedule.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Upper bound on the sum of all tokens ever minted.
    uint256 public immutable cap;

    /// @notice Sum of all tokens ever minted; never decreases.
    uint256 public totalMinted;

    /// @notice A mint would take totalMinted past the cap.
    error MintCapExceeded(uint256 requested, uint256 headroom);
    /// @notice A zero address was given where an account is required.
    error ZeroAddress();
    /// @notice The cap must be positive.
    error ZeroCap();

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes MINTER_ROLE); the timelock after deployment.
    /// @param cap_ Bound on everything ever minted, in wei.
    constructor(address admin, uint256 cap_) ERC20("Hanzo", "HANZO") ERC20Permit("Hanzo") {
        if (admin == address(0)) revert ZeroAddress();
        if (cap_ == 0) revert ZeroCap();
        cap = cap_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Mint `amount` to `to`. Only MINTER_ROLE; never past the cap.
    /// @dev Emits Transfer(0, to, amount); totalMinted is derivable from those events.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        uint256 minted = totalMinted + amount;
        if (minted > cap) revert MintCapExceeded(amount, cap - totalMinted);
        totalMinted = minted;
        _mint(to, amount);
    }

    /// @notice Tokens burned so far (derived, so burning costs no extra storage write).
    function totalBurned() external view returns (uint256) {
        return totalMinted - totalSupply();
    }
}
