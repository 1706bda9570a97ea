// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title HanzoPool: the HANZO market, a constant-product pool against a stablecoin
/// @notice Uniswap v2's rule and fee between HANZO and USD (TestUSD on a test chain): a swap of
///         `a` in against reserves (x in, y out) pays
///             out = a * (10000 - fee) * y / (x * 10000 + a * (10000 - fee))   (rounded down),
///         and buying exactly `out` costs
///             in = x * out * 10000 / ((y - out) * (10000 - fee)) + 1           (v2's getAmountIn).
///         At fee = 30 both are Uniswap v2's getAmountOut and getAmountIn to the wei. The fee stays
///         in the reserves. Every swap has a slippage bound (minOut / maxIn) and a deadline.
///
///         The liquidity is seeded once and locked: Genesis mints the Liquidity allocation to the
///         pool, the deployment plan sends it `seedUsd` of the stablecoin, and `seed()` (anyone,
///         once both are here) makes them the reserves, at the initial price seedUsd / seedHanzo.
///         There are no LP shares, no way to add or remove liquidity, no owner, no role and no
///         setting: the Liquidity allocation is the protocol's, nobody can pull it, and the first-
///         depositor and share-rounding attacks of LP tokens have nothing to act on.
/// @dev Invariants (tests/test_pool_contract.py, against hanzo/econ/cpmm.py wei for wei):
///      - k never decreases: every swap checks Uniswap v2's
///            (x * 10000 + in * (10000 - fee)) * (y - out) >= x * y * 10000,
///        so (x + in) * (y - out) >= x * y too; the fee and the rounding only ever raise k.
///      - reserves <= balances: the reserves move only by seed() and by swaps, each by exactly
///        what was transferred; a token sent to the pool directly (a donation) is never counted
///        in a reserve, never priced and never paid out (no sync, no skim: nothing to manipulate
///        the price with, and nothing for the next swapper to take).
///      - no reserve reaches 0: out < y for any finite in, and an exact-out swap must leave y > out.
///      - reserves fit in 112 bits (Uniswap v2's bound), so the k check cannot overflow.
///      The spot price (reserves) moves within a transaction, as v2's does; no contract of the
///      suite reads it, and the pool keeps no price accumulator: it offers no oracle to misuse.
contract HanzoPool is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Basis points: the fee's denominator.
    uint256 public constant BPS = 10_000;
    /// @notice The highest fee a pool may be built with (10%).
    uint256 public constant MAX_FEE_BPS = 1_000;

    /// @notice HANZO, one side of the pool.
    IERC20 public immutable hanzo;
    /// @notice The stablecoin HANZO is priced in, the other side.
    IERC20 public immutable usd;
    /// @notice Fee in basis points of the amount in, kept in the reserves.
    uint256 public immutable feeBps;
    /// @notice HANZO the seed needs (the Liquidity allocation).
    uint256 public immutable seedHanzo;
    /// @notice Stablecoin the seed needs (the allocation at the initial price).
    uint256 public immutable seedUsd;

    uint112 private _reserveHanzo;
    uint112 private _reserveUsd;
    /// @notice Whether seed() has made the reserves; swaps are refused before it.
    bool public seeded;

    /// @notice The reserves were seeded.
    event Seeded(uint256 reserveHanzo, uint256 reserveUsd);
    /// @notice A swap: `amountIn` of `tokenIn` from `sender`, `amountOut` of the other token to `to`;
    ///         the reserves after it.
    event Swap(
        address indexed sender,
        address indexed to,
        address indexed tokenIn,
        uint256 amountIn,
        uint256 amountOut,
        uint256 reserveHanzo,
        uint256 reserveUsd
    );

    /// @notice A token address is zero, or both sides are the same token.
    error BadTokens();
    /// @notice The fee is above MAX_FEE_BPS.
    error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    /// @notice A seed amount is 0 or does not fit in 112 bits.
    error BadSeed();
    /// @notice seed() was called a second time.
    error AlreadySeeded();
    /// @notice The pool does not yet hold its seed of `token`.
    error SeedMissing(address token, uint256 held, uint256 needed);
    /// @notice A swap before seed().
    error NotSeeded();
    /// @notice The swap's deadline has passed.
    error Expired(uint256 deadline, uint256 timestamp);
    /// @notice The token is neither side of the pool.
    error UnknownToken(address token);
    /// @notice A swap of nothing.
    error ZeroAmount();
    /// @notice The output is 0 or below the caller's minimum.
    error InsufficientOutput(uint256 amountOut, uint256 minOut);
    /// @notice The input is above the caller's maximum.
    error ExcessiveInput(uint256 amountIn, uint256 maxIn);
    /// @notice The pool cannot pay `amountOut`: it holds `reserve`.
    error InsufficientLiquidity(uint256 amountOut, uint256 reserve);
    /// @notice The output would go to the zero address, the pool or one of its tokens.
    error BadRecipient(address to);
    /// @notice A reserve would pass 112 bits (Uniswap v2's bound, which keeps the k check exact).
    error ReserveTooLarge(uint256 reserve);
    /// @notice The constant-product check failed (unreachable: the amounts are computed to pass it).
    error KDecreased();

    /// @param hanzo_ The HANZO token.
    /// @param usd_ The stablecoin.
    /// @param feeBps_ Fee in basis points, at most MAX_FEE_BPS.
    /// @param seedHanzo_ HANZO wei of the seed (the Liquidity allocation).
    /// @param seedUsd_ Stablecoin wei of the seed.
    constructor(IERC20 hanzo_, IERC20 usd_, uint256 feeBps_, uint256 seedHanzo_, uint256 seedUsd_) {
        if (address(hanzo_) == address(0) || address(usd_) == address(0) || hanzo_ == usd_) revert BadTokens();
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_, MAX_FEE_BPS);
        if (seedHanzo_ == 0 || seedUsd_ == 0 || seedHanzo_ > type(uint112).max || seedUsd_ > type(uint112).max) {
            revert BadSeed();
        }
        hanzo = hanzo_;
        usd = usd_;
        feeBps = feeBps_;
        seedHanzo = seedHanzo_;
        seedUsd = seedUsd_;
    }

    // ------------------------------------------------------------------ views

    /// @notice The reserves: HANZO wei and stablecoin wei the pool prices with.
    function getReserves() external view returns (uint256 reserveHanzo, uint256 reserveUsd) {
        return (_reserveHanzo, _reserveUsd);
    }

    /// @notice Stablecoin per HANZO at the margin, fee-free, WAD (the spot price; not an oracle).
    function price() external view returns (uint256) {
        if (!seeded) revert NotSeeded();
        return uint256(_reserveUsd) * 1e18 / _reserveHanzo;
    }

    /// @notice What swapExactIn(tokenIn, amountIn, ...) would pay now.
    function quoteExactIn(address tokenIn, uint256 amountIn) external view returns (uint256 amountOut) {
        (uint256 reserveIn, uint256 reserveOut,) = _sides(tokenIn);
        return _amountOut(amountIn, reserveIn, reserveOut);
    }

    /// @notice What swapExactOut(tokenOut, amountOut, ...) would cost now.
    function quoteExactOut(address tokenOut, uint256 amountOut) external view returns (uint256 amountIn) {
        (uint256 reserveOut, uint256 reserveIn,) = _sides(tokenOut);
        return _amountIn(amountOut, reserveIn, reserveOut);
    }

    // ------------------------------------------------------------------ seeding

    /// @notice Make the seed the reserves, once: anyone may call it when the pool holds at least
    ///         seedHanzo HANZO and seedUsd stablecoin. The reserves are exactly the seed (a
    ///         donation before it stays outside them, like one after), so the initial price is
    ///         seedUsd / seedHanzo whoever calls it and whatever else was sent.
    function seed() external nonReentrant {
        if (seeded) revert AlreadySeeded();
        uint256 heldHanzo = hanzo.balanceOf(address(this));
        if (heldHanzo < seedHanzo) revert SeedMissing(address(hanzo), heldHanzo, seedHanzo);
        uint256 heldUsd = usd.balanceOf(address(this));
        if (heldUsd < seedUsd) revert SeedMissing(address(usd), heldUsd, seedUsd);
        seeded = true;
        _reserveHanzo = uint112(seedHanzo); // fits: checked in the constructor
        _reserveUsd = uint112(seedUsd);
        emit Seeded(seedHanzo, seedUsd);
    }

    // ------------------------------------------------------------------ swaps

    /// @notice Swap exactly `amountIn` of `tokenIn` (pulled from the caller, who approved it) for
    ///         at least `minOut` of the other token, sent to `to`, if mined by `deadline`.
    /// @return amountOut What `to` received.
    function swapExactIn(address tokenIn, uint256 amountIn, uint256 minOut, address to, uint256 deadline)
        external
        nonReentrant
        returns (uint256 amountOut)
    {
        _check(to, deadline);
        if (amountIn == 0) revert ZeroAmount();
        (uint256 reserveIn, uint256 reserveOut, bool hanzoIn) = _sides(tokenIn);
        amountOut = _amountOut(amountIn, reserveIn, reserveOut);
        if (amountOut == 0 || amountOut < minOut) revert InsufficientOutput(amountOut, minOut);
        _swap(hanzoIn, amountIn, amountOut, reserveIn, reserveOut, to);
    }

    /// @notice Buy exactly `amountOut` of `tokenOut` for at most `maxIn` of the other token (pulled
    ///         from the caller, who approved it), sent to `to`, if mined by `deadline`.
    /// @return amountIn What the caller paid.
    function swapExactOut(address tokenOut, uint256 amountOut, uint256 maxIn, address to, uint256 deadline)
        external
        nonReentrant
        returns (uint256 amountIn)
    {
        _check(to, deadline);
        if (amountOut == 0) revert ZeroAmount();
        (uint256 reserveOut, uint256 reserveIn, bool hanzoOut) = _sides(tokenOut);
        amountIn = _amountIn(amountOut, reserveIn, reserveOut);
        if (amountIn > maxIn) revert ExcessiveInput(amountIn, maxIn);
        _swap(!hanzoOut, amountIn, amountOut, reserveIn, reserveOut, to);
    }

    // ------------------------------------------------------------------ internals

    function _check(address to, uint256 deadline) private view {
        if (block.timestamp > deadline) revert Expired(deadline, block.timestamp);
        if (to == address(0) || to == address(this) || to == address(hanzo) || to == address(usd)) {
            revert BadRecipient(to);
        }
    }

    /// @dev (reserve of `token`, reserve of the other, whether `token` is HANZO); refuses a token
    ///      of neither side and a pool not yet seeded.
    function _sides(address token) private view returns (uint256, uint256, bool) {
        if (!seeded) revert NotSeeded();
        if (token == address(hanzo)) return (_reserveHanzo, _reserveUsd, true);
        if (token == address(usd)) return (_reserveUsd, _reserveHanzo, false);
        revert UnknownToken(token);
    }

    /// @dev Uniswap v2's getAmountOut with the fee in basis points.
    function _amountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) private view returns (uint256) {
        // reserveIn + amountIn must fit the 112-bit reserve, so the products below cannot overflow
        if (reserveIn + amountIn > type(uint112).max) revert ReserveTooLarge(reserveIn + amountIn);
        uint256 withFee = amountIn * (BPS - feeBps);
        return withFee * reserveOut / (reserveIn * BPS + withFee);
    }

    /// @dev Uniswap v2's getAmountIn with the fee in basis points (the +1 rounds up, as v2's does).
    function _amountIn(uint256 amountOut, uint256 reserveIn, uint256 reserveOut) private view returns (uint256) {
        if (amountOut >= reserveOut) revert InsufficientLiquidity(amountOut, reserveOut);
        return reserveIn * amountOut * BPS / ((reserveOut - amountOut) * (BPS - feeBps)) + 1;
    }

    /// @dev Effects, then the transfers: the reserves move by exactly the amounts, k checked.
    function _swap(bool hanzoIn, uint256 amountIn, uint256 amountOut, uint256 reserveIn, uint256 reserveOut, address to)
        private
    {
        uint256 newIn = reserveIn + amountIn;
        uint256 newOut = reserveOut - amountOut; // amountOut < reserveOut: _amountOut and _amountIn ensure it
        if (newIn > type(uint112).max) revert ReserveTooLarge(newIn); // an exact-out swap's cost may pass it
        // k never decreases (Uniswap v2's check, the fee taken out of the amount in)
        if ((reserveIn * BPS + amountIn * (BPS - feeBps)) * newOut < reserveIn * reserveOut * BPS) revert KDecreased();
        (IERC20 tokenIn, IERC20 tokenOut) = hanzoIn ? (hanzo, usd) : (usd, hanzo);
        (uint112 reserveHanzo, uint112 reserveUsd) =
            hanzoIn ? (uint112(newIn), uint112(newOut)) : (uint112(newOut), uint112(newIn));
        (_reserveHanzo, _reserveUsd) = (reserveHanzo, reserveUsd);
        emit Swap(msg.sender, to, address(tokenIn), amountIn, amountOut, reserveHanzo, reserveUsd);
        tokenIn.safeTransferFrom(msg.sender, address(this), amountIn);
        tokenOut.safeTransfer(to, amountOut);
    }
}
