"""The World's books: one ledger owns every HANZO balance, and checks each day that none was made
or lost.

Every HANZO the economy has minted is in exactly one named account (the chart below): a group's
wallet, a contract, the market, or the burn (one account per source, so burned tokens are still
counted). Balances change only through three calls, each naming its flow (for the reader and the
error messages):

    mint(to, amount, flow)            new HANZO (genesis, emission): the account and `minted` grow
    transfer(frm, to, amount, flow)   refused with Overdraft if `frm` holds less
    burn(frm, amount, source)         a transfer into the burned account of `source`

so after every call two invariants hold, and `check(day)` asserts them at the end of each day:

    every balance >= 0                                (transfer and burn refuse to overdraw)
    wallets + contracts + market + burned == minted   (each call moves or mints, never both)

Amounts are given in HANZO (floats, as the World computes them) and kept as integers of micro-HANZO
(UNIT = 10**6 per HANZO): each flow is rounded once, on the way in, and then moves exactly, so the
books balance exactly whatever the floats upstream do. The user agents' balances are int64 arrays of
the same units (a billion HANZO is 1e15 units, far below 2**63), moved with `move` (units): the
"users", "stake_holders", "fork_stake" and "unstaking" accounts are itemized, and `check` requires
each to equal the exact sum of its rows, so no user's HANZO is made or lost either. The HanzoPool model and the compute
market maker keep their own HANZO reserves in floats; `check` also reconciles those with their
accounts ("mirrors"), to a billionth of all HANZO minted: their own float rounding over a run is
thousands of times smaller (at most 4.5e-13 of minted over the built-in scenarios' ten years, 70M
users included), a forgotten day's flow many orders larger.
"""

from __future__ import annotations

from typing import Callable

UNIT = 10**6  # ledger units per HANZO: integers of micro-HANZO

WALLET, CONTRACT, MARKET, BURNED = "wallet", "contract", "market", "burned"

# The chart of accounts: every place a HANZO can be, with what it models.
CHART = {
    # wallets: HANZO a group holds and may spend or sell
    "users": (WALLET, "the user agents' wallets: exactly the sum of their rows (hanzo.sim.users)"),
    "holders": (WALLET, "other holders and traders: the public sale, what arbitrageurs bought"),
    "developers": (WALLET, "model developers: their allocation less the proposers' stake, the owners' share "
                           "of training on their models"),
    "providers": (WALLET, "compute providers: the half of their income they keep"),
    "farmers": (WALLET, "reward farmers: what they earn, until it is sold"),
    "speculators": (WALLET, "compute-credit speculators: proceeds of their credit sales, until sold"),
    "team": (WALLET, "vested team tokens not sold"),
    "attacker": (WALLET, "the governance attacker: the treasury it captures, until sold"),
    # contracts: HANZO held by the protocol's contracts
    "training_pool": (CONTRACT, "TrainingRewards' pool (genesis in inflation mode, emission)"),
    "compute_pool": (CONTRACT, "the Compute Providers pool (genesis in inflation mode, emission)"),
    "treasury": (CONTRACT, "HanzoTreasury: the community allocation, fork-mint and training fees"),
    "team_vesting": (CONTRACT, "TeamVesting: the team allocation not yet vested"),
    "stake_developers": (CONTRACT, "stake of the model developers who make the honest proposals"),
    "stake_holders": (CONTRACT, "stake of users (the sum of their rows)"),
    "stake_attacker": (CONTRACT, "stake of the governance attacker"),
    "unstaking": (CONTRACT, "users' stake in its unstaking cooldown (the sum of their rows)"),
    "fork_stake": (CONTRACT, "HANZO users stake on their own forks (ModelNFT's boost; the sum of their rows)"),
    "market_maker": (CONTRACT, "the compute market maker's funds (HamiltonianMarketMaker)"),
    # the HANZO market
    "pool": (MARKET, "HanzoPool's HANZO reserve"),
    "sell_orders": (MARKET, "HANZO holders have put up for sale that the pool has not yet taken (the backlog)"),
    "purchases": (MARKET, "the pool's depth set aside for the day's buyers; settled to zero at the close"),
}
BURN_SOURCES = ("training", "low_quality", "nft_fee", "proposal_deposit", "fine_tuning_fee", "base_model_fee")
for _source in BURN_SOURCES:
    CHART[f"burned_{_source}"] = (BURNED, f"burned: {_source.replace('_', ' ')}")


class LedgerError(RuntimeError):
    """A flow the books refuse, or books that do not balance; the message names the day."""


class Overdraft(LedgerError):
    """A flow would take more HANZO out of an account than it holds."""

    def __init__(self, day: int, flow: str, account: str, holds: float, amount: float):
        super().__init__(day, flow, account, holds, amount)  # as args: SimPy re-raises it from them
        self.day, self.flow, self.account, self.holds, self.amount = day, flow, account, holds, amount

    def __str__(self) -> str:
        return (f"day {self.day}: {self.flow}: the {self.account} account holds {self.holds:,.6f} HANZO, "
                f"{self.amount:,.6f} HANZO asked")


class WalletOverdraft(Overdraft):
    """A flow would take more HANZO out of some agents' own wallets (rows of an agent population)
    than they hold; the message names the day, the flow and the kind of agent."""

    def __init__(self, day: int, flow: str, account: str, kind: str, count: int, row: int, holds: float,
                 amount: float):
        super().__init__(day, flow, account, holds, amount)
        self.args = (day, flow, account, kind, count, row, holds, amount)  # SimPy re-raises it from them
        self.kind, self.count, self.row = kind, count, row

    def __str__(self) -> str:
        return (f"day {self.day}: {self.flow}: {self.count:,} {self.kind} agent(s) would overdraw their own "
                f"{self.account} (the first, {self.kind} {self.row}, holds {self.holds:,.6f} HANZO, "
                f"{self.amount:,.6f} HANZO asked)")


class ConservationError(LedgerError):
    """The accounts do not add up to what was minted, one is negative, or a mirror has drifted."""


def hanzo(wei: int) -> float:
    """Wei (the contracts' integers) to HANZO."""
    return wei / 10**18


def units(amount: float) -> int:
    """HANZO to ledger units (micro-HANZO), rounded to the nearest; refused if negative."""
    if amount < 0:
        raise ValueError(f"a flow is never negative, got {amount!r} HANZO")
    return round(float(amount) * UNIT)


class Ledger:
    """Every balance of the economy, in integer micro-HANZO, and the flows between them."""

    def __init__(self, clock: Callable[[], int] = lambda: 0):
        self.clock = clock  # today, for the messages
        self.units = {name: 0 for name in CHART}
        self.minted_units = 0
        self.mirrors: dict[str, Callable[[], float]] = {}
        self.itemized: dict[str, Callable[[], int]] = {}
        self.checked_days = 0

    # ---------------------------------------------------------------- reading

    def __getitem__(self, account: str) -> float:
        """The account's balance in HANZO."""
        return self.units[account] / UNIT

    @property
    def minted(self) -> float:
        """HANZO minted since genesis."""
        return self.minted_units / UNIT

    def total(self, *kinds: str) -> float:
        """HANZO in every account of the given kinds (all accounts if none is named)."""
        return sum(v for k, v in self.units.items() if not kinds or CHART[k][0] in kinds) / UNIT

    def burned(self) -> dict[str, float]:
        """HANZO burned, by source."""
        return {s: self[f"burned_{s}"] for s in BURN_SOURCES}

    # ---------------------------------------------------------------- flows

    def mint(self, to: str, amount: float, flow: str) -> None:
        """New HANZO into `to`: the account and `minted` grow by the same units (keeps the sum)."""
        n = units(amount)
        self.units[to] += n
        self.minted_units += n

    def transfer(self, frm: str, to: str, amount: float, flow: str, *, upto: bool = False) -> float:
        """Move `amount` HANZO; refused (Overdraft) if `frm` holds less (keeps every balance >= 0).
        With `upto`, for a flow that is by rule "all that is left" (a day's budget that is the
        whole pool), float rounding may ask for up to a billionth more than there is: what there
        is moves. Returns the HANZO moved."""
        return self.move(frm, to, units(amount), flow, upto=upto) / UNIT

    def move(self, frm: str, to: str, n: int, flow: str, *, upto: bool = False) -> int:
        """`transfer` in ledger units: for flows already counted in units (the rows of agents'
        wallets), so that the ledger moves exactly what the rows did. Returns the units moved."""
        n, held = int(n), self.units[frm]
        if n < 0:
            raise ValueError(f"{flow}: a flow is never negative, got {n} units")
        if n > held:
            if not (upto and n - held <= max(1, n // 10**9)):
                raise Overdraft(self.clock(), flow, frm, held / UNIT, n / UNIT)
            n = held
        self.units[frm] = held - n
        self.units[to] += n
        return n

    def burn(self, frm: str, amount: float, source: str, *, upto: bool = False) -> float:
        """Burn `amount` HANZO from `frm`: it moves to the burned account of `source`, so the
        tokens stay counted against what was minted."""
        return self.transfer(frm, f"burned_{source}", amount, f"burn ({source})", upto=upto)

    # ---------------------------------------------------------------- the daily check

    def mirror(self, account: str, reads: Callable[[], float]) -> None:
        """An account whose HANZO a model also holds in floats (HanzoPool's reserve, the market
        maker's funds): `check` reconciles the two."""
        self.mirrors[account] = reads

    def itemize(self, account: str, rows: Callable[[], int]) -> None:
        """An account that is the sum of a population's rows (users' wallets, stakes): `check`
        requires it to equal `rows()`, their exact sum in units, to the unit."""
        self.itemized[account] = rows

    def check(self, day: int) -> None:
        """Raise ConservationError unless every balance is >= 0, the accounts add up to exactly
        what was minted, every itemized account is exactly the sum of its rows, and every mirror
        agrees with its account to a billionth of minted."""
        total = sum(self.units.values())
        if total != self.minted_units:
            raise ConservationError(f"day {day}: the accounts hold {total / UNIT:,.6f} HANZO, {self.minted:,.6f} "
                                    f"were minted ({(total - self.minted_units) / UNIT:+,.6f})")
        negative = {k: v / UNIT for k, v in self.units.items() if v < 0}
        if negative:
            raise ConservationError(f"day {day}: negative balances {negative}")
        for account, rows in self.itemized.items():
            held = rows()
            if held != self.units[account]:
                gap = (held - self.units[account]) / UNIT
                raise ConservationError(f"day {day}: the {account} account holds {self[account]:,.6f} HANZO, the "
                                        f"sum of its rows {held / UNIT:,.6f} ({gap:+,.6f})")
        tolerance = 1e-9 * max(self.minted, 1.0)
        for account, reads in self.mirrors.items():
            if abs(reads() - self[account]) > tolerance:
                raise ConservationError(f"day {day}: {account} holds {reads():,.6f} HANZO by its model, "
                                        f"{self[account]:,.6f} by the ledger")
        self.checked_days += 1
