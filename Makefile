# One command per job. Each target sets up what it needs on a fresh machine (Python 3.11+,
# git, make): a virtual environment in .venv, torch 2.13.0 (CPU) first, then the package.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Optional: a PyTorch wheel index for the CPU build where the default pip config has none.
TORCH_INDEX ?=

.PHONY: run test test-ray lint bench eval build clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot

test: $(STAMP)
	$(PY) -m pytest

# The build on Ray (optional extra): installs it, then runs only the tests marked `ray`
# (a real 2-CPU local cluster; `make test` leaves them out).
test-ray: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,ray]'
	$(PY) -m pytest -m ray

build: $(STAMP)
	$(PY) -m bot build

lint: $(STAMP)
	$(PY) -m ruff check bot evaluation tests benchmarks
	$(PY) -m mypy bot evaluation

bench: $(STAMP)
	$(PY) benchmarks/run.py

# `make eval DATASET=votes.jsonl` runs a `python -m bot feedback export` file (or one dataset).
DATASET ?= all
eval: $(STAMP)
	$(PY) -m evaluation $(DATASET)

clean:
	rm -rf $(VENV) index/CURRENT index/build-* index/.tmp-build-*
