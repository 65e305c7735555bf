# Quick start: `make demo` serves the bundled case; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the service alone (all wheels, so `make demo` needs only Python 3.11), and
# the test extra on top (its followthemoney builds PyICU from source: ICU headers needed).
APP_STAMP := $(VENV)/.installed-app
STAMP := $(VENV)/.installed

.PHONY: demo test lint schema bench clean

$(APP_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "pressure-graph needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(APP_STAMP)

$(STAMP): $(APP_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(APP_STAMP)
	$(BIN)/pressure-graph demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

# Regenerate the checked-in GraphQL SDL after changing the API.
schema: $(APP_STAMP)
	$(BIN)/python -c "from graph_service.api.schema import schema; \
	open('schema/schema.graphql', 'w').write(schema.as_str() + '\n')"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_store.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
