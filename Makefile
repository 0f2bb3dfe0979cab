# riskmap: two commands for a fresh machine (see README.md).
#   make demo  - create .venv, install riskmap, build maps/reports/CSVs for the three basins into out/
#   make test  - create .venv, install riskmap with test extras, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out

.PHONY: demo test install install-test data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

demo: install
	$(BIN)/riskmap demo -o $(OUT)

test: install-test
	$(BIN)/python -m pytest

# Rebuild data/ from the public sources (../shared/data/sources by default).
data: install
	$(BIN)/riskmap data build-reference
	$(BIN)/riskmap data build-sites
	$(BIN)/riskmap data build-natech

clean:
	rm -rf $(OUT) .pytest_cache
