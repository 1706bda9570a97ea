"""Monte Carlo runs and parameter sweeps of a scenario, on local processes or on Ray.

A sweep is a grid of parameter values (the cartesian product of every --param) times N runs.
Run r of every grid point uses the same seed, derived from the master seed with numpy's
SeedSequence (common random numbers: differences between points are the parameters', not the
noise's). Each run writes its daily series to its own file of one Parquet dataset partitioned by
grid point, `dataset/point=K/run-R.parquet`, and returns only its summary, so a sweep never holds
all runs in memory. The same sweep gives the same numbers on either backend.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .scenario import Scenario, ScenarioError
from .units import unit

QUANTILES = (0.05, 0.5, 0.95)
HEADLINES = ("total_supply", "circulating_supply", "burned", "staked", "treasury", "reward_gini",
             "hanzo_price_final", "rewards_paid_total")
FAN_SERIES = ("hanzo_price_usd", "users", "total_supply", "staked", "price_hmm_7b")
# what `hanzo sweep` prints of summary.csv, after the swept keys and the runs
PRINTED = ("hanzo_price_final_q05", "hanzo_price_final_q50", "hanzo_price_final_q95", "total_supply_q05",
           "total_supply_q50", "total_supply_q95", "burned_mean", "staked_mean", "reward_gini_mean")
# a figure's key in a run's summary where the sweep names it otherwise (its unit is looked up by that key)
SUMMARY_KEYS = {"hanzo_price_final": "hanzo_price_usd.final"}


@dataclass(frozen=True)
class Task:
    """One run: a grid point, a run index and the seed of that run."""

    point: int
    run: int
    seed: int
    overrides: tuple[tuple[str, Any], ...]


def parse_params(specs: Iterable[str]) -> list[tuple[str, list[Any]]]:
    """`table.key=v1,v2` strings to (key, values); values are numbers where they parse as numbers."""
    grid = []
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or "." not in key or not values:
            raise ScenarioError(f"--param {spec!r}: expected TABLE.KEY=V1,V2,... (for example users.growth_per_day=0.005,0.01)")
        grid.append((key.strip(), [_number(v.strip()) for v in values.split(",")]))
    return grid


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text in ("true", "false"):
        return text == "true"
    return text


def plan(scenario: Scenario, grid: list[tuple[str, list[Any]]], runs: int, master_seed: int) -> list[Task]:
    """Every (point, run) with its seed; each point's overrides are validated before anything runs."""
    if runs < 1:
        raise ScenarioError(f"--runs: expected at least 1, got {runs}")
    keys = [k for k, _ in grid]
    points = list(itertools.product(*[v for _, v in grid])) if grid else [()]
    for values in points:
        scenario.with_overrides(where="--param", **dict(zip(keys, values)))  # a bad value names --param
    # 63 bits: a scenario seed is a signed 64-bit integer
    seeds = [int(s.generate_state(1, np.uint64)[0]) >> 1 for s in np.random.SeedSequence(master_seed).spawn(runs)]
    return [Task(p, r, seeds[r], tuple(zip(keys, values))) for p, values in enumerate(points) for r in range(runs)]


def run_task(scenario: Scenario, task: Task, dataset: str) -> dict:
    """Run one task, write its series into the dataset, return its summary row."""
    from .run import simulate

    sc = scenario.with_overrides(**dict(task.overrides), **{"scenario.seed": task.seed})
    result = simulate(sc)
    folder = Path(dataset) / f"point={task.point}"
    folder.mkdir(parents=True, exist_ok=True)
    series = result.series.assign(run=task.run)
    series.to_parquet(folder / f"run-{task.run:05d}.parquet", index=False)
    s = result.summary
    row = {"point": task.point, "run": task.run, "seed": task.seed, **dict(task.overrides)}
    row.update({k: s[k] for k in HEADLINES if k in s})
    row["hanzo_price_final"] = s["hanzo_price_usd"]["final"]
    row["emission_exhausted_day"] = s["emission_exhausted_day"]
    row.update({f"drawn_{k}": v for k, v in s.get("drawn", {}).items()})  # what drove this run's outcome
    return row


def _local(scenario, tasks, dataset, workers, progress: Callable[[int], None]) -> list[dict]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    rows = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_task, scenario, t, dataset) for t in tasks]
        for f in as_completed(futures):
            rows.append(f.result())
            progress(1)
    return rows


def _ray(scenario, tasks, dataset, address: str | None, progress: Callable[[int], None]) -> list[dict]:
    import ray

    ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
             configure_logging=False)
    try:
        remote = ray.remote(run_task)
        shared = ray.put(scenario)
        pending = [remote.remote(shared, t, dataset) for t in tasks]
        rows = []
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            rows.append(ray.get(done[0]))
            progress(1)
        return rows
    finally:
        ray.shutdown()


def sweep(scenario: Scenario, grid: list[tuple[str, list[Any]]], *, runs: int, out: Path, backend: str = "local",
          master_seed: int | None = None, workers: int | None = None, address: str | None = None,
          progress: bool = False) -> pd.DataFrame:
    """Run the sweep; write dataset/, runs.csv, summary.csv and fan charts into `out`."""
    if backend not in ("local", "ray"):
        raise ScenarioError(f"--backend: expected local or ray, got {backend!r}")
    seed = scenario["scenario"]["seed"] if master_seed is None else master_seed
    tasks = plan(scenario, grid, runs, seed)
    dataset = out / "dataset"
    if dataset.exists():
        import shutil

        shutil.rmtree(dataset)  # a rerun replaces the dataset rather than mixing two sweeps
    dataset.mkdir(parents=True)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="run", desc=f"{scenario.name} sweep ({backend})")
    tick = bar.update if bar else (lambda _n: None)
    try:
        if backend == "local":
            rows = _local(scenario, tasks, str(dataset), workers, tick)
        else:
            rows = _ray(scenario, tasks, str(dataset), address, tick)
    finally:
        if bar:
            bar.close()
    runs_table = pd.DataFrame(rows).sort_values(["point", "run"]).reset_index(drop=True)
    runs_table.to_csv(out / "runs.csv", index=False)
    summary = summarize(runs_table, [k for k, _ in grid])
    summary.to_csv(out / "summary.csv", index=False)
    (out / "sweep.json").write_text(json.dumps({
        "scenario": scenario.name, "master_seed": seed, "runs": runs, "backend": backend,
        "grid": {k: v for k, v in grid}, "points": int(runs_table["point"].nunique()),
        "units": {c: u for c in summary.columns if (u := column_unit(c))}}, indent=2) + "\n")  # summary.csv's
    fan_charts(dataset, summary, [k for k, _ in grid], out)
    return summary


def summarize(runs_table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and quantiles of every headline figure per grid point."""
    metrics = [c for c in runs_table.columns if c in HEADLINES or c == "hanzo_price_final"]
    out = []
    for point, group in runs_table.groupby("point", sort=True):
        row = {"point": point, **{k: group[k].iloc[0] for k in keys}, "runs": len(group)}
        for m in metrics:
            values = group[m].astype(float)
            row[f"{m}_mean"] = values.mean()
            for q in QUANTILES:
                row[f"{m}_q{int(q * 100):02d}"] = values.quantile(q)
        out.append(row)
    return pd.DataFrame(out)


def column_unit(column: str) -> str | None:
    """The unit of a column of summary.csv as the report names units (hanzo.sim.units): a figure's, its
    _mean or _qNN aside, or a swept key's; "0 to 1" for a Gini (no unit, but a range); None: unknown."""
    name = re.sub(r"_(mean|q\d\d)$", "", column)
    if name.endswith("_gini"):
        return "0 to 1"
    if name in HEADLINES:
        return unit(SUMMARY_KEYS.get(name, name))
    return unit(column) if "." in column else None  # a swept key, e.g. users.sell_share: %


def printed(summary: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """What `hanzo sweep` prints: the swept keys, the runs and the PRINTED figures, each heading with its unit
    (HANZO, $, %, per day ...), shares as percentages."""
    table = summary[[*keys, "runs", *PRINTED]].copy()
    headings = {}
    for column in table.columns:
        u = column_unit(column)
        if u == "%" and pd.api.types.is_numeric_dtype(table[column]):
            table[column] = table[column] * 100
        headings[column] = f"{column} ({u})" if u else column
    return table.rename(columns=headings)


def fan_charts(dataset: Path, summary: pd.DataFrame, keys: list[str], out: Path) -> Path:
    """Quantile bands over time per grid point, reading one column at a time from the dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pyarrow.dataset as ds

    data = ds.dataset(dataset, format="parquet", partitioning="hive")
    fig, axes = plt.subplots(1, len(FAN_SERIES), figsize=(5 * len(FAN_SERIES), 4))
    for _, row in summary.iterrows():
        label = ", ".join(f"{k}={row[k]}" for k in keys) or "runs"
        table = data.to_table(columns=["day", "run", *FAN_SERIES], filter=ds.field("point") == int(row["point"]))
        frame = table.to_pandas()
        for ax, col in zip(axes, FAN_SERIES):
            wide = frame.pivot(index="day", columns="run", values=col)
            q = wide.quantile(list(QUANTILES), axis=1).T
            years = q.index / 365.0
            line = ax.plot(years, q[0.5], label=label)[0]
            ax.fill_between(years, q[0.05], q[0.95], alpha=0.2, color=line.get_color())
            ax.set_title(f"{col} (median, 5-95%)")
            ax.set_xlabel("year")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path = out / "fan_charts.png"
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)
    return path
