"""Plots and the self-contained HTML report of a run."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from .units import figure, suffix

PNG_META = {"Software": None}  # no version or date in the file: same run, same bytes


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plots(series: pd.DataFrame, summary: dict, out: Path) -> dict[str, Path]:
    plt = _figure()
    years = series["day"] / 365.0
    files = {}

    fig, ax = plt.subplots(figsize=(8, 4))
    for col, label in (("total_supply", "total supply"), ("circulating_supply", "circulating"),
                       ("emitted", "emitted (cumulative)"), ("burned", "burned (cumulative)"), ("staked", "staked")):
        ax.plot(years, series[col] / 1e6, label=label)
    ax.set_xlabel("year")
    ax.set_ylabel("million HANZO")
    ax.set_title(f"Supply: {summary['scenario']} ({summary['choices']['emission_mode']} emission, "
                 f"{summary['choices']['burn_mode']} burn)")
    ax.legend()
    files["plot_supply"] = _save(fig, plt, out / "supply.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(years, series["hanzo_price_usd"])
    ax.set_yscale("log")
    ax.set_xlabel("year")
    ax.set_ylabel("USD per HANZO")
    ax.set_title("HANZO price")
    files["plot_price"] = _save(fig, plt, out / "price.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for col in [c for c in series.columns if c.startswith("price_hmm")]:
        axes[0].plot(years, series[col], label=col[len("price_"):].upper().replace("_", "-"))
    axes[0].set_yscale("log")
    axes[0].set_ylabel("HANZO per credit (1K tokens)")
    axes[0].set_title(f"Compute prices ({summary['choices']['controller']} controller)")
    axes[0].legend()
    for col in [c for c in series.columns if c.startswith("utilization_")]:
        axes[1].plot(years, series[col].rolling(7, min_periods=1).mean(), label=col[len("utilization_"):])
    axes[1].set_title("Utilization (7-day mean)")
    for ax in axes:
        ax.set_xlabel("year")
    files["plot_compute"] = _save(fig, plt, out / "compute.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(years, series["users"] / 1e3)
    ax.set_ylabel("thousand users")
    ax2 = ax.twinx()
    ax2.plot(years, series["rewards_paid"].rolling(30, min_periods=1).mean() / 1e3, color="tab:orange")
    ax2.set_ylabel("thousand HANZO rewards / day (30-day mean)", color="tab:orange")
    ax.set_xlabel("year")
    ax.set_title("Adoption and training rewards")
    files["plot_users"] = _save(fig, plt, out / "users.png")
    return files


def _save(fig, plt, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata=PNG_META)
    plt.close(fig)
    return path


def _rows(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, figure with its unit) for every scalar of the summary; lists of rows (a table
    each, see _tables) are left out."""
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            rows += _rows(v, f"{prefix}{k}.")
        elif not _is_table(v):
            rows.append((prefix + k, figure(prefix + k, v)))
    return rows


def _is_table(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _tables(s: dict) -> str:
    """Each list of rows in the summary (rewards_by_year) as an HTML table, a row a year and a
    column a figure, its unit in the heading."""
    out = []
    for name, rows in s.items():
        if not _is_table(rows):
            continue
        keys = list(rows[0])
        head = "".join(f"<th>{html.escape(_heading(k))}</th>" for k in keys)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(figure(k, row[k], with_suffix=False))}</td>"
                                        for k in keys) + "</tr>" for row in rows)
        out.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2><table><tr>{head}</tr>{body}</table>")
    return "".join(out)


def _heading(key: str) -> str:
    """A table column's heading: the figure's name, and its unit unless the name says it."""
    name, unit = key.replace("_", " "), suffix(key)
    return f"{name} ({unit})" if unit and unit not in name else name


def summary_lines(s: dict, attacker: dict) -> list[str]:
    """What `hanzo simulate` prints: the run, the headline figures with their units, what training
    ops cost on chain against what they pay, and a governance attack's outcome."""
    f, g, c = figure, s["governance"], s["costs"]
    exhausted = s["emission_exhausted_day"]
    lines = [
        f"{s['scenario']}: {f('days', s['days'])}, seed {s['seed']}, {s['choices']['emission_mode']} emission, "
        f"{s['choices']['burn_mode']} burn, {s['choices']['controller']} controller",
        f"  users {s['users_final']:,}   HANZO {f('hanzo_price_usd.final', s['hanzo_price_usd']['final'])}   "
        f"reward Gini {f('reward_gini', s['reward_gini'])}   "
        + (f"emission exhausted on {f('emission_exhausted_day', exhausted)}" if exhausted is not None
           else "emission not exhausted within the horizon"),
        "  HANZO: " + "   ".join(f"{name} {f(key, s[key], with_suffix=False)}" for name, key in (
            ("supply", "total_supply"), ("burned", "burned"), ("staked", "staked"), ("treasury", "treasury"))),
        f"  gas {f('costs.gas_usd_per_user_day', c['gas_usd_per_user_day'])} against rewards of "
        f"{f('costs.reward_usd_per_user_day', c['reward_usd_per_user_day'])}"
        + (f" ({f('costs.gas_share_of_reward', c['gas_share_of_reward'])})" if c["gas_share_of_reward"] is not None
           else ""),
    ]
    v = s["votes"]
    lines.append(f"  top 1% of users hold {f('wealth_top_1pct_share', s['wealth_top_1pct_share'])} of the users' "
                 f"HANZO, top 10% {f('wealth_top_10pct_share', s['wealth_top_10pct_share'])}; votes: users "
                 f"{f('users_share', v['users_share'])} (their top 10% "
                 f"{f('top_10pct_users_share', v['top_10pct_users_share'])}), proposers "
                 f"{f('proposers_share', v['proposers_share'])}"
                 + (f", voter rows {f('voters_share', v['voters_share'])} (turnout "
                    f"{f('turnout_share', g['turnout_share'] or 0.0)})" if "voters_share" in v else "")
                 + (f", attacker {f('attacker_share', v['attacker_share'])}" if v["attacker_share"] else ""))
    if "strategies" in s:  # users follow several strategies: what each earned for its work
        lines.append("  per hour of work: " + ", ".join(
            f"{name} {f('usd_per_hour', row['usd_per_hour'])} ({f('hanzo_per_hour', row['hanzo_per_hour'])})"
            for name, row in s["strategies"].items() if row.get("usd_per_hour") is not None))
    if g["attack"] != "none":
        outcome = (f"  attack {g['attack']} on {f('attack_day', g['attack_day'])}: "
                   f"{f('attack_cost_usd', g['attack_cost_usd'])} bought {f('attacker_hanzo', g['attacker_hanzo'])}")
        if g["attack"].startswith("passed"):
            outcome += (f"; it took {f('treasury_drained', g['treasury_drained'])} of the treasury at the release "
                        f"limit's pace ({f('treasury', s['treasury'])} left)")
        lines.append(outcome)
    elif attacker["enabled"]:  # the attacker's day is past the horizon: say so rather than print nothing
        lines.append(f"  attack none: the attacker starts buying on {f('attack_day', attacker['start_day'])}, "
                     f"after the {f('days', s['days'])} simulated")
    return lines


def render_html(result, files: dict[str, Path], out: Path) -> Path:
    """One HTML file with the summary table and every plot embedded (no external files)."""
    s = result.summary
    desc = html.escape(result.scenario["scenario"]["description"])
    from .scenario import SPEC

    on = [f"[{t}] {k} = {v}" for t in ("policy", "agents", "strategies", "costs", "uncertainty")
          for k, v in result.scenario[t].items() if v != SPEC[t][k][3]]
    switched = ("What-ifs, agent responses, strategies and uncertainty this run turned on: <b>" + html.escape("; ".join(on))
                + "</b>." if on else "No what-if or agent response is on: the contracts' rules and fixed shares.")
    intro = f"""<p>{desc}</p>
<p>{s['days']} days, seed {s['seed']}. Choices: emission mode <b>{s['choices']['emission_mode']}</b> (D1),
burn mode <b>{s['choices']['burn_mode']}</b> (D2), compute price controller <b>{s['choices']['controller']}</b>.</p>
<p>{switched}</p>"""
    return _page(f"Scenario: {s['scenario']}", intro, s, files, out)


def chain_plots(series: pd.DataFrame, summary: dict, out: Path) -> dict[str, Path]:
    """A chain run's supply, price, compute and users plots, day by day (its horizon is days, not years)."""
    plt = _figure()
    files = {}
    # a few days' flows are a rounding error of the supply: each on its own axis
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(series["day"], series["total_supply"] / 1e6)
    axes[0].set_ylabel("million HANZO")
    axes[0].set_title(f"Total supply: {summary['scenario']} on {summary['network']}")
    for col, label in (("emitted", "emitted (cumulative)"), ("burned", "burned (cumulative)"), ("staked", "staked"),
                       ("reward_pool", "reward pool")):
        axes[1].plot(series["day"], series[col] / 1e3, label=label)
    axes[1].set_ylabel("thousand HANZO")
    axes[1].set_title("Flows")
    axes[1].legend()
    for ax in axes:
        ax.set_xlabel("day")
    files["plot_supply"] = _save(fig, plt, out / "supply.png")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(series["day"], series["hanzo_price_usd"])
    ax.set_xlabel("day")
    ax.set_ylabel("USD per HANZO")
    ax.set_title("HANZO price (the World's pool, traded by the chain's accounts)")
    files["plot_price"] = _save(fig, plt, out / "price.png")
    # compute and adoption as the World's compute.png and users.png show them, from what the chain run keeps: one
    # tier (7B, the one its provider serves and the reconciliation checks), and day by day (a few days: no means)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(series["day"], series["price_7b"], label="HMM-7B")
    axes[0].set_ylabel("HANZO per credit (1K tokens)")
    axes[0].set_title("Compute price (HamiltonianMarketMaker)")
    axes[0].legend()
    axes[1].plot(series["day"], series["utilization_7b"], label="HMM-7B")
    axes[1].set_ylabel("share of the capacity offered")
    axes[1].set_title("Utilization")
    for ax in axes:
        ax.set_xlabel("day")
    files["plot_compute"] = _save(fig, plt, out / "compute.png")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(series["day"], series["users"])
    ax.set_ylabel("user accounts")
    ax2 = ax.twinx()
    ax2.plot(series["day"], series["rewards_paid"] / 1e3, color="tab:orange")
    ax2.set_ylabel("thousand HANZO rewards / day", color="tab:orange")
    ax.set_xlabel("day")
    ax.set_title("Adoption and training rewards on chain")
    files["plot_users"] = _save(fig, plt, out / "users.png")
    return files


def chain_report(scenario, summary: dict, files: dict[str, Path], out: Path) -> Path:
    """report.html for a chain run: what ran where, whether the books and the chain agree, the plots."""
    verdict = ("every balance, the supply, the burn, the emission and the market maker agree with the chain to "
               "the wei" if summary["reconciled"] else
               "NOT reconciled: " + html.escape("; ".join(summary["differences"])))
    intro = f"""<p>{html.escape(scenario["scenario"]["description"])}</p>
<p>{summary['days']} days on <b>{html.escape(summary['network'])}</b>, {summary['users']} user accounts,
{summary['transactions']:,} transactions, seed {summary['seed']}. Reconciliation of {summary['figures_checked']}
figures: <b>{verdict}</b>.</p>"""
    return _page(f"Scenario on chain: {summary['scenario']}", intro, summary, files, out)


def _page(title: str, intro: str, summary: dict, files: dict[str, Path], out: Path) -> Path:
    images = "".join(
        f'<figure><img src="data:image/png;base64,{base64.b64encode(files[k].read_bytes()).decode()}" '
        f'alt="{k}"></figure>' for k in sorted(files) if k.startswith("plot_"))
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in _rows(summary))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>hanzo-econ: {html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}td{{padding:2px 12px}}
tr:nth-child(odd){{background:#f3f3f3}}th{{text-align:left;padding:2px 12px}}img{{max-width:100%}}</style></head>
<body><h1>{html.escape(title)}</h1>{intro}
{images}<h2>Summary</h2><table>{table}</table>{_tables(summary)}</body></html>
"""
    path = out / "report.html"
    path.write_text(page)
    return path
