// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HanzoToken} from "../contracts/HanzoToken.sol";
import {HamiltonianMarketMaker} from "../contracts/HamiltonianMarketMaker.sol";
import {Vm, vm, bound} from "./Vm.sol";

/// @notice The actors of the market maker's invariant run. Traders buy, sell, redeem and give credits (one by one, or
///         in batches that name a tier several times); the dealer is a trader who is also a provider and redeems its
///         credits against its accomplice's offers (the review's pump, by the cartel of two providers it needs since a
///         redemption to oneself is refused; the accomplice hands the HANZO back, so the pair is one actor); anyone may
///         try redeeming to itself, which must be refused; the honest provider only offers and is paid; governance
///         takes some of the surplus. The dealer also washes: buys and at once redeems, first, in pieces split between
///         providers, on capacity offered early or late (the congestion charge's attack class). A cohort of honest
///         holders buys and leaves in an order the fuzzer picks (redeeming where its provider has room below its target
///         share), with the price crashed or pumped between any two of its steps. Traders also pay a provider's ask
///         above the price by redeemAtAsk, out of their refund and then their balance. Ghosts record what each actor
///         may legitimately end with, the fees and congestion charges the maker kept (a transfer's exit fee included),
///         and any transfer that moved basis other than pro rata or paid other than the exit fee, honest exit paid
///         other than its basis, or redemption charged other than its provider's excess over its target share.
contract MarketHandler {
    HanzoToken public immutable token;
    HamiltonianMarketMaker public immutable hmm;
    uint256 public constant FUNDING = 2e26; // three actors and the honest round trip stay under the 1e27 cap
    uint256 public constant ACTORS = 5; // 0, 1: traders; 2: dealer; 3: honest provider; 4: the dealer's accomplice
    address[ACTORS] public actors;

    /// @notice HANZO paid to an actor for serving credits held outside its cartel (the dealer and
    ///         its accomplice are one).
    mapping(address => uint256) public honestRevenue;
    /// @notice Cost basis that arrived with credits given to an actor.
    mapping(address => uint256) public givenBasis;
    uint256 public epochsStepped;
    /// @notice Transfers after which refBasis was not conserved, the receiver got basis other than the
    ///         reference part moved, a sender paid beyond the exit fee, or a sender without credits kept
    ///         basis (issue 16, finding 1; the premium back to the sender, rule 3h).
    uint256 public basisLeaks;
    /// @notice HANZO an honest holder got short of its basis less the exit fee, or beyond it, in
    ///         any order of exits and after any moves of the price (issue 16, finding 2: the order of
    ///         exits locked it in the maker; 16b: a rise paid from a dear holder's backing).
    uint256 public honestShortfall;
    uint256 public honestExcess;
    /// @notice Fees the maker kept (buy fees, and the exit fee of every sale and redemption), and
    ///         what governance withdrew.
    uint256 public feesKept;
    uint256 public withdrawn;
    /// @notice Honest holders who left whole, each compared with its basis.
    uint256 public honestExits;
    uint256 public constant COHORT = 3;
    /// @notice Redemptions to oneself that were served, or refused other than by SelfRedemption.
    uint256 public selfRedemptions;
    /// @notice HANZO an exit by redemption (single or batch, to any provider: a friendly one, one's
    ///         own second wallet's offer) paid beyond what selling the same credits paid at the same
    ///         state (red team 17, finding 4's class: exits cost alike).
    uint256 public exitExcess;
    /// @notice Transfers whose sender paid less than the exit fee on the basis it moved (red team 18,
    ///         finding 2: free transfers paid a provider 14.3% more than a redemption).
    uint256 public transferShortfall;
    /// @notice Redemptions that paid a provider less than its ask (minPayPerCredit) for the credits
    ///         (red team 17, finding 1: a crash by idle offers paid honest providers a tenth).
    uint256 public belowAsk;
    /// @notice Offers or redemptions after which the tier's counted capacity or redemptions moved other
    ///         than by the capacity offered at an ask the reference price net of the exit fee covers
    ///         (or an ask raised within an epoch was accepted): utilization counting what commits to nothing.
    uint256 public askLeaks;
    /// @notice Epoch closes after which a tier's pricing position was not the rule's (decayed by positionDecay).
    uint256 public positionLeaks;
    /// @notice Redemptions that paid their provider more than the reference price the credits were bought at
    ///         (their share of refBasis), or whose provider's pay and holder's refund did not sum to what a
    ///         sale of the same credits pays at the same state (rule 3h: the curve's premium goes back to
    ///         the holder, so parked or sandwiching credits pay no provider for the premium they add).
    uint256 public premiumLeaks;
    /// @notice Redemptions served past the holder's own bound: a refund less its charge below its minNet, or after its
    ///         deadline (red team 24: without the bound a provider's first offer after a poke could take a
    ///         redemption pending across the epoch's end).
    uint256 public boundsBroken;
    /// @notice Redemptions that paid other than quoteRedeemAt said just before (or were served where it reverted).
    uint256 public quoteLeaks;
    /// @notice Congestion charges holders paid (refund less what reached them, or what was pulled from them): the
    ///         surplus keeps them.
    uint256 public charges;
    /// @notice Redemptions whose charge was other than kappa x P_ref per weighted credit by which the provider's
    ///         served weight passed its target share (rounded up), read from its servedWeight before and after, or
    ///         other than quoteRedeemAt's charge, or that paid the holder more than its refund.
    uint256 public chargeLeaks;
    /// @notice Redemptions charged that left their provider at or below its target share (an honest holder at a
    ///         provider with room pays nothing), and honest holders' redemptions charged at all.
    uint256 public chargedBelowTarget;
    /// @notice redeemAtAsk calls whose provider got other than max(its part, ask x n), or whose holder's HANZO moved
    ///         other than by its refund less the top-up (ask x n less the part) less the charge, or gave towards the
    ///         ask beyond its bound (maxAsk x n less the part), or whose top-up stayed in the maker (its surplus grew
    ///         other than by the exit fee and the charge) or was reported other than the part beyond the refund.
    uint256 public askPayLeaks;
    /// @notice Redemptions at an ask above the price (uncounted) after which its served weight passed the target
    ///         share of the capacity its service added: demand met above the price must read as the target, neither
    ///         scarcity (a rise, and a charge on the next holder) nor slack.
    uint256 public aboveTargetReads;
    /// @notice Redemptions after which a provider's served weight passed its weighted capacity: capacity offered
    ///         late and served at the provider's average weight counted as if it had been there all day (red team 27).
    uint256 public servedPastCapacity;
    /// @notice Pokes before which a tier's served weight above target (redeemed - u* capacity) was more than the sum
    ///         of its providers' served weight above their target shares: the excess no charge priced (the wash's
    ///         class, red team 17: redeeming first, splitting among providers, late capacity).
    uint256 public excessUncovered;
    /// @dev giveBatch's scratch (the stack is too shallow for its books).
    uint256 private _kept;
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
        if (_buy(a, id, bound(amount, 1, 4e9))) done["buy"] += 1;
    }

    /// @dev `a` buys `n` credits of tier `id` at any cost, the fee it pays booked; false where the purchase reverts.
    function _buy(address a, uint256 id, uint256 n) private returns (bool) {
        uint256 fee = _buyFee(id, n);
        vm.prank(a);
        try hmm.buy(id, n, type(uint256).max, type(uint256).max) {
            feesKept += fee;
            return true;
        } catch {
            return false;
        }
    }

    function _buyFee(uint256 id, uint256 n) private view returns (uint256 fee) {
        try hmm.quoteBuy(id, n) returns (uint256, uint256 f) {
            fee = f;
        } catch {}
    }

    function _sellFee(address a, uint256 id, uint256 n) private view returns (uint256 fee) {
        try hmm.quoteSell(a, id, n) returns (uint256, uint256 f) {
            fee = f;
        } catch {}
    }

    function sell(uint256 who, uint256 tier, uint256 share) external {
        address a = _trader(who);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        uint256 fee = _sellFee(a, id, n);
        vm.prank(a);
        try hmm.sell(id, n, 0, type(uint256).max) {
            feesKept += fee;
            done["sell"] += 1;
        } catch {}
    }

    /// @dev A provider by index: the honest one, the dealer, or the accomplice.
    function _provider(uint256 by) private view returns (address) {
        uint256 k = by % 3;
        return actors[k == 0 ? 3 : k == 1 ? 2 : 4];
    }

    /// @dev The dealer and its accomplice share their HANZO: pay between them is not revenue.
    function _cartel(address a, address b) private view returns (bool) {
        bool aIn = a == actors[2] || a == actors[4];
        bool bIn = b == actors[2] || b == actors[4];
        return a == b || (aIn && bIn);
    }

    /// @notice A provider offers capacity at an ask: a third of offers serve any credit (ask 0), the
    ///         rest ask up to 64 times what counts in utilization (e^4: the dearest credits' pay,
    ///         and idle offers committing to nothing), and may try to raise a standing ask. Checked: the
    ///         tier's counted capacity grows by exactly what the rule counts, and a raise is refused.
    function offer(uint256 by, uint256 tier, uint256 credits, uint256 askSeed) external {
        _offerAt(_provider(by), _tier(tier), bound(credits, 1, 1e10), askSeed);
    }

    /// @dev Offer `n` at an ask from `askSeed`; checks the tier's counted capacity grew by exactly
    ///      what the rule counts, and that a raise was refused. Returns whether the offer stood.
    function _offerAt(address provider, uint256 id, uint256 n, uint256 askSeed) private returns (bool) {
        // hashed: the fuzzer favours small seeds, which would make every ask a few wei
        uint256 h = uint256(keccak256(abi.encode(askSeed)));
        // a third of asks just under the price (where the holder's premium makes up what its reference part
        // falls short of: the top-up), a third anywhere up to 64 times it
        uint256 price = hmm.countedAsk(id);
        uint256 ask = h % 3 == 0
            ? 0
            : h % 3 == 1 ? (price * (9000 + (h >> 8) % 1001)) / 10_000 : (price * ((h >> 8) % 6401)) / 100;
        return _offerAsk(provider, id, n, ask);
    }

    /// @dev Offer `n` at `ask`, checked as _offerAt says.
    function _offerAsk(address provider, uint256 id, uint256 n, uint256 ask) private returns (bool) {
        (uint256 expected, bool raise) = _countedAfter(provider, id, n, ask);
        vm.prank(provider);
        try hmm.offerCapacity(id, n, ask) {
            if (raise || hmm.tier(id).capacity != expected) askLeaks += 1;
            done["offer"] += 1;
            return true;
        } catch {
            return false;
        }
    }

    /// @dev The tier's counted capacity after `provider` offers `n` at `ask`, by the rule (capacity
    ///      counts once its ask is covered, and what stood at a higher ask joins then); and whether
    ///      the offer would raise a standing ask (which must be refused).
    function _countedAfter(address provider, uint256 id, uint256 n, uint256 ask)
        private
        view
        returns (uint256 expected, bool raise)
    {
        (uint128 standingAsk, bool open, bool wasCounted,,, uint128 joined) = hmm.asks(hmm.epoch(), id, provider);
        raise = open && ask > standingAsk;
        expected = hmm.tier(id).capacity;
        if (wasCounted) {
            expected += _weighted(n);
        } else if (ask <= hmm.countedAsk(id)) {
            // the standing capacity joins, and the capacity its service above the price kept (its target share)
            expected += joined + _weighted(n + hmm.providerCapacity(hmm.epoch(), id, provider));
        }
    }

    /// @dev params() returns the struct's fields, all static: the same encoding as the struct itself.
    function _params() private view returns (HamiltonianMarketMaker.Params memory) {
        (, bytes memory data) = address(hmm).staticcall(abi.encodeCall(hmm.params, ()));
        return abi.decode(data, (HamiltonianMarketMaker.Params));
    }

    /// @dev What `credits` offered now add to the counted capacity: whole in the epoch's first 1/24,
    ///      then by the share of the epoch left, nothing once it is over.
    function _weighted(uint256 credits) private view returns (uint256) {
        (,,,,,,, uint64 length,,) = hmm.params();
        uint256 elapsed = block.timestamp - hmm.epochStart();
        if (elapsed <= length / 24) return credits;
        if (elapsed >= length) return 0;
        return (credits * (length - elapsed)) / length;
    }

    /// @notice An offer late in the epoch (or after its end, before anyone pokes): the clock moves to
    ///         a point the fuzzer picks, up to twice the epoch's length, and a provider offers there.
    function offerLate(uint256 by, uint256 tier, uint256 credits, uint256 askSeed, uint256 when) external {
        (,,,,,,, uint64 length,,) = hmm.params();
        uint256 at = hmm.epochStart() + bound(when, 0, 2 * uint256(length));
        if (at > block.timestamp) vm.warp(at);
        _offerAt(_provider(by), _tier(tier), bound(credits, 1, 1e10), askSeed);
    }

    function redeem(uint256 who, uint256 tier, uint256 share, uint256 to, uint256 boundSeed) external {
        address a = _trader(who);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        _redeem(a, id, n, _provider(to), boundSeed);
    }

    /// @notice A provider offers at the price (countedAsk: the highest ask the holder's premium makes up) and a
    ///         trader at once spends its credits there, quoted by quoteRedeemAt: credits bought before a rise pay
    ///         the provider its ask out of their refund (the top-up), which the quote must meet (red team 25).
    function redeemAtPrice(uint256 who, uint256 tier, uint256 share, uint256 to, uint256 boundSeed) external {
        address a = _trader(who);
        address provider = _provider(to);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0 || a == provider) return;
        uint256 ask = hmm.countedAsk(id);
        (, bool open,,,,) = hmm.asks(hmm.epoch(), id, provider);
        if (!open) {
            (uint256 expected,) = _countedAfter(provider, id, n, ask);
            vm.prank(provider);
            hmm.offerCapacity(id, n, ask);
            if (hmm.tier(id).capacity != expected) askLeaks += 1;
        }
        _redeem(a, id, n, provider, boundSeed);
        done["redeemAtPrice"] += 1;
    }

    /// @notice A provider offers at an ask (often above what the credits pay), and a trader at once
    ///         tries to spend its credits there by redeem: what a crash by idle offers would make of honest
    ///         providers' terms. Checked in _redeem: never paid below the ask.
    function redeemAtOffer(uint256 who, uint256 tier, uint256 share, uint256 to, uint256 askSeed, uint256 boundSeed)
        external
    {
        address a = _trader(who);
        address provider = _provider(to);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0 || a == provider || !_offerAt(provider, id, n, askSeed)) return;
        _redeem(a, id, n, provider, boundSeed);
    }

    /// @notice A provider offers at an ask, two times in three above the price (up to 64 times it), one in three just
    ///         under it (or keeps the lower ask it stands at), and a trader spends its credits there by redeemAtAsk,
    ///         paying what its credits' pay falls short of the ask out of its refund and then its balance, bound (by
    ///         `seed`'s low bits) at exactly the ask, one wei under it (refused unless the credits cover the ask),
    ///         64 times it or not at all, and on its net (the next bits) at quoteRedeemAtAsk's (exact: it must
    ///         pass), not at all, or one wei tighter (it must be refused). Checked by _paidTheAsk and _refusedAtAsk.
    function redeemPayingAsk(uint256 who, uint256 tier, uint256 share, uint256 to, uint256 askSeed, uint256 seed)
        external
    {
        address a = _trader(who);
        address provider = _provider(to);
        uint256 id = _tier(tier);
        // credits to spend where it holds none (a trader's balance is often empty), bought at the price
        if (hmm.balanceOf(a, id) == 0) _buy(a, id, bound(uint256(keccak256(abi.encode(share))), 1, 4e8));
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        if (a == provider) return _selfAtAsk(a, id, n);
        if (!_askFor(provider, id, n, askSeed)) return;
        uint256 mode = seed & 3;
        uint256 ask = _askAt;
        _maxAskAt = mode == 0 ? ask : mode == 1 ? (ask == 0 ? 0 : ask - 1) : mode == 2 ? ask * 64 : type(uint256).max;
        _countBefore(id, n, provider);
        _before(a, id, n, provider);
        _expectAtAsk(a, id, n, provider);
        _boundAtAsk(a, id, n, provider, seed >> 2);
        vm.prank(a);
        try hmm.redeemAtAsk(id, n, provider, _maxAskAt, _minNet, type(uint256).max) returns (uint256 payout) {
            _paidTheAsk(a, id, provider, payout);
        } catch (bytes memory reason) {
            _refusedAtAsk(a, reason);
        }
    }

    /// @dev `provider` offers `n` on tier `id` at an ask from `askSeed` (refused where it would raise the ask it
    ///      stands at, which then applies); false where it has less than `n` to serve. Sets _askAt.
    function _askFor(address provider, uint256 id, uint256 n, uint256 askSeed) private returns (bool) {
        uint256 h = uint256(keccak256(abi.encode(askSeed)));
        uint256 price = hmm.countedAsk(id);
        _offerAsk(
            provider,
            id,
            n,
            h % 3 == 0 ? (price * (9000 + (h >> 8) % 1001)) / 10_000 : (price * (100 + (h >> 8) % 6301)) / 100
        );
        (uint128 ask,,,,,) = hmm.asks(hmm.epoch(), id, provider);
        _askAt = ask;
        return hmm.providerCapacity(hmm.epoch(), id, provider) >= n;
    }

    /// @dev redeemAtAsk to oneself: refused with SelfRedemption, as redeem.
    function _selfAtAsk(address a, uint256 id, uint256 n) private {
        bytes memory expected = abi.encodeWithSelector(HamiltonianMarketMaker.SelfRedemption.selector, a);
        vm.prank(a);
        try hmm.redeemAtAsk(id, n, a, type(uint256).max, type(int256).min, type(uint256).max) {
            selfRedemptions += 1;
        } catch (bytes memory reason) {
            if (keccak256(reason) != keccak256(expected)) selfRedemptions += 1;
        }
    }

    /// @dev redeemAtAsk's books by the rule, from what the credits pay without an ask (quoteRedeem's split): the
    ///      provider paid max(its part, ask x n); the holder's net its refund less the top-up (ask x n less the part,
    ///      where positive) less the charge due (_chargeDue, at a counted ask); the maker's surplus up by the exit
    ///      fee and the charge; refused (AskAboveBound) where the ask is above the holder's bound and the part falls
    ///      short of it. After _before, whose books the charge reads.
    function _expectAtAsk(address a, uint256 id, uint256 n, address provider) private {
        (uint256 part, uint256 refund, uint256 fee) = hmm.quoteRedeem(a, id, n);
        uint256 minimum = _askAt * n;
        (_partAt, _refundAt, _feeAt, _minimumAt) = (part, refund, fee, minimum);
        _shortAt = minimum > part ? minimum - part : 0;
        _refusedAt = _shortAt != 0 && _askAt > _maxAskAt;
        (,,,, uint128 credits,) = hmm.asks(hmm.epoch(), id, provider);
        (, _dueAt,) = _chargeDue(_countedBefore ? _servedBefore + (n * _weightedBefore) / credits : 0);
        (_providerHanzoBefore, _makerBefore, _surplusBefore) =
            (token.balanceOf(provider), token.balanceOf(address(hmm)), hmm.surplus());
    }

    /// @dev The holder's bounds on redeemAtAsk (seed: quoteRedeemAtAsk's net, exact; none; one wei tighter), and
    ///      what the quote says (_quoted false where it reverts: it must, with AskAboveBound, exactly where the ask
    ///      is above the holder's bound and the credits do not cover it).
    function _boundAtAsk(address a, uint256 id, uint256 n, address provider, uint256 seed) private {
        (_minNet, _exact, _quoted) = (type(int256).min, false, false);
        delete _quoteError;
        try hmm.quoteRedeemAtAsk(a, id, n, provider, _maxAskAt) returns (uint256 pay, int256 net) {
            (_quoted, _quotedPay, _quotedNet) = (true, pay, net);
        } catch (bytes memory reason) {
            _quoteError = reason;
        }
        bytes memory refused =
            abi.encodeWithSelector(HamiltonianMarketMaker.AskAboveBound.selector, provider, _askAt, _maxAskAt);
        if (_refusedAt ? keccak256(_quoteError) != keccak256(refused) : !_quoted) quoteLeaks += 1;
        if (!_quoted || seed % 3 == 1) return;
        (_minNet, _exact) = seed % 3 == 0 ? (_quotedNet, true) : (_quotedNet + 1, false);
    }

    /// @dev After `a`'s redeemAtAsk paid its provider `payout`: the quote was exact; it was within the holder's
    ///      bounds; the provider got exactly max(its part, ask x n), and beyond its reference part only the ask the
    ///      holder chose; the holder's HANZO moved by exactly its refund less the top-up less the charge, and what it
    ///      gave towards the ask (AskToppedUp: the part beyond its refund) no more than its bound allows; the maker
    ///      kept the exit fee and the charge and nothing of the top-up, so nobody else paid. Books fee, charge and
    ///      revenue as the other redemptions do.
    function _paidTheAsk(address a, uint256 id, address provider, uint256 payout) private {
        int256 net = int256(token.balanceOf(a)) - int256(_hanzoBefore);
        if (!_quoted || payout != _quotedPay || net != _quotedNet) quoteLeaks += 1;
        if (_refusedAt || net < _minNet) boundsBroken += 1;
        uint256 minimum = _minimumAt;
        if (payout < minimum) belowAsk += 1;
        uint256 pay = _partAt + _shortAt;
        if (payout != pay || token.balanceOf(provider) != _providerHanzoBefore + pay) askPayLeaks += 1;
        // out of the credits' basis, no more than the reference part unless it is the ask the holder chose
        if (payout > _refBefore - hmm.refBasis(a, id) && payout != minimum) premiumLeaks += 1;
        // the reserve pays provider and holder a sale's proceeds: the top-up is the holder's own
        if (int256(payout) + net + int256(_dueAt) != int256(_saleBefore)) premiumLeaks += 1;
        int256 given = int256(_refundAt) - net - int256(_dueAt); // towards the ask, out of refund and balance
        if (given != int256(_shortAt)) askPayLeaks += 1;
        if (given > 0 && (payout != minimum || _askAt > _maxAskAt)) askPayLeaks += 1;
        if (_toppedUp(a) != (_shortAt > _refundAt ? _shortAt - _refundAt : 0)) askPayLeaks += 1;
        if (token.balanceOf(address(hmm)) != uint256(int256(_makerBefore) - int256(payout) - net)) askPayLeaks += 1;
        if (hmm.surplus() != _surplusBefore + _feeAt + _dueAt) askPayLeaks += 1;
        feesKept += _feeAt;
        charges += _dueAt;
        if (!_cartel(a, provider)) honestRevenue[provider] += payout;
        int256 charged = int256(_refundAt) - int256(_shortAt) - net;
        if (charged >= 0) _checkCharge(id, uint256(charged));
        _countsAsRuled(id, provider);
        done["redeemPayingAsk"] += 1;
        if (_shortAt > _refundAt) done["askToppedUp"] += 1;
        if (!_countedBefore) done["servedAbovePrice"] += 1;
    }

    /// @dev redeemAtAsk refused: as its quote where that reverted (AskAboveBound above the holder's bound); else
    ///      only for the holder's own bound one wei tighter than the quote (quoteRedeemAtAsk's exact net must pass),
    ///      or for a balance short of the top-up and charge it owes.
    function _refusedAtAsk(address a, bytes memory reason) private {
        if (!_quoted) {
            if (keccak256(reason) != keccak256(_quoteError)) quoteLeaks += 1;
            return;
        }
        if (bytes4(reason) == HamiltonianMarketMaker.NetSlippage.selector) {
            if (_quotedNet >= _minNet) boundsBroken += 1;
        } else if (_quotedNet >= 0 || token.balanceOf(a) >= uint256(-_quotedNet)) {
            quoteLeaks += 1;
        }
    }

    /// @dev What the recorded AskToppedUp events say `holder` paid out of its balance towards an ask.
    function _toppedUp(address holder) private returns (uint256 topUp) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory e = logs[i];
            if (e.emitter != address(hmm) || e.topics[0] != HamiltonianMarketMaker.AskToppedUp.selector) continue;
            if (address(uint160(uint256(e.topics[2]))) == holder) topUp += abi.decode(e.data, (uint256));
        }
    }

    /// @dev `a` redeems `n` of tier `id` at `provider`: paid at least its ask, counted in utilization
    ///      by the rule (_countsAsRuled), the provider paid no more than the reference price and the two
    ///      payments a sale's proceeds (_paidAlike), the fees and revenue booked, and the holder's bound
    ///      (_bound) kept.
    function _redeem(address a, uint256 id, uint256 n, address provider, uint256 boundSeed) private {
        (uint128 ask,,,,,) = hmm.asks(hmm.epoch(), id, provider);
        _countBefore(id, n, provider);
        _bound(a, id, n, provider, boundSeed);
        _quoteAt(a, id, n, provider);
        _before(a, id, n, provider);
        _minimumBefore = ask <= hmm.countedAsk(id) ? uint256(ask) * n : 0; // the premium makes up asks to the price
        vm.prank(a);
        try hmm.redeem(id, n, provider, _minNet, _deadline) returns (uint256 payout) {
            uint256 refund = _paidAlike(a, id, payout);
            if (_netLast < _minNet || block.timestamp > _deadline) boundsBroken += 1;
            if (!_quoted || payout != _quotedPay || refund != _quotedRefund) quoteLeaks += 1;
            if (!_quoted || _chargedLast != _quotedCharge) chargeLeaks += 1;
            if (payout < uint256(ask) * n) belowAsk += 1;
            _countsAsRuled(id, provider);
            if (a == provider) selfRedemptions += 1;
            if (!_cartel(a, provider)) honestRevenue[provider] += payout;
            done["redeem"] += 1;
        } catch (bytes memory reason) {
            // the net quoteRedeemAt gave, in time, binds exactly: refused for it, the quote lied
            if (_exact && bytes4(reason) == HamiltonianMarketMaker.NetSlippage.selector) boundsBroken += 1;
        }
    }

    /// @dev The tier's redeemed count and counted capacity a redemption of `n` at `provider` must leave, by the
    ///      rule: at a counted ask the average weight of its counted capacity joins the served count, up to the
    ///      provider's weighted capacity not yet served, and nothing the capacity; at an ask above the price
    ///      (uncounted) neither moves and the weight the epoch has left joins the tier's servedAbove (the poke reads
    ///      it at the target), the ask's own weighted capacity growing to its running served total over the target
    ///      utilization, rounded up once.
    function _countBefore(uint256 id, uint256 n, address provider) private {
        (,, bool counted, uint96 before, uint128 credits, uint128 weighted) = hmm.asks(hmm.epoch(), id, provider);
        HamiltonianMarketMaker.Tier memory t = hmm.tier(id);
        (_redeemedAfter, _capacityAfter, _aboveAfter, _askWeightedAfter) = (t.redeemed, t.capacity, t.servedAbove, 0);
        if (counted) {
            uint256 served = (n * weighted) / credits;
            uint256 room = weighted > before ? weighted - before : 0;
            _redeemedAfter += served < room ? served : room;
        } else {
            uint256 served = _weighted(n);
            _aboveAfter += served;
            _askWeightedAfter = weighted + _atTarget(before + served, _params().targetUtilization)
                - _atTarget(before, _params().targetUtilization);
        }
    }

    /// @dev `served` over the target utilization `u`, rounded up: the capacity it reads at the target against.
    function _atTarget(uint256 served, uint256 u) private pure returns (uint256) {
        return (served * 1e18 + u - 1) / u;
    }

    /// @dev After a redemption _countBefore booked: the tier counted it by the rule, and an ask above the price
    ///      read at most its target share (_aboveTarget).
    function _countsAsRuled(uint256 id, address provider) private {
        HamiltonianMarketMaker.Tier memory t = hmm.tier(id);
        if (t.redeemed != _redeemedAfter || t.capacity != _capacityAfter || t.servedAbove != _aboveAfter) askLeaks += 1;
        if (_aboveTarget(hmm.epoch(), id, provider, _params().targetUtilization)) aboveTargetReads += 1;
        (,,, uint96 served,, uint128 weighted) = hmm.asks(hmm.epoch(), id, provider);
        if (served > weighted) servedPastCapacity += 1;
        if (_askWeightedAfter != 0 && weighted != _askWeightedAfter) askLeaks += 1;
    }

    /// @dev Whether `provider`'s ask on tier `id` in epoch `e` is still above the price (uncounted) and its served
    ///      weight passes the target share `u` of the capacity its service added.
    function _aboveTarget(uint256 e, uint256 id, address provider, uint256 u) private view returns (bool) {
        (,, bool counted, uint96 served,, uint128 weighted) = hmm.asks(e, id, provider);
        return !counted && served > (uint256(weighted) * u) / 1e18;
    }

    /// @notice The current epoch's asks above the price (of the three providers: the only ones) whose served
    ///         weight passes the target share of the capacity their service added.
    function asksAboveTarget() external view returns (uint256 above) {
        uint256 e = hmm.epoch();
        uint256 u = _params().targetUtilization;
        for (uint256 id; id < hmm.tierCount(); ++id) {
            for (uint256 i = 2; i < ACTORS; ++i) {
                if (_aboveTarget(e, id, actors[i], u)) above += 1;
            }
        }
    }

    /// @dev What quoteRedeemAt says the redemption will pay (_quoted false where it reverts).
    function _quoteAt(address a, uint256 id, uint256 n, address provider) private {
        _quoted = false;
        try hmm.quoteRedeemAt(a, id, n, provider) returns (uint256 pay, uint256 refund, uint256, uint256 charge) {
            (_quoted, _quotedPay, _quotedRefund, _quotedCharge) = (true, pay, refund, charge);
        } catch {}
    }

    /// @dev The holder's bound on a redemption, by the low bits of `seed`: half the time none (any charge paid),
    ///      else the refund less the charge quoteRedeemAt gives at `provider` (exact: it must pass), quoteRedeem's
    ///      refund (no provider: more than is paid where the ask is topped up out of the refund or a charge is
    ///      due), any net from paying that much on top up to it, or one wei more (never met); one time in eight a
    ///      deadline already passed.
    function _bound(address a, uint256 id, uint256 n, address provider, uint256 seed) private {
        _minNet = type(int256).min;
        _exact = false;
        _deadline = (seed >> 3) % 8 == 7 && block.timestamp > 0 ? block.timestamp - 1 : type(uint256).max;
        uint256 mode = seed & 7;
        if (mode < 4) return;
        if (mode == 4) {
            try hmm.quoteRedeemAt(a, id, n, provider) returns (uint256, uint256 refund, uint256, uint256 charge) {
                (_minNet, _exact) = (int256(refund) - int256(charge), true);
            } catch {}
            return;
        }
        try hmm.quoteRedeem(a, id, n) returns (uint256, uint256 refund, uint256) {
            int256 r = int256(refund);
            _minNet = mode == 5 ? r : mode == 6 ? int256(bound(seed >> 6, 0, 2 * refund)) - r : r + 1;
        } catch {}
    }

    /// @dev The holder's books before a redemption (the stack is too shallow to carry them).
    uint256 private _basisBefore;
    uint256 private _refBefore;
    uint256 private _hanzoBefore;
    uint256 private _saleBefore;
    uint256 private _minimumBefore; // the provider's ask for the credits, where the holder's premium may make it up
    int256 private _minNet; // the holder's bound on the redemption tried
    bool private _exact; // _minNet is quoteRedeemAt's refund less its charge at the redemption's provider
    bool private _quoted;
    uint256 private _quotedPay;
    uint256 private _quotedRefund;
    uint256 private _quotedCharge;
    uint256 private _deadline;
    /// @dev The provider's ask before a redemption, for the charge it is due (_chargeDue).
    address private _providerBefore;
    bool private _countedBefore;
    uint256 private _servedBefore;
    uint256 private _weightedBefore;
    uint256 private _carriedBefore; // the weight the redemption's credits carry at the provider's average
    uint256 private _refPriceBefore;
    /// @dev redeemAtAsk's books by the rule (_expectAtAsk), its bounds and its quote (_boundAtAsk).
    uint256 private _askAt;
    uint256 private _maxAskAt;
    uint256 private _minimumAt;
    uint256 private _partAt;
    uint256 private _refundAt;
    uint256 private _feeAt;
    uint256 private _shortAt;
    uint256 private _dueAt;
    bool private _refusedAt;
    uint256 private _providerHanzoBefore;
    uint256 private _makerBefore;
    uint256 private _surplusBefore;
    int256 private _quotedNet;
    bytes private _quoteError;
    /// @dev The tier's redeemed count and counted capacity the redemption tried must leave (_countBefore).
    uint256 private _redeemedAfter;
    uint256 private _capacityAfter;
    uint256 private _aboveAfter;
    uint256 private _askWeightedAfter; // above the price: the provider's weighted capacity after (0 where counted)
    /// @dev The last redemption's refund less charge as the holder's HANZO moved, and its charge (_settled).
    int256 private _netLast;
    uint256 private _chargedLast;

    /// @dev Also starts recording events: the last thing before the redemption it books, so _paidAlike reads the
    ///      refund its Redeemed event reports (before the charge: the holder's HANZO shows only the net).
    function _before(address a, uint256 id, uint256 n, address provider) private {
        _basisBefore = hmm.costBasis(a, id);
        _refBefore = hmm.refBasis(a, id);
        _hanzoBefore = token.balanceOf(a);
        _minimumBefore = 0;
        _saleBefore = type(uint256).max;
        try hmm.quoteSell(a, id, n) returns (uint256 proceeds, uint256) {
            _saleBefore = proceeds;
        } catch {}
        (,, bool counted, uint96 served, uint128 credits, uint128 weighted) = hmm.asks(hmm.epoch(), id, provider);
        (_providerBefore, _countedBefore, _servedBefore, _weightedBefore) = (provider, counted, served, weighted);
        _carriedBefore = counted ? (n * weighted) / credits : 0;
        _refPriceBefore = hmm.tier(id).refPrice;
        vm.recordLogs();
    }

    /// @dev After `a`'s redemption paid its provider `payout` (the holder's refund read from the Redeemed events,
    ///      its charge from what its HANZO moved short of that): the provider got no more than the credits' share
    ///      of refBasis, or exactly its ask when that was higher and at most countedAsk (made up out of the holder's
    ///      premium: red teams 20 and 23), provider and holder together (the refund before the charge) what a sale
    ///      would have paid, the fee kept (the share less both payments) is booked, and the charge is the one due
    ///      (_checkCharge). Returns the refund.
    function _paidAlike(address a, uint256 id, uint256 payout) private returns (uint256 refund) {
        uint256 charged;
        (refund, charged) = _settled(a, _hanzoBefore);
        if (payout > _refBefore - hmm.refBasis(a, id) && payout != _minimumBefore) premiumLeaks += 1;
        if (payout + refund != _saleBefore) premiumLeaks += 1;
        feesKept += _basisBefore - hmm.costBasis(a, id) - payout - refund;
        _checkCharge(id, charged);
    }

    /// @dev The refunds the recorded Redeemed events report to `holder`, and the charges it paid: the refunds less
    ///      what its HANZO rose by from `held` (the whole move, which may be a fall: the charge pulled). Books the
    ///      charges; a holder paid beyond its refunds is a leak.
    function _settled(address holder, uint256 held) private returns (uint256 refund, uint256 charged) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory e = logs[i];
            if (e.emitter != address(hmm) || e.topics[0] != HamiltonianMarketMaker.Redeemed.selector) continue;
            if (address(uint160(uint256(e.topics[2]))) != holder) continue;
            (,, uint256 r,) = abi.decode(e.data, (uint256, uint256, uint256, uint256));
            refund += r;
        }
        int256 net = int256(token.balanceOf(holder)) - int256(held);
        if (net > int256(refund)) chargeLeaks += 1;
        else charged = uint256(int256(refund) - net);
        charges += charged;
        (_netLast, _chargedLast) = (net, charged);
    }

    /// @dev (the weighted credits by which the provider of the redemption _before booked passed its target share,
    ///      the charge due on them: kappa x P_ref each, rounded up) once its served weight is `servedAfter`; whether
    ///      it ends at or below its target share.
    function _chargeDue(uint256 servedAfter) private view returns (uint256 excess, uint256 due, bool within) {
        if (!_countedBefore) return (0, 0, true);
        HamiltonianMarketMaker.Params memory p = _params();
        uint256 threshold = (_weightedBefore * p.targetUtilization) / 1e18;
        within = servedAfter <= threshold;
        uint256 from = _servedBefore > threshold ? _servedBefore : threshold;
        if (servedAfter <= from) return (0, 0, within);
        excess = servedAfter - from;
        due = (excess * _refPriceBefore * p.congestionCharge + 1e18 - 1) / 1e18;
    }

    /// @dev The redemption _before booked was charged `charged`: the charge due on the weight its credits carry at
    ///      its provider's average weight (its count is capped at the provider's weighted capacity not yet served; the
    ///      charge is not), and nothing where that leaves the provider at or below its target share.
    function _checkCharge(uint256, uint256 charged) private {
        (, uint256 due, bool within) = _chargeDue(_servedBefore + _carriedBefore);
        if (charged != due) chargeLeaks += 1;
        if (within && charged != 0) chargedBelowTarget += 1;
    }

    /// @notice An exit by redemption beside the sale it replaces: `a` quotes the sale of `n` credits,
    ///         then redeems them instead, at a friendly provider's offer (its accomplice's, or the
    ///         dealer's own offer from a second wallet: a trader holding the dealer's credits), one by
    ///         one or by a batch of two elements; what the provider is paid must not pass the quote.
    function exitAlike(uint256 who, uint256 tier, uint256 share, uint256 to, bool batch) external {
        address a = _trader(who);
        address provider = _provider(to);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n < 2 || a == provider) return;
        uint256 sale;
        try hmm.quoteSell(a, id, n) returns (uint256 proceeds, uint256) {
            sale = proceeds;
        } catch {
            return;
        }
        vm.prank(provider);
        try hmm.offerCapacity(id, n, 0) {} catch { return; }
        uint256 basis = hmm.costBasis(a, id);
        uint256 before = token.balanceOf(provider);
        uint256 own = token.balanceOf(a);
        vm.recordLogs();
        vm.prank(a);
        // any charge accepted: a redemption of all the capacity offered passes the provider's target share
        if (batch) {
            uint256[] memory ids = new uint256[](2);
            uint256[] memory amounts = new uint256[](2);
            (ids[0], amounts[0], ids[1], amounts[1]) = (id, n / 2, id, n - n / 2);
            try hmm.redeemBatch(ids, amounts, provider, type(int256).min, type(uint256).max) {} catch { return; }
        } else {
            try hmm.redeem(id, n, provider, type(int256).min, type(uint256).max) {} catch { return; }
        }
        uint256 payout = token.balanceOf(provider) - before;
        (uint256 refund,) = _settled(a, own); // the curve's premium back to the holder, before any charge
        if (payout + refund > sale) exitExcess += payout + refund - sale;
        if (!_cartel(a, provider)) honestRevenue[provider] += payout;
        feesKept += basis - hmm.costBasis(a, id) - payout - refund;
        done["exitAlike"] += 1;
    }

    /// @notice The attack's move: the dealer redeems its credits against its accomplice's offer
    ///         (to its own offer, the original move, is refused: see selfRedeem).
    function pump(uint256 tier, uint256 share) external {
        address d = actors[2];
        address x = actors[4];
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(d, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0) return;
        vm.prank(x);
        try hmm.offerCapacity(id, n, 0) {} catch { return; }
        _before(d, id, n, x);
        vm.prank(d);
        try hmm.redeem(id, n, x, type(int256).min, type(uint256).max) returns (uint256 payout) {
            _paidAlike(d, id, payout);
            done["pump"] += 1;
        } catch {}
    }

    /// @notice Anyone names itself as the provider of its own redemption, one by one or by batch,
    ///         the dealer after offering the capacity: it must revert with SelfRedemption (and, a
    ///         revert, change nothing).
    function selfRedeem(uint256 who, uint256 tier, uint256 share, bool batch) external {
        address a = _trader(who);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 0, 10_000)) / 10_000;
        if (n > 0 && hmm.hasRole(hmm.PROVIDER_ROLE(), a)) {
            vm.prank(a);
            try hmm.offerCapacity(id, n, 0) {} catch {}
        }
        bytes memory expected = abi.encodeWithSelector(HamiltonianMarketMaker.SelfRedemption.selector, a);
        uint256[] memory ids = new uint256[](1);
        uint256[] memory amounts = new uint256[](1);
        (ids[0], amounts[0]) = (id, n);
        vm.prank(a);
        if (batch) {
            try hmm.redeemBatch(ids, amounts, a, 0, type(uint256).max) {
                selfRedemptions += 1;
            } catch (bytes memory reason) {
                if (keccak256(reason) != keccak256(expected)) selfRedemptions += 1;
            }
        } else {
            try hmm.redeem(id, n, a, 0, type(uint256).max) {
                selfRedemptions += 1;
            } catch (bytes memory reason) {
                if (keccak256(reason) != keccak256(expected)) selfRedemptions += 1;
            }
        }
        done["selfRedeem"] += 1;
    }

    function give(uint256 from, uint256 to, uint256 tier, uint256 share) external {
        address a = _trader(from);
        address b = _trader(to);
        uint256 id = _tier(tier);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000;
        if (n == 0 || a == b) return;
        uint256 sent = hmm.costBasis(a, id);
        uint256 before = hmm.costBasis(b, id);
        uint256 paid = token.balanceOf(a);
        _refsBefore(a, b, id);
        vm.prank(a);
        try hmm.safeTransferFrom(a, b, id, n, "") {
            _refsMoved(a, b, id);
            _moved(sent - hmm.costBasis(a, id), hmm.costBasis(b, id) - before, paid, token.balanceOf(a), 1);
            givenBasis[b] += hmm.costBasis(b, id) - before;
            done["give"] += 1;
        } catch {}
    }

    /// @dev The pair's refBasis before a transfer, and what the sender's moved (the stack is too shallow).
    uint256 private _refFrom;
    uint256 private _refTo;
    uint256 private _refMoved;

    function _refsBefore(address a, address b, uint256 id) private {
        (_refFrom, _refTo) = (hmm.refBasis(a, id), hmm.refBasis(b, id));
    }

    /// @dev A transfer moved the reference part of the basis as it moved the basis: what the sender lost the
    ///      receiver got, and a sender left without credits keeps none (else a provider paid by transfer would be
    ///      handed the premium a redemption returns, or refBasis stranded where no credits are).
    function _refsMoved(address a, address b, uint256 id) private {
        _refMoved = _refFrom - hmm.refBasis(a, id);
        if (_refMoved != hmm.refBasis(b, id) - _refTo) basisLeaks += 1;
        if (hmm.balanceOf(a, id) == 0 && hmm.refBasis(a, id) != 0) basisLeaks += 1;
    }

    /// @dev A transfer's books: it took `moved` of the sender's basis and gave `received` to the
    ///      receiver, which must be the reference part the sender's refBasis lost (_refMoved, set by
    ///      _refsMoved: the premium does not travel), and the sender's HANZO went from `before` to `after`:
    ///      the premium (moved less its reference part) back, less the exit fee on the reference part, what a
    ///      redemption of the same credits would have cost (each element rounds its fee up: at most
    ///      `elements` wei more).
    function _moved(uint256 moved, uint256 received, uint256 before, uint256 after_, uint256 elements) private {
        if (received != _refMoved || received > moved) {
            basisLeaks += 1;
            return;
        }
        uint256 premium = moved - received;
        if (after_ > before + premium) {
            transferShortfall += 1; // paid back more than its premium: the fee not paid in full
            return;
        }
        uint256 paid = before + premium - after_; // the fee the sender paid
        uint256 fee = (received * hmm.exitFee() + 1e18 - 1) / 1e18; // the exit fee on the reference part
        if (paid < fee) transferShortfall += 1;
        if (paid > fee + elements) basisLeaks += 1;
        feesKept += paid;
    }

    /// @notice A batch transfer of `pieces` elements naming the same tier, maybe with another tier
    ///         between them: the whole of what it moves must carry the basis it would alone.
    function giveBatch(uint256 from, uint256 to, uint256 tier, uint256 pieces, uint256 share, bool mixed) external {
        address a = _trader(from);
        address b = _trader(to);
        uint256 id = _tier(tier);
        uint256 k = bound(pieces, 2, 4);
        uint256 n = (hmm.balanceOf(a, id) * bound(share, 1, 10_000)) / 10_000 / k;
        if (n == 0 || a == b) return;
        uint256 held = hmm.balanceOf(a, id);
        _kept = (hmm.costBasis(a, id) * (held - k * n)) / held;
        (uint256[] memory ids, uint256[] memory values) = _pieces(id, k, n, mixed);
        _giveBatch(a, b, id, ids, values);
    }

    /// @dev `k` elements of `n` credits of tier `id`, maybe another tier's empty element after the first.
    function _pieces(uint256 id, uint256 k, uint256 n, bool mixed)
        private
        view
        returns (uint256[] memory ids, uint256[] memory values)
    {
        uint256 len = mixed ? k + 1 : k;
        ids = new uint256[](len);
        values = new uint256[](len);
        for (uint256 i; i < len; ++i) {
            ids[i] = id;
            values[i] = n;
        }
        if (mixed) (ids[1], values[1]) = (_tier(id + 1), 0); // another id between the repeats
    }

    /// @dev The batch of giveBatch; _kept is the basis the sender must keep with the credits it keeps.
    function _giveBatch(address a, address b, uint256 id, uint256[] memory ids, uint256[] memory values) private {
        uint256 kept = _kept;
        uint256 basis = hmm.costBasis(a, id);
        uint256 before = hmm.costBasis(b, id);
        uint256 paid = token.balanceOf(a);
        _refsBefore(a, b, id);
        vm.prank(a);
        try hmm.safeBatchTransferFrom(a, b, ids, values, "") {
            _refsMoved(a, b, id);
            // the sender keeps the basis of the credits it keeps (each element rounds down, so to
            // within a wei an element), the pair's total is unchanged, the sender paid the exit fee,
            // and none stays without credits
            uint256 left = hmm.costBasis(a, id);
            if (left < kept || left > kept + ids.length) basisLeaks += 1;
            _moved(basis - left, hmm.costBasis(b, id) - before, paid, token.balanceOf(a), ids.length);
            if (hmm.balanceOf(a, id) == 0 && left != 0) basisLeaks += 1;
            givenBasis[b] += hmm.costBasis(b, id) - before;
            done["giveBatch"] += 1;
        } catch {}
    }

    /// @notice Three honest holders buy one after another and leave, by sale or redemption, in the
    ///         order `order` picks; before any of the six steps `moves` may close the epoch with the
    ///         price crashed (capacity nobody uses) or pumped (the dealer's credit served by its
    ///         accomplice).
    ///         Each must get back exactly its basis less the exit fee on its reference part (a sale and a
    ///         redemption alike), whatever the others and the price did before.
    function honestCohort(uint256 tier, uint256 amount, uint256 order, uint256 exits, uint256 moves) external {
        uint256 id = _tier(tier);
        uint256[COHORT] memory bases;
        uint256[COHORT] memory amounts;
        for (uint256 i; i < COHORT; ++i) {
            _move(id, moves >> (2 * i));
            amounts[i] = bound(uint256(keccak256(abi.encode(amount, i))), 1, 4e8);
            if (!_buy(cohort(i), id, amounts[i])) {
                _leave(id, i); // cannot afford it: those who bought leave, so the cohort starts clean
                return;
            }
            bases[i] = hmm.costBasis(cohort(i), id);
        }
        uint256[6] memory orders = [uint256(0x012), 0x021, 0x102, 0x120, 0x201, 0x210];
        uint256 o = orders[order % 6];
        for (uint256 j; j < COHORT; ++j) {
            _move(id, moves >> (2 * (COHORT + j)));
            uint256 i = (o >> (4 * (COHORT - 1 - j))) & 0xF;
            address h = cohort(i);
            uint256 got;
            uint256 owed = bases[i];
            uint256 fee = _feeOnReference(h, id);
            feesKept += fee;
            owed -= fee;
            if ((exits >> j) & 1 == 0 || !_roomFor(id, amounts[i])) {
                vm.prank(h);
                got = hmm.sell(id, amounts[i], 0, type(uint256).max);
            } else {
                uint256 own = token.balanceOf(h);
                vm.recordLogs();
                vm.prank(h);
                // no bound: a charge the provider's room should have spared it is counted, not refused
                uint256 payout = hmm.redeem(id, amounts[i], actors[3], type(int256).min, type(uint256).max);
                honestRevenue[actors[3]] += payout;
                (uint256 refund, uint256 charged) = _settled(h, own);
                if (charged != 0) chargedBelowTarget += 1;
                got = payout + refund; // the provider's pay and the premium back
                got = got > charged ? got - charged : 0;
                done["honestRedeem"] += 1;
            }
            if (got < owed) honestShortfall += owed - got;
            if (got > owed) honestExcess += got - owed;
            honestExits += 1;
        }
        done["honestCohort"] += 1;
    }

    /// @dev The exit fee on all of `h`'s credits of tier `id`: on its refBasis, the reference part (the premium, a
    ///      deposit, comes back whole), rounded up as the maker rounds it.
    function _feeOnReference(address h, uint256 id) private view returns (uint256) {
        return (hmm.refBasis(h, id) * _params().sellFee + 1e18 - 1) / 1e18;
    }

    /// @dev Per the low two bits of `kind`: nothing, close the epoch on a crash (the honest provider
    ///      offers capacity nobody uses), or on a pump (the dealer buys a credit and redeems it at its
    ///      accomplice's one-credit offer).
    function _move(uint256 id, uint256 kind) private {
        kind &= 3;
        if (kind == 0 || kind == 3) return;
        if (kind == 1) {
            vm.prank(actors[3]);
            hmm.offerCapacity(id, 1e9, 0);
        } else {
            address d = actors[2];
            address x = actors[4];
            if (_buy(d, id, 1)) {
                vm.prank(x);
                hmm.offerCapacity(id, 1, 0);
                _before(d, id, 1, x);
                vm.prank(d);
                _paidAlike(d, id, hmm.redeem(id, 1, x, type(int256).min, type(uint256).max));
            }
        }
        (,,,,,,, uint64 epochLength,,) = hmm.params();
        vm.warp(hmm.epochStart() + epochLength);
        excessUncovered += uncoveredTiers();
        hmm.poke();
        epochsStepped += 1;
    }

    /// @dev The honest provider offers capacity at ask 0 until serving `n` more credits leaves it at or below its
    ///      target share (an honest holder redeems where there is room); false where a few offers do not make room
    ///      (once the epoch is over new capacity weighs nothing).
    function _roomFor(uint256 id, uint256 n) private returns (bool) {
        address provider = actors[3];
        uint256 target = _params().targetUtilization;
        uint256 k = (n * 1e18) / target + 1;
        for (uint256 j; j < 4; ++j) {
            vm.prank(provider);
            try hmm.offerCapacity(id, k, 0) {} catch { return false; }
            (,, bool counted, uint96 served, uint128 credits, uint128 weighted) = hmm.asks(hmm.epoch(), id, provider);
            if (!counted) return false;
            if (served + (n * weighted) / credits <= (weighted * target) / 1e18) return true;
            k *= 2;
        }
        return false;
    }

    function _leave(uint256 id, uint256 members) private {
        for (uint256 i; i < members; ++i) {
            address h = cohort(i);
            uint256 n = hmm.balanceOf(h, id);
            uint256 fee = _sellFee(h, id, n);
            vm.prank(h);
            hmm.sell(id, n, 0, type(uint256).max);
            feesKept += fee;
        }
    }

    /// @notice Tiers whose fresh credits are off the books: the holders' freshCredits not summing to the position's
    ///         fresh part (position - carried), or a holder's above its balance (fresh credits a transfer left with
    ///         a sender that no longer holds them).
    function freshLeaks() external view returns (uint256 leaks) {
        for (uint256 id; id < hmm.tierCount(); ++id) {
            uint256 total;
            for (uint256 i; i < ACTORS + COHORT; ++i) {
                address h = i < ACTORS ? actors[i] : cohort(i - ACTORS);
                uint256 f = hmm.freshCredits(h, id);
                if (f > hmm.balanceOf(h, id)) leaks += 1;
                total += f;
            }
            HamiltonianMarketMaker.Tier memory t = hmm.tier(id);
            if (t.carried > t.position || total != t.position - t.carried) leaks += 1;
        }
    }

    /// @notice The sum of the cost bases of every actor and cohort member, over every tier.
    function bases() external view returns (uint256 total) {
        for (uint256 id; id < hmm.tierCount(); ++id) {
            for (uint256 i; i < ACTORS; ++i) {
                total += hmm.costBasis(actors[i], id);
            }
            for (uint256 i; i < COHORT; ++i) {
                total += hmm.costBasis(cohort(i), id);
            }
        }
    }

    /// @notice The wash (red team 17): the dealer buys credits and at once redeems them, before anyone else's, in up
    ///         to four pieces split between its accomplice's offers and the honest provider's, each piece's capacity
    ///         offered just before it at a point of the epoch `when` picks (late capacity weighs less, so lowers the
    ///         average weight of what its provider serves). Each piece is a redemption of _redeem's, charge checked:
    ///         no split or timing lifts the tier above its target without its providers' charges covering the rise.
    function wash(uint256 tier, uint256 amount, uint256 pieces, uint256 when, uint256 boundSeed) external {
        address d = actors[2];
        uint256 id = _tier(tier);
        uint256 n = bound(amount, 1, 4e8);
        if (!_buy(d, id, n)) return;
        uint256 k = bound(pieces, 1, 4);
        for (uint256 j; j < k; ++j) {
            _washPiece(id, j + 1 < k ? n / k : n - (n / k) * (k - 1), when >> (64 * j), boundSeed >> (8 * j));
        }
        done["wash"] += 1;
    }

    /// @dev One piece of the wash: `m` of the dealer's credits of tier `id`, at the provider and time `seed` picks.
    function _washPiece(uint256 id, uint256 m, uint256 seed, uint256 boundSeed) private {
        address provider = seed & 1 == 0 ? actors[4] : actors[3];
        (,,,,,,, uint64 length,,) = hmm.params();
        uint256 at = hmm.epochStart() + bound(seed >> 1, 0, length);
        if (at > block.timestamp) vm.warp(at);
        if (m == 0) return;
        vm.prank(provider);
        try hmm.offerCapacity(id, m, 0) {} catch { return; }
        _redeem(actors[2], id, m, provider, boundSeed);
    }

    /// @notice The tiers whose served weight above target, redeemed - u* capacity, passes the sum over the providers
    ///         (the dealer, the honest provider, the accomplice: the only ones) of their served weight above their
    ///         target share, servedWeight - u* weightedCredits: a rise no charge priced.
    function uncoveredTiers() public view returns (uint256 uncovered) {
        uint256 target = _params().targetUtilization;
        uint256 e = hmm.epoch();
        for (uint256 id; id < hmm.tierCount(); ++id) {
            HamiltonianMarketMaker.Tier memory t = hmm.tier(id);
            uint256 floor = (uint256(t.capacity) * target) / 1e18;
            if (t.redeemed <= floor) continue;
            uint256 charged;
            for (uint256 i = 2; i < ACTORS; ++i) {
                (,,, uint96 served,, uint128 weighted) = hmm.asks(e, id, actors[i]);
                uint256 threshold = (uint256(weighted) * target) / 1e18;
                if (served > threshold) charged += served - threshold;
            }
            if (charged < t.redeemed - floor) uncovered += 1;
        }
    }

    /// @notice Governance takes a share of the surplus: holders' exits must not notice.
    function withdrawSurplus(uint256 share) external {
        uint256 amount = (hmm.surplus() * bound(share, 0, 10_000)) / 10_000;
        try hmm.withdrawSurplus(amount) {
            withdrawn += amount;
            done["withdrawSurplus"] += 1;
        } catch {}
    }

    /// @notice The cohort's addresses (funded and approved in setUp).
    function cohort(uint256 i) public pure returns (address) {
        return address(uint160(0xC0407 + i));
    }

    /// @dev The poke just recorded: every tier served only above the price (`onlyAbove`) read exactly the target.
    function _readAtTheTarget(bool[] memory onlyAbove) private {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 u = _params().targetUtilization;
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory e = logs[i];
            if (e.emitter != address(hmm) || e.topics[0] != HamiltonianMarketMaker.EpochStepped.selector) continue;
            (uint256 read,,,,) = abi.decode(e.data, (uint256, int256, int256, uint256, uint256));
            if (onlyAbove[uint256(e.topics[2])] && read != u) aboveTargetReads += 1;
        }
    }

    function poke(uint256 extra) external {
        (,,,,,,, uint64 epochLength,,) = hmm.params();
        vm.warp(hmm.epochStart() + epochLength + bound(extra, 0, 1 days));
        uint256 n = hmm.tierCount();
        uint256[] memory position = new uint256[](n);
        uint256 decay = _params().positionDecay;
        for (uint256 id; id < n; ++id) {
            uint256 p = hmm.tier(id).position;
            position[id] = p - (p * decay) / 1e18;
        }
        excessUncovered += uncoveredTiers();
        bool[] memory onlyAbove = new bool[](n);
        for (uint256 id; id < n; ++id) {
            HamiltonianMarketMaker.Tier memory t = hmm.tier(id);
            onlyAbove[id] = t.capacity == 0 && t.servedAbove != 0;
        }
        vm.recordLogs();
        hmm.poke();
        _readAtTheTarget(onlyAbove);
        for (uint256 id; id < n; ++id) {
            if (hmm.tier(id).position != position[id]) positionLeaks += 1;
        }
        epochsStepped += 1;
        done["poke"] += 1;
    }
}


/// @notice Invariants of the market maker over many epochs of the handler's actions.
contract MarketInvariants {
    HanzoToken public token;
    HamiltonianMarketMaker public hmm;
    MarketHandler public handler;
    /// @notice The fees of setUp's honest round trip: the surplus the attackers start from.
    uint256 public setUpFees;

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
            uint64(vm.envUint("HANZO_HMM_EPOCH")),
            uint64(vm.envUint("HANZO_HMM_POSITION_DECAY")),
            uint64(vm.envUint("HANZO_HMM_CONGESTION_CHARGE"))
        );
        hmm = new HamiltonianMarketMaker(token, address(this), address(0x7EA5), p);
        uint256 depth = vm.envUint("HANZO_HMM_DEPTH");
        hmm.addTier(vm.envUint("HANZO_PRICE_HMM_7B"), depth);
        hmm.addTier(vm.envUint("HANZO_PRICE_HMM_32B"), depth);
        hmm.addTier(vm.envUint("HANZO_PRICE_HMM_175B"), depth);
        address[5] memory actors =
            [address(0xA11CE), address(0xB0B), address(0xDEA1E2), address(0x9A1D), address(0xACC0)];
        handler = new MarketHandler(token, hmm, actors);
        hmm.grantRole(hmm.PROVIDER_ROLE(), actors[2]);
        hmm.grantRole(hmm.PROVIDER_ROLE(), actors[3]);
        hmm.grantRole(hmm.PROVIDER_ROLE(), actors[4]);
        for (uint256 i; i < 3; ++i) {
            token.mint(actors[i], handler.FUNDING());
            vm.prank(actors[i]);
            token.approve(address(hmm), type(uint256).max);
        }
        for (uint256 i; i < handler.COHORT(); ++i) {
            address h = handler.cohort(i);
            token.mint(h, 1e26);
            vm.prank(h);
            token.approve(address(hmm), type(uint256).max);
        }
        hmm.grantRole(hmm.GOVERNANCE_ROLE(), address(handler)); // for withdrawSurplus
        // an honest round trip leaves a fee surplus for the attackers to go after
        address honest = address(0x40E57);
        token.mint(honest, 1e26);
        vm.prank(honest);
        token.approve(address(hmm), type(uint256).max);
        vm.prank(honest);
        hmm.buy(0, 3e9, type(uint256).max, type(uint256).max);
        vm.prank(honest);
        hmm.sell(0, 3e9, 0, type(uint256).max);
        setUpFees = hmm.surplus();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice P4: the maker holds at least what every credit would sell back for.
    function invariant_solvent() public view {
        require(token.balanceOf(address(hmm)) >= hmm.reserve(), "HANZO held < reserve");
    }

    /// @notice The reserve is exactly what holders are owed: the sum of every holder's cost basis
    ///         (the honest round trip of setUp left none), whatever the price did.
    function invariant_reserve_is_every_holders_basis() public view {
        require(handler.bases() == hmm.reserve(), "reserve != sum of bases");
    }

    /// @notice No actor ends with more HANZO than it was funded with, plus what others paid it
    ///         for compute, plus the basis of credits it was given (the review's invariant). The
    ///         dealer and its accomplice count as one actor: they share their HANZO off-chain.
    function invariant_no_actor_takes_out_more_than_it_put_in() public view {
        for (uint256 i; i < 4; ++i) {
            address a = handler.actors(i);
            uint256 funded = i < 3 ? handler.FUNDING() : 0;
            uint256 held = token.balanceOf(a);
            uint256 owed = funded + handler.honestRevenue(a) + handler.givenBasis(a);
            if (i == 2) {
                address x = handler.actors(4);
                held += token.balanceOf(x);
                owed += handler.honestRevenue(x) + handler.givenBasis(x);
            }
            require(held <= owed, "an actor took out more than it put in");
        }
    }

    /// @notice Nobody is served a redemption to itself (a sale without the sell fee, its own
    ///         demand counted in utilization): every try reverted with SelfRedemption.
    function invariant_nobody_redeems_to_itself() public view {
        require(handler.selfRedemptions() == 0, "a redemption to oneself was served");
    }

    /// @notice Every HANZO the maker holds is owed to a holder (the reserve) or is a fee or a congestion
    ///         charge it kept and governance did not withdraw: no move of the price adds to the surplus or
    ///         takes from it, and an exit or a transfer adds exactly its fee (and a redemption its charge).
    function invariant_the_surplus_is_the_fees_kept() public view {
        require(
            token.balanceOf(address(hmm)) + handler.withdrawn()
                == hmm.reserve() + setUpFees + handler.feesKept() + handler.charges(),
            "HANZO unaccounted for"
        );
    }

    /// @notice No exit returns more than a sale at the same state: a redemption, to any provider
    ///         (a friendly one, or one's own through a second wallet), singly or by batch, pays the
    ///         provider no more than selling the same credits would have paid (exits cost alike).
    function invariant_no_exit_returns_more_than_a_sale() public view {
        require(handler.exitExcess() == 0, "an exit returned more than a sale");
    }

    /// @notice Every transfer, batches naming a tier twice included, moves the reference part of the basis
    ///         it takes (refBasis conserved, the receiver's basis growing by it alone), returns the premium
    ///         to its sender, charges the sender no more than the exit fee, and leaves no basis with a
    ///         sender that holds no credits.
    function invariant_every_transfer_moves_the_reference_part_and_returns_the_premium() public view {
        require(handler.basisLeaks() == 0, "a transfer moved basis other than pro rata");
    }

    /// @notice The sender of every transfer pays the exit fee on the basis it moves, in HANZO: paying a
    ///         provider in credits costs what a redemption costs, and nobody else's pay is cut.
    function invariant_every_transfer_pays_the_exit_fee() public view {
        require(handler.transferShortfall() == 0, "a transfer paid less than the exit fee");
    }

    /// @notice An honest holder exits with exactly its basis less the exit fee (on a sale and a
    ///         redemption alike), in any order and after any moves of the price.
    function invariant_honest_holders_exit_with_their_basis_in_any_order_at_any_price() public view {
        require(handler.honestShortfall() == 0, "an honest holder was paid short of its basis");
        require(handler.honestExcess() == 0, "an honest holder was paid beyond its basis");
    }

    /// @notice No provider is paid less than its ask per credit served: a crash of the price, by idle
    ///         offers or anything else, cannot pay a provider below the terms it offered on.
    function invariant_no_provider_is_paid_below_its_ask() public view {
        require(handler.belowAsk() == 0, "a provider was paid below its ask");
    }

    /// @notice Utilization counts only capacity offered at an ask the price covers, and only what it
    ///         serves; an ask is never raised within an epoch (counted capacity stays available).
    function invariant_utilization_counts_only_capacity_at_the_price() public view {
        require(handler.askLeaks() == 0, "utilization counted capacity not at the price");
    }

    /// @notice Purchases are priced at a position no further up the curve than the credits outstanding, and
    ///         every epoch's close forgets the positionDecay share of it (parking's premium fades).
    function invariant_the_pricing_position_fades_and_never_passes_the_supply() public view {
        require(handler.positionLeaks() == 0, "an epoch close left the pricing position off the rule");
        for (uint256 id; id < hmm.tierCount(); ++id) {
            require(hmm.tier(id).position <= hmm.tier(id).supply, "the pricing position passed the supply");
        }
    }

    /// @notice Credits bought this epoch stay on the pricing position until their own holders exit them: no exit of
    ///         older credits takes them off (red team 22: min(amount, p) let it), and they move with the credits
    ///         transferred, pro rata, so the holders' fresh credits are the tier's.
    function invariant_no_exit_takes_others_fresh_purchases_off_the_curve() public view {
        require(handler.freshLeaks() == 0, "fresh credits off the holders' books");
        for (uint256 id; id < hmm.tierCount(); ++id) {
            HamiltonianMarketMaker.Tier memory t = hmm.tier(id);
            require(t.carried <= t.position, "an exit took others' fresh purchases off the curve");
        }
    }

    /// @notice No redemption is served past its holder's bound (a refund less charge below minNet, or after the
    ///         deadline).
    function invariant_no_redemption_passes_the_holders_bound() public view {
        require(handler.boundsBroken() == 0, "a redemption passed the holder's bound");
    }

    /// @notice quoteRedeemAt is what redeem pays, the provider's ask met alike (its refund less its charge is the
    ///         minNet a holder can pass and be served: red team 25).
    function invariant_quote_redeem_at_is_what_redeem_pays() public view {
        require(handler.quoteLeaks() == 0, "a redemption paid other than quoteRedeemAt said");
    }

    /// @notice No redemption pays its provider, out of its credits' basis, more than the reference price they were
    ///         bought at (their share of refBasis), but for an ask the holder chose to pay (redeem's up to the price,
    ///         out of its premium; redeemAtAsk's up to its own bound, then out of its balance too), and the provider's
    ///         pay and the holder's refund sum to a sale's proceeds at the same state; every holder's refBasis stays
    ///         within its basis (rule 3h: parked or sandwiching credits that push buyers up the curve pay no provider
    ///         for the premium, and leave costs only its fee). redeemAtAsk pays the provider exactly max(its part,
    ///         ask x n), the holder giving no more than that less the part, within maxAsk x n, and none of it kept.
    function invariant_providers_are_paid_at_most_the_reference_price() public view {
        require(handler.premiumLeaks() == 0, "a provider was paid above the reference price");
        require(handler.askPayLeaks() == 0, "a provider was paid other than its ask within the holder's bound");
        for (uint256 id; id < hmm.tierCount(); ++id) {
            for (uint256 i; i < handler.ACTORS(); ++i) {
                address a = handler.actors(i);
                require(hmm.refBasis(a, id) <= hmm.costBasis(a, id), "refBasis above the basis");
            }
            for (uint256 i; i < handler.COHORT(); ++i) {
                address h = handler.cohort(i);
                require(hmm.refBasis(h, id) <= hmm.costBasis(h, id), "refBasis above the basis");
            }
        }
    }

    /// @notice No order of redemptions, split among providers, or late capacity lifts a tier above its target
    ///         uncharged: its served weight above target is at most the sum of its providers' served weight above
    ///         their target shares, which their redemptions paid kappa P_ref a credit for (the wash's class, red
    ///         team 17), before every poke and now.
    function invariant_the_charged_excess_covers_the_tiers_excess() public view {
        require(handler.excessUncovered() == 0 && handler.uncoveredTiers() == 0, "the tier's excess went uncharged");
    }

    /// @notice Every redemption's charge is kappa x P_ref per weighted credit by which it lifted its provider's
    ///         served weight above the provider's target share (rounded up), and what quoteRedeemAt said.
    function invariant_every_charge_is_the_providers_excess_priced() public view {
        require(handler.chargeLeaks() == 0, "a redemption was charged other than its provider's excess");
    }

    /// @notice A redemption that leaves its provider at or below its target share pays no charge: an honest
    ///         holder where there is room pays nothing for congestion.
    function invariant_no_charge_at_or_below_the_target_share() public view {
        require(handler.chargedBelowTarget() == 0, "a redemption within its provider's target share was charged");
    }

    /// @notice Credits served at an ask above the price count at the target utilization, never above it: every
    ///         redemption there left the ask's served weight within the target share of the capacity its service
    ///         added, and so is every such ask of the epoch now (demand met above the price is neither read as
    ///         scarcity, a rise and a charge on the next holder, nor left out, red team 17's spiral).
    function invariant_service_above_the_price_reads_at_the_target() public view {
        require(
            handler.aboveTargetReads() == 0 && handler.asksAboveTarget() == 0,
            "service above the price read above the target"
        );
    }

    /// @notice No provider's served weight passes its weighted capacity: a credit of capacity offered with an hour
    ///         left counts an hour's worth, offered and served, however the provider's earlier capacity weighs.
    function invariant_no_provider_serves_past_its_weighted_capacity() public view {
        require(handler.servedPastCapacity() == 0, "a provider served past its weighted capacity");
    }

    /// @notice The token's cap holds whatever the market does.
    function invariant_token_cap() public view {
        require(token.totalSupply() <= token.cap(), "supply above cap");
    }
}
