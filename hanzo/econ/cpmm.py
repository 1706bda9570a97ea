"""HanzoPool as Python: the exact integer mirror of contracts/HanzoPool.sol.

Uniswap v2's constant-product rule with its fee in basis points, the same floor divisions, the
same v2 "+1" on an exact-output swap, the same checks in the same order and the same custom
errors (PoolError.name), so that tests drive the model and the deployed contract side by side and
compare them wei for wei (tests/test_pool_contract.py). The simulator's float pool
(hanzo.sim.pool.ConstantProductPool) is the same rule in floats.

    out = a * (10000 - fee) * y // (x * 10000 + a * (10000 - fee))        (swap_exact_in)
    in  = x * out * 10000 // ((y - out) * (10000 - fee)) + 1               (swap_exact_out)

k = x * y never decreases: each swap satisfies (x * 10000 + in * (10000 - fee)) * (y - out) >=
x * y * 10000. Reserves move only by seed and swaps; a donation to the pool is never counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import BPS, WEI, Tokenomics

UINT112_MAX = 2**112 - 1
UINT256_MAX = 2**256 - 1
MAX_FEE_BPS = 1_000
HANZO, USD = "hanzo", "usd"


class PoolError(Exception):
    """A revert of HanzoPool: `name` is the contract's custom error, `args` its arguments."""

    def __init__(self, name: str, *args: int):
        self.name, self.args_ = name, args
        super().__init__(f"{name}{args if args else ''}")


@dataclass
class PoolState:
    """HanzoPool's state: the two reserves (wei), the fee, the seed, and whether it was seeded."""

    fee_bps: int
    seed_hanzo: int
    seed_usd: int
    reserve_hanzo: int = 0
    reserve_usd: int = 0
    seeded: bool = False

    def __post_init__(self) -> None:
        if self.fee_bps > MAX_FEE_BPS:
            raise PoolError("FeeTooHigh", self.fee_bps, MAX_FEE_BPS)
        if not (0 < self.seed_hanzo <= UINT112_MAX and 0 < self.seed_usd <= UINT112_MAX):
            raise PoolError("BadSeed")

    @classmethod
    def from_tokenomics(cls, p: Tokenomics, *, seeded: bool = True) -> "PoolState":
        """The pool the deployment plan builds: the Liquidity allocation at the initial price (seeded)."""
        pool = cls(p.pool_fee_bps, p.pool_seed_hanzo, p.pool_seed_usd)
        if seeded:
            pool.seed(p.pool_seed_hanzo, p.pool_seed_usd)
        return pool

    # ------------------------------------------------------------------ views

    @property
    def k(self) -> int:
        return self.reserve_hanzo * self.reserve_usd

    def price(self) -> int:
        """Stablecoin per HANZO at the margin, WAD, rounded down (HanzoPool.price)."""
        if not self.seeded:
            raise PoolError("NotSeeded")
        return self.reserve_usd * WEI // self.reserve_hanzo

    def _sides(self, token: str) -> tuple[int, int]:
        if not self.seeded:
            raise PoolError("NotSeeded")
        if token == HANZO:
            return self.reserve_hanzo, self.reserve_usd
        if token == USD:
            return self.reserve_usd, self.reserve_hanzo
        raise PoolError("UnknownToken", token)  # the contract names the token's address

    def _amount_out(self, amount_in: int, reserve_in: int, reserve_out: int) -> int:
        if reserve_in + amount_in > UINT256_MAX:
            raise PoolError("Panic", 0x11)
        if reserve_in + amount_in > UINT112_MAX:
            raise PoolError("ReserveTooLarge", reserve_in + amount_in)
        with_fee = amount_in * (BPS - self.fee_bps)
        return with_fee * reserve_out // (reserve_in * BPS + with_fee)

    def _amount_in(self, amount_out: int, reserve_in: int, reserve_out: int) -> int:
        if amount_out >= reserve_out:
            raise PoolError("InsufficientLiquidity", amount_out, reserve_out)
        return reserve_in * amount_out * BPS // ((reserve_out - amount_out) * (BPS - self.fee_bps)) + 1

    def quote_exact_in(self, token_in: str, amount_in: int) -> int:
        """What swap_exact_in would pay (HanzoPool.quoteExactIn)."""
        reserve_in, reserve_out = self._sides(token_in)
        return self._amount_out(amount_in, reserve_in, reserve_out)

    def quote_exact_out(self, token_out: str, amount_out: int) -> int:
        """What swap_exact_out would cost (HanzoPool.quoteExactOut)."""
        reserve_out, reserve_in = self._sides(token_out)
        return self._amount_in(amount_out, reserve_in, reserve_out)

    # ------------------------------------------------------------------ state changes

    def seed(self, held_hanzo: int, held_usd: int) -> None:
        """HanzoPool.seed with the pool holding `held_*`: the reserves become exactly the seed."""
        if self.seeded:
            raise PoolError("AlreadySeeded")
        if held_hanzo < self.seed_hanzo:
            raise PoolError("SeedMissing", held_hanzo, self.seed_hanzo)
        if held_usd < self.seed_usd:
            raise PoolError("SeedMissing", held_usd, self.seed_usd)
        self.seeded = True
        self.reserve_hanzo, self.reserve_usd = self.seed_hanzo, self.seed_usd

    @staticmethod
    def _check(deadline: int, now: int) -> None:
        if now > deadline:
            raise PoolError("Expired", deadline, now)

    def swap_exact_in(self, token_in: str, amount_in: int, min_out: int = 0, *, deadline: int = 0, now: int = 0
                      ) -> int:
        """HanzoPool.swapExactIn: `amount_in` of `token_in` in, the other token out (returned)."""
        self._check(deadline, now)
        if amount_in == 0:
            raise PoolError("ZeroAmount")
        reserve_in, reserve_out = self._sides(token_in)
        out = self._amount_out(amount_in, reserve_in, reserve_out)
        if out == 0 or out < min_out:
            raise PoolError("InsufficientOutput", out, min_out)
        self._apply(token_in == HANZO, amount_in, out, reserve_in, reserve_out)
        return out

    def swap_exact_out(self, token_out: str, amount_out: int, max_in: int = UINT256_MAX, *, deadline: int = 0,
                       now: int = 0) -> int:
        """HanzoPool.swapExactOut: exactly `amount_out` of `token_out` out, the other token in (returned)."""
        self._check(deadline, now)
        if amount_out == 0:
            raise PoolError("ZeroAmount")
        reserve_out, reserve_in = self._sides(token_out)
        amount_in = self._amount_in(amount_out, reserve_in, reserve_out)
        if amount_in > max_in:
            raise PoolError("ExcessiveInput", amount_in, max_in)
        self._apply(token_out != HANZO, amount_in, amount_out, reserve_in, reserve_out)
        return amount_in

    def _apply(self, hanzo_in: bool, amount_in: int, amount_out: int, reserve_in: int, reserve_out: int) -> None:
        new_in, new_out = reserve_in + amount_in, reserve_out - amount_out
        if new_in > UINT112_MAX:
            raise PoolError("ReserveTooLarge", new_in)
        if (reserve_in * BPS + amount_in * (BPS - self.fee_bps)) * new_out < reserve_in * reserve_out * BPS:
            raise PoolError("KDecreased")  # unreachable, as in the contract
        if hanzo_in:
            self.reserve_hanzo, self.reserve_usd = new_in, new_out
        else:
            self.reserve_usd, self.reserve_hanzo = new_in, new_out
