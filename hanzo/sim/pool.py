"""The HANZO/USD market of the simulation: a constant-product pool (Uniswap v2's rule, its 0.3%
fee included), seeded with the genesis Liquidity allocation at the scenario's initial price.

Every holder's buy and sell clears against it, so the HANZO price comes from inside the economy:
emission that is sold pushes it down, demand for compute that must be paid in HANZO pushes it up,
and an attacker who wants a quarter of the float pays the pool's curve for it, not the day's
price. Other venues are optional (scenario `market.external_venues`): then arbitrageurs trade the
pool part of the way toward their price each day, paying its fee.

    amount_out = amount_in * (1 - fee) * reserve_out / (reserve_in + amount_in * (1 - fee))

The fee stays in the pool (it deepens the reserves, as in Uniswap v2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class PoolError(ValueError):
    """A trade the pool cannot fill (more HANZO than it holds)."""


@dataclass
class ConstantProductPool:
    hanzo: float  # HANZO reserve
    usd: float  # USD reserve
    fee: float = 0.003
    volume_usd: float = 0.0

    @property
    def price(self) -> float:
        """USD per HANZO at the margin."""
        return self.usd / self.hanzo

    @classmethod
    def at_genesis(cls, scenario) -> "ConstantProductPool":
        """The pool both executors start from, as HanzoPool is deployed: the Liquidity allocation
        against USD at pool_initial_price, with pool_fee_bps."""
        t = scenario.tokenomics
        hanzo = t.allocation("liquidity") / 10**18
        return cls(hanzo, hanzo * t.pool_initial_price / 10**18, t.pool_fee_bps / 10_000)

    def _out(self, amount_in: float, reserve_in: float, reserve_out: float) -> float:
        """Uniswap v2's rule: what `amount_in` of one side buys of the other, the fee kept."""
        effective = amount_in * (1 - self.fee)
        return effective * reserve_out / (reserve_in + effective)

    def sell(self, hanzo_in: float) -> float:
        """Sell `hanzo_in` HANZO for USD; returns the USD paid out."""
        if hanzo_in <= 0:
            return 0.0
        usd_out = self._out(hanzo_in, self.hanzo, self.usd)
        self.hanzo += hanzo_in
        self.usd -= usd_out
        self.volume_usd += usd_out
        return usd_out

    def spend(self, usd_in: float) -> float:
        """Spend `usd_in` USD on HANZO; returns the HANZO bought."""
        if usd_in <= 0:
            return 0.0
        hanzo_out = self._out(usd_in, self.usd, self.hanzo)
        self.usd += usd_in
        self.hanzo -= hanzo_out
        self.volume_usd += usd_in
        return hanzo_out

    def cost(self, hanzo_out: float) -> float:
        """USD it takes to buy exactly `hanzo_out` HANZO now (nothing is traded)."""
        if hanzo_out <= 0:
            return 0.0
        if hanzo_out >= self.hanzo:
            raise PoolError(f"the pool holds {self.hanzo:,.0f} HANZO; {hanzo_out:,.0f} cannot be bought")
        return self.usd * hanzo_out / ((self.hanzo - hanzo_out) * (1 - self.fee))

    def buy(self, hanzo_out: float) -> float:
        """Buy exactly `hanzo_out` HANZO; returns the USD paid."""
        usd_in = self.cost(hanzo_out)
        if usd_in > 0:
            self.usd += usd_in
            self.hanzo -= hanzo_out
            self.volume_usd += usd_in
        return usd_in

    def hanzo_to_move(self, factor: float) -> float:
        """HANZO that a one-sided trade moves through the pool to take its price to `factor` times
        the current one (fee-free reserves: buys for factor > 1, sells for factor < 1)."""
        return abs(self.hanzo - math.sqrt(self.hanzo * self.usd / (self.price * factor)))

    def hanzo_toward(self, price: float, share: float) -> float:
        """HANZO an arbitrageur trades to move the pool's log price `share` of the way to `price`
        (fee-free reserves): positive to sell into the pool (it is dear), negative to buy from it."""
        return hanzo_toward(self.hanzo, self.usd, price, share)

    def trade_toward(self, price: float, share: float) -> float:
        """An arbitrageur moves the pool's log price `share` of the way to `price` (fees paid);
        returns the trade's USD volume."""
        hanzo = self.hanzo_toward(price, share)
        if hanzo < 0:  # the pool is cheap: buy HANZO
            return self.buy(-hanzo)
        if hanzo > 0:  # the pool is dear: sell HANZO into it
            before = self.volume_usd
            self.sell(hanzo)
            return self.volume_usd - before
        return 0.0


def hanzo_toward(hanzo: float, usd: float, price: float, share: float) -> float:
    """HANZO an arbitrageur trades to move a pool of `hanzo` and `usd` reserves `share` of the way, in log price, to
    `price` (fee-free reserves: the constant product at the target price): positive to sell into the pool (it is
    dear), negative to buy from it. (Chain mode's arbitrageur trades HanzoPool by this too.)"""
    if price <= 0 or share <= 0 or hanzo <= 0 or usd <= 0:
        return 0.0
    now = usd / hanzo
    target = now * math.exp(share * math.log(price / now))
    return math.sqrt(hanzo * usd / target) - hanzo
