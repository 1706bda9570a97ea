// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HanzoPool} from "../contracts/HanzoPool.sol";
import {TestUSD} from "../contracts/TestUSD.sol";
import {vm, bound} from "./Vm.sol";

/// @notice The actors of HanzoPool's invariant run: three traders swapping either way, exact in
///         or exact out, round trips, donations straight to the pool, and time passing. Ghosts
///         record every swap after which k fell, every round trip that returned more than it put
///         in, and what was donated. Both sides are TestUSD tokens (HANZO is a plain OpenZeppelin
///         ERC20 to the pool, as TestUSD is), seeded as the deployment seeds the real pool.
contract PoolHandler {
    HanzoPool public immutable pool;
    TestUSD public immutable hanzo;
    TestUSD public immutable usd;
    address[3] public actors;

    /// @notice Swaps after which reserveHanzo * reserveUsd was below its value before: must stay 0.
    uint256 public kDecreased;
    /// @notice Round trips (a swap and the swap of all it paid back) that returned more: must stay 0.
    uint256 public roundTripProfits;
    /// @notice Tokens sent to the pool directly, per token.
    mapping(address token => uint256) public donated;
    /// @notice Successful operations by name: a run whose swaps all failed would prove nothing.
    mapping(bytes32 => uint256) public done;

    constructor(HanzoPool pool_, address[3] memory actors_) {
        pool = pool_;
        hanzo = TestUSD(address(pool_.hanzo()));
        usd = TestUSD(address(pool_.usd()));
        actors = actors_;
    }

    function _k() private view returns (uint256) {
        (uint256 h, uint256 u) = pool.getReserves();
        return h * u;
    }

    function _sides(bool hanzoIn) private view returns (TestUSD tokenIn, TestUSD tokenOut) {
        return hanzoIn ? (hanzo, usd) : (usd, hanzo);
    }

    // Arguments are computed before vm.prank: the prank applies to the very next external call.
    function swapIn(uint256 who, bool hanzoIn, uint256 amount) external {
        address a = actors[who % 3];
        (TestUSD tokenIn,) = _sides(hanzoIn);
        uint256 n = bound(amount, 1, tokenIn.balanceOf(a) / 4 + 1);
        uint256 k = _k();
        uint256 deadline = block.timestamp;
        vm.prank(a);
        try pool.swapExactIn(address(tokenIn), n, 0, a, deadline) {
            done["swapIn"] += 1;
            if (_k() < k) kDecreased += 1;
        } catch {}
    }

    function swapOut(uint256 who, bool hanzoOut, uint256 amount) external {
        address a = actors[who % 3];
        (TestUSD tokenOut,) = _sides(hanzoOut);
        (uint256 h, uint256 u) = pool.getReserves();
        uint256 n = bound(amount, 1, (hanzoOut ? h : u) / 2 + 1);
        uint256 k = _k();
        uint256 deadline = block.timestamp;
        vm.prank(a);
        try pool.swapExactOut(address(tokenOut), n, type(uint256).max, a, deadline) {
            done["swapOut"] += 1;
            if (_k() < k) kDecreased += 1;
        } catch {}
    }

    /// @dev Swap `amount` in, then swap everything received back: never more than `amount` returns.
    function roundTrip(uint256 who, bool hanzoIn, uint256 amount) external {
        address a = actors[who % 3];
        (TestUSD tokenIn, TestUSD tokenOut) = _sides(hanzoIn);
        uint256 n = bound(amount, 1, tokenIn.balanceOf(a) / 4 + 1);
        uint256 deadline = block.timestamp;
        vm.prank(a);
        try pool.swapExactIn(address(tokenIn), n, 0, a, deadline) returns (uint256 got) {
            vm.prank(a);
            try pool.swapExactIn(address(tokenOut), got, 0, a, deadline) returns (uint256 back) {
                done["roundTrip"] += 1;
                if (back > n) roundTripProfits += 1;
            } catch {}
        } catch {}
    }

    function donate(uint256 who, bool giveHanzo, uint256 amount) external {
        address a = actors[who % 3];
        (TestUSD token,) = _sides(giveHanzo);
        uint256 n = bound(amount, 0, token.balanceOf(a) / 100);
        vm.prank(a);
        token.transfer(address(pool), n);
        donated[address(token)] += n;
        done["donate"] += 1;
    }

    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 7 days));
    }
}

/// @notice HanzoPool's invariants over any sequence of the handler's actions, with the fee and
///         the seed of hanzo.econ.params (scripts/fuzz.py passes them as HANZO_POOL_*).
contract PoolInvariants {
    PoolHandler public handler;
    HanzoPool public pool;
    TestUSD public hanzo;
    TestUSD public usd;
    uint256 public seedK;
    uint256 public constant FUNDING = 1e30; // each actor's stake of each side: thousands of times the seed's USD
    address[3] public actors = [address(0xA11CE), address(0xB0B), address(0xCA401)];

    function setUp() public {
        uint256 seedHanzo = vm.envUint("HANZO_POOL_SEED_HANZO");
        uint256 seedUsd = vm.envUint("HANZO_POOL_SEED_USD");
        hanzo = new TestUSD(seedHanzo + 3 * FUNDING);
        usd = new TestUSD(seedUsd + 3 * FUNDING);
        pool = new HanzoPool(hanzo, usd, vm.envUint("HANZO_POOL_FEE_BPS"), seedHanzo, seedUsd);
        hanzo.transfer(address(pool), seedHanzo);
        usd.transfer(address(pool), seedUsd);
        pool.seed();
        seedK = seedHanzo * seedUsd;
        handler = new PoolHandler(pool, actors);
        for (uint256 i; i < 3; ++i) {
            hanzo.transfer(actors[i], FUNDING);
            usd.transfer(actors[i], FUNDING);
            vm.prank(actors[i]);
            hanzo.approve(address(pool), type(uint256).max);
            vm.prank(actors[i]);
            usd.approve(address(pool), type(uint256).max);
        }
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice k never decreases: after no swap, and never below the seed's.
    function invariant_k_never_decreases() public view {
        require(handler.kDecreased() == 0, "a swap decreased k");
        (uint256 h, uint256 u) = pool.getReserves();
        require(h * u >= seedK, "k below the seed's");
    }

    /// @notice The pool holds exactly its reserves plus what was donated: donations are counted
    ///         nowhere, and no swap paid out more than the reserves gave up.
    function invariant_balances_are_reserves_plus_donations() public view {
        (uint256 h, uint256 u) = pool.getReserves();
        string memory message = "a token held is not its reserve plus donations";
        require(hanzo.balanceOf(address(pool)) == h + handler.donated(address(hanzo)), message);
        require(usd.balanceOf(address(pool)) == u + handler.donated(address(usd)), message);
    }

    /// @notice No round trip returned more than it put in.
    function invariant_no_round_trip_profits() public view {
        require(handler.roundTripProfits() == 0, "a round trip returned more than it put in");
    }

    /// @notice The actors together (the only traders) never end with more of one side and no less
    ///         of the other: whatever the pool gave up, it was paid for.
    function invariant_actors_take_out_no_more_than_they_put_in() public view {
        uint256 h;
        uint256 u;
        for (uint256 i; i < 3; ++i) {
            h += hanzo.balanceOf(actors[i]);
            u += usd.balanceOf(actors[i]);
        }
        bool moreHanzo = h > 3 * FUNDING;
        bool moreUsd = u > 3 * FUNDING;
        require(
            !(moreHanzo && u >= 3 * FUNDING) && !(moreUsd && h >= 3 * FUNDING), "the actors took out more than they put in"
        );
    }
}
