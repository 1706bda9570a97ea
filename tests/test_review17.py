"""Review of issue 17 (agents, strategies, workflow): each test fails without the fix it names."""

from __future__ import annotations

import os
import subprocess
import sys

from hanzo.chain.toolchain import ROOT

SMALL = ["--set", "users.initial=2000", "--set", "users.max=20000"]


def test_a_policy_that_decides_the_impossible_stops_the_cli_with_one_line_not_a_traceback(tmp_path):
    (tmp_path / "greedy_policies.py").write_text(
        "from hanzo.sim.strategies import Decision, Strategy\n\n\n"
        "class Overseller(Strategy):\n"
        "    def decide(self, view, rows):\n"
        "        return Decision(sell=1.5)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    out = subprocess.run([sys.executable, "-m", "hanzo.cli", "simulate", "baseline", "--years", "0.02", "--quiet",
                          *SMALL, "--set", "strategies.custom_share=0.2",
                          "--set", "strategies.custom_policy=greedy_policies.Overseller", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert out.returncode == 1
    assert out.stderr == "error: day 0: strategy 'custom' decided sell outside [0, 1]\n"
    assert "Traceback" not in out.stderr
