"""Plots and the self-contained HTML report of a run."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

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


def _number(key: str, v) -> str:
    """A figure with its unit and the precision it needs: USD with $, shares as percentages, large
    amounts without decimals, small ones to four significant digits (a price of $0.0012 is not 0.00)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    name = key.rsplit(".", 1)[-1]
    if "share" in name or name.endswith("_fraction"):
        return f"{v:.1%}"
    if isinstance(v, int):
        return f"{v:,}"
    if v != 0 and abs(v) < 1:
        text = f"{v:.4g}"
    else:
        text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.2f}"
    return f"${text}" if "usd" in key.lower() else text


def _rows(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            rows += _rows(v, f"{prefix}{k}.")
        elif isinstance(v, list) and v and all(isinstance(x, dict) and "year" in x for x in v):
            for x in v:  # one row group per year, not a Python repr
                rows += _rows({key: y for key, y in x.items() if key != "year"}, f"{prefix}{k}.year {x['year']}.")
        else:
            rows.append((prefix + k, _number(prefix + k, v)))
    return rows


def render_html(result, files: dict[str, Path], out: Path) -> Path:
    """One HTML file with the summary table and every plot embedded (no external files)."""
    s = result.summary
    images = "".join(
        f'<figure><img src="data:image/png;base64,{base64.b64encode(files[k].read_bytes()).decode()}" '
        f'alt="{k}"></figure>' for k in sorted(files) if k.startswith("plot_"))
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in _rows(s))
    desc = html.escape(result.scenario["scenario"]["description"])
    from .scenario import SPEC

    on = [f"[{t}] {k} = {v}" for t in ("policy", "agents", "costs") for k, v in result.scenario[t].items()
          if v != SPEC[t][k][3]]
    switched = ("What-ifs and agent responses this run turned on: <b>" + html.escape("; ".join(on)) + "</b>."
                if on else "No what-if or agent response is on: the contracts' rules and fixed shares.")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>hanzo-econ: {html.escape(s['scenario'])}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}td{{padding:2px 12px}}
tr:nth-child(odd){{background:#f3f3f3}}img{{max-width:100%}}</style></head>
<body><h1>Scenario: {html.escape(s['scenario'])}</h1><p>{desc}</p>
<p>{s['days']} days, seed {s['seed']}. Choices: emission mode <b>{s['choices']['emission_mode']}</b> (D1),
burn mode <b>{s['choices']['burn_mode']}</b> (D2), compute price controller <b>{s['choices']['controller']}</b>.</p>
<p>{switched}</p>
{images}<h2>Summary</h2><table>{table}</table></body></html>
"""
    path = out / "report.html"
    path.write_text(page)
    return path
