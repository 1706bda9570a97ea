// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";

/// @title HamiltonianMarketMaker: compute credits per model tier, priced by a potential
/// @notice Credits of each tier (ERC1155 id = tier) are bought from and sold back to this
///         contract against HANZO at the cost of a potential V(p) = P_ref * L * (exp(p / L) - 1),
///         p being the tier's pricing position: the credits bought, less those that left, with a share
///         (positionDecay) forgotten at each epoch's close. Within an epoch every purchase costs the
///         difference of the same integer function V, so the cost of any sequence of purchases depends
///         only on its end points (no-arbitrage, design/hmm.md §1); across epochs the curve's premium
///         fades, so credits parked up the curve price later buyers less and less (red team 17's
///         parking: leverage 6.53 -> 0.67 at 0.9, docs/pricing_by_flow.md).
///         Redeeming credits (spending them on compute) pays the serving provider the reference price
///         the credits were bought at, less the exit fee, and returns the rest of the holder's cost basis for
///         them (the curve's premium, a refundable congestion deposit) to the holder whole: every exit (a
///         sale, a redemption, a transfer) pays the exit fee on the reference part of what it takes out, never
///         on the deposit, so parked or sandwiching credits that push later buyers up the curve cost those
///         buyers only the buy fee on the premium, and pay no provider for it (red team 22; charged on the
///         deposit too, the exit fee was the whole harm: leverage 1.34 at 10x demand, 0.03 since;
///         docs/pricing_by_flow.md, rule 3h). Once an epoch, poke() moves each tier's log reference price by a damped
///         leapfrog step driven by the epoch's utilization (design/hmm.md §2).
/// @dev Invariants, checked by tests/properties and fuzz/MarketInvariants.t.sol:
///      - reserve == the sum of every holder's costBasis, and HANZO held == reserve + surplus, the
///        surplus being fees (and HANZO sent here unasked): the only part governance may withdraw;
///      - an exit (sale or redemption) pays the exiting holder's share of its own cost basis (the
///        gross HANZO it paid for the credits it holds): share = basis * amount / held, pro rata as
///        a transfer moves it, the whole basis for a whole position.
///        Shares never sum past a basis, so nothing anyone does to the price (a pump by wash
///        redemptions, a crash by idle offers, who leaves first) pays any holder or provider
///        more than was paid in for the credits, or less: the price prices purchases only.
///        Why not the curve's release: with V(q) as the reserve a rise had to be paid for out of
///        what was kept for other holders, and the order of honest exits moved up to half of a
///        dear holder's position between holders (the second review's finding 16b).
///      - refBasis <= costBasis for every holder and tier, and a redemption pays its provider at most
///        the larger of the refBasis share less the fee and its ask, where the ask is at most
///        countedAsk (the price now), the excess taken from the redeeming holder's own premium: no
///        provider is paid above both P_ref at purchase and the current price per credit;
///      - exits cost alike: a sale and a redemption pay the same share less the same fee (sellFee,
///        the exit fee, on the share's reference part, kept in the surplus; a redemption's split between
///        provider and holder), and a transfer moves the whole share while its sender pays that fee in
///        HANZO, so no exit returns more than a sale at the same state, and paying a provider in credits
///        by transfer costs the payer what a redemption costs (red team 18, finding 2) without cutting
///        anyone else's pay (red team 19):
///        leaving through a friendly provider's offer (a provider's own second wallet's included,
///        which this contract cannot tell from a customer) gains nothing over a sale (red team 17,
///        finding 4's class). No redemption names its caller as the provider (SelfRedemption): the
///        provider's own demand would count in utilization (wash demand through a second wallet or
///        an accomplice still does, at the price of the fees: red team 17, findings 2 and 3).
///      - an offer is supply at a price: its provider is never paid less than its ask
///        (minPayPerCredit) per credit served, and its capacity and what it serves count in
///        utilization only if the ask is covered by the tier's reference price net of the exit fee,
///        the least any credit bought this epoch pays out, at the fee fixed when the epoch began;
///        an ask is only ever lowered within an epoch, and capacity offered after the epoch's first
///        1/OFFER_GRACE counts by the share of the epoch left to serve it. So the controller counts
///        only capacity that serves any credit bought at the price it sets, for the time it could,
///        an idle offer that commits to nothing (an uncovered ask, the last block) moves nothing,
///        and a crash by idle offers cannot pay an honest provider below its ask (red team 17,
///        finding 1; red team 20, findings 1 and 2).
///      - V is computed once per end point with rounding up, so the cost of any sequence of
///        purchases depends only on its end points, and buy(d) then sell(d) returns what was paid
///        for them, minus fees, never more (no-arbitrage, P1-P3).
///      - where governance sets congestionCharge (0 by default), the redemptions that lift a provider's counted
///        served weight past targetUtilization x its counted capacity pay it x P_ref per weighted credit of the
///        excess, into the surplus; the charged excess of an epoch covers the tier's excess at the poke;
///      - sellFee >= 1 - exp(-deltaMax) (enforced on every parameter change): no longer what keeps
///        no-arbitrage (an exit never pays past its cost, so round trips lose at any fee >= 0); kept
///        as the floor of what leaving costs a manipulator that parks or washes supply (docs/hmm.md).
contract HamiltonianMarketMaker is ERC1155, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Governance (the timelock): adds tiers, sets bounded parameters, grants providers.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice Compute providers: offer capacity and are paid on redemption.
    bytes32 public constant PROVIDER_ROLE = keccak256("PROVIDER_ROLE");

    uint256 private constant WAD = 1e18;
    /// @dev q / L above this would price a credit at more than e^40 times its reference price.
    uint256 public constant MAX_DEPTH_RATIO = 40e18;
    /// @dev |ln(P_ref / P_base)| is kept within ln(1e8).
    int256 public constant MAX_LOG_PRICE = 18420680743952367000;
    /// @dev With P_base >= 1e12 wei the lowest reference price, P_base * 1e-8, is >= 1e4 wei (never 0).
    uint256 public constant MIN_BASE_PRICE = 1e12;
    /// @dev With L <= 1e18 one credit moves q / L by at least 1 wei of WAD, so no purchase is free.
    uint256 public constant MAX_DEPTH = 1e18;
    /// @dev Capacity offered in the first 1/OFFER_GRACE of an epoch counts whole; later, by the share
    ///      of the epoch left (none once it is over): an offer made just before poke, which nobody had
    ///      time to use, would otherwise count as idle supply (red team 20).
    uint256 public constant OFFER_GRACE = 24;
    /// @dev _serve's ask bound for redeem and redeemBatch: no top-up from the holder's balance (asks are uint128,
    ///      so redeemAtAsk's bound, clamped below it, still covers every ask).
    uint256 private constant NO_TOP_UP = type(uint256).max;

    /// @notice One tier's market state.
    struct Tier {
        uint128 supply; // q: credits outstanding
        uint128 refPrice; // P_ref: wei per credit at q = 0
        int128 logPrice; // x = ln(P_ref / P_base), WAD
        int128 momentum; // v, WAD of log price per unit of controller time
        uint128 basePrice; // P_base, wei per credit
        uint128 depth; // L, credits
        uint128 capacity; // credits offered by providers this epoch
        uint128 redeemed; // credits redeemed this epoch
        uint128 position; // p: where purchases are priced on the curve; decays each epoch (positionDecay)
        uint128 servedAbove; // weighted credits served this epoch at asks above the price (read at the target)
        uint128 carried; // what the closes left of earlier purchases, less what older credits took since (<= position)
    }

    /// @notice Controller and fee parameters, all WAD except epochLength (seconds).
    struct Params {
        uint64 alpha; // force per unit of utilization error
        uint64 gamma; // damping rate
        uint64 dt; // controller time step per epoch
        uint64 deltaMax; // bound on |x_next - x| per epoch
        uint64 targetUtilization;
        uint64 buyFee;
        uint64 sellFee; // the exit fee: charged alike on a sale and a redemption
        uint64 epochLength;
        uint64 positionDecay; // share of the pricing position forgotten at each epoch's close
        uint64 congestionCharge; // kappa: the charge per weighted credit a provider serves above its target, in P_ref
    }

    /// @notice HANZO, the currency of every trade.
    IERC20 public immutable hanzo;
    /// @notice Where the surplus goes (the rate-limited HanzoTreasury): a captured governance then
    ///         takes the market maker's fees only through the treasury's release limit.
    address public immutable treasury;

    /// @notice Current parameters.
    Params public params;
    /// @notice HANZO owed to credit holders if all left (fee-free): the sum of their cost bases.
    uint256 public reserve;
    /// @notice Number of tiers; tier ids are 0..tierCount-1.
    uint256 public tierCount;
    /// @notice Current epoch number.
    uint256 public epoch;
    /// @notice Timestamp the current epoch started.
    uint256 public epochStart;
    /// @notice The exit fee in force when the current epoch began. An exit pays the lower of it and
    ///         params.sellFee (exitFee()): a raise waits for the next epoch, so a provider's standing
    ///         offer is paid at the fee it was made under and the two exits still cost alike; a cut
    ///         applies at once.
    uint256 public epochExitFee;

    mapping(uint256 tier => Tier) private _tiers;
    /// @notice A provider's terms for one epoch and tier. An ask is only lowered within an epoch, so
    ///         capacity counted in utilization stays available at the price it was counted for.
    struct Ask {
        uint128 minPayPerCredit; // the least the provider is paid per credit it serves, wei
        bool open; // the provider offered on this tier this epoch
        bool counted; // its capacity and redemptions count in utilization
        uint96 servedWeight; // its counted redemptions this epoch, weighted as they count in the tier's
        uint128 countedCredits; // credits counted since the ask became covered (or served above the price / u*)
        uint128 weightedCredits; // the same, each weighted by the share of the epoch left to serve it
    }

    /// @notice Capacity a provider offered and has not yet served, per epoch and tier.
    mapping(uint256 epoch => mapping(uint256 tier => mapping(address provider => uint256))) public providerCapacity;
    /// @notice All capacity offered per epoch and tier, at any ask (Tier.capacity counts only what is
    ///         at the price): what the deployment audit reads, since an uncounted offer is still paid.
    mapping(uint256 epoch => mapping(uint256 tier => uint256)) public offered;
    /// @notice A provider's ask per epoch and tier (see Ask).
    mapping(uint256 epoch => mapping(uint256 tier => mapping(address provider => Ask))) public asks;
    /// @notice A holder's books for one tier, in one slot (both are at most the HANZO supply, < 2^128):
    ///         `gross`, the costBasis; `atRef`, the refBasis (see the getters).
    struct Basis {
        uint128 gross;
        uint128 atRef;
    }

    mapping(address holder => mapping(uint256 tier => Basis)) private _bases;
    /// @notice A holder's credits bought in epoch `epoch` (stale in a later one): its share of the position's fresh
    ///         part, position - carried.
    struct Fresh {
        uint128 credits;
        uint128 epoch;
    }

    mapping(address holder => mapping(uint256 tier => Fresh)) private _fresh;

    /// @notice Credits were bought; `cost` includes `fee`.
    event Bought(uint256 indexed tier, address indexed buyer, uint256 amount, uint256 cost, uint256 fee, uint256 supply);
    /// @notice Credits were sold back; `proceeds` is after `fee`.
    event Sold(uint256 indexed tier, address indexed seller, uint256 amount, uint256 proceeds, uint256 fee, uint256 supply);
    /// @notice Credits were spent on compute; the provider was paid `payout` (at most the reference
    ///         price paid for them) and the holder got `refund` back (the rest of their basis, the curve's
    ///         premium), both after the exit fee `fee` (kept in the surplus): in all, what a sale pays.
    event Redeemed(
        uint256 indexed tier,
        address indexed holder,
        address indexed provider,
        uint256 amount,
        uint256 payout,
        uint256 refund,
        uint256 fee
    );
    /// @notice Credits moved between holders carried `basis` to the receiver, the reference part of the
    ///         sender's share of its cost basis (what the credits cost at the reference price); the rest of
    ///         the share, the curve's premium `refund`, went back to the sender, who paid the exit fee `fee` on
    ///         the reference part (kept in the surplus): a transfer costs as an exit and returns the premium
    ///         as a redemption does, settled in one HANZO transfer (refund - fee, or fee - refund the other way).
    event BasisMoved(
        uint256 indexed tier,
        address indexed from,
        address indexed to,
        uint256 amount,
        uint256 basis,
        uint256 refund,
        uint256 fee
    );
    /// @notice A redemption lifted its provider's counted served weight above the target share of the provider's
    ///         counted capacity by `excess` weighted credits, and its holder paid `charge` (kappa x P_ref per
    ///         credit of excess) into the surplus: out of its refund first, the rest from its balance.
    event Congested(uint256 indexed tier, address indexed holder, address indexed provider, uint256 excess, uint256 charge);
    /// @notice redeemAtAsk: the holder paid `topUp` HANZO of the provider's ask beyond what its credits and
    ///         its refund paid (pulled from its balance).
    event AskToppedUp(uint256 indexed tier, address indexed holder, address indexed provider, uint256 topUp);
    /// @notice The exit fee in force for epoch `epoch` changed (a raise set during the epoch before).
    event ExitFeeFixed(uint256 indexed epoch, uint256 fee);
    /// @notice A provider offered capacity for the current epoch at `minPayPerCredit` (its ask, which
    ///         now applies to all its capacity on the tier this epoch); `counted`: whether its capacity
    ///         counts in utilization.
    event CapacityOffered(
        uint256 indexed epoch,
        uint256 indexed tier,
        address indexed provider,
        uint256 credits,
        uint256 minPayPerCredit,
        bool counted
    );
    /// @notice An epoch closed: the tier's utilization and its new price state (the pricing position after
    ///         its decay).
    event EpochStepped(
        uint256 indexed epoch,
        uint256 indexed tier,
        uint256 utilization,
        int256 logPrice,
        int256 momentum,
        uint256 refPrice,
        uint256 position
    );
    /// @notice A tier was added.
    event TierAdded(uint256 indexed tier, uint256 basePrice, uint256 depth);
    /// @notice Parameters changed.
    event ParamsChanged(Params params);
    /// @notice Governance sent `amount` of the surplus (HANZO beyond the reserve) to the treasury `to`.
    event SurplusWithdrawn(address indexed to, uint256 amount);

    /// @notice No such tier.
    error UnknownTier(uint256 tier);
    /// @notice The deadline passed.
    error Expired(uint256 deadline);
    /// @notice Zero amount.
    error ZeroAmount();
    /// @notice The cost exceeds maxCost, or the proceeds fall short of minProceeds.
    error Slippage(uint256 actual, uint256 limit);
    /// @notice A redemption's refund less its congestion charge, `net`, is below the holder's bound `minNet`.
    error NetSlippage(int256 net, int256 minNet);
    /// @notice Selling or redeeming more than is outstanding.
    error InsufficientSupply(uint256 requested, uint256 supply);
    /// @notice The trade would take q / L past MAX_DEPTH_RATIO.
    error DepthExceeded(uint256 supply, uint256 depth);
    /// @notice The provider has not offered enough capacity this epoch.
    error InsufficientCapacity(address provider, uint256 requested, uint256 available);
    /// @notice The address is not a compute provider.
    error NotProvider(address provider);
    /// @notice The epoch has not lasted epochLength yet.
    error EpochNotOver(uint256 endsAt);
    /// @notice One offer of capacity larger than the most credits the tier can have outstanding.
    error CapacityTooLarge(uint256 credits, uint256 max);
    /// @notice A parameter is out of its bounds; `which` names it.
    error ParamOutOfBounds(string which);
    /// @notice More than the surplus was asked for.
    error SurplusExceeded(uint256 requested, uint256 available);
    /// @notice A zero address where one is needed.
    error ZeroAddress();
    /// @notice The caller named itself as the provider of its own redemption: a redemption is
    ///         compute served by someone else; to oneself it would count one's own demand in
    ///         utilization (it pays the exit fee as a sale does, so it would gain nothing else).
    error SelfRedemption(address provider);
    /// @notice An offer asked more per credit than the provider's ask already standing this epoch:
    ///         counted capacity must stay available at the price it was counted for.
    error AskRaised(uint256 ask, uint256 standing);
    /// @notice The redemption could pay the provider at most `payout` (its part, with the holder's premium
    ///         where the ask is at most countedAsk), less than its ask for the credits (`minimum`).
    error BelowAsk(address provider, uint256 payout, uint256 minimum);
    /// @notice redeemAtAsk met a provider asking more per credit than the holder's bound `maxAsk`, which
    ///         its credits' pay does not cover.
    error AskAboveBound(address provider, uint256 ask, uint256 maxAsk);

    /// @param hanzo_ HANZO.
    /// @param admin DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE holder (the timelock).
    /// @param treasury_ Where withdrawSurplus sends the surplus (the HanzoTreasury), fixed.
    /// @param params_ Initial parameters (checked against their bounds).
    constructor(IERC20 hanzo_, address admin, address treasury_, Params memory params_) ERC1155("") {
        if (treasury_ == address(0)) revert ZeroAddress();
        hanzo = hanzo_;
        treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
        _setParams(params_);
        epochStart = block.timestamp;
        epochExitFee = params_.sellFee;
    }

    // ------------------------------------------------------------------ views

    /// @notice A tier's state.
    function tier(uint256 id) external view returns (Tier memory) {
        return _tier(id);
    }

    /// @notice V of tier `id` at `supply` credits up the curve (a pricing position), at its current reference
    ///         price.
    function potential(uint256 id, uint256 supply) public view returns (uint256) {
        Tier storage t = _tier(id);
        return _potential(t.refPrice, t.depth, supply);
    }

    /// @notice Marginal price P(p) = P_ref * exp(p / L) of tier `id` at its pricing position, wei per credit.
    function price(uint256 id) external view returns (uint256) {
        Tier storage t = _tier(id);
        return FPM.fullMulDiv(t.refPrice, uint256(FPM.expWad(int256(_ratio(t.position, t.depth)))), WAD);
    }

    /// @notice The fee (WAD) an exit pays now, on a sale and a redemption alike: the lower of
    ///         params.sellFee and the fee in force when the epoch began (a raise waits for the
    ///         next epoch, a cut applies at once).
    function exitFee() public view returns (uint256) {
        uint256 current = params.sellFee;
        return current < epochExitFee ? current : epochExitFee;
    }

    /// @notice Gross HANZO (fees excluded) paid for the credits `holder` holds of `tier`: what
    ///         selling (before the fee) or redeeming all of them pays out, at any price.
    function costBasis(address holder, uint256 tier_) external view returns (uint256) {
        return _bases[holder][tier_].gross;
    }

    /// @notice The reference price's part of costBasis: the sum of amount x P_ref at purchase (never
    ///         more than the basis), moved pro rata with it. What a redemption pays the provider for
    ///         those credits (or its ask, up to countedAsk); the rest (the curve's premium) goes back to
    ///         the holder.
    function refBasis(address holder, uint256 tier_) external view returns (uint256) {
        return _bases[holder][tier_].atRef;
    }

    /// @notice Of the credits `holder` holds of `tier_`, those bought this epoch (moved pro rata by transfers):
    ///         an exit takes them off the pricing position whole, and its older credits at most the carried part
    ///         (Tier.carried; see _exit).
    function freshCredits(address holder, uint256 tier_) public view returns (uint256) {
        Fresh memory f = _fresh[holder][tier_];
        return f.epoch == epoch ? f.credits : 0;
    }

    /// @notice (cost, fee) of buying `amount` credits of tier `id` now.
    function quoteBuy(uint256 id, uint256 amount) public view returns (uint256 cost, uint256 fee) {
        Tier storage t = _tier(id);
        uint256 p = t.position;
        uint256 gross = _potential(t.refPrice, t.depth, p + amount) - _potential(t.refPrice, t.depth, p);
        fee = FPM.fullMulDivUp(gross, params.buyFee, WAD);
        cost = gross + fee;
    }

    /// @notice (proceeds, fee) of `holder` selling `amount` credits of tier `id` now: the
    ///         holder's share of its cost basis, less the exit fee on its reference part (its share of refBasis).
    function quoteSell(address holder, uint256 id, uint256 amount) public view returns (uint256 proceeds, uint256 fee) {
        Tier storage t = _tier(id);
        uint256 q = t.supply;
        if (amount > q) revert InsufficientSupply(amount, q);
        uint256 held = _held(holder, id, amount);
        Basis memory b = _bases[holder][id];
        fee = FPM.fullMulDivUp(_share(b.atRef, amount, held), exitFee(), WAD);
        proceeds = _share(b.gross, amount, held) - fee;
    }

    // ------------------------------------------------------------------ trading

    /// @notice Buy `amount` credits of tier `id` for at most `maxCost` HANZO (approved to this contract).
    /// @return cost HANZO paid, fee included.
    function buy(uint256 id, uint256 amount, uint256 maxCost, uint256 deadline)
        external
        nonReentrant
        returns (uint256 cost)
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        cost = _take(id, amount);
        if (cost > maxCost) revert Slippage(cost, maxCost);
        hanzo.safeTransferFrom(msg.sender, address(this), cost);
        _mint(msg.sender, id, amount, "");
    }

    /// @notice Buy `amounts[i]` credits of tier `ids[i]` for every i, one after another (a tier named
    ///         twice is bought twice, the second at the price the first left), for at most `maxCost`
    ///         HANZO in all, paid in one transfer: the same credits, bases and cost as the single buys
    ///         in that order, for one transfer of HANZO instead of one a tier.
    /// @return cost HANZO paid, fees included.
    function buyBatch(uint256[] calldata ids, uint256[] calldata amounts, uint256 maxCost, uint256 deadline)
        external
        nonReentrant
        returns (uint256 cost)
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        if (ids.length != amounts.length) revert ERC1155InvalidArrayLength(ids.length, amounts.length);
        if (ids.length == 0) revert ZeroAmount();
        for (uint256 i; i < ids.length; ++i) {
            cost += _take(ids[i], amounts[i]);
        }
        if (cost > maxCost) revert Slippage(cost, maxCost);
        hanzo.safeTransferFrom(msg.sender, address(this), cost);
        _mintBatch(msg.sender, ids, amounts, "");
    }

    /// @dev A purchase's books and its event: the caller's `amount` more credits of tier `id` cost
    ///      V(q + d) - V(q) (its basis, added to the reserve) plus the buy fee; returns the cost. The
    ///      caller moves the HANZO and mints.
    function _take(uint256 id, uint256 amount) private returns (uint256 cost) {
        if (amount == 0) revert ZeroAmount();
        Tier storage t = _tier(id);
        uint256 q = t.supply;
        uint256 p = t.position;
        uint256 refPrice = t.refPrice;
        uint256 depth = t.depth;
        uint256 gross = _potential(refPrice, depth, p + amount) - _potential(refPrice, depth, p);
        uint256 fee = FPM.fullMulDivUp(gross, params.buyFee, WAD);
        cost = gross + fee;
        t.supply = SafeCast.toUint128(q + amount);
        t.position = uint128(p + amount); // at most MAX_DEPTH_RATIO * L (_ratio reverted otherwise)
        _fresh[msg.sender][id] = Fresh(uint128(freshCredits(msg.sender, id) + amount), uint128(epoch));
        reserve += gross;
        // amount * P_ref <= V(p + amount) - V(p) but for V's rounding: kept within the basis
        _addBasis(id, gross, FPM.min(amount * refPrice, gross));
        emit Bought(id, msg.sender, amount, cost, fee, q + amount);
    }

    /// @dev The caller's books for tier `id` grow by a purchase's `gross` and its reference part `atRef`
    ///      (<= gross): one slot written. The gross is paid in HANZO, whose supply is under 2^128.
    function _addBasis(uint256 id, uint256 gross, uint256 atRef) private {
        Basis memory b = _bases[msg.sender][id];
        _bases[msg.sender][id] = Basis(SafeCast.toUint128(b.gross + gross), uint128(b.atRef + atRef));
    }

    /// @notice Sell `amount` credits of tier `id` back for at least `minProceeds` HANZO, after the sell fee.
    /// @return proceeds HANZO received.
    function sell(uint256 id, uint256 amount, uint256 minProceeds, uint256 deadline)
        external
        nonReentrant
        returns (uint256 proceeds)
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        if (amount == 0) revert ZeroAmount();
        Tier storage t = _tier(id);
        (uint256 value, uint256 atRef) = _exit(t, id, amount);
        uint256 fee = FPM.fullMulDivUp(atRef, exitFee(), WAD);
        proceeds = value - fee;
        if (proceeds < minProceeds) revert Slippage(proceeds, minProceeds);
        hanzo.safeTransfer(msg.sender, proceeds);
        emit Sold(id, msg.sender, amount, proceeds, fee, t.supply);
    }

    /// @notice Spend `amount` credits of tier `id` on compute served by `provider`. The holder's share
    ///         of its cost basis pays for it: the provider is paid the reference price the credits
    ///         were bought at (their share of refBasis), or its ask if higher and at most countedAsk (the
    ///         price), less the exit fee, and the rest, the curve's premium, goes back to the caller whole
    ///         (sellFee on the reference part, as a sale: in all a sale's proceeds; BelowAsk if the ask is not
    ///         covered). So the premium is a refundable
    ///         congestion deposit and no provider is paid for a price that someone else's parked or
    ///         sandwiching credits pushed up the curve, unless the holder chose it at that ask (red
    ///         team 22; docs/pricing_by_flow.md, rule 3h). Needs capacity the provider offered this epoch. The
    ///         provider must not be the caller (SelfRedemption): its own demand would count in utilization.
    ///         Where it lifts the provider's counted served weight above the target share of the provider's
    ///         counted capacity, the holder pays congestionCharge x P_ref per weighted credit of the excess
    ///         (Congested), out of its refund first and the rest from its balance (this contract's allowance):
    ///         the rise it causes prices every later buyer (docs/congestion.md). `minNet`, the least refund less
    ///         charge the holder accepts (negative: the most it will pay), and `deadline` are the holder's
    ///         bound (NetSlippage, Expired): a redemption pending
    ///         across an epoch's end could otherwise meet a new ask, up to the new price, that a provider
    ///         offered after poking in front of it and that takes its refund (red team 24); quoteRedeem
    ///         less the top-up to the provider's ask gives the refund to expect.
    /// @return payout HANZO paid to the provider (the caller's refund is in the Redeemed event).
    function redeem(uint256 id, uint256 amount, address provider, int256 minNet, uint256 deadline)
        external
        nonReentrant
        returns (uint256 payout)
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        (uint256 paid, uint256 refund, uint256 charge) = _serve(id, amount, provider, exitFee(), NO_TOP_UP);
        _settle(provider, paid, refund, charge, minNet);
        return paid;
    }

    /// @notice redeem, where the holder pays the provider's ask, up to `maxAsk` wei per credit, beyond what its
    ///         credits pay the provider: out of its refund, then its balance (this contract's allowance;
    ///         AskToppedUp). redeem refuses an ask above countedAsk that the credits do not cover (BelowAsk), so
    ///         demand willing to pay a provider above the price leaves no trace, and the controller, seeing no
    ///         counted capacity used, lowers the price further below every such ask (red team 17's spiral). The
    ///         credits served at an ask above the price count, as in redeem, at the target utilization. An ask
    ///         above `maxAsk` the credits do not cover reverts AskAboveBound; `minNet` bounds the refund less the
    ///         top-up less any congestion charge (NetSlippage), `deadline` the time (Expired).
    /// @return payout HANZO paid to the provider.
    function redeemAtAsk(uint256 id, uint256 amount, address provider, uint256 maxAsk, int256 minNet, uint256 deadline)
        external
        nonReentrant
        returns (uint256 payout)
    {
        if (block.timestamp > deadline) revert Expired(deadline);
        (uint256 paid, uint256 refund, uint256 owed) = _serve(id, amount, provider, exitFee(), _topUpBound(maxAsk));
        _settle(provider, paid, refund, owed, minNet);
        return paid;
    }

    /// @notice Spend `amounts[i]` credits of tier `ids[i]` for every i on compute served by
    ///         `provider`, one after another, paid in one transfer to the provider and one refund to
    ///         the caller: the same as the single redemptions in that order, each element paying the
    ///         exit fee on its own share. Needs the capacity the provider offered this epoch; the
    ///         provider must not be the caller (SelfRedemption); `minNet` bounds the refunds less the
    ///         congestion charges in all (NetSlippage) and `deadline` the time (Expired), as for redeem.
    /// @return payout HANZO paid to the provider.
    function redeemBatch(
        uint256[] calldata ids,
        uint256[] calldata amounts,
        address provider,
        int256 minNet,
        uint256 deadline
    ) external nonReentrant returns (uint256 payout) {
        if (block.timestamp > deadline) revert Expired(deadline);
        if (ids.length != amounts.length) revert ERC1155InvalidArrayLength(ids.length, amounts.length);
        if (ids.length == 0) revert ZeroAmount();
        uint256 fee = exitFee();
        uint256 refunds;
        uint256 charges;
        for (uint256 i; i < ids.length; ++i) {
            (uint256 paid, uint256 refund, uint256 charge) = _serve(ids[i], amounts[i], provider, fee, NO_TOP_UP);
            payout += paid;
            refunds += refund;
            charges += charge;
        }
        _settle(provider, payout, refunds, charges, minNet);
    }

    /// @dev Pays a redemption's provider and settles the holder's refund against what it owes (congestion
    ///      charges, and redeemAtAsk's top-up beyond the refund): the difference sent to the holder, or pulled
    ///      from it where it owes more (the holder chose to be served where the capacity was short,
    ///      docs/congestion.md, or at an ask above the price). NetSlippage below the holder's bound.
    function _settle(address provider, uint256 payout, uint256 refund, uint256 owed, int256 minNet) private {
        int256 net = SafeCast.toInt256(refund) - SafeCast.toInt256(owed);
        if (net < minNet) revert NetSlippage(net, minNet);
        // pulled first: a top-up pays the provider more than the credits' basis, which the maker may not hold
        if (net < 0) hanzo.safeTransferFrom(msg.sender, address(this), uint256(-net));
        hanzo.safeTransfer(provider, payout);
        if (net > 0) hanzo.safeTransfer(msg.sender, uint256(net));
    }

    /// @notice (payout to the provider, refund to the holder, exit fee) of `holder` redeeming `amount`
    ///         credits of tier `id` now, at a provider asking at most payout / amount (capacity not
    ///         checked; a higher ask up to countedAsk is made up out of the refund, as redeem() does).
    function quoteRedeem(address holder, uint256 id, uint256 amount)
        public
        view
        returns (uint256 payout, uint256 refund, uint256 fee)
    {
        Tier storage t = _tier(id);
        if (amount > t.supply) revert InsufficientSupply(amount, t.supply);
        uint256 held = _held(holder, id, amount);
        Basis memory b = _bases[holder][id];
        (payout, refund, fee) = _split(_share(b.gross, amount, held), _share(b.atRef, amount, held), exitFee());
    }

    /// @notice (payout to `provider`, refund to `holder`, exit fee, congestion charge) of `holder` redeeming
    ///         `amount` credits of tier `id` at `provider` now: what redeem() would pay, the provider's ask made up
    ///         out of the refund where it is at most countedAsk, with redeem()'s errors (SelfRedemption,
    ///         InsufficientCapacity, BelowAsk, ...). refund - charge is the minNet that binds exactly: quoteRedeem,
    ///         which takes no provider, overstates it wherever the ask needs a top-up (red team 25) or the
    ///         provider is past its target (the charge).
    function quoteRedeemAt(address holder, uint256 id, uint256 amount, address provider)
        external
        view
        returns (uint256 payout, uint256 refund, uint256 fee, uint256 charge)
    {
        (payout, refund, fee,, charge) = _quoteServe(holder, id, amount, provider, NO_TOP_UP);
    }

    /// @notice (payout to `provider`, the holder's net: refund less top-up less congestion charge, negative where
    ///         it pays) of `holder` calling redeemAtAsk(id, amount, provider, maxAsk, ...) now, with its errors: the
    ///         minNet that binds exactly.
    function quoteRedeemAtAsk(address holder, uint256 id, uint256 amount, address provider, uint256 maxAsk)
        external
        view
        returns (uint256 payout, int256 net)
    {
        (uint256 pay, uint256 refund,, uint256 owed, uint256 charge) =
            _quoteServe(holder, id, amount, provider, _topUpBound(maxAsk));
        payout = pay;
        net = SafeCast.toInt256(refund) - SafeCast.toInt256(owed + charge);
    }

    /// @dev What _serve would book for `holder` now, `maxAsk` its bound, with its errors in its order (an unknown
    ///      tier before the capacity), nothing written: (payout, refund, exit fee, top-up owed beyond the refund,
    ///      congestion charge). The quotes of redeem and redeemAtAsk.
    function _quoteServe(address holder, uint256 id, uint256 amount, address provider, uint256 maxAsk)
        private
        view
        returns (uint256 payout, uint256 refund, uint256 fee, uint256 owed, uint256 charge)
    {
        if (provider == holder) revert SelfRedemption(provider);
        if (amount == 0) revert ZeroAmount();
        _tier(id);
        uint256 available = providerCapacity[epoch][id][provider];
        if (amount > available) revert InsufficientCapacity(provider, amount, available);
        (payout, refund, fee) = quoteRedeem(holder, id, amount);
        (payout, refund, owed) = _meetAsk(id, provider, amount, payout, refund, maxAsk); // the ask met as in _serve
        Ask storage ask = asks[epoch][id][provider];
        if (ask.counted) (,, charge) = _congestion(_tiers[id], ask, amount);
    }

    /// @dev redeemAtAsk's bound as _meetAsk takes it: NO_TOP_UP is redeem's, so the largest bound is clamped below
    ///      it (asks are uint128: it still covers every ask).
    function _topUpBound(uint256 maxAsk) private pure returns (uint256) {
        return maxAsk == NO_TOP_UP ? NO_TOP_UP - 1 : maxAsk;
    }

    /// @dev One redemption's books: the provider's capacity used, the tier's redeemed count, the
    ///      caller's exit; returns what the provider is owed and what goes back to the caller (the
    ///      caller pays them): see _split. Where the provider's part falls short of an ask of at most
    ///      countedAsk (the price), the holder's refund makes it up; BelowAsk if the two together fall
    ///      short, or if a higher ask is not covered by the provider's part alone. A redemption to oneself is refused first of
    ///      all (red team 17, finding 4's literal form).
    function _serve(uint256 id, uint256 amount, address provider, uint256 feeWad, uint256 maxAsk)
        private
        returns (uint256 payout, uint256 refund, uint256 owed)
    {
        if (provider == msg.sender) revert SelfRedemption(provider);
        if (amount == 0) revert ZeroAmount();
        Tier storage t = _tier(id);
        uint256 available = providerCapacity[epoch][id][provider];
        if (amount > available) revert InsufficientCapacity(provider, amount, available);
        providerCapacity[epoch][id][provider] = available - amount;
        uint256 fee;
        {
            (uint256 value, uint256 atRef) = _exit(t, id, amount);
            (payout, refund, fee) = _split(value, atRef, feeWad);
        }
        (payout, refund, owed) = _meetAsk(id, provider, amount, payout, refund, maxAsk);
        emit Redeemed(id, msg.sender, provider, amount, payout, refund, fee);
        if (owed != 0) emit AskToppedUp(id, msg.sender, provider, owed);
        Ask storage ask = asks[epoch][id][provider];
        if (ask.counted) owed += _countServed(t, ask, id, provider, amount);
        else _countAbovePrice(t, ask, amount);
    }

    /// @dev Credits served at an ask above the price (a holder paid it, or its credits cover it) count in utilization
    ///      at the target: the tier's servedAbove, which the poke reads as served beside capacity of it over the
    ///      target utilization, exactly (no rounding in credits: rounded piece by piece, or even once, a few credits
    ///      of it read below the target, and paid demand arriving in small pieces sank the price as the spiral did,
    ///      red team 27). Uncounted, a tier whose only counted capacity is a sliver nobody can use read 0 and fell by
    ///      deltaMax an epoch below every honest ask (red team 17's spiral: 0.107x in 20 epochs). The provider's
    ///      ask keeps its own books at the target (rounded up once on its running total), so if the ask is lowered
    ///      and counted later its served weight stays within its weighted capacity and is charged only past it.
    function _countAbovePrice(Tier storage t, Ask storage ask, uint256 amount) private {
        uint256 served = _weightNow(amount);
        uint256 u = params.targetUtilization;
        uint256 sofar = ask.servedWeight; // at an ask above the price, all of it served above the price
        uint256 joined = FPM.fullMulDivUp(sofar + served, WAD, u) - FPM.fullMulDivUp(sofar, WAD, u);
        t.servedAbove += uint128(served);
        // weighted already: counted as credits of weight 1, so the average weight stays right if the ask is lowered
        ask.countedCredits = SafeCast.toUint128(uint256(ask.countedCredits) + joined);
        ask.weightedCredits = SafeCast.toUint128(uint256(ask.weightedCredits) + joined);
        ask.servedWeight = SafeCast.toUint96(sofar + served);
    }

    /// @dev A counted redemption of `amount` credits joins the tier's and its provider's served weight (at the
    ///      weight the provider's counted capacity has on average, up to what of it is not yet served: a
    ///      provider's served weight never passes its weighted capacity); returns its congestion charge: kappa x P_ref
    ///      per weighted credit by which it lifts the provider's served weight above the target share of the
    ///      provider's counted weighted capacity (rounded up). Invariant: a provider's counted capacity only grows
    ///      within an epoch, so the excess charged at it is at least its excess at the poke, and the tier's
    ///      excess at the poke, sum_p (R_p - u* C_p), is at most the sum of the providers' positive excesses:
    ///      no order of redemptions, split among accomplices or late capacity lifts the tier above target
    ///      without charges of kappa P_ref for each credit of it. Who pays is whoever passes the target: at a
    ///      provider serving honest users, its own wallet redeeming first leaves the charge to them (red team 26),
    ///      which is why kappa is 0 by default (docs/congestion.md).
    function _countServed(Tier storage t, Ask storage ask, uint256 id, address provider, uint256 amount)
        private
        returns (uint256 charge)
    {
        (uint256 served, uint256 excess, uint256 charged) = _congestion(t, ask, amount);
        t.redeemed += uint128(served);
        ask.servedWeight = SafeCast.toUint96(uint256(ask.servedWeight) + served); // <= its counted credits, < 2^96
        if (charged != 0) emit Congested(id, msg.sender, provider, excess, charged);
        return charged;
    }

    /// @dev (the weight `amount` credits served at a counted `ask` add, the part of the weight they carry above the
    ///      provider's target share of its counted weighted capacity, the charge on that part): see _countServed.
    function _congestion(Tier storage t, Ask storage ask, uint256 amount)
        private
        view
        returns (uint256 served, uint256 excess, uint256 charge)
    {
        uint256 weighted = ask.weightedCredits;
        uint256 carried = (amount * weighted) / ask.countedCredits; // at the provider's average weight
        uint256 before = ask.servedWeight;
        // counted up to the provider's weighted capacity not yet served: at the average weight alone, capacity
        // offered minutes before the epoch ends (weight 0.007) and served at once counted as the whole day's did,
        // so a provider's served weight passed its weighted capacity and a wash served so doubled its rise (red
        // team 27: leverage 2.72 against 1.27). The charge stays on the weight carried (at least what is counted,
        // so the charged excess still covers the tier's): capped there too, an offer made before a redemption at a
        // provider already at its weighted capacity would raise its charge (red team 26's property)
        uint256 room = weighted > before ? weighted - before : 0;
        served = carried < room ? carried : room;
        uint256 threshold = (weighted * params.targetUtilization) / WAD;
        uint256 from = before > threshold ? before : threshold;
        if (before + carried <= from) return (served, 0, 0);
        excess = before + carried - from;
        charge = FPM.fullMulDivUp(excess * t.refPrice, params.congestionCharge, WAD);
    }

    /// @dev The provider's ask for `amount` credits against a redemption's split: an ask above the provider's
    ///      part, up to the price (countedAsk), is paid out of the holder's premium, its own deposit: one cheap
    ///      credit given to it must not lock it out of a provider asking the price (red team 20); above the
    ///      price the premium pays nothing, or a provider's first offer after a poke could take any pending
    ///      redemption's whole refund (red team 23). Up to the price it still could, where the price rose past
    ///      the holder's reference part: the holder's minNet bounds that (red team 24). BelowAsk if short.
    ///      redeemAtAsk (`maxAsk` not NO_TOP_UP): an ask up to `maxAsk` is paid out of the premium and then the
    ///      holder's balance (`owed`, pulled by _settle), AskAboveBound above it.
    function _meetAsk(uint256 id, address provider, uint256 amount, uint256 payout, uint256 refund, uint256 maxAsk)
        private
        view
        returns (uint256, uint256, uint256 owed)
    {
        uint256 minPay = asks[epoch][id][provider].minPayPerCredit;
        uint256 minimum = minPay * amount;
        if (payout < minimum) {
            uint256 short = minimum - payout;
            if (maxAsk == NO_TOP_UP) {
                uint256 available = minPay <= countedAsk(id) ? payout + refund : payout;
                if (available < minimum) revert BelowAsk(provider, available, minimum);
            } else if (minPay > maxAsk) {
                revert AskAboveBound(provider, minPay, maxAsk);
            }
            if (short > refund) owed = short - refund;
            refund -= short - owed;
            payout = minimum;
        }
        return (payout, refund, owed);
    }

    /// @dev A redemption's split of the exit's `value` (its share of the basis), of which `atRef` is
    ///      the reference price paid: the provider gets min(value, atRef) less the exit fee on it (rounded
    ///      up, as a sale's), the holder the rest, the premium, whole: the fee kept and the two payments sum
    ///      to `value` exactly, and a sale of the same credits pays the same fee.
    function _split(uint256 value, uint256 atRef, uint256 feeWad)
        private
        pure
        returns (uint256 payout, uint256 refund, uint256 fee)
    {
        uint256 capped = atRef < value ? atRef : value;
        fee = FPM.fullMulDivUp(capped, feeWad, WAD);
        payout = capped - fee;
        refund = value - capped;
    }

    /// @notice Offer `credits` of capacity on tier `id` for the current epoch, to be paid at least
    ///         `minPayPerCredit` wei per credit served (the ask; 0 serves any credit). Only providers.
    ///         The ask applies to all the provider's capacity on the tier this epoch and may only be
    ///         lowered (AskRaised). The capacity counts in utilization once the ask is at most
    ///         countedAsk(id), the least a credit bought this epoch pays out: capacity nobody buying
    ///         at the price could use is not supply at that price. One offer is at most the most
    ///         credits the tier can have outstanding (MAX_DEPTH_RATIO * L), and the tier's total is
    ///         checked, not truncated, into 128 bits.
    function offerCapacity(uint256 id, uint256 credits, uint256 minPayPerCredit) external {
        if (!hasRole(PROVIDER_ROLE, msg.sender)) revert NotProvider(msg.sender);
        if (credits == 0) revert ZeroAmount();
        Tier storage t = _tier(id);
        uint256 max = (uint256(t.depth) * MAX_DEPTH_RATIO) / WAD;
        if (credits > max) revert CapacityTooLarge(credits, max);
        Ask storage ask = asks[epoch][id][msg.sender];
        if (ask.open && minPayPerCredit > ask.minPayPerCredit) revert AskRaised(minPayPerCredit, ask.minPayPerCredit);
        uint256 standing = providerCapacity[epoch][id][msg.sender];
        bool counted = ask.counted || minPayPerCredit <= countedAsk(id);
        if (counted && !ask.counted) {
            // capacity offered earlier at an ask too high to count joins once the ask is lowered, and what it
            // served above the price moves from servedAbove into the counted books with the capacity its ask
            // kept for it (its target share): the tier's books and the provider's then agree, as the charge's
            // invariant needs (a provider's excess covers its part of the tier's)
            uint256 above = ask.servedWeight;
            t.servedAbove -= uint128(above);
            t.redeemed += uint128(above);
            t.capacity = SafeCast.toUint128(uint256(t.capacity) + ask.weightedCredits);
            _count(t, ask, credits + standing);
        } else if (counted) {
            _count(t, ask, credits);
        }
        ask.minPayPerCredit = SafeCast.toUint128(minPayPerCredit);
        ask.open = true;
        ask.counted = counted;
        providerCapacity[epoch][id][msg.sender] = standing + credits;
        offered[epoch][id] += credits;
        emit CapacityOffered(epoch, id, msg.sender, credits, minPayPerCredit, counted);
    }

    /// @dev `credits` join the tier's counted capacity, weighted by the share of the epoch left to
    ///      serve them (whole in its first 1/OFFER_GRACE, none once it is over).
    function _count(Tier storage t, Ask storage ask, uint256 credits) private {
        uint256 weighted = _weightNow(credits);
        t.capacity = SafeCast.toUint128(uint256(t.capacity) + weighted);
        ask.countedCredits = SafeCast.toUint128(uint256(ask.countedCredits) + credits);
        ask.weightedCredits = SafeCast.toUint128(uint256(ask.weightedCredits) + weighted);
    }

    /// @dev `credits` weighted by the share of the epoch left to serve them now (see _count).
    function _weightNow(uint256 credits) private view returns (uint256) {
        uint256 length = params.epochLength;
        uint256 elapsed = block.timestamp - epochStart;
        if (elapsed <= length / OFFER_GRACE) return credits;
        return elapsed >= length ? 0 : (credits * (length - elapsed)) / length;
    }

    /// @notice The highest ask (wei per credit) whose capacity counts in tier `id`'s utilization now:
    ///         the reference price net of the exit fee fixed when the epoch began, rounded down. Every
    ///         credit bought this epoch cost at least the reference price (V grows at least as fast as
    ///         P_ref * q), and no exit this epoch pays a fee above the epoch's (exitFee() is the lower of
    ///         it and the parameter), so a provider asking no more than this can serve any of them for
    ///         the rest of the epoch: with exitFee() instead, a fee cut then undone within the epoch
    ///         left counted capacity that cheap credits could no longer use (red team 20, finding 2).
    function countedAsk(uint256 id) public view returns (uint256) {
        return FPM.fullMulDiv(_tier(id).refPrice, WAD - epochExitFee, WAD);
    }

    // ------------------------------------------------------------------ the controller

    /// @notice Close the epoch: step every tier's price by the damped leapfrog of its utilization.
    ///         Anyone may call once the epoch has lasted epochLength. The price prices purchases
    ///         only (exits pay cost bases), so a step owes nobody anything and is never cut.
    function poke() external nonReentrant {
        Params memory p = params;
        uint256 endsAt = epochStart + p.epochLength;
        if (block.timestamp < endsAt) revert EpochNotOver(endsAt);
        uint256 n = tierCount;
        for (uint256 id; id < n; ++id) {
            _step(id, p);
        }
        epoch += 1;
        epochStart = block.timestamp;
        if (epochExitFee != p.sellFee) {
            epochExitFee = p.sellFee;
            emit ExitFeeFixed(epoch, p.sellFee);
        }
    }

    /// @dev One tier's epoch step.
    function _step(uint256 id, Params memory p) private {
        Tier storage t = _tiers[id];
        uint256 capacity = t.capacity;
        uint256 above = t.servedAbove;
        // a provider's served weight never passes its weighted capacity; the clamp keeps u <= 1 regardless
        uint256 used = t.redeemed < capacity ? t.redeemed : capacity;
        // (used + above) / (capacity + above / u*), exactly: service above the price reads as the target, and a
        // tier with none of it reads used / capacity as before (the target where nothing counted at all)
        uint256 utilization = capacity == 0 && above == 0
            ? p.targetUtilization
            : FPM.fullMulDiv((used + above) * p.targetUtilization, WAD, capacity * p.targetUtilization + above * WAD);
        (int256 logPrice, int256 momentum) = leapfrogStep(t.logPrice, t.momentum, utilization, p);
        uint256 refPrice = _refPrice(t.basePrice, logPrice);
        t.logPrice = int128(logPrice);
        t.momentum = int128(momentum);
        t.refPrice = uint128(refPrice);
        t.capacity = 0;
        t.redeemed = 0;
        t.servedAbove = 0;
        // a position held across epochs prices what others buy less and less: parking (buying up the curve
        // and holding, to price honest buyers higher) costs its fees for a premium that fades
        uint256 position = t.position;
        t.position = uint128(position - FPM.fullMulDiv(position, p.positionDecay, WAD));
        t.carried = t.position; // every holder's Fresh is stale from the next epoch on
        emit EpochStepped(epoch, id, utilization, logPrice, momentum, refPrice, t.position);
    }

    /// @notice One damped leapfrog step (kick, then drift), with the drift clamped to deltaMax:
    ///         v' = exp(-gamma dt) v + dt F(u),  F(u) = alpha (u - u_target);  x' = x + dt v'.
    ///         With gamma = 0 the map is symplectic (area-preserving) and time-reversible.
    function leapfrogStep(int256 x, int256 v, uint256 utilization, Params memory p)
        public
        pure
        returns (int256 xNext, int256 vNext)
    {
        int256 dt = int256(uint256(p.dt));
        int256 force = (int256(uint256(p.alpha)) * (int256(utilization) - int256(uint256(p.targetUtilization)))) / int256(WAD);
        int256 damping = FPM.expWad(-(int256(uint256(p.gamma)) * dt) / int256(WAD));
        vNext = (v * damping) / int256(WAD) + (dt * force) / int256(WAD);
        int256 dx = (dt * vNext) / int256(WAD);
        int256 bound = int256(uint256(p.deltaMax));
        if (dx > bound || dx < -bound) {
            // The clamp acts on the drift; the momentum is set to the velocity actually moved,
            // so that a clamped step does not leave momentum that the price never followed.
            dx = dx > 0 ? bound : -bound;
            vNext = (dx * int256(WAD)) / dt;
        }
        xNext = x + dx;
        if (xNext > MAX_LOG_PRICE) xNext = MAX_LOG_PRICE;
        if (xNext < -MAX_LOG_PRICE) xNext = -MAX_LOG_PRICE;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Add a tier with base price `basePrice` (wei per credit) and depth `depth` (credits).
    function addTier(uint256 basePrice, uint256 depth) external onlyRole(GOVERNANCE_ROLE) returns (uint256 id) {
        if (basePrice < MIN_BASE_PRICE || basePrice > type(uint96).max) revert ParamOutOfBounds("basePrice");
        // q * 1e18 / L must not round a purchase's q / L to nothing (free credits): L <= 1e18
        if (depth == 0 || depth > MAX_DEPTH) revert ParamOutOfBounds("depth");
        id = tierCount++;
        _tiers[id] = Tier(0, uint128(basePrice), 0, 0, uint128(basePrice), uint128(depth), 0, 0, 0, 0, 0);
        emit TierAdded(id, basePrice, depth);
    }

    /// @notice The surplus: HANZO held beyond the reserve (fees). Nobody holding credits is owed it.
    function surplus() public view returns (uint256) {
        return hanzo.balanceOf(address(this)) - reserve;
    }

    /// @notice Send `amount` of the surplus to the treasury. Only governance; never the reserve,
    ///         and never anywhere but the treasury, whose release limit then bounds what a
    ///         captured governance can take of it.
    function withdrawSurplus(uint256 amount) external onlyRole(GOVERNANCE_ROLE) nonReentrant {
        uint256 available = surplus();
        if (amount > available) revert SurplusExceeded(amount, available);
        hanzo.safeTransfer(treasury, amount);
        emit SurplusWithdrawn(treasury, amount);
    }

    /// @notice Replace the parameters, each within its bounds. Only governance.
    function setParams(Params calldata p) external onlyRole(GOVERNANCE_ROLE) {
        _setParams(p);
    }

    function _setParams(Params memory p) private {
        if (p.alpha > 10 * WAD) revert ParamOutOfBounds("alpha");
        if (p.gamma > 10 * WAD) revert ParamOutOfBounds("gamma");
        if (p.dt == 0 || p.dt > WAD) revert ParamOutOfBounds("dt");
        if (p.deltaMax == 0 || p.deltaMax > 693147180559945309) revert ParamOutOfBounds("deltaMax");
        if (p.targetUtilization == 0 || p.targetUtilization > WAD) revert ParamOutOfBounds("targetUtilization");
        if (p.buyFee > WAD / 10) revert ParamOutOfBounds("buyFee");
        // The exit fee, on sales and redemptions alike. Its floor was intertemporal no-arbitrage (P5)
        // when a sale paid the curve; exits now pay bases, so it is the least a manipulator's exit
        // costs (docs/hmm.md, "Exits cost alike"), and a second line if the exit rule were loosened.
        if (p.sellFee > WAD / 2 || p.sellFee < WAD - uint256(FPM.expWad(-int256(uint256(p.deltaMax))))) {
            revert ParamOutOfBounds("sellFee");
        }
        if (p.epochLength == 0 || p.epochLength > 365 days) revert ParamOutOfBounds("epochLength");
        if (p.positionDecay > WAD) revert ParamOutOfBounds("positionDecay");
        // at most 2 P_ref a credit of excess: about twice what 1 / elasticity prices a wash's rise at over its life
        if (p.congestionCharge > 2 * WAD) revert ParamOutOfBounds("congestionCharge");
        params = p;
        emit ParamsChanged(p);
    }

    // ------------------------------------------------------------------ internals

    function _tier(uint256 id) private view returns (Tier storage t) {
        t = _tiers[id];
        if (t.depth == 0) revert UnknownTier(id);
    }

    /// @dev The holder's balance, which must cover `amount` (OpenZeppelin's error, as _burn raises it).
    function _held(address holder, uint256 id, uint256 amount) private view returns (uint256 held) {
        held = balanceOf(holder, id);
        if (amount > held) revert ERC1155InsufficientBalance(holder, held, amount, id);
    }

    /// @dev The caller's exit of `amount` credits (sale or redemption): burns them, lowers the
    ///      supply, and takes their share of the caller's basis out of it and out of the reserve, and
    ///      their share of its refBasis out of that; returns both shares (the payment, and the part of
    ///      it paid at the reference price). Invariants kept: HANZO held - reserve changes only by
    ///      fees; refBasis <= costBasis (x - floor(x * a / h) is non-decreasing in x).
    ///      The position falls by what the exiting credits may take of it: their share of the caller's fresh
    ///      credits (bought this epoch) whole, and for the older rest at most the carried part (Tier.carried,
    ///      what the closes left of earlier purchases), never what others bought this epoch. Taking min(amount, p),
    ///      credits whose position had decayed away wiped what others bought today: a holder of old credits spent
    ///      them first and bought at the bottom of the curve (red team 22: 0.44x of the quote). Old credits still
    ///      clear the carried part, a parker's included (pro rata over the older credits instead, a parker kept
    ///      its residue through honest exits: leverage 1.67 at 10x demand redeemed the next day, against 1.17).
    ///      Invariants: carried <= position <= supply and the holders' fresh credits sum to position - carried
    ///      (a break reverts, checked arithmetic), so an exit takes at most amount off the position, of the fresh
    ///      part only its own. Buying writes no tier slot for it, and an exit of fresh credits alone reads none.
    function _exit(Tier storage t, uint256 id, uint256 amount) private returns (uint256 paid, uint256 atRef) {
        uint256 q = t.supply;
        if (amount > q) revert InsufficientSupply(amount, q);
        uint256 held = _held(msg.sender, id, amount);
        Basis memory b = _bases[msg.sender][id];
        paid = _share(b.gross, amount, held);
        atRef = _share(b.atRef, amount, held);
        _bases[msg.sender][id] = Basis(uint128(b.gross - paid), uint128(b.atRef - atRef));
        reserve -= paid;
        uint256 mine = freshCredits(msg.sender, id);
        uint256 taken = _share(mine, amount, held);
        if (mine != 0) _fresh[msg.sender][id].credits = uint128(mine - taken);
        if (amount != taken) {
            uint256 carried = t.carried;
            uint256 old = FPM.min(amount - taken, carried);
            t.carried = uint128(carried - old);
            taken += old;
        }
        t.position -= uint128(taken); // its own fresh credits and the carried part at most: never others' purchases
        t.supply = uint128(q - amount);
        _burn(msg.sender, id, amount);
    }

    /// @dev The share of a holder's `basis` (costBasis or refBasis) that exiting `amount` of its `held`
    ///      credits takes: pro rata (rounded down), as a transfer moves basis, and the whole basis for
    ///      the whole position, so every credit of a position carries the same basis whatever its holder
    ///      does first (red team 17: valued as the top of the curve, a partial exit took 73% of a 2 L
    ///      position's basis for half its credits, and the credits handed on after it carried the rest),
    ///      and a holder's shares sum to exactly its basis in any order of exits, transfers and prices.
    function _share(uint256 basis, uint256 amount, uint256 held) private pure returns (uint256) {
        if (amount == held) return basis;
        return FPM.fullMulDiv(basis, amount, held);
    }

    /// @dev Credits moved between holders leave with their whole share of the sender's basis: its
    ///      reference part goes with them (the receiver's basis and refBasis), the premium back to the
    ///      sender, as a redemption splits it (rule 3h), and the sender pays the exit fee on the reference
    ///      part (exitFee(), rounded up as an exit's) in HANZO, into the surplus: a transfer is the
    ///      sender's exit from its position, and it costs
    ///      what the two other exits cost, paid by whoever moves the credits. Free, it was the one exit
    ///      without a fee: a provider paid in credits by transfer was paid 14.3% more than one paid
    ///      by redemption for the same compute, and the compute it served never reached the
    ///      controller's utilization (red team 18, finding 2). Taken out of the basis instead, the
    ///      fee fell on the provider who finally serves the credits, not on who moved them: a
    ///      customer hopping its credits between its own wallets cut its provider's pay by 12.5% a
    ///      hop at no cost to itself (red team 19, finding 1). A transfer to oneself moves nothing
    ///      and costs nothing.
    ///      A batch moves as its elements would one after another: an element's share is taken of
    ///      what the sender still holds of that id after the batch's earlier elements, so naming an
    ///      id twice moves the same basis as naming it once (invariants: the sum of refBasis of an id is
    ///      unchanged by any transfer, its sum of bases falls by the premiums refunded, as the reserve
    ///      does, and a sender left with no credits keeps no basis); the fees and premiums of all
    ///      elements are settled in one HANZO transfer, after the credits moved (so a shortfall of
    ///      credits is reported as such first). Mints and burns settle their basis themselves.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values)
        internal
        override
    {
        uint256 fees;
        uint256 refunds;
        if (from != address(0) && to != address(0) && from != to) {
            if (ids.length != values.length) revert ERC1155InvalidArrayLength(ids.length, values.length);
            uint256 feeWad = exitFee();
            for (uint256 i; i < ids.length; ++i) {
                uint256 id = ids[i];
                uint256 moved = 0; // of this id, by the batch's earlier elements
                for (uint256 j; j < i; ++j) {
                    if (ids[j] == id) moved += values[j];
                }
                uint256 balance = balanceOf(from, id);
                if (moved + values[i] > balance) continue; // super._update reverts on the shortfall
                if (balance == moved) continue;
                (uint256 fee, uint256 refund) = _moveBasis(from, to, id, values[i], balance - moved, feeWad);
                fees += fee;
                refunds += refund;
            }
            reserve -= refunds; // the premiums leave the reserve with the basis they were
        }
        super._update(from, to, ids, values);
        // HANZO is this project's plain ERC20 (no hooks): moving it here cannot re-enter
        if (fees > refunds) hanzo.safeTransferFrom(from, address(this), fees - refunds);
        else if (refunds > fees) hanzo.safeTransfer(from, refunds - fees);
    }

    /// @dev One element of a transfer: `amount` of the sender's `held` credits of `id` leave with their
    ///      share of its basis, of which the reference part goes to the receiver as both its cost basis and
    ///      its refBasis; returns the exit fee on the share, which the sender pays, and the premium (share
    ///      less its reference part), which goes back to the sender. Invariants: refBasis is conserved, the
    ///      receiver's basis grows by the refBasis it gets, and the reserve falls by the premium refunded.
    function _moveBasis(address from, address to, uint256 id, uint256 amount, uint256 held, uint256 feeWad)
        private
        returns (uint256 fee, uint256 refund)
    {
        Basis memory b = _bases[from][id];
        uint256 share = (uint256(b.gross) * amount) / held;
        // the premium goes back as a redemption's does: credits paid to a provider by transfer and sold would
        // otherwise pay it the premium rule 3h denies redemptions (red teams 18/19 under 3h: +71.8% on a 1 L
        // purchase); the reference part moves (else it would strand with a sender left without credits).
        // refShare <= share: atRef <= gross, and both are rounded down alike
        uint256 refShare = (uint256(b.atRef) * amount) / held;
        fee = FPM.fullMulDivUp(refShare, feeWad, WAD);
        refund = share - refShare;
        _bases[from][id] = Basis(uint128(b.gross - share), uint128(b.atRef - refShare));
        Basis memory r = _bases[to][id];
        // checked: the two bases fit 128 bits only while the token's supply does (another deployment's may not)
        _bases[to][id] = Basis(SafeCast.toUint128(r.gross + refShare), uint128(r.atRef + refShare));
        _moveFresh(from, to, id, amount, held);
        if (share != 0) emit BasisMoved(id, from, to, amount, refShare, refund, fee);
    }

    /// @dev Fresh credits move pro rata as the basis does (rounded down; the holders' sum unchanged): left behind,
    ///      the receiver's exit would leave them on the curve, and the sender's would take them off twice.
    function _moveFresh(address from, address to, uint256 id, uint256 amount, uint256 held) private {
        uint256 mine = freshCredits(from, id);
        if (mine == 0) return;
        uint256 moved = (mine * amount) / held;
        _fresh[from][id].credits = uint128(mine - moved);
        _fresh[to][id] = Fresh(uint128(freshCredits(to, id) + moved), uint128(epoch));
    }

    function _ratio(uint256 supply, uint256 depth) private pure returns (uint256 r) {
        r = (supply * WAD) / depth;
        if (r > MAX_DEPTH_RATIO) revert DepthExceeded(supply, depth);
    }

    /// @dev V(q) = ceil(P_ref * L * (exp(q / L) - 1)), with exp from solady (monotone), so V is
    ///      monotone in q and every trade's cost is a difference of V at its end points.
    function _potential(uint256 refPrice, uint256 depth, uint256 supply) private pure returns (uint256) {
        if (supply == 0) return 0;
        uint256 e = uint256(FPM.expWad(int256(_ratio(supply, depth))));
        return FPM.fullMulDivUp(refPrice * depth, e - WAD, WAD);
    }

    /// @dev Rounded up: at the floor of the log price P_base * 1e-8 >= 1e4 wei, never 0 (free credits).
    function _refPrice(uint256 basePrice, int256 logPrice) private pure returns (uint256) {
        return FPM.fullMulDivUp(basePrice, uint256(FPM.expWad(logPrice)), WAD);
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
