"""The users: one agent per user, each with a wallet, held as arrays (structure of arrays); how
they join and leave (adoption, churn), the forks they mint, whose fee they must buy, and how the
HANZO they are paid, spend and stake moves between their wallets and the ledger.

A user agent is row i of the arrays of `Users`: its HANZO (`wallet`, `stake` for votes,
`fork_stake` on its own fork, the HANZO in its unstaking cooldown), what it has earned, its
activity, its reservation wage, the day it joined and the day it left. Balances are int64 ledger
units (micro-HANZO, hanzo.sim.ledger.UNIT), like the ledger's own: every flow that touches users
moves whole units between the ledger's "users" (or "stake_holders", "fork_stake", "unstaking")
account and the rows, so that each of those accounts equals the exact sum of its rows, which the
ledger checks every day. A day is a few array operations over the rows, whatever the population.

Farmers mint forks through the same fee, from their own (aggregate) wallet.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from hanzo.econ.reference import boost_float, nft_mint_fee

from .ledger import UNIT, Ledger, WalletOverdraft, hanzo, units

if TYPE_CHECKING:
    from .world import World

KIND = "user"  # the agent kind the wallet errors name


def split(total: int, weights: np.ndarray) -> np.ndarray:
    """`total` ledger units shared in proportion to `weights` (>= 0, not all 0), each share rounded
    down and the units left over given one each to the largest remainders (ties to the lower row):
    the shares sum to `total` exactly, and none is more than its exact share rounded up."""
    n = len(weights)
    shares = np.zeros(n, dtype=np.int64)
    if total <= 0 or n == 0:
        return shares
    exact = np.multiply(weights, total / float(weights.sum()), out=_scratch("exact", n, np.float64))
    np.copyto(shares, exact, casting="unsafe")  # (truncation: the floor of a non-negative share)
    left = total - int(shares.sum())
    if left > 0:
        remainder = np.subtract(exact, shares, out=exact)
        if not weights.all():
            remainder[weights <= 0] = -1.0  # a row with no weight gets nothing, even of the leftover units
        add_one_to_largest(shares, remainder, left)
    elif left < 0:  # float rounding put a unit too many in the floors: take it from the largest shares
        shares[np.argsort(-shares, kind="stable")[:-left]] -= 1
    return shares


BINS = 1 << 16
_SCRATCH: dict[str, np.ndarray] = {}


def _scratch(name: str, n: int, dtype) -> np.ndarray:
    """A reusable work array of `n` rows (a fresh array of a million rows costs more in page
    faults than the arithmetic done in it)."""
    buf = _SCRATCH.get(name)
    if buf is None or len(buf) < n:
        buf = _SCRATCH[name] = np.empty(max(n, 1024), dtype=dtype)
    return buf[:n]


def add_one_to_largest(shares: np.ndarray, values: np.ndarray, count: int) -> None:
    """Add 1 to `shares` at the `count` largest of `values` (each in [-1, 1)), ties to the lower row:
    a histogram finds the bin the cut falls in, and only that bin is sorted (a partition of a
    million rows costs several times more). `values` is overwritten."""
    n = len(values)
    np.add(values, 1.0, out=values)
    np.multiply(values, BINS / 2, out=values)
    bins = _scratch("bins", n, np.int32)
    np.copyto(bins, values, casting="unsafe")
    np.minimum(bins, BINS - 1, out=bins)
    above = np.cumsum(np.bincount(bins, minlength=BINS)[::-1])  # rows in the top k bins, k = 1, 2, ...
    cut = BINS - 1 - int(np.searchsorted(above, count))  # the bin the count-th largest is in
    over = np.greater(bins, cut, out=_scratch("over", n, np.bool_))
    shares += over
    edge = np.flatnonzero(bins == cut)
    need = count - (int(above[BINS - 2 - cut]) if cut < BINS - 1 else 0)
    shares[edge[np.lexsort((edge, -values[edge]))[:need]]] += 1  # largest first, then the lower row


def split_equally(total: int, n: int) -> np.ndarray:
    """`total` units in `n` equal shares, the units left over one each to the first rows."""
    q, left = divmod(int(total), n)
    shares = np.full(n, q, dtype=np.int64)
    shares[:left] += 1
    return shares


class Users:
    """The user agents, one row each, in the order they joined (rows are never removed: a user who
    leaves keeps its HANZO and its stake, and stops training)."""

    FIELDS = {"wallet": np.int64, "stake": np.int64, "fork_stake": np.int64, "earned": np.int64,
              "activity": np.float64, "reservation": np.float64, "boost": np.float64, "joined": np.int32,
              "left": np.int32, "paid_own": np.int64}

    def __init__(self, cooldown_days: int = 1):
        self.rows = 0  # users who ever joined
        self.active = 0
        self.total_activity = 0.0  # of the active users
        self.forks_minted = 0
        self.capacity = 0
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))
        # each day's unstaked HANZO per user, until its cooldown is over (exact per user, first in first out)
        self.cooling: deque[np.ndarray] = deque(np.zeros(0, dtype=np.int64) for _ in range(max(1, cooldown_days)))
        self.cooling_sums: deque[int] = deque(0 for _ in self.cooling)
        self.on = np.zeros(0, dtype=bool)  # active
        self.paying_own = False  # whether some row paid part of a purchase from its wallet today

    # ---------------------------------------------------------------- the rows

    def rows_of(self, name: str) -> np.ndarray:
        """The used rows of one field."""
        return getattr(self, name)[:self.rows]

    def holdings(self) -> np.ndarray:
        """Each user's HANZO: wallet, stake, fork stake and what is in its cooldown."""
        n = self.rows
        held = self.wallet[:n] + self.stake[:n] + self.fork_stake[:n]
        for day in self.cooling:
            held[:len(day)] += day
        return held

    def grow(self, count: int, rng: np.random.Generator, sigma: float, day: int,
             reservation_per_activity: float = 0.0, spread: float = 0.0, rng_agents=None) -> None:
        """`count` users join today: lognormal activity with mean 1 (a few heavy users, many light
        ones) and a reservation wage in USD per day, the scenario's per interaction times what the
        user's activity makes a day, times a lognormal draw of mean 1 and spread `spread`."""
        if count <= 0:
            return
        to = self.rows + count
        if to > self.capacity:
            self.capacity = max(to, 2 * self.capacity, 1024)
            for name, dtype in self.FIELDS.items():
                old = getattr(self, name)
                new = np.zeros(self.capacity, dtype=dtype)
                new[:len(old)] = old
                setattr(self, name, new)
            on = np.zeros(self.capacity, dtype=bool)
            on[:len(self.on)] = self.on
            self.on = on
        rows = slice(self.rows, to)
        activity = rng.lognormal(-sigma * sigma / 2, sigma, count)
        self.activity[rows] = activity
        self.reservation[rows] = reservation_per_activity * activity
        if spread > 0 and reservation_per_activity > 0:
            self.reservation[rows] *= rng_agents.lognormal(-spread * spread / 2, spread, count)
        self.boost[rows] = 1.0
        self.joined[rows] = day
        self.left[rows] = -1
        self.on[rows] = True
        self.total_activity += float(activity.sum())
        self.rows = to
        self.active += count

    def leave(self, chance: np.ndarray, count: int, rng: np.random.Generator, day: int) -> int:
        """`count` active users leave today, drawn at random without replacement, each in
        proportion to its `chance` (a row per active user, in row order): Efraimidis and
        Spirakis' keys u ** (1 / chance), the largest `count` leave. Returns how many left."""
        count = min(count, self.active)
        if count <= 0:
            return 0
        active = np.flatnonzero(self.on[:self.rows])
        keys = np.full(len(active), -np.inf)
        positive = chance > 0
        keys[positive] = np.log(rng.random(int(positive.sum()))) / chance[positive]
        count = min(count, int(positive.sum()))
        leaving = active[np.argpartition(-keys, count - 1)[:count]] if count else active[:0]
        self.on[leaving] = False
        self.left[leaving] = day
        self.total_activity -= float(self.activity[leaving].sum())
        self.active -= len(leaving)
        return len(leaving)

    def earned_active(self) -> np.ndarray:
        """HANZO each active user has earned since it joined."""
        n = self.rows
        return self.earned[:n][self.on[:n]] / UNIT

    # ---------------------------------------------------------------- flows between the rows and the ledger

    def receive(self, ledger: Ledger, frm: str, amounts: np.ndarray, flow: str, field: str = "wallet") -> int:
        """Each row gets `amounts` (units) from the ledger account `frm`, into its `field`."""
        total = int(amounts.sum())
        if total:
            ledger.move(frm, ACCOUNT[field], total, flow)
            getattr(self, field)[:len(amounts)] += amounts
        return total

    def pay_field(self, ledger: Ledger, field: str, to: str, amounts: np.ndarray, flow: str) -> int:
        """Each row pays `amounts` (units) out of its `field` (wallet, stake, fork_stake) to the
        ledger account `to`; refused (WalletOverdraft, naming the day, the flow and the agent kind)
        if any row holds less."""
        total = int(amounts.sum())
        if total:
            held = getattr(self, field)[:len(amounts)]
            short = amounts > held
            if short.any():
                first = int(np.flatnonzero(short)[0])
                raise WalletOverdraft(ledger.clock(), flow, ACCOUNT[field], KIND, int(short.sum()), first,
                                      int(held[first]) / UNIT, int(amounts[first]) / UNIT)
            held -= amounts
            ledger.move(ACCOUNT[field], to, total, flow)
        return total

    def pay_parts(self, ledger: Ledger, parts: list[tuple[str, np.ndarray, str]]) -> None:
        """Each row pays several amounts (units) out of its wallet at once, each part to its ledger
        account; refused (WalletOverdraft, named by the first part's flow) if a row holds less than
        the sum of its parts."""
        if not parts:
            return
        total = parts[0][1].copy()
        for _, amounts, _ in parts[1:]:
            total += amounts
        n = len(total)
        held = self.wallet[:n]
        short = total > held
        if short.any():
            first = int(np.flatnonzero(short)[0])
            raise WalletOverdraft(ledger.clock(), parts[0][2], "users", KIND, int(short.sum()), first,
                                  int(held[first]) / UNIT, int(total[first]) / UNIT)
        held -= total
        for to, amounts, flow in parts:
            ledger.move("users", to, int(amounts.sum()), flow)

    def refund(self, ledger: Ledger, total: int) -> None:
        """What the close sold of purchases the users paid from their own wallets goes back to them
        (already in the "users" account), in proportion to what each paid; the day's record clears."""
        if not self.paying_own:
            return
        n = self.rows
        if total > 0:
            self.wallet[:n] += split(total, self.paid_own[:n].astype(np.float64))
        self.paid_own[:n] = 0
        self.paying_own = False

    def cool(self, amounts: np.ndarray) -> np.ndarray:
        """Today's unstaked HANZO per row enters the cooldown; what entered it `cooldown` days ago
        comes out (returned)."""
        self.cooling.append(amounts)
        self.cooling_sums.append(int(amounts.sum()))  # (a day's rows never change once in the cooldown)
        self.cooling_sums.popleft()
        return self.cooling.popleft()

    def cooling_units(self) -> int:
        """HANZO in the cooldown, summed over the rows (the ledger's "unstaking" account)."""
        return sum(self.cooling_sums)


# each per-row field's ledger account
ACCOUNT = {"wallet": "users", "stake": "stake_holders", "fork_stake": "fork_stake"}


def fundable(w: World, wanted: np.ndarray) -> np.ndarray:
    """The share (0 to 1) of `wanted` (units, a row each from row 0) each user can fund today: its
    equal share of what is left of the pool's day for buyers, plus its own wallet (less a unit,
    for the rounding of the amounts it will pay)."""
    buyers = int(np.count_nonzero(wanted))
    if buyers == 0:
        return np.ones(len(wanted))
    share = max(0, w.ledger.units["purchases"]) // buyers
    means = np.maximum(share + w.users.wallet[:len(wanted)] - 1, 0).astype(np.float64)
    return np.where(wanted > 0, np.minimum(1.0, means / np.maximum(wanted, 1)), 1.0)


def spend(w: World, payees: list[tuple[str, int, str]], flow: str, rows) -> None:
    """Users buy HANZO from the pool and pay it to `payees` ((account, units, flow) each); `rows(total)`
    gives the units each row pays (summing to `total`). Each row draws its equal share of what is left
    of the pool's day (never more than it pays) and pays the rest from its own wallet; when the day
    funds it all, each row draws exactly what it pays and no row changes. A row that cannot fund its
    part is a WalletOverdraft naming the day and the agent kind (callers first scale purchases to what
    `fundable` allows)."""
    total = sum(n for _, n, _ in payees)
    if total <= 0:
        return
    ledger, users = w.ledger, w.users
    setaside = max(0, ledger.units["purchases"])
    drawn = total
    if total > setaside:  # the pool's day cannot fund it all: each row pays the rest of its part itself
        wanted = rows(total)
        n = len(wanted)
        part = np.minimum(wanted, setaside // int(np.count_nonzero(wanted)))
        own = wanted - part
        short = own > users.wallet[:n]
        if short.any():
            first = int(np.flatnonzero(short)[0])
            raise WalletOverdraft(ledger.clock(), flow, "users", KIND, int(short.sum()), first,
                                  int(users.wallet[first]) / UNIT, int(own[first]) / UNIT)
        users.wallet[:n] -= own
        users.paid_own[:n] += own  # the close gives back what it can sell them of it
        users.paying_own = True
        drawn = int(part.sum())
    ledger.move("purchases", "users", drawn, flow)
    w.exchange.bought_by("users", total / UNIT, drawn / UNIT)
    for account, n, payee_flow in payees:
        ledger.move("users", account, n, payee_flow)


def adoption(w: World):
    """Users join on a logistic curve; each new user mints a fork (fee: half burned, half
    treasury). A newcomer holds nothing, so it joins only when the pool's day can sell it the fee;
    the others wait for a later day. Users leave (with a reservation wage and a churn rate) at
    random, each with its own chance: the share of its reservation wage that training no longer
    pays."""
    u, a = w.s["users"], w.s["agents"]
    n = float(u["initial"])
    adopters = w.agents["adopters"]
    per_activity = a["reservation_usd_per_interaction"] * u["interactions_per_day"]
    leaving_possible = a["churn_per_day"] > 0 and per_activity > 0
    while True:
        day = int(w.env.now)
        growth, _ = adopters.decide(w.view)  # newcomers are not agents yet: the scenario's reservation wage
        if leaving_possible and w.users.active:
            chance = adopters.churn_each(w.view, *pay_and_reservation(w))
            leaving = w.users.leave(chance, int(chance.sum()), w.rng_agents, day)
            w.churned += leaving
            n = max(0.0, n - leaving)
        joining = max(0, min(int(round(n)), u["max"]) - w.users.active)
        joined = min(joining, newcomers_affordable(w, joining))
        if joined:
            w.users.grow(joined, w.rng_users, u["activity_sigma"], day, per_activity, a["reservation_spread"],
                         w.rng_agents)
            w.users.forks_minted += joined
            mint_forks_users(w, joined)
        w.users_waiting = joining - joined
        n += growth * n * (1.0 - n / u["max"])
        yield w.env.timeout(1)


def pay_and_reservation(w: World) -> tuple[np.ndarray, np.ndarray]:
    """(what a usual day of work pays each active user at yesterday's reward, in USD; each one's
    reservation wage, USD per day), a row per active user."""
    users, u = w.users, w.s["users"]
    on = users.on[:users.rows]
    pay = w.view.reward_usd_per_interaction * u["interactions_per_day"] * users.activity[:users.rows][on]
    return pay, users.reservation[:users.rows][on]


def fork_fee(w: World) -> tuple[float, float]:
    """(fee, burned) of minting one fork (ModelNFT.mint), in HANZO."""
    return tuple(hanzo(x) for x in nft_mint_fee(w.p, w.s["users"]["fork_performance"]))


def newcomers_affordable(w: World, count: int) -> int:
    """How many of `count` newcomers (who hold no HANZO yet) the pool's day can sell a fork's fee."""
    fee = units(fork_fee(w)[0])
    if fee <= 0:
        return count
    return min(count, max(0, w.ledger.units["purchases"]) // fee)


def mint_forks_users(w: World, count: int) -> None:
    """`count` newcomers (the last rows) mint a fork each: each buys the fee's HANZO from the pool's
    day and pays it; part is burned, the rest goes to the treasury (ModelNFT.mint)."""
    fee, burned = (units(x) for x in fork_fee(w))
    if fee <= 0:
        return
    ledger = w.ledger
    ledger.move("purchases", "users", count * fee, "fork mint fee")  # each newcomer's fee, drawn and paid at once
    w.exchange.bought_by("users", count * fee / UNIT, count * fee / UNIT)
    ledger.move("users", "burned_nft_fee", count * burned, "burn (nft_fee)")
    ledger.move("users", "treasury", count * (fee - burned), "fork mint fee")


def forks_affordable(w: World, buyer: str, count: float) -> float:
    """How many of `count` forks `buyer` (an aggregate wallet: the farmers) can buy the fee of today
    (whole forks for a whole count)."""
    fee = fork_fee(w)[0]
    if fee > 0 and count * fee > w.exchange.affordable(buyer):
        funded = w.exchange.affordable(buyer) / fee
        return math.floor(funded) if isinstance(count, int) else funded
    return count


def mint_forks(w: World, buyer: str, count: float) -> None:
    """`count` forks minted by `buyer` (an aggregate wallet: the farmers): it buys the fee's HANZO;
    part is burned, the rest goes to the treasury (ModelNFT.mint)."""
    fee, burned = fork_fee(w)
    if count <= 0 or fee <= 0:
        return
    w.exchange.buy(buyer, count * fee, "fork mint fee")
    w.ledger.burn(buyer, count * burned, "nft_fee")
    # (upto: the two parts, each rounded, may ask a unit more than the whole the buyer bought)
    w.ledger.transfer(buyer, "treasury", count * (fee - burned), "fork mint fee", upto=True)


def fork_boost(w: World) -> float:
    """Each user's ModelNFT boost from its own fork stake, 1 + min(max extra, sqrt(stake / ref
    stake)), kept in `boost`; returns their mean weighted by the active users' activity."""
    users, n = w.users, w.users.rows
    if not users.active:
        return 1.0
    users.boost[:n] = boost_float(w.p, users.fork_stake[:n] / UNIT)
    on = users.on[:n]
    return float((users.activity[:n][on] * users.boost[:n][on]).sum() / users.total_activity)
