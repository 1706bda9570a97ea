"""The package layout keeps its promises: no package imports one that sits above it, and the
core runs without the optional extras (the reward hook needs no torch)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hanzo

PACKAGES = Path(hanzo.__file__).parent
# what each package may import from hanzo (besides itself and the top-level `hanzo`)
ALLOWED = {
    "econ": set(),
    "chain": {"econ"},
    "sim": {"econ", "chain"},
    "model": {"econ"},
    "cli": {"econ", "chain", "sim", "model"},
}


def _hanzo_imports(path: Path, package: str) -> set[str]:
    """The hanzo packages a module imports, absolute or relative."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's folder
                parts = list(path.relative_to(PACKAGES).parts[:-1])
                if node.level - 1 > len(parts):
                    raise AssertionError(f"{path}: relative import above hanzo")
                base = parts[: len(parts) - (node.level - 1)]
                names = [".".join(["hanzo", *base, *([node.module] if node.module else [])])]
            else:
                names = [node.module or ""]
        for name in names:
            parts = name.split(".")
            if parts[0] == "hanzo" and len(parts) > 1 and parts[1] != package:
                found.add(parts[1])
    return found


def test_no_package_imports_one_above_it():
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((PACKAGES / package).rglob("*.py")):
            extra = _hanzo_imports(path, package) - allowed - {"__init__"}
            if extra:
                problems.append(f"{path.relative_to(PACKAGES)} imports hanzo.{', hanzo.'.join(sorted(extra))}")
    assert not problems, problems
    assert set(ALLOWED) == {p.name for p in PACKAGES.iterdir() if (p / "__init__.py").is_file()}


def test_layering_check_catches_an_upward_import(tmp_path):
    module = PACKAGES / "econ" / "_probe_upward.py"
    module.write_text("from hanzo.chain import deploy\n")
    try:
        assert _hanzo_imports(module, "econ") == {"chain"}
    finally:
        module.unlink()


def _without(blocked: tuple[str, ...], body: str) -> subprocess.CompletedProcess:
    """Run `body` in a fresh interpreter where the `blocked` packages cannot be imported at all."""
    guard = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {blocked!r}:\n"
        "            raise ImportError(f'No module named {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    done = subprocess.run([sys.executable, "-c", guard + body], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_reward_hook_simulator_and_cli_import_without_torch():
    done = _without(("torch", "ray", "radcad", "safetensors"), (
        "import hanzo.chain.rewards, hanzo.chain.deploy, hanzo.sim.world, hanzo.sim.run, hanzo.sim.sweep\n"
        "import hanzo.sim.onchain, hanzo.cli, hanzo.cli.deployment\n"
        "from hanzo.sim.run import simulate\n"
        "from hanzo.sim.scenario import load\n"
        "s = simulate(load('baseline'), years=0.1)\n"
        "print('days', len(s.series))\n"
    ))
    assert int(done.stdout.split()[-1]) >= 30, done.stdout


def test_cli_names_the_extra_when_torch_is_missing():
    done = _without(("torch",), (
        "from click.testing import CliRunner\n"
        "from hanzo.cli import main\n"
        "r = CliRunner().invoke(main, ['generate', '--n', '5'])\n"
        "print(r.exit_code, r.output)\n"
    ))
    assert done.stdout.startswith("1 "), done.stdout
    assert "hanzo-econ[model]" in done.stdout


def test_the_guard_really_blocks():
    done = _without(("torch",), "import importlib\ntry:\n    import torch\nexcept ImportError:\n    print('blocked')\n")
    assert done.stdout.strip() == "blocked"


def test_no_cli_module_is_named_like_a_command():
    """`from hanzo.cli import deploy` must not hand back the click command instead of the module
    (it did twice: `deploy` and `demo`)."""
    from hanzo.cli import main

    modules = {p.stem for p in (PACKAGES / "cli").glob("*.py")}
    assert not modules & set(main.commands), modules & set(main.commands)
