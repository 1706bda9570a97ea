"""Slither over contracts/ (`make lint`): fails on any High or Medium finding that
docs/slither-triage.md does not explain.

Slither runs from its own virtual environment (.venv-lint: its pins differ from Ape's) and
compiles through Foundry (npm's forge and the project's solc shim, offline). A finding is keyed
by its detector and the first source element it names (`check Contract.function`); each key
in the triage file's table is a finding that was read and either fixed or explained.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = ROOT / "docs" / "slither-triage.md"
VENV = ROOT / ".venv-lint"


def ensure_slither() -> Path:
    slither = VENV / "bin" / "slither"
    if not slither.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
        subprocess.check_call([str(VENV / "bin" / "pip"), "install", "-q", "slither-analyzer==0.11.6"])
    return slither


def key(finding: dict) -> str:
    first = finding["elements"][0] if finding.get("elements") else {}
    name = first.get("name", "?")
    parent = first.get("type_specific_fields", {}).get("parent", {})
    if first.get("type") == "function" and parent.get("name"):
        name = f"{parent['name']}.{name.split('(')[0]}"  # Contract.function
    elif first.get("type") in ("node", "variable") and parent.get("type") == "function":
        contract = parent.get("type_specific_fields", {}).get("parent", {})
        name = f"{contract.get('name', '?')}.{parent['name'].split('(')[0]}"  # the function it sits in
    return f"{finding['check']} {name}"


def triaged() -> set[str]:
    return set(re.findall(r"^\| `([^`]+)` \|", TRIAGE.read_text(), flags=re.M))


def main() -> int:
    slither = ensure_slither()
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "slither.json"
        subprocess.run([str(slither), ".", "--filter-paths", "node_modules|contracts/attack|fuzz/",
                        "--exclude-informational", "--exclude-low", "--exclude-optimization", "--json", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True)
        if not out.exists():
            print("error: slither produced no report (see `slither .` for its output)", file=sys.stderr)
            return 2
        report = json.loads(out.read_text())
    if not report.get("success"):
        print(f"error: slither failed: {report.get('error')}", file=sys.stderr)
        return 2
    findings = report["results"].get("detectors", [])
    known = triaged()
    untriaged = []
    for f in findings:
        k = key(f)
        mark = "triaged " if k in known else "NEW     "
        print(f"{mark}{f['impact']:<7}{f['confidence']:<7}{k}")
        if k not in known:
            untriaged.append(f)
    print(f"{len(findings)} High/Medium findings, {len(findings) - len(untriaged)} triaged in "
          f"{TRIAGE.relative_to(ROOT)}, {len(untriaged)} new")
    for f in untriaged:
        print("\n" + f["description"].strip(), file=sys.stderr)
    return 1 if untriaged else 0


if __name__ == "__main__":
    sys.exit(main())
