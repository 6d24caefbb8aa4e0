PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

MIN_VENV  ?= .venv-min
MIN_TESTS ?= tests

.PHONY: all install demo test test-min lint typecheck bench clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/audit demo --out demo-output

AXE := tests/browser/node_modules/axe-core/axe.min.js

# axe-core for the report's browser tests (npm registry; skipped where npm is absent, and then those
# tests skip on a developer machine and fail under CI=true)
$(AXE): tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $(AXE); \
	else echo "npm not found: the browser tests need it (apt-get install npm)"; fi

test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest -n 2 -q

# The lowest versions pyproject.toml allows for each direct dependency (uv's lowest-direct resolution,
# in a venv of its own, made anew each time), then the tests (MIN_TESTS picks a subset).
test-min: $(AXE)
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet uv
	$(MIN_VENV)/bin/uv pip install --quiet --python $(MIN_VENV)/bin/python --resolution lowest-direct -e '.[dev]'
	$(MIN_VENV)/bin/uv pip list --python $(MIN_VENV)/bin/python
	$(MIN_VENV)/bin/python -m pytest -n 2 -q -m "not packaging" $(MIN_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check auditor rules tests bench
	$(BIN)/mypy auditor

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(MIN_VENV) tests/browser/node_modules demo-output .pytest_cache .mypy_cache .ruff_cache
