// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HanzoToken} from "../contracts/HanzoToken.sol";
import {HamiltonianMarketMaker} from "../contracts/HamiltonianMarketMaker.sol";
import {vm, bound} from "./Vm.sol";

/// @notice The actors of the market maker's invariant run. Traders buy, sell, redeem and give
///         credits; the dealer is a trader who is also a provider and redeems its own credits
///         against its own offers (the review's pump); the honest provider only offers and is
///         paid. Ghosts record what each actor may legitimately end with.
contract MarketHandler {
    HanzoToken public immutable token;
    HamiltonianMarketMaker public immutable hmm;
    uint256 public constant FUNDING = 2e26; // three actors and the honest round trip stay under the 1e27 cap
    uint256 public constant ACTORS = 4; // 0, 1: traders; 2: dealer; 3: honest provider
    address[ACTORS] public actors;

    /// @notice HANZO paid to an actor for serving credits it did not hold.
    mapping(address => uint256) public honestRevenue;
    /// @notice Cost basis that arrived with credits given to an actor.
    mapping(address => uint256) public givenBasis;
    uint256 public epochsStepped;
    /// @notice Successful operations by name: a run whose trades all failed would prove nothing.
    mapping(bytes32 => uint256) public done;

    constructor(HanzoToken token_, HamiltonianMarketMaker hmm_, address[ACTORS] memory actors_) {
        token = token_;
        hmm = hmm_;
        actors = actors_;
    }

    function _trader(uint256 who) private view returns (address) {
        return actors[who % 3];
    }

    function _tier(uint256 tier) private view returns (uint256) {
        return tier % hmm.tierCount();
    }

    // Arguments are computed before vm.prank: the prank applies to the very next external call,
    // and a view call in an argument list would take it.
    function buy(uint256 who, uint256 tier, uint256 amount) external {
        address a = _trader(who);
        uint256 id = _tier(tier);
        uint256 n = bound(amount, 1, 4e9);
        vm.prank(a);
        try hmm.buy(id, n, type(uint256).max, type(uint256).max) {
            done["buy"] += 1;
        } catch {}
    }

    function sell(uint256 who, uint256 tier, uint256 share) external {
        address a = _trader(who);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        vm.prank(a);
        try hmm.sell(id, n, 0, type(uint256).max) {
            done["sell"] += 1;
        } catch {}
    }

    function offer(bool dealer, uint256 tier, uint256 credits) external {
        address provider = actors[dealer ? 2 : 3];
        uint256 id = _tier(tier);
        uint256 n = bound(credits, 1, 1e10);
        vm.prank(provider);
        try hmm.offerCapacity(id, n) {
            done["offer"] += 1;
        } catch {}
    }

    function redeem(uint256 who, uint256 tier, uint256 share, bool toDealer) external {
        address a = _trader(who);
        address provider = actors[toDealer ? 2 : 3];
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        vm.prank(a);
        try hmm.redeem(id, n, provider) returns (uint256 payout) {
            if (a != provider) honestRevenue[provider] += payout;
            done["redeem"] += 1;
        } catch {}
    }

    /// @notice The attack's move: the dealer serves its own credits against its own offer.
    function pump(uint256 tier, uint256 share) external {
        address d = actors[2];
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(d, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        vm.prank(d);
        try hmm.offerCapacity(id, n) {} catch { return; }
        vm.prank(d);
        try hmm.redeem(id, n, d) {
            done["pump"] += 1;
        } catch {}
    }

    function give(uint256 from, uint256 to, uint256 tier, uint256 share) external {
        address a = _trader(from);
        address b = _trader(to);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0 || a == b) return;
        uint256 before = hmm.costBasis(b, id);
        vm.prank(a);
        try hmm.safeTransferFrom(a, b, id, n, "") {
            givenBasis[b] += hmm.costBasis(b, id) - before;
            done["give"] += 1;
        } catch {}
    }

    function poke(uint256 extra) external {
        (,,,,,,, uint64 epochLength) = hmm.params();
        vm.warp(hmm.epochStart() + epochLength + bound(extra, 0, 1 days));
        hmm.poke();
        epochsStepped += 1;
        done["poke"] += 1;
    }
}

/// @notice Invariants of the market maker over many epochs of the handler's actions.
contract MarketInvariants {
    HanzoToken public token;
    HamiltonianMarketMaker public hmm;
    MarketHandler public handler;

    function setUp() public {
        token = new HanzoToken(address(this), vm.envUint("HANZO_TOKEN_CAP"));
        token.grantRole(token.MINTER_ROLE(), address(this));
        HamiltonianMarketMaker.Params memory p = HamiltonianMarketMaker.Params(
            uint64(vm.envUint("HANZO_HMM_ALPHA")),
            uint64(vm.envUint("HANZO_HMM_GAMMA")),
            uint64(vm.envUint("HANZO_HMM_DT")),
            uint64(vm.envUint("HANZO_HMM_DELTA_MAX")),
            uint64(vm.envUint("HANZO_HMM_TARGET_UTILIZATION")),
            uint64(vm.envUint("HANZO_HMM_BUY_FEE")),
            uint64(vm.envUint("HANZO_HMM_SELL_FEE")),
            uint64(vm.envUint("HANZO_HMM_EPOCH"))
        );
        hmm = new HamiltonianMarketMaker(token, address(this), p);
        uint256 depth = vm.envUint("HANZO_HMM_DEPTH");
        hmm.addTier(vm.envUint("HANZO_PRICE_HMM_7B"), depth);
        hmm.addTier(vm.envUint("HANZO_PRICE_HMM_32B"), depth);
        hmm.addTier(vm.envUint("HANZO_PRICE_HMM_175B"), depth);
        address[4] memory actors = [address(0xA11CE), address(0xB0B), address(0xDEA1E2), address(0x9A1D)];
        handler = new MarketHandler(token, hmm, actors);
        hmm.grantRole(hmm.PROVIDER_ROLE(), actors[2]);
        hmm.grantRole(hmm.PROVIDER_ROLE(), actors[3]);
        for (uint256 i; i < 3; ++i) {
            token.mint(actors[i], handler.FUNDING());
            vm.prank(actors[i]);
            token.approve(address(hmm), type(uint256).max);
        }
        // an honest round trip leaves a fee surplus for the attackers to go after
        address honest = address(0x40E57);
        token.mint(honest, 1e26);
        vm.prank(honest);
        token.approve(address(hmm), type(uint256).max);
        vm.prank(honest);
        hmm.buy(0, 3e9, type(uint256).max, type(uint256).max);
        vm.prank(honest);
        hmm.sell(0, 3e9, 0, type(uint256).max);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice P4: the maker holds at least what every credit would sell back for.
    function invariant_solvent() public view {
        require(token.balanceOf(address(hmm)) >= hmm.reserve(), "HANZO held < reserve");
    }

    /// @notice The reserve is exactly sum over tiers of V(q) at the current prices.
    function invariant_reserve_is_the_sum_of_potentials() public view {
        uint256 total;
        for (uint256 id; id < hmm.tierCount(); ++id) {
            total += hmm.potential(id, hmm.tier(id).supply);
        }
        require(total == hmm.reserve(), "reserve != sum V(q)");
    }

    /// @notice The maker holds every holder's cost basis (what they could be paid at most).
    function invariant_holds_every_cost_basis() public view {
        uint256 bases;
        for (uint256 i; i < 4; ++i) {
            for (uint256 id; id < hmm.tierCount(); ++id) {
                bases += hmm.costBasis(handler.actors(i), id);
            }
        }
        require(token.balanceOf(address(hmm)) >= bases, "HANZO held < sum of bases");
    }

    /// @notice No actor ends with more HANZO than it was funded with, plus what others paid it
    ///         for compute, plus the basis of credits it was given (the review's invariant).
    function invariant_no_actor_takes_out_more_than_it_put_in() public view {
        for (uint256 i; i < 4; ++i) {
            address a = handler.actors(i);
            uint256 funded = i < 3 ? handler.FUNDING() : 0;
            require(
                token.balanceOf(a) <= funded + handler.honestRevenue(a) + handler.givenBasis(a),
                "an actor took out more than it put in"
            );
        }
    }

    /// @notice The token's cap holds whatever the market does.
    function invariant_token_cap() public view {
        require(token.totalSupply() <= token.cap(), "supply above cap");
    }
}
