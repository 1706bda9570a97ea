"""The HANZO market of the World: holders' trades with HanzoPool, cleared once a day, every HANZO of
them through the ledger (hanzo.sim.ledger).

Sales. A group puts HANZO up for sale: it moves from the group's wallet to the book of sell orders,
so nobody sells what it does not hold. At the close the pool takes what the day's slippage limit
lets through (a price fall of at most `max_slippage`); the rest waits in the book for the next day.

Purchases. Whoever pays in HANZO (a fork's mint fee, a training fee, compute credits) buys it from
the pool (users through hanzo.sim.users.spend, each from its own row). At the opening, the HANZO the
pool can sell within the day's slippage limit at its opening depth is set aside for the day's buyers
(pool -> purchases); sales only deepen the pool, so the close can always deliver it. A buyer draws
on it first and then on its own wallet; what the two cannot cover it cannot buy (`affordable`), so
no purchase is paid with HANZO nobody holds.

At the close, as before this ledger: sales first, then the pool sells what all the day's buyers
wanted, up to the slippage limit measured after the sales (never less than was drawn). What the
day did not draw of the set-aside returns to the pool; what the close sells beyond what was drawn
goes back to the buyers who had paid from their own wallets, pro rata; what it could not sell
(`unmet`) those buyers paid from their own HANZO.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .ledger import UNIT, Ledger, Overdraft
from .pool import ConstantProductPool

if TYPE_CHECKING:
    from .world import World

SPARE = 100  # ledger units a buyer keeps, so that the rounding of the flows it pays never overdraws it


class Exchange:
    def __init__(self, ledger: Ledger, pool: ConstantProductPool, max_slippage: float):
        self.ledger, self.pool, self.slippage = ledger, pool, max_slippage
        self.wanted: dict[str, float] = {}  # HANZO each buyer bought today
        self.drawn: dict[str, float] = {}  # of which drawn on the pool's set-aside
        self.sold = self.bought = self.unmet = 0.0  # the last close's

    def open(self) -> None:
        """The day's opening: the pool's depth within the slippage limit, set aside for buyers."""
        self.wanted, self.drawn = {}, {}
        self.ledger.transfer("pool", "purchases", self.pool.hanzo_to_move(1 + self.slippage), "opening")

    def affordable(self, buyer: str) -> float:
        """HANZO `buyer` can buy now: what is left of the day's set-aside, plus its own wallet."""
        units = self.ledger.units
        return max(0, units["purchases"] + units[buyer] - SPARE) / UNIT

    def buy(self, buyer: str, amount: float, flow: str) -> None:
        """`buyer` buys `amount` HANZO for `flow`: the set-aside moves into its wallet, which then
        holds the amount to pay with; refused (Overdraft) beyond `affordable(buyer)`."""
        if amount <= 0:
            return
        ledger = self.ledger
        if amount > self.affordable(buyer) + SPARE / UNIT:
            raise Overdraft(ledger.clock(), flow, buyer, self.affordable(buyer), amount)
        drawn = ledger.transfer("purchases", buyer, min(amount, ledger["purchases"]), flow)
        self.bought_by(buyer, amount, drawn)

    def bought_by(self, buyer: str, amount: float, drawn: float) -> None:
        """Record a purchase whose HANZO the buyer (an agent population: hanzo.sim.users.spend) has
        already drawn on the set-aside, `drawn` of `amount`, the rest from its own wallets."""
        self.wanted[buyer] = self.wanted.get(buyer, 0.0) + amount
        self.drawn[buyer] = self.drawn.get(buyer, 0.0) + drawn

    def sell(self, seller: str, amount: float, flow: str) -> None:
        """`seller` puts `amount` HANZO up for sale (refused beyond what it holds)."""
        if amount > 0:
            self.ledger.transfer(seller, "sell_orders", amount, flow)

    def close(self) -> None:
        ledger, pool, slip = self.ledger, self.pool, self.slippage
        self.sold = ledger.transfer("sell_orders", "pool", min(ledger["sell_orders"], pool.hanzo_to_move(1 - slip)),
                                    "close: sales")
        pool.sell(self.sold)
        ledger.transfer("purchases", "pool", ledger["purchases"], "close: set-aside not drawn")
        wanted, drawn = sum(self.wanted.values()), sum(self.drawn.values())
        self.bought = max(drawn, min(wanted, pool.hanzo_to_move(1 + slip)))
        pool.buy(self.bought)
        own = {b: w - self.drawn[b] for b, w in self.wanted.items() if w > self.drawn[b]}
        paid_own = sum(own.values())
        for buyer, amount in own.items():
            ledger.transfer("pool", buyer, (self.bought - drawn) * amount / paid_own, "close: purchases")
        self.unmet = max(0.0, wanted - self.bought)  # (the sums of rounded draws may pass `wanted` by units)

    def arbitrage(self, price: float, share: float) -> float:
        """Arbitrageurs move the pool's log price `share` of the way to `price` on other venues,
        paying its fee; the HANZO they buy from the pool ends in holders' wallets and what they sell
        into it comes from them (never more than holders hold). Returns the USD volume."""
        hanzo, pool = self.pool.hanzo_toward(price, share), self.pool
        if hanzo < 0:
            self.ledger.transfer("pool", "holders", -hanzo, "arbitrage")
            return pool.buy(-hanzo)
        hanzo = self.ledger.transfer("holders", "pool", min(hanzo, self.ledger["holders"]), "arbitrage")
        before = pool.volume_usd
        pool.sell(hanzo)
        return pool.volume_usd - before


# ---------------------------------------------------------------- the World's market processes


def opening(w: World):
    """The HANZO market opens (hanzo.sim.exchange): the pool's depth for the day's buyers."""
    while True:
        w.exchange.open()
        yield w.env.timeout(1)


def closing(w: World):
    """The day's sells and buys clear against the HANZO pool: the price is the pool's. Traders
    accept at most `max_slippage` a day, as DEX traders set it: a sell that would push the
    price further waits for the next day (the backlog), a purchase that would lift it further
    is paid from the buyers' own HANZO instead of bought (recorded as unmet)."""
    while True:
        before = w.ledger.units["users"]
        w.exchange.close()
        # what the close sold the users of the purchases they paid from their own wallets goes back to those rows
        w.users.refund(w.ledger, w.ledger.units["users"] - before)
        w.flows.unmet_hanzo += w.exchange.unmet
        yield w.env.timeout(1)


def external_market(w: World):
    """The HANZO price on other venues: a random walk with jumps, which this economy does not
    move. It matters only with market.external_venues (arbitrageurs); it is drawn either way,
    so that the other random streams do not depend on the setting."""
    while True:
        w.external_price_usd = external_step(w.rng_market, w.s["market"], w.external_price_usd)
        yield w.env.timeout(1)


def external_step(rng, mk: dict, price: float) -> float:
    """The next day's HANZO price on other venues (USD) from today's `price`: a lognormal step of the scenario's
    [market] daily_volatility, and a jump of jump_size up or down with jump_probability. (Chain mode's
    arbitrageur draws it from the World's market stream with this too.)"""
    shock = rng.normal(0.0, mk["daily_volatility"])
    if rng.random() < mk["jump_probability"]:
        shock += math.log(1 + mk["jump_size"]) * (1 if rng.random() < 0.5 else -1)
    return price * math.exp(shock)


def arbitrageurs(w: World):
    """With other venues (market.external_venues), traders move the pool part of the way to
    their price each day, paying its fee. Without them, the pool is the only market."""
    mk = w.s["market"]
    if not mk["external_venues"]:
        return
    while True:
        w.flows.arbitrage_usd += w.exchange.arbitrage(w.external_price_usd, mk["arbitrage_speed"])
        yield w.env.timeout(1)
