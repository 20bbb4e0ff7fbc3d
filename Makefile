# Two entry points for a fresh machine with Python 3.11:
#   make demo   creates .venv, installs cayley with its io extra, runs the example dataflows
#   make test   creates .venv, installs cayley with its test extras, runs lint and the suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[io]"
	$(BIN)/python examples/word_count/run.py
	$(BIN)/python examples/etl/run.py

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(BIN)/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run.py --write-results

clean:
	rm -rf $(VENV) build *.egg-info
