"""The users: one agent per user, each with a wallet, held as arrays (structure of arrays); how
they join and leave (adoption, churn), the forks they mint, whose fee they must buy, and how the
HANZO they are paid, spend and stake moves between their wallets and the ledger.

A user agent is row i of the arrays of `Users`: its HANZO (`wallet`, `stake` for votes,
`fork_stake` on its own fork, `unstaking`: what is in its cooldown), what it has earned, its
activity, its reservation wage, the day it joined and the day it left. Balances are int64 ledger
units (micro-HANZO, hanzo.sim.ledger.UNIT), like the ledger's own: every flow that touches users
moves whole units between the ledger's "users" (or "stake_holders", "fork_stake", "unstaking")
account and the rows, so that each of those accounts equals the exact sum of its rows and of what
is owed to them since they were last settled, which the ledger checks every day. A day moves
totals; the rows are settled by a few array passes a year, or when a flow needs one row's balance
(`Users`), so a day costs about the same for a million users as for a thousand.

Farmers mint forks through the same fee, from their own (aggregate) wallet.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Callable

import numpy as np

from hanzo.econ.reference import boost_float, nft_mint_fee

from . import uncertainty
from .ledger import UNIT, ConservationError, Ledger, WalletOverdraft, hanzo, units

if TYPE_CHECKING:
    from .world import World

KIND = "user"  # the agent kind the wallet errors name


def split(total: int, weights: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """`total` ledger units shared in proportion to `weights` (>= 0, not all 0), each share rounded
    down and the units left over given one each to the largest remainders (ties to the lower row):
    the shares sum to `total` exactly, and none is more than its exact share rounded up. Written
    into `out` (int64, a row each) when given."""
    n = len(weights)
    if out is None:
        shares = np.zeros(n, dtype=np.int64)
    else:
        shares = out[:n]
        shares.fill(0)
    if total <= 0 or n == 0:
        return shares
    exact = np.multiply(weights, total / float(weights.sum()), out=_scratch("exact", n, np.float64))
    np.copyto(shares, exact, casting="unsafe")  # (truncation: the floor of a non-negative share)
    left = total - int(shares.sum())
    if left > 0:
        remainder = np.subtract(exact, shares, out=exact)
        if weights.min() <= 0:  # (weights >= 0: a reduction costs a third of `all`'s cast to booleans)
            remainder[weights <= 0] = -1.0  # a row with no weight gets nothing, even of the leftover units
        add_one_to_largest(shares, remainder, left)
    elif left < 0:  # float rounding put a unit too many in the floors: take it from the largest shares
        shares[np.argsort(-shares, kind="stable")[:-left]] -= 1
    return shares


BINS = 1 << 16
_SCRATCH: dict[str, np.ndarray] = {}


def _scratch(name: str, n: int, dtype) -> np.ndarray:
    """A reusable work array of `n` rows (a fresh array of a million rows costs more in page
    faults than the arithmetic done in it), with an eighth more room: rows that join a few a day
    (replacing leavers) would otherwise have every work array allocated afresh each day, and the
    heap fragmented by the ones left behind."""
    buf = _SCRATCH.get(name)
    if buf is None or len(buf) < n:
        buf = _SCRATCH[name] = np.empty(max(n + n // 8, 1024), dtype=dtype)
    return buf[:n]


def add_one_to_largest(shares: np.ndarray, values: np.ndarray, count: int) -> None:
    """Add 1 to `shares` at the `count` largest of `values` (each in [-1, 1)), ties to the lower row:
    a histogram finds the bin the cut falls in, and only that bin is sorted (a partition of a
    million rows costs several times more). `values` is overwritten."""
    n = len(values)
    # 8 to 16 rows a bin, at most BINS: on 60,000 rows, 65,536 bins cost more to sum than the rows to count
    nbins = min(BINS, 1 << max(8, (n // 16).bit_length()))
    np.add(values, 1.0, out=values)
    np.multiply(values, nbins / 2, out=values)
    bins = _scratch("bins", n, np.int32)
    np.copyto(bins, values, casting="unsafe")
    np.minimum(bins, nbins - 1, out=bins)
    above = np.cumsum(np.bincount(bins, minlength=nbins)[::-1])  # rows in the top k bins, k = 1, 2, ...
    cut = nbins - 1 - int(np.searchsorted(above, count))  # the bin the count-th largest is in
    over = np.greater(bins, cut, out=_scratch("over", n, np.bool_))
    shares += over
    edge = np.flatnonzero(bins == cut)
    need = count - (int(above[nbins - 2 - cut]) if cut < nbins - 1 else 0)
    shares[edge[np.lexsort((edge, -values[edge]))[:need]]] += 1  # largest first, then the lower row


def split_alike(total: int, on: np.ndarray) -> np.ndarray:
    """`total` units in equal shares among the rows where `on`, the units left over one each to the
    first of them: `split` with equal weights (equal remainders, ties to the lower row), in integers
    and without its sort."""
    shares = np.zeros(len(on), dtype=np.int64)
    rows = np.flatnonzero(on)
    if total <= 0 or len(rows) == 0:
        return shares
    q, left = divmod(int(total), len(rows))
    np.multiply(on, q, out=shares, casting="unsafe")
    shares[rows[:left]] += 1
    return shares


def split_equally(total: int, n: int) -> np.ndarray:
    """`total` units in `n` equal shares, the units left over one each to the first rows."""
    q, left = divmod(int(total), n)
    shares = np.full(n, q, dtype=np.int64)
    shares[:left] += 1
    return shares


class Users:
    """The user agents, one row each, in the order they joined (rows are never removed: a user who
    leaves keeps its HANZO and its stake, and stops training).

    Balances are settled lazily. Most days every user does the same thing in proportion to its
    weight (its activity and fork boost: paid r per unit of weight, selling and staking the same
    shares of it, unstaking the same share of its stake, the same share of its cooldown coming
    back), so the day's flows move between the ledger's accounts as totals and the day is recorded
    as one operation of a window. `settle` brings every row to the end of the window at once: the
    window's operations are replayed on a few virtual rows (a unit of each balance, a unit of
    weight earning from each operation on), which gives each row's exact balance as a linear
    function of its balances at the window's start and its weight, rounded to the nearest unit;
    the units rounding leaves over (at most a few hundred) stay owed to the rows in `pending`
    until a later settlement. A flow that depends on what a single row holds (a purchase the pool's
    day cannot fund, a fee some user cannot pay, a policy that would sell more than a day's pay, a
    reservation wage of its own) settles the rows first and moves row by row. Rows are settled
    every `SETTLE_DAYS` and whenever they are read (the balances are properties that settle)."""

    FIELDS = {"activity": np.float64, "reservation": np.float64, "boost": np.float64, "weight": np.float64,
              "joined": np.int32, "left": np.int32, "paid_own": np.int64}
    # each balance and the ledger account that is the exact sum of its rows (earned is a record, not HANZO held)
    BALANCES = {"wallet": "users", "stake": "stake_holders", "fork_stake": "fork_stake", "unstaking": "unstaking",
                "earned": None}

    def __init__(self, cooldown_days: int = 1):
        self.rows = 0  # users who ever joined
        self.active = 0
        self.total_activity = 0.0  # of the active users
        self.total_weight = 0.0  # of the active users: activity times each one's fork boost factor
        self.max_activity = 0.0
        self.forks_minted = 0
        self.capacity = 0
        self.own_forks = 1.0  # share of training on users' own forks (the boost applies to it)
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))
        self.held = {name: np.zeros(0, dtype=np.int64) for name in self.BALANCES}
        # what entered the cooldown each day (totals: each row's share of a day's return is pro rata its cooldown)
        self.cooling: deque[int] = deque(0 for _ in range(max(1, cooldown_days)))
        self.on = np.zeros(0, dtype=bool)  # active
        self._active, self._active_upto = np.zeros(0, dtype=np.int64), 0  # active_rows' last list, and its rows
        self.paying_own = False  # whether some row paid part of a purchase from its wallet today
        # the window: operations since the last settlement, who joined and left during it
        self.ops: list[tuple] = []
        self.earns = 0  # earning operations in the window
        self.joins: list[tuple[int, int, int]] = []  # (first row, end row, earning operation they start at)
        self.leaves: list[tuple[np.ndarray, int]] = []  # (rows, earning operation they stop before)
        self.pending = {name: 0 for name in self.BALANCES}  # units owed to the rows beyond their sum
        self.sums = {name: 0 for name in self.BALANCES}  # each balance's sum over the rows
        self.exposed = False  # rows were handed out (and may have been written): sums must be recounted
        # what rows staked during the window, row by row (`add`), moved on by each later unstaking as the rows'
        # own stake is (what of it is still staked, in the cooldown, back in the wallet): exact values, floats,
        # rounded with the rest at the settlement; None until a first such stake (then a float array each)
        self.deposits: dict[str, np.ndarray] | None = None
        self.deposited = 0  # stakes row by row since the last settlement (World's recorder: settle a year of them)
        self.clock = lambda: 0  # today, for the messages (the World's)
        # the agent kind a wallet error names for a row: "user", or its strategy's ("farmer user") once the
        # World's strategies are mixed (hanzo.sim.strategies sets it)
        self.kind_of = lambda row: KIND

    # ---------------------------------------------------------------- the rows

    def rows_of(self, name: str) -> np.ndarray:
        """The used rows of one field (balances settled)."""
        return getattr(self, name)[:self.rows]

    def holdings(self) -> np.ndarray:
        """Each user's HANZO: wallet, stake, fork stake and what is in its cooldown."""
        n = self.rows
        return self.wallet[:n] + self.stake[:n] + self.fork_stake[:n] + self.unstaking[:n]

    def itemized(self, name: str) -> int:
        """The units the ledger's account of balance `name` must hold: the sum of the rows as they
        are (recounted whenever the rows changed or were handed out) and what is owed to them."""
        if self.exposed:
            for field in self.BALANCES:
                self.sums[field] = int(self.held[field][:self.rows].sum())
            self.exposed = False
        return self.sums[name] + self.pending[name]

    def grow(self, count: int, rng: np.random.Generator, sigma: float, day: int,
             reservation_per_activity: float = 0.0, spread: float = 0.0, rng_agents=None) -> None:
        """`count` users join today: lognormal activity with mean 1 (a few heavy users, many light
        ones) and a reservation wage in USD per day, the scenario's per interaction times what the
        user's activity makes a day, times a lognormal draw of mean 1 and spread `spread`."""
        if count <= 0:
            return
        to = self.rows + count
        if to > self.capacity:
            self.reserve(max(to, 2 * self.capacity, 1024))
        rows = slice(self.rows, to)
        activity = rng.lognormal(-sigma * sigma / 2, sigma, count)
        self.activity[rows] = activity
        self.weight[rows] = activity  # a new fork has no stake: boost 1
        self.reservation[rows] = reservation_per_activity * activity
        if spread > 0 and reservation_per_activity > 0:
            self.reservation[rows] *= rng_agents.lognormal(-spread * spread / 2, spread, count)
        self.boost[rows] = 1.0
        self.joined[rows] = day
        self.left[rows] = -1
        self.on[rows] = True
        added = float(activity.sum())
        self.total_activity += added
        self.total_weight += added
        self.max_activity = max(self.max_activity, float(activity.max()))
        self.joins.append((self.rows, to, self.earns))
        self.rows = to
        self.active += count

    def reserve(self, capacity: int) -> None:
        """Room for `capacity` rows (the arrays grow, copied, when rows join past it: reserving the
        users a run starts with spares the copies while they join over the first days)."""
        if capacity <= self.capacity:
            return
        self.capacity = capacity
        for name, dtype in self.FIELDS.items():
            setattr(self, name, _grown(getattr(self, name), capacity))
        self.held = {name: _grown(rows, capacity) for name, rows in self.held.items()}
        if self.deposits is not None:
            self.deposits = {name: _grown(rows, capacity) for name, rows in self.deposits.items()}
        self.on = _grown(self.on, capacity)

    def leave(self, chance: np.ndarray, count: int, rng: np.random.Generator, day: int) -> int:
        """`count` active users leave today, drawn at random without replacement, each in
        proportion to its `chance` (a row per active user, in row order: `leavers_weighted`).
        Returns how many left."""
        count = min(count, self.active)
        if count <= 0:
            return 0
        return self._gone(leavers_weighted(self.active_rows(), chance, count, rng), day)

    def leave_alike(self, count: int, rng: np.random.Generator, day: int) -> int:
        """`count` active users leave today, each active user as likely as any other (all have the
        same chance: `leavers_alike`)."""
        count = min(count, self.active)
        if count <= 0:
            return 0
        return self._gone(leavers_alike(self.on, self.rows, self.active, self.active_rows, count, rng), day)

    def active_rows(self) -> np.ndarray:
        """The active rows, in order: the last list less those who left since, and the rows that
        joined since (after the reward cliff most rows have left, and a pass over all of them every
        day cost more than the rest of the day)."""
        kept = self._active[self.on[self._active]]
        joined = np.arange(self._active_upto, self.rows)
        self._active = np.concatenate([kept, joined[self.on[joined]]])
        self._active_upto = self.rows
        return self._active

    def _gone(self, leaving: np.ndarray, day: int) -> int:
        self.on[leaving] = False
        self.left[leaving] = day
        self.total_activity -= float(self.activity[leaving].sum())
        self.total_weight -= float(self.weight[leaving].sum())
        self.leaves.append((leaving, self.earns))  # they earn nothing from the window's next earning on
        self.active -= len(leaving)
        return len(leaving)

    def set_boost(self, boost: np.ndarray, own_forks: float) -> None:
        """Each row's fork boost (a row each): its weight becomes activity times the boost on the
        share of training on its own fork. Settles first (the window's weights are constant)."""
        self.settle()
        n = self.rows
        self.own_forks = own_forks
        self.boost[:n] = boost
        np.multiply(self.activity[:n], own_forks * boost + (1 - own_forks), out=self.weight[:n])
        self.weight[:n][~self.on[:n]] = 0.0
        self.total_weight = float(self.weight[:n].sum())

    def trained(self, share: float) -> np.ndarray:
        """Each row's activity it trains today when every active user trains `share` of it."""
        n = self.rows
        trained = np.where(self.on[:n], self.activity[:n], 0.0)
        if share != 1.0:
            trained *= share
        return trained

    def earned_active(self) -> np.ndarray:
        """HANZO each active user has earned since it joined."""
        n = self.rows
        return self.earned[:n][self.on[:n]] / UNIT

    # ---------------------------------------------------------------- flows as totals (the window)

    def _owe(self, ledger: Ledger, frm: str | None, to: str | None, n: int, flow: str) -> None:
        """A day's flow between the ledger and the rows as a whole: `frm` or `to` names a balance of
        the rows (what they are owed until they settle), the other a ledger account."""
        if n <= 0:
            return
        source = self.BALANCES[frm] if frm in self.BALANCES else frm
        target = self.BALANCES[to] if to in self.BALANCES else to
        ledger.move(source, target, n, flow)
        if frm in self.BALANCES:
            self.pending[frm] -= n
        if to in self.BALANCES:
            self.pending[to] += n

    def earn(self, ledger: Ledger, paid: int, sell: float, stake: float, boost: float) -> None:
        """The active users are paid `paid` units from the training pool, each by its weight, and
        sell `sell`, stake `stake` for votes and `boost` on its own fork of it (each rounded down to
        the unit in total; sell + stake + boost <= 1, so no row spends more than it is paid)."""
        if paid <= 0:
            return
        self._owe(ledger, "training_pool", "wallet", paid, "training rewards")
        self.pending["earned"] += paid
        staked, forked = int(paid * stake), int(paid * boost)
        sold = max(0, int(paid * (sell + stake + boost)) - staked - forked)
        self._owe(ledger, "wallet", "sell_orders", sold, "users sell")
        self._owe(ledger, "wallet", "stake", staked, "users stake")
        self._owe(ledger, "wallet", "fork_stake", forked, "users stake on forks")
        self.ops.append(("earn", paid / self.total_weight, (paid - sold - staked - forked) / paid, staked / paid,
                         forked / paid))
        self.earns += 1

    def unstake(self, ledger: Ledger, rate: float, sell: float) -> None:
        """Every user asks to unstake `rate` of its stake (rounded down to the unit in total); what
        entered the cooldown `cooldown` days ago comes back to the wallets, each row its share of
        the day's return pro rata its HANZO in cooldown, and `sell` of it is sold."""
        staked, cooling = ledger.units["stake_holders"], ledger.units["unstaking"]
        asked = int(staked * rate)
        self.cooling.append(asked)
        back = self.cooling.popleft()
        self._owe(ledger, "unstaking", "wallet", back, "cooldown over")
        sold = int(back * sell)
        self._owe(ledger, "wallet", "sell_orders", sold, "unstaked and sold")
        self._owe(ledger, "stake", "unstaking", asked, "unstake")
        if asked or back:
            op = ("unstake", asked / staked if staked else 0.0, back / cooling if cooling else 0.0,
                  (back - sold) / back if back else 0.0)
            self.ops.append(op)
            if self.deposited:
                self._move_deposits(*op[1:])

    def _move_deposits(self, rate: float, back: float, keep: float) -> None:
        """An unstaking on what rows staked during the window, as `_replay` does it on a unit of stake:
        `back` of the cooldown comes back (the wallet keeps `keep` of it), then `rate` of the stake cools."""
        d, n = self.deposits, self.rows
        wallet, cooling, stake = d["wallet"][:n], d["unstaking"][:n], d["stake"][:n]
        moved = np.multiply(cooling, back, out=_scratch("deposits", n, np.float64))
        cooling -= moved
        moved *= keep
        wallet += moved
        np.multiply(stake, rate, out=moved)
        stake -= moved
        cooling += moved

    # ---------------------------------------------------------------- flows row by row, without settling

    # the balances no window operation scales (each only adds to them): a row's own amounts go straight into
    # them, unsettled, as the settlement adds the window's result to whatever the rows hold
    ADDED_TO = ("wallet", "fork_stake", "earned")

    def add(self, name: str, amounts: np.ndarray, total: int) -> None:
        """Rows get `amounts` (units, a row each from row 0, `total` in all, already moved in the ledger)
        into balance `name`, without settling the window: straight into the rows of a balance the window
        only adds to; into the stake as a deposit of the window (`deposits`), which each later unstaking
        moves on as it does the rows' own stake, until the settlement rounds it with the rest."""
        if not total:
            return
        m = len(amounts)
        if name in self.ADDED_TO:
            self.held[name][:m] += amounts
            self.sums[name] += total
        elif name == "stake":
            if self.deposits is None:
                self.deposits = {b: np.zeros(self.capacity) for b in ("wallet", "unstaking", "stake")}
            self.deposits["stake"][:m] += amounts
            self.pending["stake"] += total
            self.deposited += 1
        else:
            getattr(self, name)[:m] += amounts  # (settled first)

    # ---------------------------------------------------------------- settling the rows

    def settle(self) -> None:
        """Bring every row to now: each balance's exact value after the window's operations,
        rounded to the nearest unit (see the class). The rows' exact values must add up to what the
        ledger's accounts hold for them, to a billionth (a flow the replay missed is a
        ConservationError); the units the rounding leaves over, or gave out too many, go one each to
        (or come from) the rows whose rounding came nearest to going the other way, so that after
        a settlement each account is exactly the sum of its rows again."""
        if not self.ops and not self.deposited:
            self._close_window()
            return
        response, basis = self._replay()
        n = self.rows
        self.itemized("wallet")  # (recounts the sums first if the rows were handed out)
        names = list(self.BALANCES)
        # in place, in an order that reads each balance before it is rewritten (the wallet takes
        # from the stake and the cooldown, the cooldown from the stake)
        for name in ("wallet", "unstaking", "stake", "fork_stake", "earned"):
            f = names.index(name)
            rows = self.held[name][:n]
            h = response[f]
            terms = [(g, basis[f, g]) for g in range(len(self.BALANCES)) if basis[f, g] != (1.0 if g == f else 0.0)]
            deposits = self.deposits[name][:n] if self.deposited and name in self.deposits else None
            if not terms and not h.any() and deposits is None:
                continue  # this balance did not move
            exact, term = _scratch("settled", n, np.float64), _scratch("term", n, np.float64)
            # exact = the balance's own rows (when they stay whole) + each term; the first term written straight
            # into `exact` (0 + x is x, and rows + term in one pass: the same sums as adding each to a copy)
            if basis[f, f] == 1.0 and terms:
                g, coefficient = terms.pop(0)
                np.add(rows, np.multiply(self.held[names[g]][:n], coefficient, out=term), out=exact)
            elif basis[f, f] == 1.0:
                np.copyto(exact, rows)
            elif terms:
                g, coefficient = terms.pop(0)
                np.multiply(self.held[names[g]][:n], coefficient, out=exact)
            else:
                exact.fill(0.0)
            for g, coefficient in terms:
                exact += np.multiply(self.held[names[g]][:n], coefficient, out=term)
            if h[0]:
                exact += np.multiply(self.weight[:n], h[0], out=term)
            for first, end, start in self.joins:
                if h[start] != h[0]:
                    exact[first:end] += (h[start] - h[0]) * self.weight[first:end]
            for leaving, stop in self.leaves:
                if h[stop]:
                    exact[leaving] -= h[stop] * self.weight[leaving]
            if deposits is not None:
                exact += deposits
                deposits.fill(0.0)
            owed = self.sums[name] + self.pending[name]
            gap = float(exact.sum()) - owed
            if abs(gap) > 1e-9 * max(owed, 1) + 1:
                raise ConservationError(f"day {self.clock()}: the {name} rows' exact shares of the last "
                                        f"{len(self.ops)} operations add up to {gap / UNIT:+,.6f} HANZO more than the "
                                        "ledger holds for them")
            np.copyto(rows, np.add(exact, 0.5, out=term), casting="unsafe")  # (truncation: the nearest unit)
            left = owed - int(rows.sum())
            if left:  # the rows whose rounding was nearest the other way take or give the units left over
                _nudge(rows, np.subtract(exact, rows, out=exact), left)
            self.sums[name] = owed
            self.pending[name] = 0
        self.ops.clear()
        self.earns = 0
        self.deposited = 0
        self._close_window()

    def _close_window(self) -> None:
        for leaving, _ in self.leaves:
            self.weight[leaving] = 0.0  # they earn nothing in later windows
        self.joins.clear()
        self.leaves.clear()

    def _replay(self) -> tuple[np.ndarray, np.ndarray]:
        """The window's operations on virtual rows: (response[b][k], what a unit of weight earning
        from the k-th earning operation on holds of balance b at the end; basis[b][g], what a unit of
        balance g at the start becomes of balance b)."""
        k = self.earns + 1
        size = k + len(self.BALANCES)
        wallet, stake, fork, cooling, earned = (np.zeros(size) for _ in self.BALANCES)
        for g, balance in enumerate((wallet, stake, fork, cooling, earned)):
            balance[k + g] = 1.0
        start = np.arange(size)
        e = 0
        for op in self.ops:
            if op[0] == "earn":
                _, r, keep, staked, forked = op
                paid = np.where(start[:k] <= e, r, 0.0)
                wallet[:k] += paid * keep
                stake[:k] += paid * staked
                fork[:k] += paid * forked
                earned[:k] += paid
                e += 1
            else:
                _, rate, back, keep = op
                released = cooling * back
                cooling -= released
                wallet += released * keep
                asked = stake * rate
                stake -= asked
                cooling += asked
        balances = np.array([wallet, stake, fork, cooling, earned])
        return balances[:, :k], balances[:, k:]

    def receive(self, ledger: Ledger, frm: str, amounts: np.ndarray, flow: str, field: str = "wallet") -> int:
        """Each row gets `amounts` (units) from the ledger account `frm`, into its `field` (`add`)."""
        total = int(amounts.sum())
        if total:
            ledger.move(frm, ACCOUNT[field], total, flow)
            self.add(field, amounts, total)
        return total

    def receive_rows(self, ledger: Ledger, frm: str, rows: np.ndarray, amounts: np.ndarray, flow: str) -> int:
        """Rows `rows` (distinct) get `amounts` (units, one each) from the ledger account `frm` into their
        wallets (`receive`, the amounts laid out by row). Returns the units moved."""
        return self.receive(ledger, frm, _by_row(rows, amounts), flow)

    def pay_rows(self, ledger: Ledger, rows: np.ndarray, amounts: np.ndarray, to: str, flow: str) -> int:
        """Rows `rows` (distinct) pay `amounts` (units, one each) out of their wallets to the ledger account
        `to` (`pay_parts`, the amounts laid out by row); refused (WalletOverdraft) if a row holds less."""
        if not int(amounts.sum()):
            return 0
        return self.pay_parts(ledger, [(to, _by_row(rows, amounts), flow)])[0]

    def pay_parts(self, ledger: Ledger, parts: list[tuple[str, np.ndarray, str]],
                  total: np.ndarray | None = None) -> list[int]:
        """Each row pays several amounts (units) out of its wallet at once, each part to its ledger
        account; refused (WalletOverdraft, named by the first part's flow) if a row holds less than
        the sum of its parts (`total`, when the caller has it). Returns each part's units.

        The wallets are read unsettled first: the window only adds to them, so a row that can pay
        from what its row holds can pay from its settled wallet; only if some row seems short are
        the rows settled and read again."""
        if not parts:
            return []
        if total is None:
            total = parts[0][1].copy()
            for _, amounts, _ in parts[1:]:
                total += amounts
        n = len(total)
        short = np.greater(total, self.held["wallet"][:n], out=_scratch("short", n, np.bool_))
        if short.any() and (self.ops or self.deposited):
            short = np.greater(total, self.wallet[:n], out=short)
        if short.any():
            held = self.held["wallet"]
            first = int(np.flatnonzero(short)[0])
            raise WalletOverdraft(ledger.clock(), parts[0][2], "users", self.kind_of(first), int(short.sum()),
                                  first, int(held[first]) / UNIT, int(total[first]) / UNIT)
        self.held["wallet"][:n] -= total
        moved = [int(amounts.sum()) for _, amounts, _ in parts]
        self.sums["wallet"] -= sum(moved)
        for (to, _, flow), units_moved in zip(parts, moved):
            ledger.move("users", to, units_moved, flow)
        return moved

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


def _by_row(rows: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """`amounts` for rows `rows`, laid out from row 0 (zeros elsewhere), as the row-order flows take them."""
    out = np.zeros(int(rows.max()) + 1 if len(rows) else 0, dtype=np.int64)
    out[rows] = amounts
    return out


def _balance(name: str) -> property:
    def rows(self: Users) -> np.ndarray:
        self.settle()
        self.exposed = True  # the caller may write to them: the check recounts their sum
        return self.held[name]
    return property(rows, doc=f"Each row's {name} in units, settled to now.")


for _name in Users.BALANCES:
    setattr(Users, _name, _balance(_name))


def _nudge(settled: np.ndarray, short: np.ndarray, count: int) -> None:
    """Add one unit to `count` rows of `settled` (take one from -`count` rows when negative): those
    whose rounding fell shortest of (or went furthest past) their exact value `short` = exact -
    settled, in [-1/2, 1/2]; a row at zero gives nothing. Only the rows near the edge are sorted."""
    n, k = len(settled), abs(count)
    sign = 1.0 if count > 0 else -1.0
    margin = min(1.0, 4.0 * (k + 16) / max(n, 1))
    edge = _scratch("near", n, np.bool_)  # (no temporaries: a fresh array of a million rows costs its page faults)
    while True:
        if count > 0:
            near = np.flatnonzero(np.greater(short, 0.5 - margin, out=edge))
        else:
            near = np.flatnonzero(np.less(short, margin - 0.5, out=edge))
        if count < 0:
            near = near[settled[near] > 0]
        if len(near) >= k or margin >= 1.0:
            break
        margin = min(1.0, 4 * margin)
    if len(near) < k:
        raise ConservationError(f"{k} units cannot be rounded onto {len(near)} rows")
    chosen = near[np.argpartition(-sign * short[near], k - 1)[:k]] if k < len(near) else near
    settled[chosen] += 1 if count > 0 else -1


def _grown(rows: np.ndarray, capacity: int) -> np.ndarray:
    new = np.zeros(capacity, dtype=rows.dtype)
    new[:len(rows)] = rows
    return new


# each per-row field's ledger account
ACCOUNT = {name: account for name, account in Users.BALANCES.items() if account}


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
            raise WalletOverdraft(ledger.clock(), flow, "users", users.kind_of(first), int(short.sum()), first,
                                  int(users.wallet[first]) / UNIT, int(own[first]) / UNIT)
        users.wallet[:n] -= own
        users.paid_own[:n] += own  # the close gives back what it can sell them of it
        users.paying_own = True
        drawn = int(part.sum())
    ledger.move("purchases", "users", drawn, flow)
    w.exchange.bought_by("users", total / UNIT, drawn / UNIT)
    for account, n, payee_flow in payees:
        ledger.move("users", account, n, payee_flow)


def leavers_weighted(active: np.ndarray, chance: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` of the `active` rows (in row order), drawn without replacement, each in proportion to its
    `chance`: Efraimidis and Spirakis' keys u ** (1 / chance), the largest `count`. (Chain mode draws its
    accounts' leavers with this too, so the same stream picks the same rows.)"""
    keys = np.full(len(active), -np.inf)
    positive = chance > 0
    keys[positive] = np.log(rng.random(int(positive.sum()))) / chance[positive]
    count = min(count, int(positive.sum()))
    return active[np.argpartition(-keys, count - 1)[:count]] if count else active[:0]


def leavers_alike(on: np.ndarray, rows: int, active: int, active_rows: Callable[[], np.ndarray], count: int,
                  rng: np.random.Generator) -> np.ndarray:
    """`count` (<= `active`) of the active rows (`on[:rows]`), each as likely as any other, drawn uniformly without
    replacement: by rejection from all rows while most are active (it costs the leavers, not the population),
    else from `active_rows()` (the active rows in order)."""
    if count > active // 2 or active < rows // 4:  # few would be hit: list the active
        return rng.choice(active_rows(), count, replace=False)
    chosen = np.zeros(0, dtype=np.int64)
    while len(chosen) < count:  # each draw hits an active row at least a quarter of the time
        draw = rng.integers(0, rows, 2 * (count - len(chosen)) * rows // active + 16)
        chosen = np.unique(np.concatenate([chosen, draw[on[draw]]]))
    return rng.permutation(chosen)[:count]


def adoption(w: World):
    """Users join on a logistic curve; each new user mints a fork (fee: half burned, half
    treasury). A newcomer holds nothing, so it joins only when the pool's day can sell it the fee;
    the others wait for a later day. Users leave (with a reservation wage and a churn rate) at
    random, each with its own chance: the share of its reservation wage that training no longer
    pays."""
    u, a = w.s["users"], w.s["agents"]
    n = float(u["initial"])
    # the users the run starts with join over its first days, and an eighth more for those who replace leavers
    # (past it the arrays double: at a million rows, every array a million rows larger)
    w.users.reserve(min(int(n), u["max"]) * 9 // 8)
    adopters = w.agents["adopters"]
    per_activity = a["reservation_usd_per_interaction"] * u["interactions_per_day"]
    leaving_possible = a["churn_per_day"] > 0 and per_activity > 0
    word_of_mouth = uncertainty.word_of_mouth(w.s["uncertainty"]["adoption_volatility"], w.rng_adoption)
    while True:
        day = int(w.env.now)
        growth, _ = adopters.decide(w.view)  # newcomers are not agents yet: the scenario's reservation wage
        if leaving_possible and w.users.active:
            if alike(w):  # every user has the same chance: who leaves costs the leavers, not the population
                chance = float(adopters.churn_each(w.view, *pay_and_reservation_per_activity(w))[0])
                leaving = w.users.leave_alike(int(chance * w.users.active), w.rng_agents, day)
            else:
                pay, reservation = pay_and_reservation(w)
                chance = adopters.churn_each(w.view, pay, reservation, out=pay)  # (pay: a work array, read once)
                leaving = w.users.leave(chance, int(chance.sum()), w.rng_agents, day)
            w.churned += leaving
            n = max(0.0, n - leaving)
        joining = max(0, min(int(round(n)), u["max"]) - w.users.active)
        joined = min(joining, newcomers_affordable(w, joining))
        if joined:
            w.users.grow(joined, w.rng_users, u["activity_sigma"], day, per_activity, a["reservation_spread"],
                         w.rng_agents)
            w.strategies.join(w.users.rows - joined, w.users.rows, w.rng_strategies, w.users)
            w.users.forks_minted += joined
            mint_forks_users(w, joined)
        w.users_waiting = joining - joined
        n += growth * next(word_of_mouth) * n * (1.0 - n / u["max"])
        yield w.env.timeout(1)


def pay_and_reservation(w: World) -> tuple[np.ndarray, np.ndarray]:
    """(what a usual day of work pays each active user at yesterday's reward, in USD; each one's
    reservation wage, USD per day), a row per active user."""
    users, u = w.users, w.s["users"]
    n = users.rows
    activity, reservation = users.activity[:n], users.reservation[:n]
    if users.active < n:  # (while nobody has left, every row is active: no selection)
        on = users.on[:n]
        activity, reservation = activity[on], reservation[on]
    pay = _scratch("pay_each", len(activity), np.float64)  # (read at once by the caller: reused each day)
    return np.multiply(activity, w.view.reward_usd_per_interaction * u["interactions_per_day"], out=pay), reservation


def alike(w: World) -> bool:
    """Whether every user weighs its pay against its reservation wage alike: without a spread each
    one's reservation is the scenario's per interaction times its own activity, as its pay is, so
    their ratio, and each decision made on it, is the same for all."""
    return w.s["agents"]["reservation_spread"] == 0


def pay_and_reservation_per_activity(w: World) -> tuple[np.ndarray, np.ndarray]:
    """`pay_and_reservation` for one unit of activity, when all users' are `alike` (one row)."""
    u, a = w.s["users"], w.s["agents"]
    return (np.array([w.view.reward_usd_per_interaction * u["interactions_per_day"]]),
            np.array([a["reservation_usd_per_interaction"] * u["interactions_per_day"]]))


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
    stake)), kept in `boost` (and each row's weight in the rewards); returns their mean weighted by
    the active users' activity."""
    users, n = w.users, w.users.rows
    if not users.active:
        return 1.0
    boost = boost_float(w.p, users.fork_stake[:n] / UNIT)
    users.set_boost(boost, 1 - w.s["users"]["developer_model_share"])
    on = users.on[:n]
    return float((users.activity[:n][on] * boost[on]).sum() / users.total_activity)
