// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title HanzoTreasury: the Community Treasury, released at a bounded rate
/// @notice Holds the Community Treasury allocation, the Compute Providers pool's emission and the
///         ModelNFT fees. Only governance (the timelock) may release HANZO, and never more than
///         a token bucket allows: the bucket holds at most `limit` HANZO and refills at `limit`
///         per `period`, so over any span of t seconds at most limit * (1 + t / period) leaves.
///         Governance may lower the limit at once; a raise (up to the immutable `maxLimit`) takes
///         effect `raiseDelay` (at least a year) after it was asked for, and honest governance can
///         cancel it meanwhile. Nothing else can move the HANZO: there are no roles to grant, no
///         owner to change, no upgrade; the period, delay, bound and governance are immutable.
///         So an attacker who captures governance takes at most limit * (1 + year / period) in
///         its first year, whatever it proposes (issue 16, finding 7).
/// @dev Invariants: available() <= limit; a raise never applies before its `raiseAt`.
contract HanzoTreasury {
    using SafeERC20 for IERC20;

    /// @notice The shortest raise delay a treasury may be built with.
    uint256 public constant MIN_RAISE_DELAY = 365 days;
    /// @notice The longest refill period a treasury may be built with.
    uint256 public constant MAX_PERIOD = 365 days;

    /// @notice The token held and released (HANZO).
    IERC20 public immutable token;
    /// @notice The only account that may release HANZO and change the limit (the timelock).
    address public immutable governance;
    /// @notice Seconds in which an empty bucket refills to `limit`.
    uint256 public immutable period;
    /// @notice Seconds between asking for a higher limit and its taking effect.
    uint256 public immutable raiseDelay;
    /// @notice The highest limit governance may ever set (wei per period).
    uint256 public immutable maxLimit;

    /// @notice The bucket's capacity and refill per period (wei).
    uint256 public limit;
    /// @notice A higher limit asked for, and when it takes effect (0: none pending).
    uint256 public pendingLimit;
    /// @notice When `pendingLimit` takes effect (0: no raise pending).
    uint64 public raiseAt;
    /// @notice When the bucket was last brought up to date.
    uint64 public updatedAt;
    uint256 private _stored;

    /// @notice HANZO was released to `to`; `available` is what the bucket still holds.
    event Released(address indexed to, uint256 amount, uint256 available);
    /// @notice The limit changed (a lowering, or a raise that came into effect).
    event LimitChanged(uint256 oldLimit, uint256 newLimit);
    /// @notice A higher limit was asked for; it takes effect at `effectiveAt`.
    event LimitRaiseScheduled(uint256 newLimit, uint256 effectiveAt);
    /// @notice A pending raise was cancelled.
    event LimitRaiseCancelled(uint256 cancelledLimit);

    /// @notice The caller is not governance.
    error NotGovernance(address caller);
    /// @notice The release exceeds what the bucket holds now.
    error ReleaseLimitExceeded(uint256 requested, uint256 available);
    /// @notice A limit above `maxLimit`.
    error LimitOutOfBounds(uint256 limit, uint256 maxLimit);
    /// @notice A constructor argument out of its bounds (zero address, period, delay).
    error InvalidConfiguration();
    /// @notice No raise is pending.
    error NoPendingRaise();
    /// @notice Zero amount or zero recipient.
    error ZeroValue();

    /// @param token_ HANZO.
    /// @param governance_ The timelock.
    /// @param limit_ Initial limit, wei per period (the bucket starts full).
    /// @param maxLimit_ Bound on every limit.
    /// @param period_ Refill period, seconds (1 .. 365 days).
    /// @param raiseDelay_ Delay of a raise, seconds (at least 365 days).
    constructor(
        IERC20 token_,
        address governance_,
        uint256 limit_,
        uint256 maxLimit_,
        uint256 period_,
        uint256 raiseDelay_
    ) {
        if (
            address(token_) == address(0) || governance_ == address(0) || period_ == 0 || period_ > MAX_PERIOD
                || raiseDelay_ < MIN_RAISE_DELAY || raiseDelay_ > type(uint64).max / 2 || maxLimit_ > type(uint128).max
        ) revert InvalidConfiguration();
        if (limit_ > maxLimit_) revert LimitOutOfBounds(limit_, maxLimit_);
        token = token_;
        governance = governance_;
        period = period_;
        raiseDelay = raiseDelay_;
        maxLimit = maxLimit_;
        limit = limit_;
        _stored = limit_;
        updatedAt = uint64(block.timestamp);
        emit LimitChanged(0, limit_);
    }

    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance(msg.sender);
        _;
    }

    /// @notice HANZO governance may release now.
    function available() external view returns (uint256 amount) {
        (, amount,) = _current();
    }

    /// @notice The limit in force now (a due raise counts, though not yet written).
    function currentLimit() external view returns (uint256 lim) {
        (lim,,) = _current();
    }

    /// @notice Send `amount` HANZO to `to`. Only governance; at most `available()`.
    function release(address to, uint256 amount) external onlyGovernance {
        if (to == address(0) || amount == 0) revert ZeroValue();
        uint256 avail = _sync();
        if (amount > avail) revert ReleaseLimitExceeded(amount, avail);
        unchecked {
            avail -= amount;
        }
        _stored = avail;
        token.safeTransfer(to, amount);
        emit Released(to, amount, avail);
    }

    /// @notice Set the limit. Only governance; never above `maxLimit`. A lower (or equal) limit
    ///         applies at once and cancels any pending raise; a higher one is scheduled for
    ///         `raiseDelay` from now, replacing any pending raise (whose clock starts again).
    function setLimit(uint256 newLimit) external onlyGovernance {
        if (newLimit > maxLimit) revert LimitOutOfBounds(newLimit, maxLimit);
        uint256 avail = _sync();
        uint256 old = limit;
        if (newLimit <= old) {
            _cancelPending();
            limit = newLimit;
            _stored = Math.min(avail, newLimit);
            emit LimitChanged(old, newLimit);
        } else {
            uint256 at = block.timestamp + raiseDelay;
            pendingLimit = newLimit;
            raiseAt = uint64(at);
            emit LimitRaiseScheduled(newLimit, at);
        }
    }

    /// @notice Cancel a pending raise. Only governance.
    function cancelLimitRaise() external onlyGovernance {
        if (raiseAt == 0) revert NoPendingRaise();
        _sync();
        if (raiseAt == 0) revert NoPendingRaise(); // it had come into effect
        _cancelPending();
    }

    function _cancelPending() private {
        if (raiseAt != 0) {
            emit LimitRaiseCancelled(pendingLimit);
            pendingLimit = 0;
            raiseAt = 0;
        }
    }

    /// @dev Bring the bucket up to date (applying a due raise, refill before it at the old rate)
    ///      and return what it holds.
    function _sync() private returns (uint256 avail) {
        bool raised;
        uint256 lim;
        (lim, avail, raised) = _current();
        if (raised) {
            emit LimitChanged(limit, lim);
            limit = lim;
            pendingLimit = 0;
            raiseAt = 0;
        }
        _stored = avail;
        updatedAt = uint64(block.timestamp);
    }

    function _current() private view returns (uint256 lim, uint256 avail, bool raised) {
        lim = limit;
        avail = _stored;
        uint256 from = updatedAt;
        uint256 at = raiseAt;
        if (at != 0 && at <= block.timestamp) {
            avail = _refill(avail, from, at, lim);
            from = at;
            lim = pendingLimit;
            raised = true;
        }
        avail = _refill(avail, from, block.timestamp, lim);
    }

    function _refill(uint256 stored, uint256 from, uint256 to, uint256 lim) private view returns (uint256) {
        if (to <= from) return Math.min(stored, lim);
        return Math.min(stored + Math.mulDiv(to - from, lim, period), lim);
    }
}
