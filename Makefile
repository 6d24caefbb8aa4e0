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

	rm -rf $(VENV) $(MIN_VENV) tests/browser/node_modules demo-output .pytest_cache .mypy_cache .ruff_cache

lint: $(STAMP)
	$(BIN)/ruff check auditor rules tests bench
	$(BIN)/mypy auditor

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(MIN_VENV) tests/browser/node_modules demo-output .pytest_cache .mypy_cache .ruff_cache
