"""The Hamiltonian Market Maker as Python, in two forms (design/hmm.md).

`HMMState` is the exact integer mirror of contracts/HamiltonianMarketMaker.sol, operation by
operation: the same potential V(q) = ceil(P_ref * L * (expWad(q * 1e18 / L) - 1e18) / 1e18),
the same fees rounded up, the same leapfrog step and clamp, the same errors. The
differential tests drive it and the deployed contract side by side and compare wei for wei.

`leapfrog_float`, `eip1559_float` and `potential_float` are the float/numpy forms for the
simulator, vectorised over tiers and Monte Carlo runs (any broadcastable arrays).

Cost basis (why an exit pays the holder's basis, not the curve's release): the epoch controller
moves P_ref, and with it what V would release for credits already outstanding. Whoever sets
utilization (providers redeeming each other's credits, or a trader filling a small offer) could pump
the price over a few epochs and exit, taking the surplus that others' fees built: no fixed sell
fee stops a k-epoch pump (the gain exp(k * delta_max) outgrows any fee below 100%). So each
holder carries the gross HANZO it paid for the credits it holds, and a sale or redemption pays
its pro-rata share, basis * amount / held (as a transfer moves basis), the whole basis for a whole
position: a holder's exits sum to exactly its basis in any order, with transfers between them
(each moving its whole share, its sender paying the exit fee on it), and at any price. (Red team 17: valued as the top
`held` credits of the curve, a partial exit took 73% of a 2 L position's basis for half its
credits, stripping it from credits handed on after; the curve now prices purchases and nothing
else.)

Why not min(share, release + retained), the rule before: with V(q) as the reserve, a price rise
had to be paid for, and was paid out of what cheap holders' capped exits had left for the dear
ones; who left first then moved up to half of a late holder's position (red team 16, finding
16b), and a fall needed its own retained HANZO so that it moved nothing either. With exits
paying bases the reserve is the sum of the bases, the price prices purchases only, a step of the
controller owes nobody anything (no solvency cut), and funds = reserve + surplus, the surplus
being fees, the only part that may leave other than by an exit. Credits are prepaid compute: no
account takes out more than it (or whoever sent it credits) paid in, except providers paid for
serving others' credits.

Exits cost alike: a redemption pays out the holder's share less the exit fee (`sell_fee`) on its
reference part, exactly as a sale pays the holder, the fee kept in the surplus. Of it the provider gets at
most the reference price the credits were bought at (`ref_basis`, moved with the basis) less the fee and the
holder the rest, the curve's premium, whole (rule 3h of docs/pricing_by_flow.md: credits parked up the curve,
or bought just before others in the same epoch, then cost those others only the buy fee on the premium they
put under them, and pay no provider for it: red team 22; with the exit fee on the premium too, at 10x demand
that fee was more than the parker paid). So no exit returns more than a sale at the same state: a provider's
second wallet, or any holder it colludes with, redeeming at its offer
gains nothing over selling (red team 17, finding 4's class), and the sender of a transfer pays the
same fee on the share it moves, so paying a provider in credits by transfer costs what a redemption
costs (red team 18, finding 2; from the basis instead, the fee fell on the provider who finally served
the credits: red team 19; the fee chosen by scripts/exit_fees.py,
docs/hmm.md). Nobody redeems to itself (SelfRedemption, the contract's first check in _serve): the
provider's own demand would count in utilization. Through a second wallet or an accomplice it still
counts, at the price of the fees (findings 2 and 3, open: tests/test_redteam17_hmm.py).
"""

from __future__ import annotations

from functools import lru_cache

from dataclasses import dataclass, field, replace

import numpy as np

from .fixedpoint import WAD, exp_wad, mul_div, mul_div_up
from .params import DEFAULT, Tokenomics

MAX_DEPTH_RATIO = 40 * WAD
MAX_LOG_PRICE = 18420680743952367000  # ln(1e8) in WAD
MIN_BASE_PRICE = 10**12  # wei: the lowest reference price, base * 1e-8, is then >= 1e4 wei
MAX_DEPTH = 10**18  # credits: q * 1e18 // L then moves by at least 1 per credit, so no purchase is free
OFFER_GRACE = 24  # capacity offered in the first 1/24 of an epoch counts whole, later by the share left
MAX_DEPTH_MULTIPLE = MAX_DEPTH_RATIO // WAD  # no offer of capacity exceeds the most a tier can sell
UINT128_MAX = 2**128 - 1
LN2_WAD = 693147180559945309


class HMMError(Exception):
    """A revert of the market maker: `name` is the contract's custom error, `args` its arguments."""

    def __init__(self, name: str, *args: object):
        super().__init__(f"{name}{args}")
        self.name = name
        self.args_ = args


@dataclass(frozen=True)
class HMMParams:
    """Controller and fee parameters (HamiltonianMarketMaker.Params): WAD except epoch_length (s).
    Build them from the tokenomics parameters with `from_tokenomics`."""

    alpha: int
    gamma: int
    dt: int
    delta_max: int
    target_utilization: int
    buy_fee: int
    sell_fee: int  # the exit fee: charged alike on a sale and a redemption
    epoch_length: int
    position_decay: int = 0  # share of the pricing position forgotten at each epoch's close
    congestion_charge: int = 0  # kappa: per weighted credit served above a provider's target share, in P_ref

    @classmethod
    def from_tokenomics(cls, p: Tokenomics) -> "HMMParams":
        return cls(p.hmm_alpha, p.hmm_gamma, p.hmm_dt, p.hmm_delta_max, p.hmm_target_utilization, p.hmm_buy_fee,
                   p.hmm_sell_fee, p.hmm_epoch, p.hmm_position_decay, p.hmm_congestion_charge)

    def as_tuple(self) -> tuple[int, ...]:
        return (self.alpha, self.gamma, self.dt, self.delta_max, self.target_utilization, self.buy_fee,
                self.sell_fee, self.epoch_length, self.position_decay, self.congestion_charge)

    def check(self) -> None:
        """The contract's bounds (_setParams): raises HMMError("ParamOutOfBounds", which)."""
        if self.alpha > 10 * WAD:
            raise HMMError("ParamOutOfBounds", "alpha")
        if self.gamma > 10 * WAD:
            raise HMMError("ParamOutOfBounds", "gamma")
        if self.dt == 0 or self.dt > WAD:
            raise HMMError("ParamOutOfBounds", "dt")
        if self.delta_max == 0 or self.delta_max > LN2_WAD:
            raise HMMError("ParamOutOfBounds", "deltaMax")
        if self.target_utilization == 0 or self.target_utilization > WAD:
            raise HMMError("ParamOutOfBounds", "targetUtilization")
        if self.buy_fee > WAD // 10:
            raise HMMError("ParamOutOfBounds", "buyFee")
        if self.sell_fee > WAD // 2 or self.sell_fee < min_sell_fee(self.delta_max):
            raise HMMError("ParamOutOfBounds", "sellFee")
        if self.epoch_length == 0 or self.epoch_length > 365 * 86_400:
            raise HMMError("ParamOutOfBounds", "epochLength")
        if self.position_decay > WAD:
            raise HMMError("ParamOutOfBounds", "positionDecay")
        if self.congestion_charge > 2 * WAD:
            raise HMMError("ParamOutOfBounds", "congestionCharge")


def min_sell_fee(delta_max: int) -> int:
    """The least exit fee (WAD) the parameters allow: the fee with which a buy now and a sale next
    epoch never profits if a sale paid the curve's release. Exits pay bases, so no-arbitrage no longer
    needs it (tests/properties: test_p2_p5_no_arbitrage_needs_no_exit_fee_model); it stays the floor
    of what leaving costs a manipulator (docs/hmm.md, "Exits cost alike").

    The next epoch's prices are at most exp(delta_max) times this epoch's, so a sale returns at
    most (1 - fee) * exp(delta_max) times the purchase: fee >= 1 - exp(-delta_max). (hmm.md writes
    exp(delta_max) - 1, the bound for a fee charged on top of the purchase; with the fee taken
    from the proceeds, as here, 1 - exp(-delta_max) = 11.1% is the exact threshold, and the
    default 12.5% clears both.)
    """
    return WAD - exp_wad(-delta_max)


def ratio(supply: int, depth: int) -> int:
    r = supply * WAD // depth
    if r > MAX_DEPTH_RATIO:
        raise HMMError("DepthExceeded", supply, depth)
    return r


@lru_cache(maxsize=1 << 16)
def potential(ref_price: int, depth: int, supply: int) -> int:
    """V(q) = ceil(P_ref * L * (exp(q / L) - 1)) in wei, as the contract computes it. (Kept for the
    last few thousand points: a buy's V(q + d) is the next buy's V(q), and a quote then its trade
    read the same two; chain mode mirrors hundreds of thousands of trades.)"""
    if supply == 0:
        return 0
    e = exp_wad(ratio(supply, depth))
    return mul_div_up(ref_price * depth, e - WAD, WAD)


def bought(t: "Tier", amount: int) -> int:
    """Gross HANZO (before fee) that `amount` more credits cost: V(p + d) - V(p), p the pricing position."""
    return potential(t.ref_price, t.depth, t.position + amount) - potential(t.ref_price, t.depth, t.position)


def released(t: "Tier", amount: int) -> int:
    """Gross HANZO (before fee) that `amount` fewer credits release: V(q) - V(q - d)."""
    return potential(t.ref_price, t.depth, t.supply) - potential(t.ref_price, t.depth, t.supply - amount)


def ref_price(base_price: int, log_price: int) -> int:
    """Rounded up, and so never 0: at the floor of the log price it is >= base * 1e-8 >= 1e4 wei."""
    return mul_div_up(base_price, exp_wad(log_price), WAD)


def _tdiv(a: int, b: int) -> int:
    """Solidity's signed division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def leapfrog_step(x: int, v: int, utilization: int, p: HMMParams) -> tuple[int, int]:
    """HamiltonianMarketMaker.leapfrogStep, in the contract's integer arithmetic."""
    dt = p.dt
    force = _tdiv(p.alpha * (utilization - p.target_utilization), WAD)
    damping = exp_wad(_tdiv(-(p.gamma * dt), WAD))
    v_next = _tdiv(v * damping, WAD) + _tdiv(dt * force, WAD)
    dx = _tdiv(dt * v_next, WAD)
    bound = p.delta_max
    if dx > bound or dx < -bound:
        dx = bound if dx > 0 else -bound
        v_next = _tdiv(dx * WAD, dt)
    x_next = min(max(x + dx, -MAX_LOG_PRICE), MAX_LOG_PRICE)
    return x_next, v_next


@dataclass
class Tier:
    supply: int = 0
    ref_price: int = 0
    log_price: int = 0
    momentum: int = 0
    base_price: int = 0
    depth: int = 0
    capacity: int = 0
    redeemed: int = 0
    position: int = 0  # p: where purchases are priced on the curve; decays at each poke (position_decay)
    served_above: int = 0  # weighted credits served this epoch at asks above the price (read at the target)
    carried: int = 0  # what the closes left of earlier purchases, less what older credits took since (<= position)


ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def split_redemption(value: int, at_ref: int, fee_wad: int, fee_base: int | None = None) -> tuple[int, int, int]:
    """The contract's _split: of an exit's share `value`, of which `at_ref` was paid at the reference
    price, (the provider's pay: min(value, at_ref) less the fee on it; the holder's refund: the rest, the curve's
    premium, whole; the fee kept: a sale's, on the reference part), summing to `value` exactly. The premium is a
    deposit the curve asked for, not a service: charged the exit fee, it cost honest buyers 12.5% of whatever a
    parker or a sandwich pushed them up the curve (red team 22: leverage 1.34 and 1.23 at 10x demand; 0.03 now).
    `fee_base`: what the fee is charged on where not the reference part (HMMState._fee_base: the measurement scripts
    that keep the fee on the whole share pass `value`)."""
    capped = min(value, at_ref)
    payout = capped - mul_div_up(capped, fee_wad, WAD)
    fee = mul_div_up(capped if fee_base is None else fee_base, fee_wad, WAD)
    return payout, value - fee - payout, fee


def _check_deadline(deadline: int | None, now: int | None) -> None:
    if deadline is not None and now is not None and now > deadline:
        raise HMMError("Expired", deadline)


def _pro_rata(basis: int, amount: int, held: int) -> int:
    """The contract's _share on a given basis: pro rata, rounded down, the whole basis for the whole position."""
    return basis if amount == held else mul_div(basis, amount, held)


@dataclass
class HMMState:
    """The market maker's whole state, and its HANZO and credit ledgers, as integers."""

    params: HMMParams = field(default_factory=lambda: HMMParams.from_tokenomics(DEFAULT))
    tiers: list[Tier] = field(default_factory=list)
    reserve: int = 0  # the sum of every holder's basis
    funds: int = 0  # HANZO held by the market maker
    epoch: int = 0
    epoch_start: int = 0
    hanzo: dict[str, int] = field(default_factory=dict)  # trader -> HANZO
    credits: dict[tuple[str, int], int] = field(default_factory=dict)  # (holder, tier) -> credits
    provider_capacity: dict[tuple[int, int, str], int] = field(default_factory=dict)
    # (epoch, tier, provider) -> (min pay per credit, counted in utilization, counted credits, the same
    # weighted by the share of the epoch left when they were counted): the contract's asks
    asks: dict[tuple[int, int, str], tuple[int, bool, int, int]] = field(default_factory=dict)
    offered: dict[tuple[int, int], int] = field(default_factory=dict)  # (epoch, tier) -> at any ask
    # (epoch, tier, provider) -> the provider's counted redemptions, weighted as they count (the ask's servedWeight)
    served: dict[tuple[int, int, str], int] = field(default_factory=dict)
    # holder -> HANZO it allows the maker to pull, for the holders that did not approve it without limit (every
    # account the tests' harness and chain mode run did: only holders named here are checked, as the token's
    # transferFrom checks them, ERC20InsufficientAllowance before the balance)
    allowance: dict[str, int] = field(default_factory=dict)
    providers: set[str] = field(default_factory=set)
    basis: dict[tuple[str, int], int] = field(default_factory=dict)  # (holder, tier) -> gross HANZO paid
    # (holder, tier) -> the reference price's part of the basis: amount x P_ref at purchase (the contract's refBasis)
    ref_basis: dict[tuple[str, int], int] = field(default_factory=dict)
    # (holder, tier) -> (its credits bought in that epoch, the epoch): while current, its share of the position's
    # fresh part (position less Tier.carried)
    fresh: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    epoch_exit_fee: int | None = None  # the exit fee when the epoch began (None: the params' at construction)
    address: str = ""  # the maker's own address, where set: credits cannot be sent to it (no ERC1155 receiver)

    def __post_init__(self):
        if self.epoch_exit_fee is None:
            self.epoch_exit_fee = self.params.sell_fee

    # ---------------------------------------------------------------- views

    def exit_fee(self) -> int:
        """The fee an exit pays now (the contract's exitFee): the lower of the params' and the epoch's
        (a raise waits for the next epoch, so standing offers are paid at the fee they were made under)."""
        return min(self.params.sell_fee, self.epoch_exit_fee)

    def tier(self, tid: int) -> Tier:
        if tid >= len(self.tiers):
            raise HMMError("UnknownTier", tid)
        return self.tiers[tid]

    def potential(self, tid: int, supply: int) -> int:
        t = self.tier(tid)
        return potential(t.ref_price, t.depth, supply)

    def price(self, tid: int) -> int:
        t = self.tier(tid)
        return mul_div(t.ref_price, exp_wad(ratio(t.position, t.depth)), WAD)

    def fresh_credits(self, holder: str, tid: int) -> int:
        """freshCredits: of `holder`'s credits of tier `tid`, those bought this epoch (moved pro rata by transfers)."""
        credits, epoch = self.fresh.get((holder, tid), (0, 0))
        return credits if epoch == self.epoch else 0

    def surplus(self) -> int:
        """HANZO held beyond the reserve: fees."""
        return self.funds - self.reserve

    def quote_buy(self, tid: int, amount: int) -> tuple[int, int]:
        gross = bought(self.tier(tid), amount)
        fee = mul_div_up(gross, self.params.buy_fee, WAD)
        return gross + fee, fee

    def quote_redeem(self, holder: str, tid: int, amount: int) -> tuple[int, int, int]:
        """quoteRedeem: (the provider's pay, the holder's refund, the exit fee) of redeeming now."""
        t = self.tier(tid)
        if amount > t.supply:
            raise HMMError("InsufficientSupply", amount, t.supply)
        held = self._held(holder, tid, amount)
        ref, basis = self.ref_basis.get((holder, tid), 0), self.basis.get((holder, tid), 0)
        share, at_ref = _pro_rata(basis, amount, held), self._at_ref(ref, basis, amount, held)
        return self._split(share, at_ref, self.exit_fee())

    def quote_redeem_at(self, holder: str, tid: int, amount: int, provider: str, now: int | None = None
                        ) -> tuple[int, int, int, int]:
        """quoteRedeemAt: (payout, refund, exit fee, congestion charge) of `holder` redeeming `amount` credits
        at `provider` now, the provider's ask met as redeem meets it, with redeem's errors but the holder's
        bound; refund - charge is the min_refund (minNet) that binds exactly (quote_redeem takes no provider and
        overstates it where the ask needs a top-up or the provider is past its target)."""
        (payout, refund, _, charge), = self._plan(holder, [(tid, amount)], provider, now=now)
        return payout, refund, self.quote_redeem(holder, tid, amount)[2], charge

    def quote_redeem_at_ask(self, holder: str, tid: int, amount: int, provider: str, max_ask: int,
                            now: int | None = None) -> tuple[int, int]:
        """quoteRedeemAtAsk: (the provider's pay, the holder's net: refund less top-up less congestion charge,
        negative where it pays) of redeem_at_ask now, with its errors but the holder's bound and balance."""
        (payout, refund, _, charge), = self._plan(holder, [(tid, amount)], provider, now=now, max_ask=max_ask)
        return payout, refund - charge

    def quote_sell(self, holder: str, tid: int, amount: int) -> tuple[int, int]:
        """(proceeds, fee) of `holder` selling `amount` credits now."""
        t = self.tier(tid)
        if amount > t.supply:
            raise HMMError("InsufficientSupply", amount, t.supply)
        held = self._held(holder, tid, amount)
        value = self._share(holder, tid, amount, held)
        at_ref = _pro_rata(self.ref_basis.get((holder, tid), 0), amount, held)
        fee = mul_div_up(self._fee_base(value, at_ref), self.exit_fee(), WAD)
        return value - fee, fee

    # ---------------------------------------------------------------- operations

    def add_tier(self, base_price: int, depth: int) -> int:
        if base_price < MIN_BASE_PRICE or base_price > 2**96 - 1:
            raise HMMError("ParamOutOfBounds", "basePrice")
        if depth == 0 or depth > MAX_DEPTH:
            raise HMMError("ParamOutOfBounds", "depth")
        self.tiers.append(Tier(ref_price=base_price, base_price=base_price, depth=depth))
        return len(self.tiers) - 1

    def set_params(self, p: HMMParams) -> None:
        p.check()
        self.params = p

    def buy(self, trader: str, tid: int, amount: int, max_cost: int, deadline: int, now: int) -> int:
        """buy: a batch of one (the contract's buy and buyBatch keep the same books and check in the same order)."""
        return self.buy_batch(trader, [(tid, amount)], max_cost, deadline, now)

    def buy_batch(self, trader: str, moves: list[tuple[int, int]], max_cost: int, deadline: int, now: int) -> int:
        """buyBatch: the (tier, amount) purchases one after another, for at most `max_cost` in all,
        paid in one transfer. Everything is checked before anything changes (the contract reverts whole)."""
        if now > deadline:
            raise HMMError("Expired", deadline)
        if not moves:
            raise HMMError("ZeroAmount")
        position: dict[int, int] = {}  # each tier's pricing position as the batch's earlier elements leave it
        books, cost = [], 0
        for tid, amount in moves:
            if amount == 0:
                raise HMMError("ZeroAmount")
            t = self.tier(tid)
            p = position.get(tid, t.position)
            gross = potential(t.ref_price, t.depth, p + amount) - potential(t.ref_price, t.depth, p)
            cost += gross + mul_div_up(gross, self.params.buy_fee, WAD)
            position[tid] = p + amount
            books.append((tid, amount, gross, min(amount * t.ref_price, gross)))
        if cost > max_cost:
            raise HMMError("Slippage", cost, max_cost)
        self._check_pull(trader, cost)
        for tid, amount, gross, at_ref in books:
            self.tiers[tid].supply += amount
            self.tiers[tid].position += amount
            self.fresh[(trader, tid)] = (self.fresh_credits(trader, tid) + amount, self.epoch)
            self.reserve += gross
            self.credits[(trader, tid)] = self.credits.get((trader, tid), 0) + amount
            self.basis[(trader, tid)] = self.basis.get((trader, tid), 0) + gross
            self.ref_basis[(trader, tid)] = self.ref_basis.get((trader, tid), 0) + at_ref
        self._pull(trader, cost)
        return cost

    def _check_pull(self, who: str, amount: int) -> None:
        """The token's transferFrom of `amount` from `who` to the maker: its allowance (where not unlimited),
        then its balance."""
        if who in self.allowance and amount > self.allowance[who]:
            raise HMMError("ERC20InsufficientAllowance", self.address, self.allowance[who], amount)
        balance = self.hanzo.get(who, 0)
        if amount > balance:
            raise HMMError("ERC20InsufficientBalance", who, balance, amount)

    def _pull(self, who: str, amount: int) -> None:
        """transferFrom, checked: `amount` of `who`'s HANZO into the maker's funds, out of its allowance."""
        self._check_pull(who, amount)
        self._spend_allowance(who, amount)
        self.hanzo[who] = self.hanzo.get(who, 0) - amount
        self.funds += amount

    def _spend_allowance(self, who: str, amount: int) -> None:
        """A pull's `amount` out of `who`'s allowance, where it has a limit (OpenZeppelin's ERC20 leaves the
        largest allowance unspent)."""
        if who in self.allowance and self.allowance[who] != 2**256 - 1:
            self.allowance[who] -= amount

    def redeem_batch(self, holder: str, moves: list[tuple[int, int]], provider: str, *, min_refund: int | None = None,
                     deadline: int | None = None, now: int | None = None) -> int:
        """redeemBatch: the (tier, amount) redemptions one after another, paid to `provider` in one
        transfer, the refunds less the congestion charges in all at least `min_refund` (the contract's minNet:
        NetSlippage) by `deadline` (Expired; unchecked when None). Everything is checked before anything
        changes (the contract reverts whole)."""
        _check_deadline(deadline, now)
        return self.redeem_planned(holder, moves, provider, self.quote_redeem_batch(holder, moves, provider, now),
                                   min_refund=min_refund)

    def quote_redeem_batch(self, holder: str, moves: list[tuple[int, int]], provider: str, now: int | None = None
                           ) -> list[tuple[int, ...]]:
        """What redeemBatch would book, element by element, with its errors (but the holder's bound and balance):
        (the provider's pay, the holder's refund, the weight it counts, its congestion charge); nothing changes.
        A holder that must pay charges beyond its refunds learns here how much HANZO to bring."""
        if not moves:
            raise HMMError("ZeroAmount")
        return self._plan(holder, moves, provider, now=now)

    def redeem_planned(self, holder: str, moves: list[tuple[int, int]], provider: str, plan: list[tuple[int, ...]],
                       *, min_refund: int | None = None) -> int:
        """redeemBatch settled on `plan`, quote_redeem_batch's for the same state (its HANZO balances aside, which
        the plan does not read): the refunds less the charges at least `min_refund` (NetSlippage), the rest in the
        holder's balance, then every element's books. Returns the provider's pay."""
        net = sum(refund - charge for _, refund, _, charge in plan)
        self._settle_check(holder, net, min_refund)
        for (tid, amount), books in zip(moves, plan):
            self._redeem_books(holder, tid, amount, provider, *books)
        if net < 0:
            self._spend_allowance(holder, -net)  # the charges beyond the refunds were pulled (the books moved them)
        return sum(payout for payout, *_ in plan)

    def _plan(self, holder: str, moves: list[tuple[int, int]], provider: str, *, now: int | None = None,
              max_ask: int | None = None) -> list[tuple[int, int, int, int]]:
        """The redemptions' books, one after another as the contract's _serve keeps them, with its errors in its
        order; nothing changes. Per element: (the provider's pay, the holder's refund (negative: pulled, only
        with `max_ask`, redeem_at_ask's bound), the weight it adds to the counted redemptions (capped at the
        provider's weighted capacity not yet served; at an ask above the price, to the tier's served_above), its
        congestion charge (on the weight the credits carry at the provider's average))."""
        if holder == provider:  # _serve's first check: the batch's first element raises it
            raise HMMError("SelfRedemption", provider)
        used: dict[int, int] = {}  # per tier, what the batch's earlier elements redeemed
        bases: dict[int, tuple[int, int]] = {}  # per tier, the holder's basis and refBasis left after them
        served: dict[int, int] = {}  # per tier, the provider's served weight after them
        fee = self.exit_fee()
        plan = []
        for tid, amount in moves:
            if amount == 0:
                raise HMMError("ZeroAmount")
            t = self.tier(tid)
            before = used.get(tid, 0)
            available = self.provider_capacity.get((self.epoch, tid, provider), 0) - before
            if amount > available:
                raise HMMError("InsufficientCapacity", provider, amount, available)
            if amount > t.supply - before:
                raise HMMError("InsufficientSupply", amount, t.supply - before)
            held = self.credits.get((holder, tid), 0) - before
            if amount > held:
                raise HMMError("ERC1155InsufficientBalance", holder, held, amount, tid)
            # the element's pay, as the contract computes it after the earlier elements' exits
            basis, ref = bases.get(tid, (self.basis.get((holder, tid), 0), self.ref_basis.get((holder, tid), 0)))
            # the first element of a tier takes _share (the hook the measurement scripts override, which _exit
            # also takes); later ones the share of what the earlier left, as _exit will then compute it
            share = _pro_rata(basis, amount, held) if tid in bases else self._share(holder, tid, amount, held)
            at_ref = self._at_ref(ref, basis, amount, held)
            split = self._split(share, at_ref, fee)
            payout, refund, counted = self._check_ask(tid, provider, amount, *split[:2], max_ask=max_ask, now=now)
            weight = served.get(tid, self.served.get((self.epoch, tid, provider), 0))
            _, is_counted, _, weighted = self.asks.get((self.epoch, tid, provider), (0, False, 0, 0))
            # served above the price: no charge; at a counted ask the charge is on the weight the credits carry (at
            # the provider's average) and the count is capped at its weighted capacity not yet served (red team 27)
            charge = 0 if not is_counted else self._congestion(tid, provider, weight, counted)
            if is_counted:
                counted = min(counted, max(0, weighted - weight))
            plan.append((payout, refund, counted, charge))
            bases[tid] = (basis - share, ref - at_ref)
            used[tid] = before + amount
            served[tid] = weight + counted
        return plan

    def _congestion(self, tid: int, provider: str, before: int, counted: int) -> int:
        """The contract's _congestion: the charge on a redemption that adds `counted` weight to its provider's
        served weight `before`: congestion_charge x P_ref per weighted credit above the target share of the
        provider's counted weighted capacity (rounded up)."""
        weighted = self.asks.get((self.epoch, tid, provider), (0, False, 0, 0))[3]
        low = max(before, weighted * self.params.target_utilization // WAD)
        if before + counted <= low:
            return 0
        return mul_div_up((before + counted - low) * self.tier(tid).ref_price, self.params.congestion_charge, WAD)

    def _settle_check(self, holder: str, net: int, min_net: int | None) -> None:
        """The contract's _settle's checks: the refunds less the charges at least the holder's bound
        (NetSlippage; unchecked when None), and where the charges are larger, the rest in the holder's balance."""
        if min_net is not None and net < min_net:
            raise HMMError("NetSlippage", net, min_net)
        if net < 0:
            self._check_pull(holder, -net)

    def _redeem_books(self, holder: str, tid: int, amount: int, provider: str, payout: int, refund: int,
                      counted: int, charge: int) -> None:
        """One planned redemption's books (see _plan): the exit, the capacity used, the counted weight, the
        pay, and the refund less the charge to or from the holder (the charge kept in the surplus)."""
        t = self.tiers[tid]
        key = (self.epoch, tid, provider)
        held = self.credits[(holder, tid)]
        self._exit(holder, tid, amount, held)
        self._burn(holder, tid, amount)
        self.provider_capacity[key] -= amount
        self._outstanding_less(holder, tid, amount, held)
        min_pay, is_counted, counted_credits, weighted_credits = self.asks[key]
        if not is_counted:  # served above the price: the tier reads it at the target (poke); the ask keeps its
            # books at the target share, rounded up once on its running total (red team 27)
            u, before = self.params.target_utilization, self.served.get(key, 0)
            joined = mul_div_up(before + counted, WAD, u) - mul_div_up(before, WAD, u)
            t.served_above += counted
            self.asks[key] = (min_pay, False, counted_credits + joined, weighted_credits + joined)
        else:
            t.redeemed += counted
        if counted:
            self.served[key] = self.served.get(key, 0) + counted
        self.funds -= payout + refund - charge
        self.hanzo[provider] = self.hanzo.get(provider, 0) + payout
        self.hanzo[holder] = self.hanzo.get(holder, 0) + refund - charge

    def _held(self, holder: str, tid: int, amount: int) -> int:
        held = self.credits.get((holder, tid), 0)
        if amount > held:
            raise HMMError("ERC1155InsufficientBalance", holder, held, amount, tid)
        return held

    def _share(self, holder: str, tid: int, amount: int, held: int) -> int:
        """The share of `holder`'s basis that exiting `amount` of its `held` credits takes, as the
        contract's _share: pro rata, rounded down, the whole basis for the whole position."""
        return _pro_rata(self.basis.get((holder, tid), 0), amount, held)

    @staticmethod
    def _fee_base(share: int, at_ref: int) -> int:
        """What an exit's fee is charged on (a sale's, a transfer's, a redemption's in _split): the reference part of
        the share. The scripts that keep an older rule, the fee on the whole share, return `share`."""
        return at_ref

    def _split(self, share: int, at_ref: int, fee_wad: int) -> tuple[int, int, int]:
        """split_redemption with the fee on _fee_base: (the provider's pay, the holder's refund, the exit fee)."""
        return split_redemption(share, at_ref, fee_wad, self._fee_base(share, min(share, at_ref)))

    def _at_ref(self, ref: int, basis: int, amount: int, held: int) -> int:
        """The part of a redemption's share (of `basis`) paid at the reference price: the pro-rata share of the
        holder's refBasis `ref`, at most what a provider is paid. (The measurement scripts that keep the rule
        before 3h, the provider paid the whole share, return _pro_rata(basis, amount, held) here.)"""
        return _pro_rata(ref, amount, held)

    def _exit(self, holder: str, tid: int, amount: int, held: int) -> tuple[int, int]:
        """Take an exit's share of the holder's basis out of it and the reserve, and its share of the
        refBasis out of that; returns (the share, the part of it paid at the reference price)."""
        share = self._share(holder, tid, amount, held)
        at_ref = _pro_rata(self.ref_basis.get((holder, tid), 0), amount, held)
        self.basis[(holder, tid)] = self.basis.get((holder, tid), 0) - share
        self.ref_basis[(holder, tid)] = self.ref_basis.get((holder, tid), 0) - at_ref
        self.reserve -= share
        return share, at_ref

    def _outstanding_less(self, holder: str, tid: int, amount: int, held: int) -> None:
        """`amount` of `holder`'s `held` credits left the tier (the contract's _exit): out of the supply, and out
        of the pricing position by what they may take of it: their share of the holder's fresh credits whole,
        and for the older rest at most the carried part (Tier.carried), never what others bought this epoch
        (red team 22: min(amount, p) let old credits wipe what others bought today)."""
        t = self.tiers[tid]
        mine = self.fresh_credits(holder, tid)
        taken = _pro_rata(mine, amount, held)
        if mine:
            self.fresh[(holder, tid)] = (mine - taken, self.epoch)
        if amount != taken:
            old = min(amount - taken, t.carried)
            t.carried -= old
            taken += old
        t.position -= taken
        assert 0 <= t.carried <= t.position <= t.supply - amount, "the contract reverts (checked arithmetic)"
        t.supply -= amount

    def _burn(self, holder: str, tid: int, amount: int) -> None:
        held = self._held(holder, tid, amount)
        self.credits[(holder, tid)] = held - amount

    def transfer_batch(self, holder: str, to: str, moves: list[tuple[int, int]]) -> int:
        """safeBatchTransferFrom: the (tier, amount) elements move one after another, each taking
        its share of what the sender still holds, then the sender pays the exit fees of all of
        them less the premiums they return in one HANZO transfer (or is paid the difference; the
        caller restores the state on an error). Returns the fees (transfer_split: and the premiums).
        OpenZeppelin refuses the zero address before anything moves, and a contract that is no
        ERC1155 receiver (the maker itself) after the move, by its acceptance check."""
        return self.transfer_split(holder, to, moves)[0]

    def transfer_split(self, holder: str, to: str, moves: list[tuple[int, int]]) -> tuple[int, int]:
        """transfer_batch, returning (the exit fees the sender owes, the premiums refunded to it)."""
        if to == ZERO_ADDRESS:
            raise HMMError("ERC1155InvalidReceiver", to)
        fees = refunds = 0
        for tid, amount in moves:
            fee, refund = self._move(holder, to, tid, amount)
            fees, refunds = fees + fee, refunds + refund
        self.reserve -= refunds
        self._pay_transfer_fee(holder, fees - refunds)
        if to == self.address:
            raise HMMError("ERC1155InvalidReceiver", to)
        return fees, refunds

    def transfer(self, holder: str, to: str, tid: int, amount: int) -> int:
        """An ERC1155 transfer, a batch of one: the credits leave with their whole share of the sender's
        basis, its reference part going with them and the premium back to the sender (as a redemption
        splits it: rule 3h), and the sender pays the exit fee on the reference part in HANZO, into the surplus
        (a transfer costs as an exit, paid by whoever moves the credits: red team 18, finding 2; red team
        19, finding 1). Returns the fee."""
        return self.transfer_batch(holder, to, [(tid, amount)])

    def _move(self, holder: str, to: str, tid: int, amount: int) -> tuple[int, int]:
        """One element: credits and the reference part of their share of the basis move, the premium (the
        rest of the share) goes back to the sender; returns (the exit fee owed on the share, the premium).
        To oneself nothing moves and nothing is owed (the contract skips it too)."""
        held = self._held(holder, tid, amount)
        if holder == to:
            return 0, 0
        basis, ref = self.basis.get((holder, tid), 0), self.ref_basis.get((holder, tid), 0)
        share = basis * amount // held if held else 0
        ref_share = ref * amount // held if held else 0
        self.basis[(holder, tid)] = basis - share
        self.ref_basis[(holder, tid)] = ref - ref_share
        self.credits[(holder, tid)] = held - amount
        self.credits[(to, tid)] = self.credits.get((to, tid), 0) + amount
        self.basis[(to, tid)] = self.basis.get((to, tid), 0) + ref_share
        self.ref_basis[(to, tid)] = self.ref_basis.get((to, tid), 0) + ref_share
        mine = self.fresh_credits(holder, tid)
        if mine:  # fresh credits move pro rata, as the basis does (the contract's _moveFresh)
            moved = mine * amount // held
            self.fresh[(holder, tid)] = (mine - moved, self.epoch)
            self.fresh[(to, tid)] = (self.fresh_credits(to, tid) + moved, self.epoch)
        return mul_div_up(self._fee_base(share, ref_share), self.exit_fee(), WAD), share - ref_share

    def _pay_transfer_fee(self, holder: str, fee: int) -> None:
        """The sender's net settlement: pays `fee` (> 0) or is paid -fee (a premium above the fees)."""
        if fee > 0:
            self._pull(holder, fee)
        elif fee < 0:
            self.hanzo[holder] = self.hanzo.get(holder, 0) - fee
            self.funds += fee

    def sell(self, trader: str, tid: int, amount: int, min_proceeds: int, deadline: int, now: int) -> int:
        if now > deadline:
            raise HMMError("Expired", deadline)
        if amount == 0:
            raise HMMError("ZeroAmount")
        proceeds = self.quote_sell(trader, tid, amount)[0]  # its checks in the contract's order, then the fee
        if proceeds < min_proceeds:
            raise HMMError("Slippage", proceeds, min_proceeds)
        held = self.credits[(trader, tid)]
        self._exit(trader, tid, amount, held)
        self._burn(trader, tid, amount)
        self._outstanding_less(trader, tid, amount, held)
        self.funds -= proceeds
        self.hanzo[trader] = self.hanzo.get(trader, 0) + proceeds
        return proceeds

    def counted_ask(self, tid: int) -> int:
        """countedAsk: the highest ask whose capacity counts in utilization, the reference price net
        of the exit fee fixed when the epoch began (rounded down; no exit this epoch pays more): the
        least a credit bought this epoch pays out, whatever the fee does until the epoch ends."""
        return mul_div(self.tier(tid).ref_price, WAD - self.epoch_exit_fee, WAD)

    def _weight_now(self, credits: int, now: int | None) -> int:
        """The contract's _weightNow: `credits` of capacity weighted by the share of the epoch left at `now` to serve
        them (whole in its first 1/OFFER_GRACE, none once it is over; None: the epoch's start)."""
        length, elapsed = self.params.epoch_length, (self.epoch_start if now is None else now) - self.epoch_start
        if elapsed <= length // OFFER_GRACE:
            return credits
        return 0 if elapsed >= length else credits * (length - elapsed) // length

    def offer_capacity(self, provider: str, tid: int, credits: int, min_pay: int = 0, now: int | None = None) -> None:
        """offerCapacity: `credits` more at the ask `min_pay` (wei per credit), which applies to all
        the provider's capacity on the tier this epoch and is only lowered; counted in utilization
        once the ask is at most counted_ask (capacity offered at a higher ask then joins), weighted by
        the share of the epoch left at `now` (whole in its first 1/OFFER_GRACE; None: the epoch's start)."""
        if provider not in self.providers:
            raise HMMError("NotProvider", provider)
        if credits == 0:
            raise HMMError("ZeroAmount")
        t = self.tier(tid)
        if credits > t.depth * MAX_DEPTH_MULTIPLE:
            raise HMMError("CapacityTooLarge", credits, t.depth * MAX_DEPTH_MULTIPLE)
        key = (self.epoch, tid, provider)
        standing_ask = self.asks.get(key)
        if standing_ask is not None and min_pay > standing_ask[0]:
            raise HMMError("AskRaised", min_pay, standing_ask[0])
        was_counted = standing_ask is not None and standing_ask[1]
        counted_credits, weighted_credits = standing_ask[2:] if standing_ask is not None else (0, 0)
        counted = was_counted or min_pay <= self.counted_ask(tid)
        standing = self.provider_capacity.get(key, 0)
        joining = (credits + (0 if was_counted else standing)) if counted else 0
        weighted = self._weight_now(joining, now)
        moved = weighted_credits if counted and not was_counted else 0  # the capacity its service above the price kept
        for total in (t.capacity + moved + weighted, counted_credits + joining, weighted_credits + weighted):
            if total > UINT128_MAX:
                raise HMMError("SafeCastOverflowedUintDowncast", 128, total)
        if min_pay > UINT128_MAX:
            raise HMMError("SafeCastOverflowedUintDowncast", 128, min_pay)
        if counted and not was_counted:  # what it served above the price moves into the counted books
            above = self.served.get(key, 0)
            t.served_above -= above
            t.redeemed += above
            t.capacity += weighted_credits
        t.capacity += weighted
        self.asks[key] = (min_pay, counted, counted_credits + joining, weighted_credits + weighted)
        self.provider_capacity[key] = standing + credits
        self.offered[(self.epoch, tid)] = self.offered.get((self.epoch, tid), 0) + credits

    def _check_ask(self, tid: int, provider: str, amount: int, payout: int, refund: int, max_ask: int | None = None,
                   now: int | None = None) -> tuple[int, int, int]:
        """The provider's ask for `amount` credits against a redemption's split (`payout` to the provider,
        `refund` to the holder). redeem (`max_ask` None): an ask above the payout and at most counted_ask is made
        up out of the refund (the holder's premium), BelowAsk if the two together fall short or a higher ask is not
        covered. redeem_at_ask: an ask up to the holder's `max_ask` is made up out of the refund and then its
        balance (the refund returned negative: pulled), AskAboveBound above it. Returns (payout, refund, the weight
        the redemption adds to the tier's counted redemptions): at a counted ask, the average weight of the
        provider's counted capacity; at an ask above the price, the weight the epoch has left at `now` (the books
        keep it apart, served_above, and the poke reads it at the target utilization: demand met above the price
        reads as neither slack nor scarcity, where before it left no trace; red team 17's spiral)."""
        min_pay, counted, counted_credits, weighted_credits = self.asks.get(
            (self.epoch, tid, provider), (0, False, 0, 0))
        minimum = min_pay * amount
        if payout < minimum:
            if max_ask is None:
                # the premium makes up an ask up to the price only (a first offer after a poke must not take a
                # pending redemption's refund: red team 23)
                available = payout + refund if min_pay <= self.counted_ask(tid) else payout
                if available < minimum:
                    raise HMMError("BelowAsk", provider, available, minimum)
            elif min_pay > max_ask:
                raise HMMError("AskAboveBound", provider, min_pay, max_ask)
            payout, refund = minimum, refund - (minimum - payout)
        if counted:  # served credits count at the weight their provider's counted capacity has on average (_plan
            # caps it at the provider's weighted capacity not yet served)
            return payout, refund, amount * weighted_credits // counted_credits
        return payout, refund, self._weight_now(amount, now)

    def redeem(self, holder: str, tid: int, amount: int, provider: str, *, min_refund: int | None = None,
               deadline: int | None = None, now: int | None = None) -> int:
        """redeem: `provider` serves `holder`'s credits; returns the provider's pay (redeem_split)."""
        return self.redeem_split(holder, tid, amount, provider, min_refund=min_refund, deadline=deadline, now=now)[0]

    def redeem_split(self, holder: str, tid: int, amount: int, provider: str, *, min_refund: int | None = None,
                     deadline: int | None = None, now: int | None = None, max_ask: int | None = None
                     ) -> tuple[int, int]:
        """redeem: `provider` serves `holder`'s credits; returns (the provider's pay, the holder's refund less
        its congestion charge: negative where the holder paid). The holder's share of its basis pays: the
        provider the reference price paid for the credits (their share of ref_basis), or its ask if higher and
        at most counted_ask (made up out of the premium), less the exit fee (`sell_fee` on the reference part, as a
        sale, kept in the surplus; split_redemption), the holder the rest (the curve's premium) whole: in all a
        sale's proceeds,
        so leaving through a friendly provider's offer, one's own second wallet's included, returns what a
        sale returns (red team 17, finding 4's class), and no provider is paid for a premium that parked
        or sandwiching credits put under a purchase (red team 22; rule 3h). Never to oneself
        (SelfRedemption, checked first): a provider's own demand would count in utilization.
        Where it lifts the provider's served weight above the target share of its counted capacity, the holder
        pays congestion_charge x P_ref per weighted credit of the excess, kept in the surplus (_congestion;
        docs/congestion.md: the wash's class).
        The holder's bound: a refund less charge below `min_refund` (the contract's minNet, negative: the most
        it pays) raises NetSlippage, a `deadline` before `now` Expired (unchecked when either is None): without
        it, a provider's first offer after a poke, at or below the new price, could take a redemption pending
        across the epoch's end (red team 24). `max_ask`: redeem_at_ask's bound (None: redeem)."""
        _check_deadline(deadline, now)
        plan = self._plan(holder, [(tid, amount)], provider, now=now, max_ask=max_ask)
        self.redeem_planned(holder, [(tid, amount)], provider, plan, min_refund=min_refund)
        payout, refund, _, charge = plan[0]
        return payout, refund - charge

    def redeem_at_ask(self, holder: str, tid: int, amount: int, provider: str, max_ask: int, *,
                      min_refund: int | None = None, deadline: int | None = None, now: int | None = None
                      ) -> tuple[int, int]:
        """redeemAtAsk: redeem, where the holder pays the provider's ask up to `max_ask` wei per credit, beyond
        what its credits pay the provider, out of its refund and then its balance (the contract's allowance):
        demand at a price above the market's, which redeem refuses above counted_ask (BelowAsk) and so leaves no
        trace. AskAboveBound for an ask above `max_ask` that the credits do not cover. The credits served at an
        ask above the price count as capacity used in full (as every redemption there does), so the controller
        sees demand the counted capacity could not serve (red team 17's spiral). `min_refund` (minNet) bounds the
        refund less the top-up less the congestion charge. Returns (the provider's pay, that net)."""
        return self.redeem_split(holder, tid, amount, provider, min_refund=min_refund, deadline=deadline, now=now,
                                 max_ask=max_ask)

    def poke(self, now: int) -> list[tuple[int, int, int, int]]:
        """Close the epoch; returns per tier (utilization, log_price, momentum, ref_price)."""
        p = self.params
        ends_at = self.epoch_start + p.epoch_length
        if now < ends_at:
            raise HMMError("EpochNotOver", ends_at)
        out = []
        for t in self.tiers:
            # (used + above) / (capacity + above / u*) exactly: service above the price reads as the target
            used, above, u = min(t.redeemed, t.capacity), t.served_above, p.target_utilization
            utilization = u if t.capacity == 0 and above == 0 else mul_div(
                (used + above) * u, WAD, t.capacity * u + above * WAD)
            x_next, v_next = leapfrog_step(t.log_price, t.momentum, utilization, p)
            ref_next = ref_price(t.base_price, x_next)
            t.log_price, t.momentum, t.ref_price = x_next, v_next, ref_next
            t.capacity = t.redeemed = t.served_above = 0
            t.position -= mul_div(t.position, p.position_decay, WAD)  # a held position's premium fades
            t.carried = t.position  # every holder's fresh record is stale from the next epoch on
            out.append((utilization, x_next, v_next, ref_next))
        self.epoch += 1
        self.epoch_start = now
        self.epoch_exit_fee = p.sell_fee
        return out

    def withdraw_surplus(self, to: str, amount: int) -> None:
        """Governance sends `amount` of the surplus to the treasury `to` (the caller checks the role)."""
        available = self.surplus()
        if amount > available:
            raise HMMError("SurplusExceeded", amount, available)
        self.funds -= amount
        self.hanzo[to] = self.hanzo.get(to, 0) + amount

    @classmethod
    def from_tokenomics(cls, p: Tokenomics, now: int = 0) -> "HMMState":
        """A fresh market maker with the tiers and parameters of `p`, as deploy_suite deploys it."""
        state = cls(params=HMMParams.from_tokenomics(p), epoch_start=now)
        state.params.check()
        for _, base in p.inference_tiers:
            state.add_tier(base, p.hmm_depth)
        return state

    def copy(self) -> "HMMState":
        return replace(
            self,
            tiers=[replace(t) for t in self.tiers],
            hanzo=dict(self.hanzo),
            credits=dict(self.credits),
            provider_capacity=dict(self.provider_capacity),
            asks=dict(self.asks),
            offered=dict(self.offered),
            served=dict(self.served),
            allowance=dict(self.allowance),
            providers=set(self.providers),
            basis=dict(self.basis),
            ref_basis=dict(self.ref_basis),
            fresh=dict(self.fresh),
        )


# -------------------------------------------------------------------- float forms (simulator)


def potential_float(ref_price: np.ndarray, depth: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """V(q) = P_ref * L * (exp(q / L) - 1), vectorised (HANZO, credits)."""
    return ref_price * depth * np.expm1(supply / depth)


def price_float(ref_price, depth, supply):
    """Marginal price P(q) = P_ref exp(q / L)."""
    return ref_price * np.exp(supply / depth)


def buy_cost_float(ref_price, depth, supply, amount, buy_fee):
    """HANZO paid for `amount` credits, fee included."""
    gross = potential_float(ref_price, depth, supply + amount) - potential_float(ref_price, depth, supply)
    return gross * (1.0 + buy_fee)


def leapfrog_float(x, v, utilization, *, alpha, gamma, dt, delta_max, target):
    """One damped leapfrog step for arrays of tiers x runs; returns (x_next, v_next)."""
    v_next = np.exp(-gamma * dt) * v + dt * alpha * (utilization - target)
    dx = dt * v_next
    clamped = np.abs(dx) > delta_max
    dx = np.clip(dx, -delta_max, delta_max)
    v_next = np.where(clamped, dx / dt, v_next)
    return np.clip(x + dx, -MAX_LOG_PRICE / WAD, MAX_LOG_PRICE / WAD), v_next


def eip1559_float(price, utilization, *, target, max_change=0.125):
    """EIP-1559's first-order rule: P <- P * (1 + (u - u_target) / u_target / 8), clamped to +-12.5%."""
    change = np.clip((utilization - target) / target / 8.0, -max_change, max_change)
    return price * (1.0 + change)


@dataclass
class FloatMarket:
    """The contract's rules in floats, for the simulator: the same potential, fees, cost bases,
    leapfrog step and clamp as HamiltonianMarketMaker, vectorised over tiers (axis 0). Credits are
    held by named holders, each a cohort with its own credits and cost basis ("users" unless a
    trade names another: the simulator's speculators), and an exit pays the holder's share of its
    own basis exactly as the contract pays an account's: basis * amount / held, the whole basis for
    the whole position. tests/test_float_market.py runs it beside the integer
    model (HMMState), with one holder and with two, and checks they agree.

    Units: HANZO and credits as floats; prices in HANZO per credit; parameters as plain numbers.
    """

    base_price: np.ndarray
    depth: float
    alpha: float
    gamma: float
    dt: float
    delta_max: float
    target: float
    buy_fee: float
    sell_fee: float  # the exit fee, on sales and redemptions alike
    position_decay: float = 0.0  # share of the pricing position forgotten at each step
    congestion_charge: float = 0.0  # kappa: P_ref per credit served above the target share of capacity
    supply: np.ndarray = None
    position: np.ndarray = None  # where purchases are priced on the curve (the contract's Tier.position)
    carried: np.ndarray = None  # the position the closes left, less what older credits took (Tier.carried)
    log_price: np.ndarray = None
    momentum: np.ndarray = None
    capacity: np.ndarray = None
    redeemed: np.ndarray = None
    charged: np.ndarray = None  # the epoch's congestion charges, per tier (HANZO)
    held: dict = None  # holder -> credits per tier
    bases: dict = None  # holder -> HANZO paid (before fees) for the credits it holds, per tier
    ref_bases: dict = None  # holder -> the reference price's part of its basis (the contract's refBasis), per tier
    funds: float = 0.0

    def __post_init__(self) -> None:
        zeros = np.zeros_like(self.base_price, dtype=float)
        for name in ("supply", "position", "carried", "log_price", "momentum", "capacity", "redeemed", "charged"):
            if getattr(self, name) is None:
                setattr(self, name, zeros.copy())
        self.held = self.held or {}
        self.bases = self.bases or {}
        self.ref_bases = self.ref_bases or {}
        self.fresh_held = {}  # holder -> its credits bought this epoch, per tier (emptied at each step)

    def holding(self, name: str) -> np.ndarray:
        """The credits `name` holds, per tier (a copy)."""
        return self._holder(name)[0].copy()

    def _holder(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self.held:
            self.held[name] = np.zeros_like(self.base_price, dtype=float)
            self.bases[name] = np.zeros_like(self.base_price, dtype=float)
            self.ref_bases[name] = np.zeros_like(self.base_price, dtype=float)
        return self.held[name], self.bases[name]

    @property
    def basis(self) -> np.ndarray:
        """Every holder's basis, per tier (summed over tiers, the reserve)."""
        return sum(self.bases.values(), np.zeros_like(self.base_price, dtype=float))

    @classmethod
    def from_tokenomics(cls, p: Tokenomics) -> "FloatMarket":
        return cls(np.array([b / WAD for _, b in p.inference_tiers]), float(p.hmm_depth), p.hmm_alpha / WAD,
                   p.hmm_gamma / WAD, p.hmm_dt / WAD, p.hmm_delta_max / WAD, p.hmm_target_utilization / WAD,
                   p.hmm_buy_fee / WAD, p.hmm_sell_fee / WAD, p.hmm_position_decay / WAD,
                   p.hmm_congestion_charge / WAD)

    # ---------------------------------------------------------------- views

    @property
    def ref_price(self) -> np.ndarray:
        return self.base_price * np.exp(self.log_price)

    @property
    def price(self) -> np.ndarray:
        return price_float(self.ref_price, self.depth, self.position)

    @property
    def reserve(self) -> float:
        """HANZO owed to holders if all left, fee-free: the sum of their bases (as the contract's reserve)."""
        return float(self.basis.sum())

    def room(self) -> np.ndarray:
        """Credits each tier can still sell before q / L reaches MAX_DEPTH_RATIO (the contract's bound)."""
        return np.maximum(MAX_DEPTH_RATIO / WAD * self.depth - self.position, 0.0)

    # ---------------------------------------------------------------- trades

    def _gross(self, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(amount clipped to the depth bound, what it costs before the fee), per tier."""
        amount = np.clip(amount, 0.0, self.room())
        return amount, potential_float(self.ref_price, self.depth, self.position + amount) - potential_float(
            self.ref_price, self.depth, self.position)

    def quote(self, amount: np.ndarray) -> np.ndarray:
        """HANZO that buying `amount` credits per tier would cost now, fee included; nothing is traded."""
        return self._gross(amount)[1] * (1.0 + self.buy_fee)

    def buy(self, amount: np.ndarray, holder: str = "users") -> np.ndarray:
        """Buy `amount` credits per tier (clipped to the depth bound); returns HANZO paid per tier."""
        held, basis = self._holder(holder)
        amount, gross = self._gross(amount)
        cost = gross * (1.0 + self.buy_fee)
        self.supply = self.supply + amount
        self.position = self.position + amount
        self.fresh_held[holder] = self.fresh_held.get(holder, 0.0) + amount
        self.held[holder] = held + amount
        self.bases[holder] = basis + gross
        self.ref_bases[holder] = self.ref_bases[holder] + np.minimum(amount * self.ref_price, gross)
        self.funds += float(cost.sum())
        return cost

    def _exit(self, amount: np.ndarray, holder: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Burn `amount` of the holder's credits: (amount burned, what it is paid: its share of its
        basis, the whole basis for the whole position; the part of that share paid at the reference price)."""
        held, basis = self._holder(holder)
        ref = self.ref_bases[holder]
        amount = np.clip(amount, 0.0, held)
        whole = amount >= held
        share = np.where(whole, basis, np.divide(basis * amount, held, out=np.zeros_like(basis), where=held > 0))
        at_ref = np.where(whole, ref, np.divide(ref * amount, held, out=np.zeros_like(ref), where=held > 0))
        self.bases[holder] = basis - share
        self.ref_bases[holder] = ref - at_ref
        # the contract's _exit: its fresh credits whole, the older rest at most the carried part
        mine = self.fresh_held.get(holder, np.zeros_like(held))
        taken = np.where(whole, mine, np.divide(mine * amount, held, out=np.zeros_like(mine), where=held > 0))
        self.fresh_held[holder] = mine - taken
        old = np.clip(np.minimum(amount - taken, self.carried), 0, None)
        self.carried = self.carried - old
        self.position = np.maximum(self.position - taken - old, 0.0)
        self.held[holder] = held - amount
        self.supply = self.supply - amount
        return amount, share, at_ref

    def redeem(self, amount: np.ndarray, holder: str = "users") -> np.ndarray:
        """Spend `amount` credits on compute; returns what the providers are paid per tier (redeem_split)."""
        return self.redeem_split(amount, holder)[0]

    def redeem_split(self, amount: np.ndarray, holder: str = "users") -> tuple[np.ndarray, np.ndarray]:
        """Spend `amount` credits on compute; returns (what the providers are paid, what goes back to the
        holder: negative where it pays) per tier: of the holder's share of its basis, the reference price paid
        for the credits to the providers less the exit fee (the fee stays in the funds) and the rest (the curve's
        premium) back whole: in all what a sale pays (rule 3h, as the contract). Less the congestion
        charge: congestion_charge x P_ref per credit that lifts the tier's redeemed past the target share of
        its capacity, kept in the funds. With one aggregate provider per tier the contract's provider excess
        is the tier's (the capacity is counted whole, as offered at the epoch's start)."""
        amount = np.minimum(amount, self.capacity - self.redeemed)
        amount, share, at_ref = self._exit(amount, holder)
        charge = self.congestion(amount)
        self.redeemed = self.redeemed + amount
        self.charged = self.charged + charge
        capped = np.minimum(share, at_ref)
        paid = capped * (1.0 - self.sell_fee)
        refund = share - capped  # the premium back whole: the exit fee is on the reference part
        self.funds -= float(paid.sum() + refund.sum() - charge.sum())
        return paid, refund - charge

    def congestion(self, amount: np.ndarray) -> np.ndarray:
        """The congestion charge (HANZO per tier) that redeeming `amount` more credits now would cost; nothing is
        traded."""
        after = self.redeemed + amount
        excess = np.maximum(after - np.maximum(self.redeemed, self.uncharged()), 0.0)
        return self.congestion_charge * self.ref_price * excess

    def uncharged(self) -> np.ndarray:
        """Per tier, the credits redeemed this epoch past which the congestion charge applies: the target share of
        the capacity in whole credits, rounded down as the contract's threshold is (1 credit offered: 0, not 0.8;
        the float product's last-bit error rounded off first, so 0.8 x 1e6 stays 800,000, not 799,999)."""
        return np.floor(np.round(self.target * self.capacity, 6))

    def sell(self, amount: np.ndarray, holder: str = "users") -> np.ndarray:
        """Sell `amount` credits back; returns the proceeds per tier, after the sell fee."""
        _, paid, at_ref = self._exit(amount, holder)
        proceeds = paid - np.minimum(paid, at_ref) * self.sell_fee  # the exit fee on the reference part
        self.funds -= float(proceeds.sum())
        return proceeds

    # ---------------------------------------------------------------- the epoch

    def step(self, controller: str = "leapfrog") -> np.ndarray:
        """Close the epoch as poke() does; returns each tier's utilization. `controller` may also be
        "eip1559" (the anchor the design compares against; not a contract rule)."""
        u = np.where(self.capacity > 0, self.redeemed / np.where(self.capacity > 0, self.capacity, 1.0), self.target)
        if controller == "leapfrog":
            x_next, v_next = leapfrog_float(self.log_price, self.momentum, u, alpha=self.alpha, gamma=self.gamma,
                                            dt=self.dt, delta_max=self.delta_max, target=self.target)
        else:
            x_next = np.log(eip1559_float(np.exp(self.log_price), u, target=self.target,
                                          max_change=float(np.expm1(self.delta_max))))
            x_next = np.clip(x_next, -MAX_LOG_PRICE / WAD, MAX_LOG_PRICE / WAD)
            v_next = self.momentum
        self.log_price, self.momentum = x_next, v_next
        self.capacity = np.zeros_like(self.capacity)
        self.redeemed = np.zeros_like(self.redeemed)
        self.charged = np.zeros_like(self.charged)
        self.position = self.position * (1.0 - self.position_decay)
        self.carried = self.position.copy()
        self.fresh_held = {}
        return u
