// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {HanzoToken} from "./HanzoToken.sol";

/// @title StakedHanzo (sHANZO): staked HANZO as checkpointed voting power
/// @notice Staking HANZO mints sHANZO 1:1. sHANZO cannot be transferred; its votes are
///         checkpointed by timestamp (ERC20Votes), so tokens borrowed and staked within one block
///         carry no weight at a proposal's earlier snapshot. Unstaking burns sHANZO at once (the
///         votes go with it) and pays the HANZO after a cooldown. Governance may lock part of a
///         stake as a proposal deposit, and release or slash (burn) it.
/// @dev Invariants: HANZO held == totalSupply() + sum of pending withdrawals;
///      locked[a] <= balanceOf(a).
contract StakedHanzo is ERC20, ERC20Votes, AccessControl {
    using SafeERC20 for HanzoToken;

    /// @notice Role that locks, releases and slashes proposal deposits (the Governor).
    bytes32 public constant DEPOSIT_ROLE = keccak256("DEPOSIT_ROLE");

    /// @notice A pending withdrawal.
    struct Withdrawal {
        uint128 amount;
        uint64 readyAt;
    }

    /// @notice The staked token.
    HanzoToken public immutable hanzo;
    /// @notice Seconds between an unstake request and its withdrawal.
    uint256 public immutable cooldown;

    /// @notice Stake locked as proposal deposits; cannot be unstaked.
    mapping(address account => uint256) public locked;
    /// @notice Pending withdrawal of each account.
    mapping(address account => Withdrawal) public withdrawals;

    /// @notice HANZO was staked.
    event Staked(address indexed account, uint256 amount);
    /// @notice An unstake was requested; the HANZO can be withdrawn at `readyAt`.
    event UnstakeRequested(address indexed account, uint256 amount, uint256 pending, uint256 readyAt);
    /// @notice A pending withdrawal was paid.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Part of a stake was locked as a deposit.
    event DepositLocked(address indexed account, uint256 amount);
    /// @notice A locked deposit was released to its owner.
    event DepositReleased(address indexed account, uint256 amount);
    /// @notice A locked deposit was burned, sHANZO and the HANZO behind it.
    event DepositSlashed(address indexed account, uint256 amount);

    /// @notice sHANZO cannot be transferred.
    error NonTransferable();
    /// @notice The amount exceeds the unlocked stake.
    error InsufficientUnlockedStake(uint256 requested, uint256 unlocked);
    /// @notice Releasing or slashing more than is locked.
    error InsufficientLocked(uint256 requested, uint256 locked);
    /// @notice Nothing is pending, or the cooldown has not passed.
    error WithdrawalNotReady(uint256 readyAt);
    /// @notice Zero amount or zero address.
    error ZeroValue();

    /// @param hanzo_ HANZO.
    /// @param admin DEFAULT_ADMIN_ROLE holder (grants DEPOSIT_ROLE to the Governor).
    /// @param cooldown_ Unstake cooldown in seconds.
    constructor(HanzoToken hanzo_, address admin, uint256 cooldown_)
        ERC20("Staked Hanzo", "sHANZO")
        EIP712("Staked Hanzo", "1")
    {
        if (address(hanzo_) == address(0) || admin == address(0)) revert ZeroValue();
        hanzo = hanzo_;
        cooldown = cooldown_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Stake `amount` HANZO (approved to this contract) for as much sHANZO. The first
    ///         stake of an account delegates its votes to itself.
    function stake(uint256 amount) external {
        if (amount == 0) revert ZeroValue();
        hanzo.safeTransferFrom(msg.sender, address(this), amount);
        if (delegates(msg.sender) == address(0)) _delegate(msg.sender, msg.sender);
        _mint(msg.sender, amount);
        emit Staked(msg.sender, amount);
    }

    /// @notice Burn `amount` sHANZO now and queue its HANZO for withdrawal after the cooldown.
    ///         A new request adds to the pending amount and restarts the cooldown.
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroValue();
        uint256 unlocked = balanceOf(msg.sender) - locked[msg.sender];
        if (amount > unlocked) revert InsufficientUnlockedStake(amount, unlocked);
        _burn(msg.sender, amount);
        Withdrawal storage w = withdrawals[msg.sender];
        uint256 pending = w.amount + amount;
        uint256 readyAt = block.timestamp + cooldown;
        w.amount = uint128(pending);
        w.readyAt = uint64(readyAt);
        emit UnstakeRequested(msg.sender, amount, pending, readyAt);
    }

    /// @notice Pay the caller's pending withdrawal once its cooldown has passed.
    function withdraw() external returns (uint256 amount) {
        Withdrawal memory w = withdrawals[msg.sender];
        if (w.amount == 0 || block.timestamp < w.readyAt) revert WithdrawalNotReady(w.readyAt);
        amount = w.amount;
        delete withdrawals[msg.sender];
        hanzo.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Lock `amount` of `account`'s stake as a deposit. Only DEPOSIT_ROLE.
    function lock(address account, uint256 amount) external onlyRole(DEPOSIT_ROLE) {
        uint256 unlocked = balanceOf(account) - locked[account];
        if (amount > unlocked) revert InsufficientUnlockedStake(amount, unlocked);
        locked[account] += amount;
        emit DepositLocked(account, amount);
    }

    /// @notice Release `amount` of `account`'s locked deposit. Only DEPOSIT_ROLE.
    function release(address account, uint256 amount) external onlyRole(DEPOSIT_ROLE) {
        _unlock(account, amount);
        emit DepositReleased(account, amount);
    }

    /// @notice Burn `amount` of `account`'s locked deposit: the sHANZO and the HANZO behind it.
    ///         Only DEPOSIT_ROLE.
    function slash(address account, uint256 amount) external onlyRole(DEPOSIT_ROLE) {
        _unlock(account, amount);
        _burn(account, amount);
        hanzo.burn(amount);
        emit DepositSlashed(account, amount);
    }

    function _unlock(address account, uint256 amount) private {
        uint256 held = locked[account];
        if (amount > held) revert InsufficientLocked(amount, held);
        locked[account] = held - amount;
    }

    /// @notice Votes are checkpointed by timestamp, so governance periods are in seconds.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice EIP-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        if (from != address(0) && to != address(0)) revert NonTransferable();
        super._update(from, to, value);
    }
}
