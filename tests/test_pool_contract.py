"""HanzoPool (contracts/HanzoPool.sol), the HANZO market on chain, issue 18: the contract equals its
integer mirror (hanzo.econ.cpmm) wei for wei over Hypothesis-generated swap sequences, every revert
by the same custom error; and the economics as attacks: no actor alone takes out more than it put
in (round trips, donations), a sandwich around a swap whose minOut is its quote is refused, and
with a tolerance it takes no more than the victim allowed; the pool is seeded by the shared plan
from the Liquidity allocation at the initial price on the embedded EVM, Ape's chain and anvil,
and holds no power.

Most tests run on the embedded EVM (hanzo.chain.evm), one fresh pool per example: two TestUSD
tokens stand for HANZO and the stablecoin (HanzoToken is a plain OpenZeppelin ERC20 to the pool, as
TestUSD is), so Hypothesis may choose the fee and the seed too.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from hanzo.chain import evm
from hanzo.chain.evm import Reverted
from hanzo.econ.cpmm import HANZO, MAX_FEE_BPS, UINT112_MAX, UINT256_MAX, USD, PoolError, PoolState
from hanzo.econ.params import BPS, DEFAULT, WEI

SUPPLY = 2**200  # each side's supply: traders can offer more than a 112-bit reserve takes
FUNDS = 2**116  # what each trader starts with of each side
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Lab:
    """An embedded chain with a deployer and three traders, making fresh pools."""

    def __init__(self, artifacts):
        self.chain = chain = evm.EmbeddedChain(artifacts=artifacts, keep_logs=False)
        self.deployer = evm.derived_account("pool/deployer")
        chain.fund([self.deployer])
        self.traders = chain.accounts(3, label="pool/trader")

    def market(self, fee: int, seed_hanzo: int, seed_usd: int, *, donate: tuple[int, int] = (0, 0)) -> "Market":
        return Market(self, fee, seed_hanzo, seed_usd, donate)


def _lower(args) -> tuple:
    """Error arguments with addresses lower-cased (eth_abi decodes them so)."""
    return tuple(a.lower() if isinstance(a, str) else a for a in args)


class Market:
    """One pool and its two tokens, the model beside it, and every balance the test expects."""

    def __init__(self, lab: Lab, fee: int, seed_hanzo: int, seed_usd: int, donate: tuple[int, int]):
        c, d = lab.chain, lab.deployer
        self.chain, self.lab = c, lab
        self.tokens = {HANZO: c.deploy("TestUSD", SUPPLY, sender=d), USD: c.deploy("TestUSD", SUPPLY, sender=d)}
        self.pool = c.deploy("HanzoPool", self.tokens[HANZO].address, self.tokens[USD].address, fee, seed_hanzo,
                             seed_usd, sender=d)
        self.model = PoolState(fee, seed_hanzo, seed_usd)
        for side, seed, extra in ((HANZO, seed_hanzo, donate[0]), (USD, seed_usd, donate[1])):
            c.transact(self.tokens[side], "transfer", self.pool.address, seed + extra, sender=d)
        c.transact(self.pool, "seed", sender=d)
        self.model.seed(seed_hanzo + donate[0], seed_usd + donate[1])
        self.donated = {HANZO: donate[0], USD: donate[1]}  # held by the pool outside the reserves
        for t in lab.traders:
            for token in self.tokens.values():
                c.transact(token, "transfer", t.address, FUNDS, sender=d)
                c.transact(token, "approve", self.pool.address, UINT256_MAX, sender=t)
        self.held = {(t.address, side): FUNDS for t in lab.traders for side in (HANZO, USD)}

    def address(self, side: str) -> str:
        return self.tokens[side].address if side in self.tokens else self.lab.traders[0].address

    def balance(self, who: str, side: str) -> int:
        return self.chain.call(self.tokens[side], "balanceOf", who)

    def reserves(self) -> tuple[int, int]:
        return tuple(self.chain.call(self.pool, "getReserves"))

    def both(self, trader, kind: str, side: str, amount: int, limit: int, *, to=None, deadline: int | None = None):
        """The same swap on the contract and the model: ("ok", amount) or ("error", name, args)
        from each. `kind` "in": `amount` of `side` in, at least `limit` out; "out": `amount` of
        `side` out, at most `limit` in."""
        to = to or trader
        deadline = self.chain.timestamp if deadline is None else deadline
        method = "swapExactIn" if kind == "in" else "swapExactOut"
        try:
            got = self.chain.transact(self.pool, method, self.address(side), amount, limit, to.address, deadline,
                                      sender=trader).value
            chain = ("ok", got)
        except Reverted as exc:
            chain = ("error", exc.error, _lower(exc.error_args or ()))
        go = self.model.swap_exact_in if kind == "in" else self.model.swap_exact_out
        try:  # a token of neither side is named by its address, as the contract names it
            token = side if side in self.tokens else self.address(side)
            model = ("ok", go(token, amount, limit, deadline=deadline, now=self.chain.timestamp))
        except PoolError as exc:
            model = ("error", exc.name, _lower(exc.args_))
        if chain[0] == "ok" and side in self.tokens:
            other = USD if side == HANZO else HANZO
            paid, received = (amount, got) if kind == "in" else (got, amount)
            side_in, side_out = (side, other) if kind == "in" else (other, side)
            self.held[(trader.address, side_in)] -= paid
            self.held[(to.address, side_out)] += received
        return chain, model

    def check_books(self) -> None:
        """The reserves are the model's; every trader holds what its swaps say; the pool holds its
        reserves plus what was donated, to the wei."""
        assert self.reserves() == (self.model.reserve_hanzo, self.model.reserve_usd)
        for (who, side), amount in self.held.items():
            assert self.balance(who, side) == amount, (who, side)
        reserve = {HANZO: self.model.reserve_hanzo, USD: self.model.reserve_usd}
        for side in (HANZO, USD):
            assert self.balance(self.pool.address, side) == reserve[side] + self.donated[side], side
        assert self.model.k >= self.model.seed_hanzo * self.model.seed_usd


@pytest.fixture(scope="module")
def artifacts(project):
    return evm.Artifacts(project)


@pytest.fixture(scope="module")
def lab(artifacts):
    return Lab(artifacts)


# ------------------------------------------------------------------------------------ strategies

fees = st.one_of(st.just(DEFAULT.pool_fee_bps), st.sampled_from((0, 1, MAX_FEE_BPS)), st.integers(0, MAX_FEE_BPS))
seeds = st.one_of(st.just(None), st.integers(1, 10**6), st.integers(1, 10**30), st.integers(1, UINT112_MAX))
# an amount: raw (small, large, past 112 bits, the whole range) or a share of the reserve it meets
amounts = st.one_of(
    st.tuples(st.just("raw"), st.one_of(st.integers(0, 10**4), st.integers(0, 10**30), st.integers(0, 2**113),
                                        st.integers(0, UINT256_MAX))),
    st.tuples(st.just("share"), st.integers(0, 2**34)),  # reserve * n / 2**32: up to 4x the reserve
)
ops = st.tuples(
    st.sampled_from(("in", "out", "donate")),
    st.sampled_from((HANZO, USD, HANZO, USD, "neither")),
    amounts,
    st.sampled_from(("none", "quote", "quote+1", "quote-1")),  # the slippage bound against the model's quote
    st.integers(0, 2),  # trader
    st.integers(0, 2),  # recipient
    st.sampled_from((0, 0, 0, 3600, -1)),  # deadline, from the block's timestamp (-1: expired)
    st.sampled_from((0, 0, 0, 1, 86_400)),  # seconds mined before the op
)


def _seed(drawn, default: int) -> int:
    return default if drawn is None else drawn


def _amount(m: Market, kind: str, side: str, spec) -> int:
    how, n = spec
    if how == "raw":
        return n
    # "in" meets the reserve of its own side, "out" the one it takes from
    reserve = m.model.reserve_hanzo if side in (HANZO, "neither") else m.model.reserve_usd
    return reserve * n >> 32


def _limit(m: Market, kind: str, side: str, amount: int, how: str) -> int:
    if how == "none":
        return 0 if kind == "in" else UINT256_MAX
    try:
        quote = (m.model.quote_exact_in if kind == "in" else m.model.quote_exact_out)(side, amount)
    except PoolError:
        quote = 0
    return max(0, quote + {"quote": 0, "quote+1": 1, "quote-1": -1}[how])


# ------------------------------------------------------------------------------------ equivalence


@settings(SETTINGS, max_examples=200)
@given(fee=fees, seed_hanzo=seeds, seed_usd=seeds, donate=st.tuples(st.integers(0, 10**20), st.integers(0, 10**20)),
       sequence=st.lists(ops, min_size=1, max_size=25))
def test_the_contract_equals_the_model_wei_for_wei_over_any_swap_sequence(lab, fee, seed_hanzo, seed_usd, donate,
                                                                          sequence):
    m = lab.market(fee, _seed(seed_hanzo, DEFAULT.pool_seed_hanzo), _seed(seed_usd, DEFAULT.pool_seed_usd),
                   donate=donate)
    m.check_books()
    for kind, side, spec, how, who, to, deadline, wait in sequence:
        if wait:
            lab.chain.mine(wait)
        trader, recipient = lab.traders[who], lab.traders[to]
        amount = _amount(m, kind, side, spec)
        if kind == "donate":  # a direct transfer to the pool: counted nowhere
            if side in m.tokens and amount <= m.held[(trader.address, side)]:
                lab.chain.transact(m.tokens[side], "transfer", m.pool.address, amount, sender=trader)
                m.held[(trader.address, side)] -= amount
                m.donated[side] += amount
        else:
            limit = _limit(m, kind, side, amount, how)
            chain, model = m.both(trader, kind, side, amount, limit, to=recipient,
                                  deadline=lab.chain.timestamp + deadline)
            assert chain == model, (kind, side, amount, limit)
            event(f"{kind}: {chain[1] if chain[0] == 'error' else 'ok'}")  # --hypothesis-show-statistics
        m.check_books()
        assert lab.chain.call(m.pool, "price") == m.model.price()


def test_amounts_past_112_bits_or_256_revert_alike_on_both(lab):
    """A reserve must fit in 112 bits (ReserveTooLarge), an amount past 2**256 overflows (a Panic),
    and an exact-out swap whose cost would pass 112 bits is refused after the k check: the model
    names each as the contract does."""
    m = lab.market(30, UINT112_MAX - 10**6, 10**6)
    t = lab.traders[0]
    cases = [("in", HANZO, 10**6 + 1, 0), ("in", USD, UINT256_MAX, 0), ("out", USD, 10**6 - 1, UINT256_MAX),
             ("in", USD, 10**5, 0)]
    seen = []
    for kind, side, amount, limit in cases:
        chain, model = m.both(t, kind, side, amount, limit)
        assert chain == model, (kind, side, amount)
        seen.append(chain[1] if chain[0] == "error" else "ok")
    assert seen == ["ReserveTooLarge", "Panic", "ReserveTooLarge", "ok"], seen
    m.check_books()


def test_the_default_pool_is_uniswap_v2_to_the_wei():
    """At 30 bps the rule is Uniswap v2's getAmountOut (997/1000) and getAmountIn."""
    pool = PoolState.from_tokenomics(DEFAULT)
    x, y = pool.reserve_usd, pool.reserve_hanzo
    for a in (1, 999, 10**18, 12_345 * WEI, 4 * 10**24):
        v2_out = a * 997 * y // (x * 1000 + a * 997)
        assert pool.quote_exact_in(USD, a) == v2_out
        v2_in = x * a * 1000 // ((y - a) * 997) + 1
        assert pool.quote_exact_out(HANZO, a) == v2_in


@pytest.mark.parametrize("args, error", [
    ((MAX_FEE_BPS + 1, 10, 10), "FeeTooHigh"),
    ((30, 0, 10), "BadSeed"),
    ((30, 10, 0), "BadSeed"),
    ((30, UINT112_MAX + 1, 10), "BadSeed"),
])
def test_a_pool_is_refused_a_fee_above_its_bound_or_an_empty_or_oversized_seed(lab, args, error):
    c, d = lab.chain, lab.deployer
    a, b = (c.deploy("TestUSD", SUPPLY, sender=d) for _ in range(2))
    with pytest.raises(Reverted) as caught:
        c.deploy("HanzoPool", a.address, b.address, *args, sender=d)
    assert caught.value.error == error
    with pytest.raises(PoolError, match=error):
        PoolState(*args)
    with pytest.raises(Reverted, match="BadTokens"):
        c.deploy("HanzoPool", a.address, a.address, 30, 10, 10, sender=d)


def test_seed_is_once_needs_both_sides_and_ignores_what_else_was_sent(lab):
    c, d = lab.chain, lab.deployer
    a, b = (c.deploy("TestUSD", SUPPLY, sender=d) for _ in range(2))
    pool = c.deploy("HanzoPool", a.address, b.address, 30, 1_000, 100, sender=d)
    trader = lab.traders[0]
    with pytest.raises(Reverted, match="NotSeeded"):
        c.transact(pool, "swapExactIn", a.address, 1, 0, trader.address, c.timestamp, sender=trader)
    c.transact(a, "transfer", pool.address, 5_000, sender=d)  # more HANZO than the seed: a donation
    with pytest.raises(Reverted) as caught:
        c.transact(pool, "seed", sender=trader)  # anyone may seed, but not before both sides are there
    assert caught.value.error == "SeedMissing" and _lower(caught.value.error_args) == _lower((b.address, 0, 100))
    c.transact(b, "transfer", pool.address, 100, sender=d)
    receipt = c.transact(pool, "seed", sender=trader)
    assert c.call(pool, "getReserves") == (1_000, 100)  # exactly the seed: the price is 100/1000
    assert c.call(pool, "price") == WEI // 10
    assert [e.args for e in receipt.events("Seeded")] == [{"reserveHanzo": 1_000, "reserveUsd": 100}]
    with pytest.raises(Reverted, match="AlreadySeeded"):
        c.transact(pool, "seed", sender=d)


def test_a_swap_to_the_pool_a_token_or_nobody_or_after_its_deadline_is_refused(lab):
    m = lab.market(30, 10**24, 10**23)
    t = lab.traders[0]
    now = lab.chain.timestamp
    for to in (m.pool.address, m.tokens[HANZO].address, m.tokens[USD].address, evm.ZERO_ADDRESS):
        with pytest.raises(Reverted) as caught:
            lab.chain.transact(m.pool, "swapExactIn", m.address(USD), WEI, 0, to, now, sender=t)
        assert caught.value.error == "BadRecipient", to
    with pytest.raises(Reverted) as caught:
        lab.chain.transact(m.pool, "swapExactOut", m.address(HANZO), WEI, UINT256_MAX, t.address, now - 1, sender=t)
    assert caught.value.error == "Expired" and caught.value.error_args == (now - 1, now)
    receipt = lab.chain.transact(m.pool, "swapExactIn", m.address(USD), WEI, 0, lab.traders[1].address, now, sender=t)
    (swap,) = receipt.events("Swap")
    assert {k: v.lower() if isinstance(v, str) else v for k, v in swap.args.items()} == {
        "sender": t.address.lower(), "to": lab.traders[1].address.lower(), "tokenIn": m.address(USD).lower(),
        "amountIn": WEI, "amountOut": receipt.value, "reserveHanzo": 10**24 - receipt.value, "reserveUsd": 10**23 + WEI}


# ------------------------------------------------------------------------------------ attacks


@SETTINGS
@given(fee=fees, seed_hanzo=seeds, seed_usd=seeds, sequence=st.lists(ops, min_size=1, max_size=12))
def test_no_actor_alone_takes_out_more_than_it_put_in(lab, fee, seed_hanzo, seed_usd, sequence):
    """Any sequence of one actor's swaps and donations (round trips, buys then sells, exact in
    or out, donations before any of them) leaves it no better off: if it holds at least the HANZO
    it started with, it holds at most the stablecoin, and the other way round. (k never decreases
    and donations are never counted, so whatever the pool gave up it was paid for.)"""
    m = lab.market(fee, _seed(seed_hanzo, DEFAULT.pool_seed_hanzo), _seed(seed_usd, DEFAULT.pool_seed_usd))
    actor = lab.traders[0]
    start = {side: m.balance(actor.address, side) for side in (HANZO, USD)}
    for kind, side, spec, how, _, _, _, _ in sequence:
        amount = _amount(m, kind, side, spec)
        if side not in m.tokens:
            continue
        if kind == "donate":
            amount = min(amount, m.held[(actor.address, side)])
            lab.chain.transact(m.tokens[side], "transfer", m.pool.address, amount, sender=actor)
            m.held[(actor.address, side)] -= amount
            m.donated[side] += amount
        else:
            chain, model = m.both(actor, kind, side, amount, _limit(m, kind, side, amount, how))
            assert chain == model
    m.check_books()
    gain = {side: m.balance(actor.address, side) - start[side] for side in (HANZO, USD)}
    assert not (gain[HANZO] >= 0 and gain[USD] >= 0 and (gain[HANZO] or gain[USD])), gain


@SETTINGS
@given(fee=fees, seed_hanzo=seeds, seed_usd=seeds, side=st.sampled_from((HANZO, USD)),
       spent=st.integers(1, 2**40), path=st.sampled_from(("in-in", "out-in", "in-out")))
def test_a_round_trip_never_returns_more_than_was_put_in(lab, fee, seed_hanzo, seed_usd, side, spent, path):
    m = lab.market(fee, _seed(seed_hanzo, DEFAULT.pool_seed_hanzo), _seed(seed_usd, DEFAULT.pool_seed_usd))
    other = USD if side == HANZO else HANZO
    t = lab.traders[1]
    reserve = m.model.reserve_hanzo if side == HANZO else m.model.reserve_usd
    amount = max(1, reserve * spent >> 40)  # up to the whole reserve's worth
    before = m.balance(t.address, side)
    if path == "out-in":  # buy exactly `amount` of the other side first (if the pool has it)
        reserve_other = m.model.reserve_usd if side == HANZO else m.model.reserve_hanzo
        got = min(amount, reserve_other - 1)
        assume(got > 0)
        chain, _ = m.both(t, "out", other, got, UINT256_MAX)
        assume(chain[0] == "ok")
    else:
        chain, _ = m.both(t, "in", side, amount, 0)
        assume(chain[0] == "ok")
        got = chain[1]
    if path == "in-out":  # buy back exactly what was paid, if the pool has it: it costs more than was got
        reserve_side = m.model.reserve_hanzo if side == HANZO else m.model.reserve_usd
        paid = before - m.balance(t.address, side)
        if paid < reserve_side:
            chain, _ = m.both(t, "out", side, paid, UINT256_MAX)
            assert chain[0] == "error" or chain[1] >= got, (chain, got)
        return
    back, _ = m.both(t, "in", other, got, 0)
    assert m.balance(t.address, side) <= before, (back, before)
    m.check_books()


@SETTINGS
@given(fee=fees, seed_hanzo=seeds, seed_usd=seeds, side=st.sampled_from((HANZO, USD)),
       victim_share=st.integers(1, 2**32), front_share=st.integers(1, 2**33),
       tolerance_bps=st.sampled_from((0, 0, 10, 50, 100, 500, 5_000)))
def test_a_sandwich_is_refused_by_a_tight_min_out_and_takes_no_more_than_the_victim_allowed(
        lab, fee, seed_hanzo, seed_usd, side, victim_share, front_share, tolerance_bps):
    """The victim swaps `side` in with minOut = its quote less its tolerance; the attacker buys
    the same way first and sells all it got after. At zero tolerance any front-run that costs the
    victim a wei is refused, and the attacker's round trip loses. With a tolerance the victim still
    gets its minOut, and the attacker's profit is at most the victim's shortfall from its quote
    valued at the pool's price after the victim's swap (the best price the attacker sells at)."""
    m = lab.market(fee, _seed(seed_hanzo, DEFAULT.pool_seed_hanzo), _seed(seed_usd, DEFAULT.pool_seed_usd))
    attacker, victim = lab.traders[0], lab.traders[1]
    other = USD if side == HANZO else HANZO
    reserve = m.model.reserve_hanzo if side == HANZO else m.model.reserve_usd
    v = max(1, reserve * victim_share >> 32)
    a = max(1, reserve * front_share >> 32)
    try:
        quote = m.model.quote_exact_in(side, v)
    except PoolError:
        assume(False)
    assume(quote > 0)
    min_out = quote * (BPS - tolerance_bps) // BPS
    front, _ = m.both(attacker, "in", side, a, 0)
    assume(front[0] == "ok")
    bought = front[1]
    chain, model = m.both(victim, "in", side, v, min_out)
    assert chain == model
    # the pool's price after the victim, as other-side wei per side wei: reserve_other / reserve_side
    mid_side = m.model.reserve_hanzo if side == HANZO else m.model.reserve_usd
    mid_other = m.model.reserve_usd if side == HANZO else m.model.reserve_hanzo
    back, _ = m.both(attacker, "in", other, bought, 0)
    assume(back[0] == "ok")  # (a pool of a few wei may pay nothing back: the attacker is left holding `bought`)
    profit = back[1] - a  # in `side`
    if chain[0] == "error":
        assert chain[1] == "InsufficientOutput"
        assert profit <= 0, "the attacker's round trip alone never profits"
        return
    received = chain[1]
    assert received >= min_out
    shortfall = quote - received  # in `other`
    if tolerance_bps == 0:
        assert shortfall == 0
    # profit <= shortfall * (side per other at the price after the victim) = shortfall * mid_side / mid_other
    assert profit * mid_other <= shortfall * mid_side, (profit, shortfall, mid_side, mid_other)
    m.check_books()


def test_a_donation_moves_no_price_and_nobody_can_take_it(lab):
    """Tokens sent straight to the pool stay outside the reserves: the quotes and the price are
    unchanged, the next swapper gets exactly what it would have without them, and no function pays
    them out (the pool has none: no skim, no sync)."""
    m = lab.market(30, 10**24, 10**23)
    donor, taker = lab.traders[0], lab.traders[2]
    quotes = (lab.chain.call(m.pool, "quoteExactIn", m.address(HANZO), 10**21),
              lab.chain.call(m.pool, "quoteExactOut", m.address(HANZO), 10**21), lab.chain.call(m.pool, "price"))
    for side in (HANZO, USD):
        lab.chain.transact(m.tokens[side], "transfer", m.pool.address, 10**23, sender=donor)
        m.held[(donor.address, side)] -= 10**23
        m.donated[side] += 10**23
    assert (lab.chain.call(m.pool, "quoteExactIn", m.address(HANZO), 10**21),
            lab.chain.call(m.pool, "quoteExactOut", m.address(HANZO), 10**21),
            lab.chain.call(m.pool, "price")) == quotes
    chain, model = m.both(taker, "in", HANZO, 10**21, quotes[0])
    assert chain == model == ("ok", quotes[0])
    m.check_books()
    mutable = {e["name"] for e in m.pool.artifact.abi if e.get("type") == "function"
               and e.get("stateMutability") not in ("view", "pure")}
    assert mutable == {"seed", "swapExactIn", "swapExactOut"}


# ------------------------------------------------------------------------------------ the deployed pool


def test_the_plan_seeds_the_pool_with_the_liquidity_allocation_at_the_initial_price(artifacts):
    chain, d = evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=artifacts))
    p, pool, token, usd = d.params, d.pool, d.token, d.usd
    assert chain.call(pool, "getReserves") == (p.allocation("liquidity"), p.pool_seed_usd) == (50_000_000 * WEI,
                                                                                               5_000_000 * WEI)
    assert chain.call(pool, "price") == p.pool_initial_price == WEI // 10
    assert chain.call(token, "balanceOf", pool) == p.allocation("liquidity")
    assert chain.call(usd, "balanceOf", pool) == p.pool_seed_usd
    assert chain.call(usd, "balanceOf", d.roles.sale_and_liquidity) == p.test_usd_float
    assert chain.call(usd, "balanceOf", d.roles.deployer) == chain.call(token, "balanceOf", d.roles.deployer) == 0
    assert chain.call(usd, "totalSupply") == p.test_usd_supply
    assert (chain.call(pool, "hanzo").lower(), chain.call(pool, "usd").lower()) == (token.address.lower(),
                                                                                 usd.address.lower())
    assert chain.call(pool, "feeBps") == p.pool_fee_bps
    # the sale holder buys and sells through it; the contract pays what the model says
    model, whale = PoolState.from_tokenomics(p), d.roles.sale_and_liquidity
    for t in (token, usd):
        chain.transact(t, "approve", pool.address, UINT256_MAX, sender=whale)
    now = chain.timestamp
    bought = chain.transact(pool, "swapExactIn", usd.address, 1_000 * WEI, 0, whale, now, sender=whale).value
    # 9,968 HANZO for $1,000 at $0.10: 10,000 less the 0.3% fee and the slippage
    assert bought == model.swap_exact_in(USD, 1_000 * WEI) == 9_968_012_378_331_760_646_927
    paid = chain.transact(pool, "swapExactOut", token.address, 100 * WEI, UINT256_MAX, whale, now, sender=whale).value
    assert paid == model.swap_exact_out(HANZO, 100 * WEI)
    sold = chain.transact(pool, "swapExactIn", token.address, 10_000 * WEI, 0, whale, now, sender=whale).value
    assert sold == model.swap_exact_in(HANZO, 10_000 * WEI)
    assert chain.call(pool, "getReserves") == (model.reserve_hanzo, model.reserve_usd)


def test_apes_chain_deploys_and_seeds_the_same_pool(suite, params, whale, chain):
    pool, token, usd = suite.pool, suite.token, suite.usd
    assert pool.getReserves() == (params.pool_seed_hanzo, params.pool_seed_usd)
    assert usd.balanceOf(whale) == params.test_usd_float and usd.balanceOf(suite.roles.deployer) == 0
    model = PoolState.from_tokenomics(params)
    usd.approve(pool.address, UINT256_MAX, sender=whale)
    deadline = chain.pending_timestamp + 60
    before = token.balanceOf(whale)
    pool.swapExactIn(usd.address, 250 * WEI, 0, whale.address, deadline, sender=whale)
    assert token.balanceOf(whale) - before == model.swap_exact_in(USD, 250 * WEI)
    assert pool.getReserves() == (model.reserve_hanzo, model.reserve_usd)
    assert pool.price() == model.price() > params.pool_initial_price


def test_anvil_deploys_and_seeds_the_same_pool(artifacts):
    from hanzo.chain import devnet as dn

    node = dn.Anvil()
    try:
        net = dn.Devnet(node.url, node=node, artifacts=artifacts)
        d = dn.deploy_suite(net, DEFAULT, evm.default_roles())
        assert net.call(d.pool, "getReserves") == (DEFAULT.pool_seed_hanzo, DEFAULT.pool_seed_usd)
        assert net.call(d.usd, "balanceOf", d.roles.deployer.address) == 0
        whale = d.roles.sale_and_liquidity
        wallet = evm.derived_account("sale_and_liquidity")
        assert wallet.address == whale
        net.transact(d.usd, "approve", d.pool.address, UINT256_MAX, sender=wallet)
        outcome = net.transact(d.pool, "swapExactIn", d.usd.address, 250 * WEI, 0, whale, net.timestamp + 60,
                               sender=wallet)
        model = PoolState.from_tokenomics(DEFAULT)
        model.swap_exact_in(USD, 250 * WEI)
        assert net.call(d.pool, "getReserves") == (model.reserve_hanzo, model.reserve_usd)
        assert outcome is not None
    finally:
        node.stop()
