"""The `hanzo` command."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import click

from hanzo.econ.params import ParameterError, load
from hanzo.chain.toolchain import check, configure


def fail(message: str) -> None:
    """One line on stderr and exit status 1: the contract for every user-facing error."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def run_errors() -> tuple[type[Exception], ...]:
    """What a run can stop with that is the scenario's doing, not a bug: a policy that decides the impossible
    (StrategyError) or agents that would spend HANZO they do not hold (Overdraft: the day, the flow, the agent
    kind). Each is one line and exit status 1, like a bad scenario, never a traceback."""
    from hanzo.sim.ledger import Overdraft
    from hanzo.sim.strategies import StrategyError

    return StrategyError, Overdraft


def need(extra: str, module: str) -> None:
    """Fail with the install line when an optional extra is missing (the core needs none)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        fail(f"this command needs {module}, from the {extra!r} extra: pip install 'hanzo-econ[{extra}]'"
             + (" (with torch==2.13.0 installed first, as `make setup` does)" if extra == "model" else ""))


@click.group()
@click.version_option(package_name="hanzo-econ")
def main() -> None:
    """hanzo-econ: deploy, simulate and test the Hanzo token economy."""
    configure()


@main.command()
@click.option("--network", default="ethereum:local:test", show_default=True,
              help="Ape network choice; ethereum:local:foundry starts anvil.")
@click.option("--account", default=None,
              help="Ape account alias of the deployer (required off local networks).")
@click.option("--params", "params_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file overriding tokenomics parameters.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write the deployment JSON (default deployments/<network>.json).")
@click.option("--oracle", default=None, help="With --account: the training oracle's address.")
@click.option("--registrar", default=None, help="With --account: the base-model registrar's address.")
@click.option("--team", default=None, help="With --account: the team vesting beneficiary's address.")
@click.option("--developers", default=None, help="With --account: the model developers' allocation address.")
@click.option("--sale", default=None, help="With --account: the public sale address (also given TestUSD's float).")
@click.option("--yes", is_flag=True, help="With --account: unlock once and sign every deployment transaction "
              "without asking (passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE or a prompt).")
def deploy(network: str, account: str | None, params_file: str | None, out: str | None, oracle: str | None,
           registrar: str | None, team: str | None, developers: str | None, sale: str | None, yes: bool) -> None:
    """Deploy and wire the whole contract suite, hand every admin role to the timelock, and audit
    on chain that every role, owner, pool, allocation and setting is what it should be and that
    nothing is queued. A named --account (any real network) must name five distinct role
    addresses, none its own."""
    missing = check()
    if missing:
        fail("; ".join(missing))
    try:
        params = load(params_file)
    except ParameterError as exc:
        fail(str(exc))
    from . import deployment

    given = {"oracle": oracle, "registrar": registrar, "team": team, "developers": developers, "sale": sale}
    deployment.run(network, account, params, Path(out) if out else None, fail, given, yes)


@main.command()
@click.argument("scenario")
@click.option("--years", type=float, default=None, help="Horizon in years (default: the scenario's).")
@click.option("--seed", type=int, default=None, help="Master seed (default: the scenario's).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/<scenario>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--set", "settings", multiple=True, metavar="TABLE.KEY=VALUE",
              help="Override one key of the scenario (repeatable), e.g. --set users.max=50000.")
@click.option("--chain", is_flag=True, help="Run the agents against the deployed contracts and reconcile.")
@click.option("--network", default="ethereum:local:test", show_default=True,
              help="With --chain: the Ape network, or 'embedded' for the embedded EVM (pyrevm, fastest).")
@click.option("--days", type=int, default=None, help="With --chain: days to run on chain (default 30, or --years).")
@click.option("--chain-users", type=int, default=6, show_default=True,
              help="With --chain: the most user accounts on chain (the scenario's population scaled to it).")
@click.option("--processes", type=int, default=1, show_default=True,
              help="With --chain on the embedded EVM: 2 runs the EVM in a second process, behind the agents "
                   "(the same transactions and results, faster on two cores).")
def simulate(scenario: str, years: float | None, seed: int | None, out: str | None, quiet: bool,
             settings: tuple[str, ...], chain: bool, network: str, days: int, chain_users: int,
             processes: int) -> None:
    """Run SCENARIO (a name from `hanzo scenarios` or a TOML file) and write its report."""
    from hanzo.sim.run import simulate as run, write
    from hanzo.sim.scenario import ScenarioError, load, parse_setting
    from hanzo.sim.strategies import ClippedWarning

    if days is not None and not chain:
        fail("--days: only with --chain (the World's horizon is --years)")
    if processes != 1 and not chain:
        fail("--processes: only with --chain (the World runs in one process)")
    if chain:
        if days is not None and years is not None:
            fail("--days and --years: give one (a chain run's horizon)")
        horizon = days if days is not None else round(years * 365) if years is not None else 30
        _simulate_on_chain(scenario, seed, network, horizon, chain_users, quiet, settings, out, processes)
        return
    try:
        sc = load(scenario)
        if settings:
            sc = sc.with_overrides(where="--set", **dict(parse_setting(item) for item in settings))
        if years is not None and not (1 / 365 <= years <= 100):
            raise ScenarioError(f"--years: expected a value in [{1 / 365:.4f}, 100], got {years}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClippedWarning)
            result = run(sc, years=years, seed=seed, progress=not quiet)
    except (ScenarioError, *run_errors()) as exc:
        fail(str(exc))
    for w in caught:  # a trait the scenario names but its rows do not follow: one line, as an error is
        if issubclass(w.category, ClippedWarning):
            click.echo(f"warning: {w.message}", err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    folder = Path(out) if out else Path("out") / result.scenario.name
    files = write(result, folder)
    from hanzo.sim.report import summary_lines

    for line in summary_lines(result.summary, result.scenario["attacker"]):
        click.echo(line)
    click.echo(f"report    {files['report']}")


@main.command()
def scenarios() -> None:
    """List the built-in scenarios, a line each (run one with `hanzo simulate NAME`)."""
    from hanzo.sim.scenario import builtin

    rows = builtin()
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        click.echo(f"{name:<{width}}  {description}")


def _simulate_on_chain(scenario: str, seed: int | None, network: str, days: int, users: int, quiet: bool,
                       settings: tuple[str, ...], out: str | None, processes: int = 1) -> None:
    from hanzo.chain.drivers import DriverError
    from hanzo.sim.crosscheck import FIGURES
    from hanzo.sim.onchain import ChainRunError, run_on_chain, write
    from hanzo.sim.scenario import ScenarioError, load, parse_setting

    if not 1 <= days <= 3650:
        fail(f"--days (or --years x 365): expected 1 to 3650 days on chain, got {days}")
    most = 100_000 if network == "embedded" else 200  # a node sends each transaction through RPC
    if processes not in (1, 2):
        fail(f"--processes: expected 1 or 2, got {processes}")
    if processes == 2 and network != "embedded":
        fail(f"--processes 2: only the embedded EVM (--network embedded) runs in a second process, not {network}")
    if not 1 <= users <= most:
        fail(f"--chain-users: expected 1 to {most:,} on {network}, got {users}")
    try:
        sc = load(scenario)
        if settings:
            sc = sc.with_overrides(where="--set", **dict(parse_setting(item) for item in settings))
        if seed is not None:
            sc = sc.with_overrides(where="--seed", **{"scenario.seed": seed})
    except ScenarioError as exc:
        fail(str(exc))
    from ape.exceptions import ApeException
    from ape.logging import logger

    logger.set_level("ERROR")
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=days, unit="day", desc=f"{sc.name} on {network}")
    try:
        result = run_on_chain(sc, network=network, days=days, users=users,
                              progress=bar.update if bar else None, processes=processes)
    except (ChainRunError, DriverError, ApeException, ScenarioError) as exc:
        fail(f"chain run on {network}: {' '.join(str(exc).split())}")
    finally:
        if bar:
            bar.close()
    files = write(result, sc, network, users, Path(out) if out else Path("out") / f"{sc.name}-chain")
    click.echo(f"{sc.name} on {network}: {result.days} days, {result.accounts:,} user "
               f"account{'' if result.accounts == 1 else 's'} joined of at most "
               f"{users:,} ({result.rows[-1]['users']:,} at the end), {result.transactions:,} transactions")
    from hanzo.sim.units import significant

    if result.prices:
        first, last = (significant(v, 6) for v in (result.prices[0], result.prices[-1]))
        click.echo(f"HANZO in HanzoPool: ${first} on day 1, ${last} on day {result.days}")
    paid = [p for p in result.provider_payments if p["status"] == "settled"]
    if result.provider_payments:
        click.echo(f"Compute Providers pool: {len(result.provider_payments)} payments proposed, {len(paid)} executed, "
                   f"{significant(sum(p['payment'] for p in paid) / 10**18, 6)} HANZO paid to the provider")
    elif result.provider_payments_off:
        click.echo(f"Compute Providers pool: no payments ({result.provider_payments_off})")
    if result.attack:
        a = result.attack
        click.echo(f"governance attacker: {a['attack']} (day {a['attack_day']}; ${a['attack_cost_usd']:,.0f} for "
                   f"{a['bought']:,.0f} HANZO staked), {a['treasury_drained']:,.0f} HANZO released to it")
    versus = json.loads(files["summary"].read_text())["world_vs_chain"]
    click.echo(f"the World at the same scale against the chain ({files['comparison'].name}; why they differ: "
               "summary.json):")
    click.echo(f"  {'figure':<22}{'World':>16}{'chain':>16}{'rel. diff':>11}{'largest':>10}")
    fmt = lambda v: significant(v, 6) if v else "0"  # noqa: E731
    for name in (name for name, _, _ in FIGURES):  # the table's order, not summary.json's sorted keys
        last, largest = versus["last_day"][name], versus["max_rel_diff"][name]
        click.echo(f"  {name:<22}{fmt(last['world']):>16}{fmt(last['chain']):>16}"
                   f"{significant(last['rel_diff'], 2) if last['rel_diff'] else '0':>11}"
                   f"{significant(largest, 2) if largest else '0':>10}")
    if result.ok:
        click.echo(f"reconciled: all {result.checked} balances, supply, burn, emission and market figures agree to the wei")
        click.echo(f"report    {files['report']}")
    else:
        click.echo(f"report    {files['report']}")
        click.echo(f"NOT reconciled: {len(result.differences)} of {result.checked} figures differ:")
        for line in result.differences:
            click.echo(f"  {line}")
        sys.exit(2)


@main.command()
@click.argument("scenario")
@click.option("--param", "params", multiple=True, metavar="TABLE.KEY=V1,V2,...",
              help="Values to sweep (repeatable: the grid is their product).")
@click.option("--runs", type=int, default=10, show_default=True, help="Monte Carlo runs per grid point.")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (default: a local Ray).")
@click.option("--seed", type=int, default=None, help="Master seed (default: the scenario's).")
@click.option("--years", type=float, default=None, help="Horizon in years (default: the scenario's).")
@click.option("--workers", type=int, default=None, help="Local processes (default: one per core).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: out/<scenario>-sweep).")
def sweep(scenario, params, runs, backend, address, seed, years, workers, out) -> None:
    """Monte Carlo runs and parameter sweeps of SCENARIO."""
    if backend == "ray":
        need("ray", "ray")
    from hanzo.sim.scenario import ScenarioError, load
    from hanzo.sim.sweep import parse_params, sweep as run_sweep

    try:
        sc = load(scenario)
        if years is not None:
            sc = sc.with_overrides(where="--years", **{"scenario.years": years})
        grid = parse_params(params)
        folder = Path(out) if out else Path("out") / f"{sc.name}-sweep"
        summary = run_sweep(sc, grid, runs=runs, out=folder, backend=backend, master_seed=seed,
                            workers=workers, address=address, progress=True)
    except (ScenarioError, *run_errors()) as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(f"--backend {backend}: {exc}")
    keys = [k for k, _ in parse_params(params)]
    from hanzo.sim.sweep import printed
    from hanzo.sim.units import significant

    # each heading with its unit; 7,260,505, not 7.261e+06
    click.echo(printed(summary, keys).to_string(index=False, float_format=significant))
    click.echo(f"dataset   {folder / 'dataset'}\nsummary   {folder / 'summary.csv'}\nfan chart {folder / 'fan_charts.png'}")


@main.command()
@click.argument("scenario")
@click.option("--param", "params", multiple=True, metavar="TABLE.KEY=LOW:HIGH",
              help="A parameter and its range (repeatable), e.g. --param users.sell_share=0.3:0.6.")
@click.option("--method", type=click.Choice(["morris", "sobol"]), default="morris", show_default=True)
@click.option("--trajectories", type=int, default=None, help="Morris trajectories (default 10: 10 x (params + 1) "
              "runs), or with sobol the base sample, a power of 2 (default 64: 64 x (params + 2) runs).")
@click.option("--output", "outputs", multiple=True, metavar="NAME", help="A figure to rank the parameters on "
              "(repeatable; default price_log10, total_supply, reward_gini; also price, burned, staked, treasury, "
              "users, wealth_gini, votes_top_10pct, ...: a wrong name lists them all).")
@click.option("--years", type=float, default=None, help="Horizon in years (default: the scenario's).")
@click.option("--seed", type=int, default=None, help="Seed of the sample and of every run (default: the scenario's).")
@click.option("--set", "settings", multiple=True, metavar="TABLE.KEY=VALUE", help="Override a key in every run.")
@click.option("--workers", type=int, default=1, show_default=True, help="Local processes.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/<scenario>-sensitivity).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sensitivity(scenario, params, method, trajectories, outputs, years, seed, settings, workers, out, quiet) -> None:
    """Rank SCENARIO's parameters by their effect on its outcomes (global sensitivity with SALib):
    a table per output, indices.csv, runs.csv and sensitivity.png."""
    need("sensitivity", "SALib")
    from hanzo.sim import sensitivity as sa
    from hanzo.sim.scenario import ScenarioError

    try:
        sc = _scenario(scenario, settings, seed)
        analysis = sa.analyze(sc, params, method=method, size=trajectories, years=years, outputs=outputs,
                              workers=workers, progress=not quiet)
    except (ScenarioError, *run_errors()) as exc:
        fail(str(exc))
    folder = Path(out) if out else Path("out") / f"{analysis.scenario}-sensitivity"
    files = sa.write(analysis, folder)
    click.echo("\n".join(sa.lines(analysis)))
    click.echo(f"\nindices   {files['indices']}\nruns      {files['runs']}\nplot      {files['plot']}")


@main.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--years", type=float, default=None, help="Horizon in years (default: each scenario's).")
@click.option("--seed", type=int, default=None, help="Seed of every run (default: each scenario's).")
@click.option("--set", "settings", multiple=True, metavar="TABLE.KEY=VALUE", help="Override a key in every scenario.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: out/compare-<A>-<B>...).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def compare(scenarios, years, seed, settings, out, quiet) -> None:
    """Run SCENARIOS side by side: their headline figures in a table, price and supply overlaid."""
    from hanzo.sim import compare as cmp
    from hanzo.sim.scenario import ScenarioError, parse_setting

    try:
        result = cmp.compare(list(scenarios), years=years, seed=seed, progress=not quiet,
                             settings=dict(parse_setting(item) for item in settings))
    except (ScenarioError, *run_errors()) as exc:
        fail(str(exc))
    folder = Path(out) if out else Path("out") / "-".join(["compare", *result.labels]).replace(" ", "")
    files = cmp.write(result, folder)
    click.echo("\n".join(result.lines()))
    click.echo(f"\ntable     {files['table']}\nplot      {files['plot']}")


def _scenario(name: str, settings: tuple[str, ...], seed: int | None):
    """A scenario with --set's and --seed's overrides, each blamed on its option."""
    from hanzo.sim.scenario import load, parse_setting

    sc = load(name)
    if settings:
        sc = sc.with_overrides(where="--set", **dict(parse_setting(item) for item in settings))
    return sc.with_overrides(where="--seed", **{"scenario.seed": seed}) if seed is not None else sc


@main.command()
@click.option("--kind", type=click.Choice(["hllm", "gpt"]), default="hllm", show_default=True)
@click.option("--size", type=click.Choice(["small", "medium"]), default="small", show_default=True,
              help="small: the shipped model (~1.07M parameters, batch 16 x 128); medium: ~6.4M parameters "
                   "(HLLM d_model 384, potential width 512, 8 layers; GPT d_model 256, 8 layers), batch 64 x 256.")
@click.option("--steps", type=int, default=2000, show_default=True)
@click.option("--minutes", type=float, default=None, help="Stop after this much training time.")
@click.option("--batch-size", type=int, default=None, help="Sequences a step (default: the size's, 16 for small).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Checkpoint folder (default .cache/hllm/KIND, .cache/hllm/KIND-SIZE for other sizes than small).")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming the checkpoint in --out.")
def train(kind, size, steps, minutes, batch_size, out, fresh) -> None:
    """Train the base model on Shakespeare (checkpoints, resumes)."""
    need("model", "torch")
    from hanzo.model.hllm.data import DataError
    from hanzo.model.hllm.model import SIZES
    from hanzo.model.hllm.train import CACHE, CheckpointError, TrainConfig, train as run

    preset = SIZES[size]
    batch_size = preset.batch_size if batch_size is None else batch_size
    if steps < 1 or batch_size < 1:
        fail("--steps and --batch-size: expected positive integers")
    cfg = TrainConfig(kind=kind, size=size, steps=steps, batch_size=batch_size, block_size=preset.block_size,
                      time_limit_s=minutes * 60 if minutes else None)
    folder = Path(out) if out else CACHE / (kind if size == "small" else f"{kind}-{size}")
    try:
        _, history = run(cfg, folder, resume=not fresh, log=click.echo)
    except (DataError, CheckpointError) as exc:
        fail(str(exc))
    vals = [(s, v) for s, _, v, _ in history if v is not None]
    click.echo(f"{kind}: step {history[-1][0]}, validation loss {vals[-1][1]:.3f} nats/char, "
               f"{history[-1][3]:.0f} s; checkpoint {folder}")


@main.command()
@click.option("--prompt", default="ROMEO:\n", show_default=True)
@click.option("--n", "length", type=int, default=300, show_default=True, help="Characters to generate.")
@click.option("--temperature", type=float, default=0.8, show_default=True)
@click.option("--top-k", type=int, default=20, show_default=True)
@click.option("--steer", default=None, help="A word to steer toward (strength > 0) or away from (< 0).")
@click.option("--strength", type=float, default=0.0, show_default=True)
@click.option("--model", "model_dir", type=click.Path(file_okay=False), default=None,
              help="Checkpoint folder (default: the trained one in .cache, else the shipped base).")
@click.option("--seed", type=int, default=0, show_default=True)
def generate(prompt, length, temperature, top_k, steer, strength, model_dir, seed) -> None:
    """Generate text with the base model, optionally steered."""
    need("model", "torch")
    from hanzo.model.hllm.data import CharTokenizer
    from hanzo.model.hllm.train import CACHE, SHIPPED, CheckpointError, generate as gen, load_model

    if temperature <= 0:
        fail(f"--temperature: expected > 0, got {temperature}")
    folder = Path(model_dir) if model_dir else (CACHE / "hllm" if (CACHE / "hllm" / "model.safetensors").is_file()
                                                else SHIPPED)
    try:
        model = load_model(folder)
    except CheckpointError as exc:
        fail(str(exc))
    click.echo(prompt + gen(model, CharTokenizer.load(), prompt, length, temperature, top_k, steer, strength, seed))


@main.command()
@click.option("--user", required=True, help="The user whose fork to train (letters, digits, '_', '.', '-').")
@click.option("--fork", "fork_id", type=int, default=1, show_default=True, help="The fork's ModelNFT id.")
@click.option("--domain", default="hamlet", show_default=True,
              help="The domain the oracle scores the session in (locally a held-out play: hamlet, the-tempest, "
                   "julius-caesar, twelfth-night).")
@click.option("--text", "text_file", required=True, type=click.Path(dir_okay=False), help="The user's text.")
@click.option("--adapter-hash", default=None,
              help="The adapter the chain last paid for this fork (hex), to continue it; omit for a new fork.")
@click.option("--secret", default=None, help="Encrypt the adapter at rest with a key derived from this secret.")
@click.option("--owner", default=None,
              help="The fork owner's name when --user trains someone else's fork: --adapter-hash is then the "
                   "owner's adapter (the chain's head is the owner's last paid one).")
def finetune(user, fork_id, domain, text_file, adapter_hash, secret, owner) -> None:
    """One training session on a user's fork, judged by the quality oracle: the gate (repetitive
    text is refused; only what the public corpus and earlier submissions lack is new), updates
    that follow from the new text, and the loss drop on the oracle's private text in the domain:
    paid, neutral (not beyond noise) or low quality."""
    need("model", "torch")
    from hanzo.model.forks import ForkTrainer, TextError
    from hanzo.model.hllm.train import CACHE, CheckpointError
    from hanzo.model.lora import AdapterError
    from hanzo.model.oracle import OracleConfig, QualityOracle
    from hanzo.model.private_eval import PrivateEvalError
    from hanzo.model.quality import Rejected

    try:
        text = Path(text_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--text {text_file}: {exc}")
    recorded = None
    if adapter_hash is not None:
        try:
            recorded = bytes.fromhex(adapter_hash.removeprefix("0x"))
            assert len(recorded) == 32
        except (ValueError, AssertionError):
            fail(f"--adapter-hash: expected 64 hex digits, got {adapter_hash!r}")
    try:
        trainer = ForkTrainer()
        path = trainer.adapter_path(user, fork_id)
        if recorded is None and path.exists():
            fail(f"fork {fork_id} of {user} has an adapter ({path}): give the hash the chain last paid with "
                 "--adapter-hash")
        oracle = QualityOracle(trainer, OracleConfig(CACHE / "oracle"))
        if domain not in oracle.domains:
            fail(f"--domain: expected one of {', '.join(oracle.domains)}, got {domain!r}")
        verdict = oracle.judge(user, fork_id, domain, text, fork_head=recorded, secret=secret, head_owner=owner)
    except Rejected as exc:
        fail(f"refused ({exc.reason}): {exc}")
    except (TextError, AdapterError, CheckpointError, PrivateEvalError, ValueError) as exc:
        fail(str(exc))
    q, session = verdict.quality, verdict.session
    if verdict.outcome == "paid":
        trainer.promote(session)  # offline there is no chain to pay it: a paid adapter is current at once
    judged = {"paid": f"paid, multiplier {q.multiplier}", "neutral": f"neutral ({q.reason}): no pay, no burn",
              "low quality": f"low quality ({q.reason}): reward burned"}[verdict.outcome]
    click.echo(f"{user}: {verdict.new_chars:,} new characters of {len(text):,}; {session.updates} updates; {domain} "
               f"loss drop {q.score:+.4f} ± {q.score_se:.4f} nats, base {q.base_change:+.4f}: {judged}; "
               f"{verdict.interactions} interactions payable")
    click.echo(f"adapter {session.adapter_path} ({session.adapter_path.stat().st_size:,} bytes), version "
               f"{session.version}, sha256 {session.adapter_hash.hex()}, median update {session.median_update_ms:.1f} ms")


@main.command()
@click.option("--network", default="ethereum:local:foundry", show_default=True, help="Ape network (anvil by default).")
@click.option("--sessions", type=int, default=2, show_default=True, help="Training sessions per user.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the oracle's and the forks' files here (a new temporary folder by default).")
def demo(network: str, sessions: int, work: Path | None) -> None:
    """Users train forks with real text; the chain pays each scored update (on anvil)."""
    missing = check()
    if missing:
        fail("; ".join(missing))
    need("model", "torch")
    from ape.exceptions import ApeException

    from hanzo.cli.rewards_demo import run
    from hanzo.model.hllm.train import CheckpointError
    from hanzo.chain.rewards import RewardError

    try:
        result = run(network, sessions, say=click.echo, work=work)
    except (ApeException, RewardError, CheckpointError) as exc:
        fail(f"demo on {network}: {' '.join(str(exc).split())}")
    if not result["ok"]:
        fail("the chain's balances differ from the reference model (see above)")
    if not result["fair"]:
        fail("a greedy strategy earned more than honest work (see above)")

