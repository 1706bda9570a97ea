"""Global sensitivity analysis: which of a scenario's parameters move its outcomes, and by how much.

Each --param names a key of the scenario and a range. SALib draws a sample over the ranges, the
World runs once per point, and SALib turns the outputs into indices, one set per output:

    morris  mu*: the mean absolute elementary effect, how far the output moves (in its own unit)
            when the parameter crosses its whole range; sigma: how much that move depends on where
            the other parameters are (interactions, non-linearity). r x (D + 1) runs for r
            trajectories and D parameters: a cheap screen.
    sobol   S1 and ST: the share of the output's variance the parameter explains alone, and with
            all its interactions. N x (D + 2) runs (Saltelli's scheme, no second-order terms).

Every run uses the scenario's seed (common random numbers), so two runs differ by their parameters
only, and a parameter the World never reads for an output scores exactly 0.
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hanzo.econ.params import Tokenomics

from .compare import HEADLINES, lookup
from .scenario import SPEC, Scenario, ScenarioError
from .units import figure, significant, unit

# The figures a run can be ranked on: every number of `hanzo compare`'s table, and the final price in
# decades. Prices of one sample can span five orders of magnitude (the baseline's: $0.007 to $709), so
# effects on the dollar price are those of the few dearest runs; on log10 of it, a mu* of 1 is a factor 10.
OUTPUTS = {name: spec for name, spec in HEADLINES.items() if name not in ("days", "emission_exhausted", "attack")}
OUTPUTS["price_log10"] = ("hanzo_price_usd.final", "HANZO price, final, log10")
LOG10 = {"price_log10"}
DEFAULT_OUTPUTS = ("price_log10", "total_supply", "reward_gini")
DEFAULT_SIZE = {"morris": 10, "sobol": 64}
LEVELS = 4  # Morris's grid: each parameter takes 4 values across its range, steps of 2/3 of it


@dataclass(frozen=True)
class Factor:
    """One --param: a key and its range, and how a sampled number becomes a value of that key."""

    key: str
    low: float
    high: float
    kind: str  # int, float, wei (HANZO and wad amounts: whole wei) or days (whole seconds)

    def value(self, x: float) -> Any:
        if self.kind == "int":
            return int(round(x))
        if self.kind == "wei":  # a decimal string, so the parameter loader sees whole wei
            return str(Decimal(round(x * 10**18)) / 10**18)
        if self.kind == "days":  # 0.01 day is 864 s: a whole number of seconds, as the loader requires
            return round(x, 2)
        return float(x)


def _kind(key: str) -> str | None:
    """How values of `key` are written (int, float, wei or days); "" where the key is not a number,
    None where it is no key at all."""
    table, _, name = key.partition(".")
    if table == "tokenomics":
        units = {f.name: f.metadata["unit"] for f in fields(Tokenomics)}
        return {"choice": "", "hanzo": "wei", "wad": "wei", "days": "days"}.get(units[name], "int") \
            if name in units else None
    if name not in SPEC.get(table, {}):
        return None
    return {int: "int", float: "float", "dist": "float"}.get(SPEC[table][name][0], "")  # (a dist: every row the same)


def parse_factors(specs: list[str] | tuple[str, ...], scenario: Scenario) -> list[Factor]:
    """`table.key=LOW:HIGH` strings to factors; each range's ends are checked against the scenario."""
    if not specs:
        raise ScenarioError("--param: name at least one, as TABLE.KEY=LOW:HIGH (for example users.sell_share=0.3:0.7)")
    factors: list[Factor] = []
    for spec in specs:
        key, sep, bounds = spec.partition("=")
        key = key.strip()
        low_text, colon, high_text = bounds.partition(":")
        if not sep or "." not in key or not colon:
            raise ScenarioError(f"--param {spec!r}: expected TABLE.KEY=LOW:HIGH (for example users.sell_share=0.3:0.7)")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise ScenarioError(f"--param {spec!r}: LOW and HIGH must be numbers") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ScenarioError(f"--param {spec!r}: expected finite LOW < HIGH")
        if key in (f.key for f in factors):
            raise ScenarioError(f"--param {key}: named twice")
        if key.startswith("scenario."):
            raise ScenarioError(f"--param {key}: [scenario] keys are not parameters of the economy "
                                "(the horizon is --years; every run uses the one seed)")
        kind = _kind(key)
        if kind is None:
            scenario.with_overrides(where="--param", **{key: low})  # fails: the scenario's words for an unknown key
        if not kind:
            raise ScenarioError(f"--param {key}: not a number; compare its values with hanzo sweep --param {key}=A,B")
        factor = Factor(key, low, high, kind)
        for end in (low, high):  # each end within the key's bounds, and not inert in this scenario
            scenario.with_overrides(where="--param", **{key: factor.value(end)})
        factors.append(factor)
    return factors


@dataclass
class Analysis:
    scenario: str
    method: str
    size: int  # Morris trajectories, or Sobol's base sample
    years: float
    factors: list[Factor]
    outputs: list[str]
    runs: pd.DataFrame  # a row per run: the values it ran with, then every output
    indices: pd.DataFrame  # a row per (output, parameter), ranked within each output


def _run_one(scenario: Scenario) -> list[float]:
    from .run import simulate

    summary = simulate(scenario).summary
    values = [float(lookup(summary, key)) for key, _ in OUTPUTS.values()]
    return [math.log10(v) if name in LOG10 else v for name, v in zip(OUTPUTS, values)]


def _run_all(scenarios: list[Scenario], workers: int, progress: bool, desc: str) -> np.ndarray:
    """Every run's outputs, a row per run in the sample's order (on `workers` processes)."""
    with ExitStack() as stack:
        if workers <= 1:
            done = map(_run_one, scenarios)
        else:
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers))
            done = pool.map(_run_one, scenarios, chunksize=max(1, len(scenarios) // (8 * workers)))
        if progress:
            from tqdm import tqdm

            done = stack.enter_context(tqdm(done, total=len(scenarios), unit="run", desc=desc))
        return np.array(list(done))


def _sample(method: str, problem: dict, size: int, seed: int) -> np.ndarray:
    """SALib's sample: `size` Morris trajectories on a grid of LEVELS values, or Saltelli's
    size x (D + 2) points of a scrambled Sobol' sequence (first and total order only)."""
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, size, num_levels=LEVELS, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem, size, calc_second_order=False, seed=seed)


def analyze(scenario: Scenario, specs: list[str] | tuple[str, ...], *, method: str = "morris",
            size: int | None = None, years: float | None = None, outputs: list[str] | tuple[str, ...] = (),
            workers: int = 1, progress: bool = False) -> Analysis:
    """Sample the --param ranges, run the World at every point, and rank the parameters per output."""
    if method not in DEFAULT_SIZE:
        raise ScenarioError(f"--method: expected morris or sobol, got {method!r}")
    size = DEFAULT_SIZE[method] if size is None else size
    if size < 2 or (method == "sobol" and size & (size - 1)):
        raise ScenarioError(f"--trajectories: expected at least 2{' and a power of 2 with sobol' * (method == 'sobol')}"
                            f", got {size}")
    outputs = list(outputs) or list(DEFAULT_OUTPUTS)
    for name in outputs:
        if name not in OUTPUTS:
            raise ScenarioError(f"--output: expected one of {', '.join(OUTPUTS)}, got {name!r}")
    if years is not None:
        scenario = scenario.with_overrides(where="--years", **{"scenario.years": years})
    factors = parse_factors(specs, scenario)
    problem = {"num_vars": len(factors), "names": [f.key for f in factors],
               "bounds": [[f.low, f.high] for f in factors]}
    seed = scenario["scenario"]["seed"] % 2**32  # SALib's samplers take a 32-bit seed
    X = _sample(method, problem, size, seed)
    points = [{f.key: f.value(x) for f, x in zip(factors, row)} for row in X]
    scenarios = []
    for point in points:  # every point checked before the first run: ranges can combine into invalid ones
        try:
            scenarios.append(scenario.with_overrides(where="--param", **point))
        except ScenarioError as exc:
            raise ScenarioError(f"{exc} (at the sample point {point}: narrow the ranges so that every "
                                "combination is valid)") from None
    Y = _run_all(scenarios, workers, progress, f"{scenario.name} {method}")
    runs = pd.DataFrame([{k: float(v) for k, v in p.items()} for p in points])
    for i, name in enumerate(OUTPUTS):
        runs[name] = Y[:, i]
    names = list(OUTPUTS)
    frames = [_indices(method, problem, X, Y[:, names.index(o)], seed, o, factors) for o in outputs]
    return Analysis(scenario.name, method, size, scenario["scenario"]["years"], factors, outputs, runs,
                    pd.concat(frames, ignore_index=True))


def _indices(method, problem, X, y, seed, output, factors) -> pd.DataFrame:
    """One output's indices, ranked (1: the parameter that moves it most)."""
    if method == "morris":
        from SALib.analyze import morris

        si = morris.analyze(problem, X, y, num_levels=LEVELS, num_resamples=1000, seed=seed)
        cols = {"mu_star": si["mu_star"], "mu_star_conf": si["mu_star_conf"], "mu": si["mu"], "sigma": si["sigma"]}
        by = "mu_star"
    elif np.ptp(y) == 0:  # no variance to apportion: nothing moves this output
        cols = {c: np.zeros(len(factors)) for c in ("S1", "S1_conf", "ST", "ST_conf")}
        by = "ST"
    else:
        from SALib.analyze import sobol

        with warnings.catch_warnings():  # SALib 1.5 calls pd.unique on a list: its deprecation is not the user's
            warnings.simplefilter("ignore", FutureWarning)
            si = sobol.analyze(problem, y, calc_second_order=False, num_resamples=1000, seed=seed)
        cols = {c: si[c] for c in ("S1", "S1_conf", "ST", "ST_conf")}
        by = "ST"
    # differences of equal floats leave ~1e-19 where nothing moved: that is 0, not an effect
    tiny = 1e-12 * float(np.max(np.abs(y), initial=0.0))
    cols = {k: np.where(np.abs(np.asarray(v, dtype=float)) <= tiny, 0.0, v) for k, v in cols.items()}
    frame = pd.DataFrame({"output": output, "parameter": [f.key for f in factors],
                          "low": [f.low for f in factors], "high": [f.high for f in factors],
                          **cols})
    frame = frame.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


def lines(a: Analysis) -> list[str]:
    """The ranked tables, an output each, as the CLI prints them."""
    method = {"morris": f"Morris, {a.size} trajectories", "sobol": f"Sobol, base sample {a.size}"}[a.method]
    out = [f"{a.scenario}: {method}, {len(a.runs)} runs of {_years(a.years)}, {len(a.factors)} parameters"]
    width = max(len(f.key) for f in a.factors)
    for name in a.outputs:
        label = OUTPUTS[name][1]
        rows = a.indices[a.indices["output"] == name]
        if a.method == "morris":
            out.append(f"\n{label}{f' ({_unit(name)})' if _unit(name) else ''}: mu* = how far it moves as the "
                       "parameter crosses its range (mean |effect|)")
            head = ["rank", "parameter".ljust(width), "range", "mu*", "± 95%", "sigma", "share"]
            total = rows["mu_star"].sum()
            body = [[str(r["rank"]), r["parameter"].ljust(width), _range(r),
                     *(_figure(name, r[c]) for c in ("mu_star", "mu_star_conf", "sigma")),
                     f"{100 * r['mu_star'] / total:.0f}%" if total else "0%"] for _, r in rows.iterrows()]
        else:
            out.append(f"\n{label}: share of its variance the parameter explains alone (S1) and in all (ST)")
            head = ["rank", "parameter".ljust(width), "range", "S1", "± 95%", "ST", "± 95%"]
            body = [[str(r["rank"]), r["parameter"].ljust(width), _range(r),
                     *(f"{r[c]:.3f}" for c in ("S1", "S1_conf", "ST", "ST_conf"))] for _, r in rows.iterrows()]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        for row in [head, *body]:
            out.append("  ".join(c.ljust(w) if i in (1, 2) else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    return out


def _unit(output: str) -> str | None:
    return "decades" if output in LOG10 else unit(OUTPUTS[output][0])


def _figure(output: str, v: float) -> str:
    """An index in its output's unit, the unit itself in the table's heading."""
    return significant(v) if output in LOG10 else figure(OUTPUTS[output][0], v, with_suffix=False)


def _years(years: float) -> str:
    return f"{significant(years)} year{'s' * (years != 1)}"


def _range(row) -> str:
    return f"{significant(row['low'])} to {significant(row['high'])}"


def write(a: Analysis, out: Path) -> dict[str, Path]:
    """indices.csv, runs.csv and sensitivity.png (a bar chart of the indices, a panel per output)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"indices": out / "indices.csv", "runs": out / "runs.csv", "plot": out / "sensitivity.png"}
    a.indices.to_csv(files["indices"], index=False)
    a.runs.to_csv(files["runs"], index=False)
    _plot(a, files["plot"])
    return files


def _plot(a: Analysis, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(a.outputs)
    label_width = 0.07 * max(len(f.key) for f in a.factors)  # inches the parameters' names take
    fig, axes = plt.subplots(1, n, figsize=((3 + label_width) * n, 1.6 + 0.45 * len(a.factors)), squeeze=False,
                             layout="constrained")  # room for the names, which tight_layout cut
    for ax, name in zip(axes[0], a.outputs):
        label = OUTPUTS[name][1]
        rows = a.indices[a.indices["output"] == name].iloc[::-1]  # rank 1 at the top
        y = np.arange(len(rows))
        if a.method == "morris":
            # the interval is clipped at 0: mu* is a mean of absolute values
            low = np.minimum(rows["mu_star_conf"], rows["mu_star"])
            ax.barh(y, rows["mu_star"], xerr=[low, rows["mu_star_conf"]], color="tab:blue")
            ax.set_xlabel(f"mu* ({_unit(name)})" if _unit(name) else "mu*")
        else:
            low = np.minimum(rows["ST_conf"], rows["ST"])
            ax.barh(y, rows["ST"], xerr=[low, rows["ST_conf"]], color="tab:blue", alpha=0.5, label="ST (total)")
            ax.barh(y, rows["S1"], height=0.4, color="tab:blue", label="S1 (alone)")
            ax.set_xlabel("share of variance")
            ax.legend(fontsize=8)
        ax.set_yticks(y, rows["parameter"], fontsize=8)
        ax.set_title(label)
    fig.suptitle(lines(a)[0])
    fig.savefig(path, dpi=80, metadata={"Software": None})  # no version or date: same run, same bytes
    plt.close(fig)
