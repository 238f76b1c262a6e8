# Everything runs from a local virtual environment that `make install` builds from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint typecheck unit conformance conformance-node bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: install
	$(BIN)/bbdc-sim serve --port 7990

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# On pytest-xdist workers, one per CPU (every test is parallel-safe: port 0, own state).
unit: install
	$(BIN)/pytest -q -n auto

# The conformance suite (features/) against the bundled reference implementation, on an
# in-process simulator; prints the verdict and the total time, writes the report.
conformance: install
	$(BIN)/bbdc-sim conform --report build/conformance-report

# The conformance suite against the Node.js reference (examples/node-integration/, Node 18+,
# no dependencies): its own tests, then the harness starts `node server.js --port 0` (a free
# port, whatever PORT says), reads the URL it prints, runs every scenario against it and stops
# it (--sut-command); every @must must pass (its @should warnings are the choices it makes
# the other way). Report in build/conformance-node/.
NODE_EXAMPLE := examples/node-integration
conformance-node: install
	cd $(NODE_EXAMPLE) && npm ci --no-audit --no-fund && npm test
	$(BIN)/bbdc-sim conform \
		--sut-command "node $(NODE_EXAMPLE)/server.js --port 0" --report build/conformance-node

# The conformance suite against every mutant of the reference (conformance/mutants/, one
# realistic bug each): prints the kill table and the time; fails when a mutant survives.
.PHONY: mutants
mutants: install
	$(BIN)/python -m conformance.mutants.table

test: lint typecheck unit conformance conformance-node

# schemathesis against /_sim/openapi.json with thousands of cases (make test runs a few
# hundred of them inside `unit`); FUZZ_EXAMPLES cases per operation.
FUZZ_EXAMPLES ?= 50
.PHONY: fuzz
fuzz: install
	BBDC_SIM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) BBDC_SIM_FUZZ_SECONDS=3600 \
		$(BIN)/pytest -q tests/simulator/test_fuzz.py

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
