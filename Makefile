# The two commands: `make run` and `make test`. Everything they need installs from the lock
# files in requirements/ (exact versions with hashes); `make lock` regenerates them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
# Extra pip-compile flags, e.g. `make lock LOCK_FLAGS=--upgrade` to move every pin to the
# newest release pyproject.toml allows (without it, existing pins are kept).
LOCK_FLAGS ?=
PIP_COMPILE := $(BIN)/pip-compile --quiet --no-header --strip-extras --generate-hashes \
	--allow-unsafe --no-emit-index-url --no-emit-trusted-host --no-emit-find-links $(LOCK_FLAGS)

export VENV

.PHONY: run test install lock lint bench faults clean

# Re-runs whenever the lock (or pyproject.toml) changes.
$(STAMP): pyproject.toml $(LOCK) $(DEV_LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# After changing dependencies in pyproject.toml: the runtime lock first, then the dev lock
# constrained by it, so both pin the same versions.
lock:
	@test -x $(BIN)/pip-compile || { echo "pip-compile missing: run make install first" >&2; exit 1; }
	$(PIP_COMPILE) --output-file=$(LOCK) pyproject.toml
	$(PIP_COMPILE) --extra=dev --constraint=$(LOCK) --output-file=$(DEV_LOCK) pyproject.toml
	@for f in $(LOCK) $(DEV_LOCK); do cat requirements/header.txt $$f >$$f.new && mv $$f.new $$f; done

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
