# The two commands of the README: `make demo` and `make test`. Everything else is set up on the way.
VENV := .venv
STAMP := $(VENV)/.installed
# `make test` runs pytest in TEST_WORKERS processes (pytest-xdist; each gets its own test database).
# Two halve the PostgreSQL run and cut a third off SQLite on a 2-core machine (docs/testing.md);
# TEST_WORKERS=0 runs in one process (for --pdb, or a single test). PYTEST_ARGS: extra arguments.
TEST_WORKERS ?= 2

.PHONY: demo test serve lint bench clean

demo: $(STAMP)
	$(VENV)/bin/fixflow demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

serve: $(STAMP)
	$(VENV)/bin/fixflow serve

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

bench: $(STAMP)
	$(VENV)/bin/fixflow bench $(BENCH_ARGS)

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python) && echo "Using $$PY" && \
	  { [ -x $(VENV)/bin/python ] || $$PY -m venv $(VENV); } && \
	  $(VENV)/bin/python -m pip install --quiet --upgrade pip && \
	  $(VENV)/bin/python -m pip install --quiet -e '.[test]' && touch $(STAMP)

clean:
	rm -rf $(VENV) var
