"""Compute: the market maker (HamiltonianMarketMaker's rules in floats), users' credit purchases
and use, speculators, and the providers who serve the credits and take the Compute Providers
pool's release.

Providers are an aggregate wallet ("providers") with one capacity per tier, unless the scenario
makes some users provider rows ([strategies] provider_share, hanzo.sim.strategies.Provider): then
each provider row owns its capacity, serves its share of each tier's credits (its capacity's share
of the tier's), is paid for it and takes the pool's release into its own wallet (in proportion to
what it was paid; by capacity on a day nothing was served), sells its own share of that income,
and moves its capacity by its own margin; the capacity offered is the sum over the rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hanzo.econ.hmm import FloatMarket
from hanzo.econ.params import WEI

from .ledger import UNIT, units
from .users import fundable, spend, split, split_alike

if TYPE_CHECKING:
    from .world import World


def market_maker(w: World) -> FloatMarket:
    """The market maker with the contract's own rules (hanzo.econ.hmm.FloatMarket, tested
    against the integer model); the providers' capacity is theirs, offered again each epoch."""
    demand = base_demand(w, w.s["users"]["initial"]) * np.array(w.s.tier_mix)
    w.provider_capacity = np.maximum(demand * w.s["compute"]["capacity_headroom"], 1.0)
    w.utilization = np.zeros(3)
    return FloatMarket.from_tokenomics(w.p)


def base_demand(w: World, users: int) -> float:
    return users * w.s["users"]["inference_credits_per_day"]


def inference(w: World):
    """Users buy compute credits from the market maker and spend them with providers; each buys
    the HANZO it pays with, and buys no more credits than it can fund."""
    c, u = w.s["compute"], w.s["users"]
    m = w.market
    mix = np.array(w.s.tier_mix)
    fee_share = w.s["policy"]["inference_fee_share"]
    while True:
        shock = c["shock_factor"] if c["shock_day"] and w.env.now >= c["shock_day"] else 1.0
        # demand responds to what a credit costs in USD, relative to day 0
        relative = m.price / m.base_price * (w.price_usd / (w.s.tokenomics.pool_initial_price / 10**18))
        # cheap compute raises use, up to max_demand_multiple times the base
        response = np.minimum(relative ** (-u["price_elasticity"]), u["max_demand_multiple"])
        noise = w.demand.factor() if w.demand else 1.0  # [uncertainty] demand_volatility
        demand = base_demand(w, w.users.active) * (shock * noise) * mix * response
        want = demand * (1 + c["buffer_days"]) - m.holding("users")  # keep a buffer of credits
        # the contract refuses q / L past 40 (DepthExceeded): FloatMarket.buy clips demand beyond that
        credits, pays = users_credits_affordable(w, np.maximum(want, 0.0), 1 + fee_share)
        cost = float(m.buy(credits).sum())
        recycled = cost * fee_share  # the inference fee, on top, into the Training Rewards pool
        # each active user buys the HANZO it spends (alike, or as far as its own means go)
        spend(w, [("market_maker", units(cost), "compute credits"),
                  ("training_pool", units(recycled), "inference fee")], "compute credits", pays)
        w.supply.recycled_fees += recycled
        w.flows.inference_spend += cost
        rows = w.strategies.provider is not None  # providers are rows: each its own capacity
        if rows:
            providers_rows, capacity = provider_rows(w)
            w.provider_capacity = capacity.sum(axis=0)
        m.capacity = w.provider_capacity.copy()  # the providers offer their capacity for the epoch
        served = np.minimum(np.minimum(demand, m.capacity), m.holding("users"))
        served = charge_affordable(w, served, pays)
        # the cost-basis cap applies, as on chain; the curve's premium goes back to the users (rule 3h), less the
        # congestion charge (the users' cost: demand above still answers the price alone, as the charge is a
        # cost of the day's use past the target that the users do not foresee)
        charged = float(m.charged.sum())
        paid, net = m.redeem_split(served)
        charge = float(m.charged.sum()) - charged
        w.premium_owed += float(net.sum()) + charge
        pay_charge(w, charge, pays)
        if int(w.env.now) % PREMIUM_BACK_DAYS == PREMIUM_BACK_DAYS - 1:
            premium_back(w)
        payout = float(paid.sum())
        w.provider_income_per_credit = np.where(served > 0, paid / np.where(served > 0, served, 1.0),
                                                w.provider_income_per_credit)
        if rows:
            pay_provider_rows(w, providers_rows, capacity, paid)
            w.utilization = np.divide(served, m.capacity, out=np.zeros_like(served), where=m.capacity > 0)
        else:
            w.ledger.transfer("market_maker", "providers", payout, "compute served")
            w.utilization = served / m.capacity
        w.flows.provider_income += payout
        yield w.env.timeout(1)


def charge_affordable(w: World, served: np.ndarray, pays) -> np.ndarray:
    """`served`, or where the users cannot fund the congestion charge on it beyond the premium the maker owes them
    (as on chain, where the holder without the HANZO cannot redeem past the target: the contract reverts), only
    what the target share of the capacity serves free of it."""
    m = w.market
    rest = units(max(float(m.congestion(served).sum()) - w.premium_owed, 0.0))
    if rest <= w.ledger.units["purchases"] or not w.users.active:  # the pool's day funds it: no wallet is read
        return served
    wanted = pays(rest)
    if fundable(w, wanted)[wanted > 0].min() >= 1.0:
        return served
    return np.minimum(served, np.maximum(m.uncharged() - m.redeemed, 0.0))


def pay_charge(w: World, charge: float, pays) -> None:
    """The users pay the day's congestion charge: out of the premium the maker owes them first (it stays with the
    maker), the rest bought and paid as they pay for credits, so the maker's funds and the ledger agree."""
    if charge <= 0:
        return
    netted = min(charge, w.premium_owed)
    w.premium_owed -= netted
    spend(w, [("market_maker", units(max(charge - netted, 0.0)), "congestion charge")], "congestion charge", pays)
    w.flows.congestion_charges += charge


PREMIUM_BACK_DAYS = 30  # how often the premium owed reaches the users' wallets (alike to the active ones)


def premium_back(w: World) -> None:
    """The curve's premium the market maker owes the users (rule 3h) into the active users' wallets, alike.
    Paid every PREMIUM_BACK_DAYS days rather than daily: alike to a million rows it is a pass over them
    (daily, a 10-year run took 9 times as long); a wallet holding it a few weeks later changes nothing the
    users decide on."""
    back = units(w.premium_owed)
    if back:
        moved = w.users.receive(w.ledger, "market_maker", split_alike(back, w.users.on[:w.users.rows]),
                                "curve premium back")
        w.premium_owed = max(0.0, w.premium_owed - moved / UNIT)


def provider_rows(w: World):
    """(the provider strategy's active rows, each one's capacity: a row each, a column per tier)."""
    st = w.strategies
    rows = st.active(st.provider, w.users)
    return rows, st.capacity[rows.index]


def pay_provider_rows(w: World, rows, capacity: np.ndarray, paid: np.ndarray) -> None:
    """The market maker pays each provider row for the credits it served: of each tier's payment `paid`
    (HANZO), the share its capacity is of the tier's (every provider serves the same share of what it
    offers), to the unit, into its own wallet. What each was paid is kept for the day's release."""
    total = capacity.sum(axis=0)
    per_capacity = np.divide(paid, total, out=np.zeros_like(paid), where=total > 0)  # HANZO per credit offered
    earned = capacity @ per_capacity if len(rows) else np.zeros(0)
    amount = units(float(paid.sum()))
    income = (split(amount, earned) if amount and len(rows) and earned.max() > 0
              else np.zeros(len(rows), dtype=np.int64))
    if amount and not income.sum():
        raise RuntimeError(f"day {w.view.day}: compute was served and paid with no provider row to pay")
    w.users.receive_rows(w.ledger, "market_maker", rows.index, income, "compute served")
    w.provider_paid_rows = (rows.index, income.copy())


def speculation(w: World):
    """Speculators trade credits on the controller's momentum, after the day's use and before
    the epoch step; the HANZO they spend is bought from the pool and what they get back sold."""
    speculators, m = w.agents["speculators"], w.market
    if not speculators.budget_per_day:
        return
    while True:
        buy, sell = speculators.decide(m.momentum, m.holding("speculators"), m.price)
        received = float(m.sell(sell, "speculators").sum())
        w.ledger.transfer("market_maker", "speculators", received, "credits sold back")
        w.exchange.sell("speculators", received, "speculators sell")
        spent = float(m.buy(credits_affordable(w, "speculators", buy), "speculators").sum())
        w.exchange.buy("speculators", spent, "speculators' credits")
        w.ledger.transfer("speculators", "market_maker", spent, "speculators' credits")
        w.speculator_received += received
        w.speculator_spent += spent
        yield w.env.timeout(1)


def users_credits_affordable(w: World, credits: np.ndarray, markup: float):
    """(credits per tier the users buy today, a callable giving the units each row pays of a total).
    Every active user wants the same credits; when the pool's day cannot fund them all, a user
    buys the share its own means fund (its equal share of the day plus its wallet: hanzo.sim.users.
    fundable) and the rest is not bought (`credits_unfunded`). Paying each the same share of a
    smaller order costs it no more than its share of the whole order would have (the market maker's
    cost is convex and zero at zero), so no user pays more than it holds."""
    users = w.users
    n = users.rows
    cost = float(w.market.quote(credits).sum()) * markup
    alike = lambda total: split_alike(total, users.on[:n])  # noqa: E731
    if units(cost) <= w.ledger.units["purchases"] or not users.active:
        return credits, alike
    can = fundable(w, split_alike(units(cost), users.on[:n]))
    share = float(can[users.on[:n]].mean())
    if share == 1.0:  # every active user funds its equal share
        return credits, alike
    w.flows.credits_unfunded += float(credits.sum()) * (1 - share)
    weights = np.where(users.on[:n], can, 0.0)
    return credits * share, lambda total: split(total, weights)


def credits_affordable(w: World, buyer: str, credits: np.ndarray, markup: float = 1.0) -> np.ndarray:
    """`credits` (per tier), or the largest common fraction of them whose cost, times `markup`
    (a fee on top), `buyer` can fund today; the rest is not bought (`credits_unfunded`)."""
    budget = w.exchange.affordable(buyer) / markup
    cost = float(w.market.quote(credits).sum())
    if cost <= budget:
        return credits
    lo, hi = 0.0, 1.0  # the cost is increasing in the fraction: bisect it
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if float(w.market.quote(credits * mid).sum()) <= budget else (lo, mid)
    w.flows.credits_unfunded += float(credits.sum()) * (1 - lo)
    return credits * lo


def providers(w: World):
    """Providers take the day's Compute Providers pool release, sell half their income, and
    grow capacity while utilization runs above target. Then the epoch's controller step."""
    p, m = w.p, w.market
    target = p.hmm_target_utilization / WEI
    providers = w.agents["providers"]
    while True:
        if w.strategies.provider is not None:
            provider_rows_day(w, target)
            m.step(w.s["scenario"]["controller"])
            yield w.env.timeout(1)
            continue
        subsidy = w.ledger.transfer("compute_pool", "providers", w.ledger["compute_pool"] / 365,
                                    "compute pool release")
        w.exchange.sell("providers", 0.5 * (w.flows.provider_income + subsidy), "providers sell")
        u = w.utilization
        w.provider_capacity = w.provider_capacity * (1 + providers.decide(w.view, u, target))
        # poke(): the contract's step, with its per-tier solvency cut (a rise is cut to what the
        # surplus covers, tier by tier; the first simulator vetoed every tier at once)
        m.step(w.s["scenario"]["controller"])
        yield w.env.timeout(1)


def provider_rows_day(w: World, target: float) -> None:
    """Provider rows take the day's Compute Providers pool release, each in proportion to what it was paid
    for compute today (by its capacity, weighted by the tiers' base prices, on a day nothing was paid; none
    while there is no provider row), sell their own share (provider_sell_share) of the day's income from
    their wallets, and move their capacity by their own policy (hanzo.sim.strategies.Provider.capacity)."""
    st, ledger, users = w.strategies, w.ledger, w.users
    policy = st.policies[st.provider]
    rows, capacity = provider_rows(w)
    if not len(rows):
        return
    index = rows.index
    served_rows, paid = w.provider_paid_rows
    if served_rows is None or len(served_rows) != len(index) or not np.array_equal(served_rows, index):
        paid = np.zeros(len(index), dtype=np.int64)  # (rows joined or left since they were paid: none today)
    weights = paid.astype(np.float64)
    if not weights.any():
        weights = capacity @ policy.tier_cost_scale
    release = units(ledger["compute_pool"] / 365)
    subsidy = (split(release, weights) if release and weights.max() > 0
               else np.zeros(len(index), dtype=np.int64))
    users.receive_rows(ledger, "compute_pool", index, subsidy, "compute pool release")
    income = paid + subsidy
    sold = (income * rows.traits["sell_share"]).astype(np.int64)  # (rounded down: never more than received)
    users.pay_rows(ledger, index, sold, "sell_orders", "providers sell")
    st.income[index] += income / UNIT
    st.capacity[index] = policy.capacity(w.view, rows, capacity, w.utilization, target)
    w.provider_paid_rows = (None, None)
