# Everything runs from a local virtual environment that `make install` builds from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint typecheck unit conformance bench clean

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

unit: install
	$(BIN)/pytest -q

# The conformance suite (features/) against the bundled reference implementation, on an
# in-process simulator; prints the verdict and the total time, writes the report.
conformance: install
	$(BIN)/bbdc-sim conform --report build/conformance-report

# The conformance suite against every mutant of the reference (conformance/mutants/, one
# realistic bug each): prints the kill table and the time; fails when a mutant survives.
.PHONY: mutants
mutants: install
	$(BIN)/python -m conformance.mutants.table

test: lint typecheck unit conformance

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
