# The two entry points of the README: `make demo` and `make test` (`make serve` runs the control
# plane alone).
VENV ?= .venv
BIN := $(VENV)/bin
# A real Triton server for the serving-engine tests, in its own environment (it needs numpy<2).
TRITON_VENV ?= .venv-triton
TRITON_REQUIREMENTS := tests/engines/triton-requirements.txt

.PHONY: install demo serve test lint triton

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

$(TRITON_VENV)/.installed: $(TRITON_REQUIREMENTS)
	python3 -m venv $(TRITON_VENV)
	$(TRITON_VENV)/bin/pip install --quiet --upgrade pip
	$(TRITON_VENV)/bin/pip install --quiet -r $(TRITON_REQUIREMENTS)
	touch $@

triton: $(TRITON_VENV)/.installed

demo: install
	$(BIN)/monitor demo

serve: install
	$(BIN)/monitor serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint triton
	$(BIN)/pytest
