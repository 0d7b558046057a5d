# The two commands a new machine needs: `make run` and `make test`. Each builds .venv on first use
# (and again whenever pyproject.toml changes), never from the system's site-packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench screenshots clean

$(STAMP): pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tui-chat $(ARGS)

test: $(STAMP)
	bash tests/ensure_tmux.sh
	$(BIN)/ruff check tui_chat tests benchmarks
	$(BIN)/ruff format --check tui_chat tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check tui_chat tests benchmarks
	$(BIN)/ruff format --check tui_chat tests benchmarks
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

screenshots: $(STAMP)
	$(BIN)/python screenshots/make.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
