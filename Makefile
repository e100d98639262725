# Every target creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.installed-base
DEV    := $(VENV)/.installed-dev

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(BASE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,discord,slack,llm]'
	touch $@ $(BASE)

demo: $(BASE)
	$(BIN)/infrawire demo

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(DEV)
	$(BIN)/python -m bench.core
	$(BIN)/python -m bench.poll
	$(BIN)/python -m bench.poll --latency 20 --rounds 3

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
