# RNN Playground: `make run` serves the app, `make test` runs every check CI runs.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8501
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run test lint format bench torch parity screenshot clean

# Each stamp records that a requirements file is installed; editing the file reinstalls it.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime-installed
	@echo "RNN Playground: open http://localhost:$(PORT) in a browser (Ctrl+C stops the server)"
	$(BIN)/streamlit run serve.py --server.port $(PORT)

test: $(VENV)/.dev-installed
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_haproxy.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Optional extras: PyTorch CPU (one exact version, a local CPU build) for parity and benchmarks.
$(VENV)/.torch-installed: requirements-torch.txt $(VENV)/.dev-installed
	$(PY) -m pip install --quiet -r requirements-torch.txt
	touch $@

torch: $(VENV)/.torch-installed

# With torch installed, the fast layers run the parity tests too instead of skipping them.
parity: $(VENV)/.torch-installed
	$(PY) -m pytest -m "not e2e"

bench: $(VENV)/.torch-installed
	$(PY) -m rnn_core bench
	$(PY) benchmarks/headless_bench.py
	$(PY) benchmarks/baselines_eval.py
	bash scripts/ensure_chromium.sh
	$(PY) benchmarks/browser_bench.py

# Retakes the README's picture (docs/screenshot.png) in the browser test that trains live.
screenshot: $(VENV)/.dev-installed
	bash scripts/ensure_chromium.sh
	UPDATE_README_SCREENSHOT=1 $(PY) -m pytest tests/e2e -k test_start_trains_live_and_pause_stops

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache .hypothesis
