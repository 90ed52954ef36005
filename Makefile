# The two entry points of the README: `make demo` and `make test` (`make serve` runs the control
# plane alone).
VENV ?= .venv
BIN := $(VENV)/bin
# A real Triton server for the serving-engine tests, in its own environment (it needs numpy<2).
TRITON_VENV ?= .venv-triton
TRITON_REQUIREMENTS := tests/engines/triton-requirements.txt

.PHONY: install demo serve test lint triton embeddings

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

# The text encoder's extra, for its tests; torch first, pinned to the CPU build the machines carry
# (an unpinned torch would pull a CUDA build of several GB).
$(BIN)/.embeddings: $(BIN)/.installed
	$(BIN)/pip install --quiet 'torch==2.13.0'
	$(BIN)/pip install --quiet -e '.[dev,embeddings]'
	touch $@

embeddings: $(BIN)/.embeddings

demo: install
	$(BIN)/monitor demo

serve: install
	$(BIN)/monitor serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two test processes at once (most tests wait on servers and subprocesses, so one leaves a core
# idle), grouped so that a module's or the dashboard's shared servers start once; then the tests
# that hold wall-clock budgets, alone on the machine. Both phases run, and either fails the target.
test: lint triton embeddings
	$(BIN)/pytest -n 2 -m "not timing"; parallel=$$?; \
	$(BIN)/pytest -m timing && exit $$parallel
