# mltriage: `make demo` and `make test` work from a clean clone (they create .venv and install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet

.PHONY: install demo test lint check bench score variants clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	touch $@

# what the demo needs: mltriage and its runtime dependencies only
$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(PIP) -e .
	# an editable install compiles no bytecode (a wheel's install does): without it every run
	# recompiles ~150 modules where the environment sets PYTHONDONTWRITEBYTECODE (stale files are
	# ignored by Python, never used)
	$(PY) -m compileall -q src
	touch $@

# the test suite's extras (boosting libraries, shap, cleanlab, polars)
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) -e ".[test]"
	touch $@

# the shape guards: ruff, mypy
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/mltriage demo

test: $(VENV)/.installed-test
	$(PY) -m pytest

# lint, format check, type check and the README's generated codes table
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m mltriage.docs --check

check: lint test

score: $(VENV)/.installed-test
	$(PY) ../shared/bench/score.py --cmd "$(CURDIR)/$(VENV)/bin/mltriage"

bench: $(VENV)/.installed-test
	$(PIP) -e ".[bench]"
	$(PY) benchmarks/bench_diagnose.py

# the generalisation suite: failures planted in other real data sets (benchmarks/variants/README.md)
variants: $(VENV)/.installed-test
	$(PIP) -e ".[variants]"
	$(PY) benchmarks/variants/run.py --cmd "$(CURDIR)/$(VENV)/bin/mltriage"

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
