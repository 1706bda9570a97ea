"""benchmarks/sim.py --case agents compares speeds only if the Mesa model is the World's users' model: the tape
it replays is what the World's users saw and were paid, and on it the two agree. Mesa is not a test
dependency: its Agent, Model and AgentSet are stood in for, as far as benchmarks/mesa_users.py uses them."""

import importlib.util
import sys
import types

import numpy as np
import pytest

from hanzo.chain.toolchain import ROOT


def _load(name, path, monkeypatch):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


class AgentSet(list):
    def __init__(self, agents, random=None):
        super().__init__(agents)

    add, discard = list.append, list.remove

    def do(self, method, *args):
        for a in self:
            getattr(a, method)(*args)

    def map(self, method, *args):
        return [getattr(a, method)(*args) for a in self]

    def agg(self, attribute, func):
        return func([getattr(a, attribute) for a in self])


class Model:
    def __init__(self, seed=None):
        self.rng, self.random, self.agents = np.random.default_rng(seed), None, AgentSet([])


class Agent:
    def __init__(self, model):
        self.model = model
        model.agents.append(self)


@pytest.fixture(scope="module")
def bench(monkeypatch_module):
    monkeypatch_module.setitem(sys.modules, "mesa", types.SimpleNamespace(Agent=Agent, Model=Model))
    monkeypatch_module.setitem(sys.modules, "mesa.agent", types.SimpleNamespace(AgentSet=AgentSet))
    sim = _load("bench_sim_agents", ROOT / "benchmarks" / "sim.py", monkeypatch_module)
    return sim, _load("bench_mesa_users", ROOT / "benchmarks" / "mesa_users.py", monkeypatch_module)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _run(mesa_users, scenario, tape):
    model = mesa_users.Economy(scenario, tape)
    for _ in range(scenario.days):
        model.step()
    return model


def test_the_tape_is_what_the_worlds_users_saw_and_on_it_the_mesa_model_is_the_worlds(bench, monkeypatch):
    """Without churn both sides have the same agents all along: they agree but for the World's rounding to the
    micro-HANZO (a unit per row and day at most)."""
    sim, mesa_users = bench
    scenario = sim.agents_scenario(300, 0.5)
    w, tape = sim.record(scenario)
    assert w.conserved and w.strategies.mixed
    days = scenario.days
    assert len(tape.views) == len(tape.paid) == len(tape.newcomers) == days
    assert [v.day for v in tape.views] == list(range(days))
    assert sum(map(len, tape.newcomers)) == w.users.rows  # every row joined once, on its day
    assert {n[0] for day in tape.newcomers for n in day} == {"honest", "holder", "speculator", "farmer", "spammer"}
    ours = sim.world_aggregates(w)
    assert sum(tape.paid) == pytest.approx(ours["paid"], abs=1e-6)  # every reward the rows were paid, taped
    model = _run(mesa_users, scenario, tape)
    theirs = mesa_users.aggregates(model)
    assert model.active_days == sum(r["users"] for r in w.rows)
    rounding = days * w.users.rows / 1e6  # HANZO
    for name in ("paid", "wallets", "stake", "unstaking"):
        assert theirs[name] == pytest.approx(ours[name], abs=rounding), name
    assert theirs["gini"] == pytest.approx(ours["gini"], abs=1e-6) and theirs["active"] == ours["active"]

    class Holder(mesa_users.Holder):  # a model that differs: holders stake nothing
        def decide(self, view):
            return self.worth(view), 1.0, 0.0, self.traits["sell_share"], 0.0

    monkeypatch.setitem(mesa_users.STRATEGIES, "holder", Holder)
    wrong = sim.disagreements(ours, mesa_users.aggregates(_run(mesa_users, scenario, tape)))
    assert any(line.startswith("stake:") for line in wrong)


def test_with_churn_the_two_agree_within_the_benchmarks_tolerance(bench):
    """Users leave (each side draws its own leavers, by the same rule) and others join later: the benchmark's
    check, at a size a test affords (churn 5x the benchmark's, so that users leave within half a year)."""
    sim, mesa_users = bench
    scenario = sim.agents_scenario(1_000, 0.5).with_overrides(**sim.CHECK_OVERRIDES, **{"agents.churn_per_day": 0.01})
    w, tape = sim.record(scenario)
    assert w.churned > 100 and w.users.rows > 1_050 and w.conserved
    assert sim.disagreements(sim.world_aggregates(w), mesa_users.aggregates(_run(mesa_users, scenario, tape))) == []
