# The two commands: `make run` and `make test`. Everything they need installs from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench faults clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@scripts/run.sh

test: install
	@scripts/test.sh

lint: install
	$(BIN)/ruff check .

bench: install
	@scripts/bench.sh

# Fault tests with real processes, including a PostgreSQL restart (never in `make test`:
# it would break anything else using this PostgreSQL at that moment).
faults: install
	@scripts/test.sh -q tests/test_faults.py tests/faults_pg_restart.py

clean:
	rm -rf var .pytest_cache
