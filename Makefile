# riskmap: two commands for a fresh machine (see README.md).
#   make demo  - create .venv, install riskmap (+ PDF extra), build maps/reports/CSVs for the three basins into out/
#   make test  - create .venv, install riskmap with its test extras, run ruff, mypy and the whole test suite
# The installs are stamped ($(VENV)/.stamp-*, remade only when pyproject.toml changes), so re-runs
# do not call pip again and work offline.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= out

.PHONY: demo test install install-test data i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# riskmap with PDF printing (playwright) and GeoParquet (pyarrow)
$(VENV)/.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[pdf,parquet]"
	touch $@

# + test tools (pytest, nbclient, setuptools for the wheel test, ...)
$(VENV)/.stamp-install-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.stamp-install

install: $(VENV)/.stamp-install

install-test: $(VENV)/.stamp-install-test

demo: install
	$(BIN)/riskmap demo -o $(OUT)

# lint (ruff) and type-check (mypy) the package, then the tests and the docstring examples
test: install-test
	$(BIN)/python -m ruff check riskmap
	$(BIN)/python -m mypy riskmap
	$(BIN)/python -m pytest

# Rebuild data/ from the public sources (../shared/data/sources by default, or RISKMAP_SOURCES).
data: install
	$(BIN)/riskmap data build-reference
	$(BIN)/riskmap data build-hydrology
	$(BIN)/riskmap data build-sites
	$(BIN)/riskmap data build-natech

# Re-extract the user-facing messages into the gettext catalogues (riskmap/locale/*/LC_MESSAGES/*.po)
# and list what is still untranslated.
i18n: install
	$(BIN)/python -m riskmap._i18n_catalog update

clean:
	rm -rf $(OUT) .pytest_cache
