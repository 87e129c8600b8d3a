# mltriage: `make demo` and `make test` work from a clean clone (they create .venv and install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench score clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mltriage demo

test: $(STAMP)
	$(PY) -m pytest

score: $(STAMP)
	$(PY) ../shared/bench/score.py --cmd "$(CURDIR)/$(VENV)/bin/mltriage"

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/bench_diagnose.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
