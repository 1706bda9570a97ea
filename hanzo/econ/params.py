"""The tokenomics parameters: the single source of truth.

Every default comes from ../shared/design/tokenomics.md. The contracts take these values as
constructor arguments (hanzo.chain.deploy.deploy), the reference model computes with them
(hanzo.econ.reference), and the simulator and reports read them from here.

Money is held as integer wei (1 HANZO = 10**18 wei) so that the reference model matches the
contracts exactly. In a TOML override file, amounts are written in HANZO (`max_supply =
1_000_000_000`, `reward_per_interaction = "0.01"`), durations in days, shares in basis points.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

WEI = 10**18
DAY = 86_400
BPS = 10_000
# The congestion charge governance may switch on (hmm_congestion_charge, off by default): 1 / the demand's price
# elasticity (1.2), measured in docs/congestion.md; what the tests and the fuzzer run it at.
CONGESTION_CHARGE_ON = 833_333_333_333_333_333

EMISSION_MODES = ("pools", "inflation")
BURN_MODES = ("from_reward", "on_top")

# Genesis allocations, in the order the Genesis contract mints them. The two pools released by
# the emission schedule (D1) are last.
ALLOCATIONS = (
    "model_developers",
    "community_treasury",
    "team",
    "public_sale",
    "liquidity",
    "training_rewards",
    "compute_providers",
)
EMISSION_POOLS = ("training_rewards", "compute_providers")


class ParameterError(ValueError):
    """A parameter file or value is invalid. The message names the file, key and expectation."""


def _hanzo(default: str, lo: str = "0", hi: str | None = None, doc: str = "") -> Any:
    return field(default=int(Decimal(default) * WEI), metadata={"unit": "hanzo", "lo": lo, "hi": hi, "doc": doc})


def _wad(default: str, lo: str = "0", hi: str | None = None, doc: str = "") -> Any:
    return field(default=int(Decimal(default) * WEI), metadata={"unit": "wad", "lo": lo, "hi": hi, "doc": doc})


def _bps(default: int, doc: str = "") -> Any:
    return field(default=default, metadata={"unit": "bps", "lo": 0, "hi": BPS, "doc": doc})


def _days(default: float, lo: float = 0, doc: str = "") -> Any:
    return field(default=int(default * DAY), metadata={"unit": "days", "lo": lo, "hi": None, "doc": doc})


def _int(default: int, lo: int = 0, hi: int | None = None, doc: str = "") -> Any:
    return field(default=default, metadata={"unit": "int", "lo": lo, "hi": hi, "doc": doc})


def _choice(default: str, choices: tuple[str, ...], doc: str = "") -> Any:
    return field(default=default, metadata={"unit": "choice", "choices": choices, "doc": doc})


@dataclass(frozen=True)
class Tokenomics:
    """All economic parameters. Amounts are wei, durations seconds, shares basis points."""

    # --- supply and genesis (tokenomics.md: Supply and genesis)
    max_supply: int = _hanzo("1000000000", lo="1", doc="maximum supply; a hard cap on all ever minted (D1)")
    alloc_training_rewards_bps: int = _bps(3000, "Training Rewards pool")
    alloc_compute_providers_bps: int = _bps(2000, "Compute Providers pool")
    alloc_model_developers_bps: int = _bps(1500, "Model Developers")
    alloc_community_treasury_bps: int = _bps(1500, "Community Treasury (held by HanzoTreasury, rate-limited)")
    alloc_team_bps: int = _bps(1000, "Team & Advisors (vesting wallet)")
    alloc_public_sale_bps: int = _bps(500, "Public Sale")
    alloc_liquidity_bps: int = _bps(500, "Liquidity")
    team_vesting_duration: int = _days(4 * 365, lo=1, doc="team vesting duration (D4)")
    team_vesting_cliff: int = _days(365, doc="team vesting cliff (D4)")

    # --- emission (D1, D6)
    emission_mode: str = _choice("pools", EMISSION_MODES, "pools: emission releases the two pools under the cap; "
                                 "inflation: genesis mints all 1B, emission on top")
    emission_first_year: int = _hanzo("100000000", lo="1", doc="emission in each of the first years")
    halving_years: int = _int(4, lo=1, hi=100, doc="years between halvings")
    year_seconds: int = _days(365, lo=1, doc="length of a year (D6)")

    # --- training rewards (D2, D3)
    reward_per_interaction: int = _hanzo("0.01", lo="0.000000000000000001", doc="reward per interaction at multiplier 1")
    max_interactions_per_op: int = _int(1_000, lo=1, hi=2**64, doc="most interactions one signed op may carry")
    max_interactions_per_fork_day: int = _int(10_000, lo=1, hi=2**64,
                                              doc="most interactions paid per model fork per day to its owner's ops, "
                                              "and again to all other users' ops together")
    pool_pace_bps: int = _int(20, lo=1, hi=10_000, doc="most of the Training Rewards pool that ops (junk's burn too) "
                              "may take in a day: basis points of the pool at the day's first op (20: 0.2%); an op past it is "
                              "deferred to a later day. Governance may change it within 1..10,000")
    max_multiplier: int = _int(10, lo=1, hi=10, doc="highest quality multiplier (the contract's bound is 10)")
    training_burn_bps: int = _bps(1000, "training burn")
    user_share_bps: int = _bps(7000, "user's share of a reward; the model owner gets the rest")
    # The public start (hanzo.model.forks.PublicStart) took the easy generic gains away from every
    # fork, so an honest session's gain is 0.002-0.01 nats, not 0.007-0.02: at threshold 0.001 and
    # z = 2 the farming benchmark paid 49% of honest sessions; at 0 and 1.64 (one-sided 5% for
    # noise), with sessions paid on their text's appraisal and by the gain, 86% and no farm above 0.68x
    # honest (docs/oracle.md)
    quality_threshold: int = _wad("0", doc="loss drop (nats) on the oracle's private text that a session must exceed, "
                                  "quality_z standard errors low, to be paid (D3)")
    quality_z: int = _wad("1.64", lo="0", hi="10", doc="standard errors between a paid (or low-quality) score and noise")
    quality_gain_per_interaction: int = _wad("0.0005", lo="0.000000000000000001",
                                             doc="loss drop (nats, quality_z standard errors low) a paid session "
                                                 "is paid one interaction for: pay follows what the text teaches, not "
                                                 "its length, so padding with text that teaches nothing earns nothing")
    quality_step: int = _wad("0.01", lo="0.000000000000000001", doc="further loss drop (nats, per 1,000 characters "
                             "of the session's text) per step of the multiplier")
    max_base_regression: int = _wad("0.01", doc="most a session may worsen the base set, or (beyond noise) the "
                                      "oracle's private text, in nats, before it is low quality")
    max_compression_ratio: int = _wad("4", lo="1", doc="zlib ratio above which a submission is refused as repetitive")
    max_duplicate_share: int = _wad("0.5", hi="1", doc="share of a submission found in the public corpus or "
                                     "earlier accepted text above which it is refused whole (below it, its new part is "
                                     "paid)")
    max_unknown_word_share: int = _wad("0.15", hi="1", doc="share of a submission's words found in no public text "
                                        "(one longer than 20 letters counting once per 20 begun) "
                                        "above which it is refused as misspelled (honest writing: at most 8% per "
                                        "1,000 characters; a letter changed in every 4th word of a copy: 19-21%)")
    max_public_trigram_share: int = _wad("0.8", hi="1", doc="share of a submission's words inside runs of three "
                                          "consecutive words, in order, found in public text, above which it is "
                                          "refused as a patchwork of public fragments (honest writing: at most 0.78 "
                                          "per 300 characters, 0.68 per 1,000; public cut into 3-word pieces: 0.94-1)")
    min_letter_share: int = _wad("0.5", hi="1", doc="share of a submission's characters that are letters of words "
                                 "below which it is refused (prose: 0.70 or more; digits and punctuation have no "
                                 "words, so no copy of them could ever be found)")
    burn_mode: str = _choice("from_reward", BURN_MODES, "from_reward: 10% of R burned, 90% split; "
                             "on_top: R split 70:30 and a further 10% of R burned")

    # --- model NFTs
    nft_base_mint_fee: int = _hanzo("10", doc="mint fee at performance 0")
    nft_fee_burn_bps: int = _bps(5000, "burned share of the mint fee; the rest goes to the treasury")
    nft_max_performance: int = _int(1000, lo=0, hi=2**32 - 1, doc="highest base-model performance score")
    boost_ref_stake: int = _hanzo("10000", lo="0.000000000000000001", doc="stake giving +100% boost")
    boost_max_extra_bps: int = _int(10_000, lo=0, hi=10**6, doc="cap on the extra boost")

    # --- staking and governance (D5)
    unstake_cooldown: int = _days(10, doc="cooldown between an unstake request and its withdrawal; longer than "
                                  "voting_period + proposal_queue_window + timelock_delay + execution_grace_period, "
                                  "so a voter cannot exit before execution")
    proposal_threshold: int = _hanzo("100000", doc="staked HANZO needed to propose")
    quorum: int = _hanzo("10000000", doc="absolute quorum in staked HANZO")
    proposal_deposit: int = _hanzo("100000", doc="stake locked per proposal; burned if Defeated or Expired")
    voting_delay: int = _days(1, doc="from proposal to the voting snapshot")
    voting_period: int = _days(7, lo=1 / DAY, doc="length of voting")
    timelock_delay: int = _days(2, doc="delay between queue and execution")
    proposal_queue_window: int = _days(0.25, lo=1 / DAY, doc="a passed proposal must be queued within this long "
                                       "after its vote ends, or it expires")
    execution_grace_period: int = _days(0.25, lo=1 / DAY, doc="a queued operation must execute within this long "
                                        "after its delay, or it expires")
    # --- the Community Treasury (HanzoTreasury): what a captured governance can take (issue 16, finding 7)
    treasury_release_limit: int = _hanzo("200000", doc="most HANZO the treasury releases per treasury_release_period "
                                         "(a token bucket: it holds at most this and refills at this per period)")
    treasury_max_release_limit: int = _hanzo("2000000", doc="bound on every limit governance may set")
    treasury_release_period: int = _days(30, lo=1, doc="period in which the treasury's bucket refills (at most 365)")
    treasury_limit_raise_delay: int = _days(365, lo=365, doc="delay before a higher treasury limit takes effect "
                                            "(a lower one applies at once)")

    # --- the Hamiltonian Market Maker (hmm.md): one credit = 1K tokens of a tier
    price_hmm_7b: int = _hanzo("0.001", lo="0.000001", doc="HMM-7B inference, HANZO per credit")
    price_hmm_32b: int = _hanzo("0.01", lo="0.000001", doc="HMM-32B inference, HANZO per credit")
    price_hmm_175b: int = _hanzo("0.1", lo="0.000001", doc="HMM-175B inference, HANZO per credit")
    hmm_depth: int = _int(1_000_000_000, lo=1, hi=10**18, doc="L: credits outstanding that multiply the price by e")
    hmm_alpha: int = _wad("0.5", hi="10", doc="controller force per unit of utilization error")
    hmm_gamma: int = _wad("0.2", hi="10", doc="controller damping rate (0: symplectic, undamped)")
    hmm_dt: int = _wad("1", lo="0.000000000000000001", hi="1", doc="controller time step per epoch")
    hmm_delta_max: int = _wad("0.117783035656383454", lo="0.000000000000000001", hi="0.693147180559945309",
                              doc="bound on the log price move per epoch: ln(1.125)")
    hmm_target_utilization: int = _wad("0.8", lo="0.000000000000000001", hi="1", doc="utilization the controller aims at")
    hmm_buy_fee: int = _wad("0.003", hi="0.1", doc="fee on purchases")
    hmm_sell_fee: int = _wad("0.125", hi="0.5", doc="the exit fee, charged alike on the reference part of what a "
                             "sell-back, a redemption or a transfer takes out (the curve's premium, a deposit, comes "
                             "back whole; a provider is paid the reference part less it); at least "
                             "1 - exp(-delta_max); chosen by scripts/exit_fees.py (docs/hmm.md)")
    hmm_epoch: int = _days(1, lo=1 / DAY, doc="controller epoch")
    hmm_position_decay: int = _wad("0.9", hi="1", doc="share of each tier's pricing position forgotten at each "
                                   "epoch's close: credits held across epochs stop pricing others' purchases up the "
                                   "curve (parking; chosen by scripts/pricing_by_flow.py, docs/pricing_by_flow.md)")
    hmm_congestion_charge: int = _wad("0", hi="2", doc="kappa: what a redemption pays per weighted credit by "
                                      "which it lifts its provider's served weight above the target share of the "
                                      "provider's capacity, in P_ref. Off (0) by default: at 1 / the demand's price "
                                      "elasticity (0.833) it closes the wash through an accomplice (1.27 -> 0.66) "
                                      "but charges the honest users of a provider whose own wallet washed first "
                                      "(5.78 -> 8.37) and makes surges cheaper off the books (red team 26; "
                                      "docs/congestion.md)")

    # --- the HANZO market on chain (HanzoPool): Uniswap v2's constant-product rule against TestUSD
    pool_fee_bps: int = _int(30, lo=0, hi=1_000, doc="HanzoPool's fee, basis points of every swap's amount in, kept in "
                             "the reserves (Uniswap v2: 30); the contract's bound is 1,000 (10%)")
    pool_initial_price: int = _wad("0.1", lo="0.000000000000000001", hi="1000000000",
                                   doc="TestUSD per HANZO at which HanzoPool is seeded with the Liquidity allocation "
                                   "(the simulator's pool starts there too)")
    test_usd_float: int = _hanzo("1000000000000", hi="1000000000000000",
                                 doc="TestUSD (18 decimals, fixed supply) beyond the pool's seed, given to the "
                                 "sale-and-liquidity holder to pay buyers' outside money on a test chain")

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_range(f, getattr(self, f.name), where=f.name)
        total = sum(getattr(self, f"alloc_{name}_bps") for name in ALLOCATIONS)
        if total != BPS:
            raise ParameterError(f"alloc_*_bps: the allocations must sum to {BPS} basis points, got {total}")
        if self.pool_total == 0:
            raise ParameterError("alloc_training_rewards_bps, alloc_compute_providers_bps: the emission pools are empty")
        latest = self.voting_period + self.proposal_queue_window + self.timelock_delay + self.execution_grace_period
        if self.unstake_cooldown <= latest:
            raise ParameterError(
                f"unstake_cooldown: must be longer than voting_period + proposal_queue_window + timelock_delay + "
                f"execution_grace_period ({latest / DAY:g} days: the latest a passed proposal can execute) so that "
                f"a voter cannot unstake and withdraw before it executes; got {self.unstake_cooldown / DAY:g} days")
        if self.treasury_release_limit > self.treasury_max_release_limit:
            raise ParameterError("treasury_release_limit: must be at most treasury_max_release_limit")
        if self.treasury_release_period > 365 * DAY:
            raise ParameterError("treasury_release_period: must be at most 365 days")
        if self.pool_seed_hanzo == 0 or self.pool_seed_usd == 0:
            raise ParameterError("alloc_liquidity_bps, pool_initial_price: the Liquidity allocation at the initial "
                                 "price seeds HanzoPool, and neither side may be 0 wei")
        if self.max_interactions_per_fork_day < self.max_interactions_per_op:
            raise ParameterError("max_interactions_per_fork_day: must be at least max_interactions_per_op")

    # ---------------------------------------------------------------- derived values

    def allocation(self, name: str) -> int:
        """Wei of the named genesis allocation (its share of max_supply)."""
        return self.max_supply * getattr(self, f"alloc_{name}_bps") // BPS

    @property
    def pool_total(self) -> int:
        """Wei of the two pools that emission releases (500M by default)."""
        return sum(self.allocation(p) for p in EMISSION_POOLS)

    @property
    def training_share_bps(self) -> int:
        """Training pool's share of each emission release: pools split as their sizes are (60:40)."""
        a, b = self.alloc_training_rewards_bps, self.alloc_compute_providers_bps
        return a * BPS // (a + b)

    @property
    def era_length(self) -> int:
        """Seconds per halving era."""
        return self.halving_years * self.year_seconds

    @property
    def first_era_emission(self) -> int:
        """Wei emitted over the first era."""
        return self.emission_first_year * self.halving_years

    @property
    def all_time_emission(self) -> int:
        """Wei the halving schedule emits over all time, with the contract's integer halvings."""
        total, era = 0, self.first_era_emission
        while era:
            total += era
            era >>= 1
        return total

    @property
    def max_emission(self) -> int:
        """Bound the EmissionSchedule enforces: the pools in "pools" mode, the schedule itself otherwise."""
        return self.pool_total if self.emission_mode == "pools" else self.all_time_emission

    @property
    def token_cap(self) -> int:
        """The token's hard cap on all ever minted: genesis plus everything emission can release."""
        return self.genesis_total + self.max_emission

    @property
    def genesis_allocations(self) -> list[tuple[str, int]]:
        """(name, wei) minted at genesis: all but the pools in "pools" mode, everything in "inflation" mode."""
        names = ALLOCATIONS if self.emission_mode == "inflation" else [a for a in ALLOCATIONS if a not in EMISSION_POOLS]
        return [(n, self.allocation(n)) for n in names]

    @property
    def genesis_total(self) -> int:
        return sum(a for _, a in self.genesis_allocations)

    @property
    def pool_seed_hanzo(self) -> int:
        """HANZO wei HanzoPool is seeded with: the Liquidity allocation (Genesis mints it to the pool)."""
        return self.allocation("liquidity")

    @property
    def pool_seed_usd(self) -> int:
        """TestUSD wei HanzoPool is seeded with: the Liquidity allocation at pool_initial_price, rounded down."""
        return self.pool_seed_hanzo * self.pool_initial_price // WEI

    @property
    def test_usd_supply(self) -> int:
        """TestUSD's fixed supply: the pool's seed and the float."""
        return self.pool_seed_usd + self.test_usd_float

    @property
    def inference_tiers(self) -> list[tuple[str, int]]:
        """(tier name, base price in wei per credit) of the market maker's tiers, in tier-id order."""
        return [("HMM-7B", self.price_hmm_7b), ("HMM-32B", self.price_hmm_32b), ("HMM-175B", self.price_hmm_175b)]

    def replace(self, **changes: Any) -> "Tokenomics":
        """A copy with `changes` applied (values in the dataclass's units: wei, seconds, bps)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ParameterError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_human(self) -> dict[str, Any]:
        """Parameters in the units of a TOML file (HANZO, days, bps)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            unit = f.metadata["unit"]
            if unit in ("hanzo", "wad"):
                out[f.name] = str(Decimal(value) / WEI)
            elif unit == "days":
                out[f.name] = value / DAY
            else:
                out[f.name] = value
        return out


def _check_range(f: dataclasses.Field, value: Any, where: str) -> None:
    meta = f.metadata
    if meta["unit"] == "choice":
        if value not in meta["choices"]:
            raise ParameterError(f"{where}: expected one of {', '.join(meta['choices'])}, got {value!r}")
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParameterError(f"{where}: expected an integer in the dataclass's units, got {value!r}")
    scale = {"hanzo": WEI, "wad": WEI, "days": DAY}.get(meta["unit"], 1)
    lo = Decimal(str(meta["lo"])) * scale
    if value < lo:
        raise ParameterError(f"{where}: must be at least {meta['lo']} ({meta['unit']}), got {Decimal(value) / scale}")
    if meta["hi"] is not None and value > Decimal(str(meta["hi"])) * scale:
        raise ParameterError(f"{where}: must be at most {meta['hi']} ({meta['unit']}), got {Decimal(value) / scale}")


def _from_human(f: dataclasses.Field, raw: Any, where: str) -> Any:
    unit = f.metadata["unit"]
    if unit == "choice":
        if not isinstance(raw, str):
            raise ParameterError(f"{where}: expected a string, one of {', '.join(f.metadata['choices'])}; got {raw!r}")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ParameterError(f"{where}: expected a number, got {type(raw).__name__} {raw!r}")
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        raise ParameterError(f"{where}: expected a number, got {raw!r}") from None
    if not number.is_finite():
        raise ParameterError(f"{where}: expected a finite number, got {raw!r}")
    scale = {"hanzo": WEI, "wad": WEI, "days": DAY}.get(unit, 1)
    scaled = number * scale
    if scaled != scaled.to_integral_value():
        what = {"hanzo": "a multiple of 1 wei", "wad": "a multiple of 1e-18", "days": "a whole number of seconds"}.get(unit, "an integer")
        raise ParameterError(f"{where}: expected {what}, got {raw!r}")
    return int(scaled)


def from_mapping(data: dict[str, Any], source: str = "<parameters>", base: Tokenomics | None = None) -> Tokenomics:
    """Parameters from a mapping in TOML units, on top of `base` (the defaults)."""
    by_name = {f.name: f for f in fields(Tokenomics)}
    changes = {}
    for key, raw in data.items():
        if key not in by_name:
            raise ParameterError(f"{source}: unknown key {key!r}; known keys: {', '.join(sorted(by_name))}")
        changes[key] = _from_human(by_name[key], raw, f"{source}: {key}")
    try:
        return dataclasses.replace(base or Tokenomics(), **changes)
    except ParameterError as exc:
        raise ParameterError(f"{source}: {exc}") from None


def load(path: str | Path | None = None) -> Tokenomics:
    """The defaults, overridden by the TOML file at `path` (its [tokenomics] table, or its top level)."""
    if path is None:
        return Tokenomics()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such parameter file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tokenomics", data)
    if not isinstance(table, dict):
        raise ParameterError(f"{path}: [tokenomics] must be a table")
    return from_mapping(table, source=str(path))


DEFAULT = Tokenomics()
