# mlworkbench: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= papermill_configs/german_credit.yaml
UI_PORT ?= 5000

.PHONY: help install demo test test-fast lab ui lint format docs bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv (if missing) and install the project with its dev tools

demo: $(STAMP) ## Run the demo pipeline (German credit), sign its model off, then score and monitor two held-out batches
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mlwb run $(CONFIG)
	@echo "The demo model is high-risk (EU AI Act): its approved version waits as 'candidate' until a person signs it off."
	$(BIN)/mlwb promote german-credit-risk candidate --reason "Demo: model card, fairness gates and risk assessment reviewed"
	$(BIN)/python -m mlworkbench.production.demo reports/demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mlwb score german-credit-risk@champion reports/demo/batch.csv --output reports/demo/scores.csv --id-column application
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mlwb monitor german-credit-risk@champion reports/demo/batch.csv --id-column application
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mlwb monitor german-credit-risk@champion reports/demo/shifted.csv --id-column application || test $$? -eq 4  # ALERT is expected here
	@echo ""
	@echo "Reports: open $(CURDIR)/reports/index.html in a browser; monitoring: reports/monitoring.html"
	@echo "MLflow UI: make ui, then http://127.0.0.1:$(UI_PORT)"

test: $(STAMP) ## Run the whole test suite (unit and end-to-end notebook tests)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

test-fast: $(STAMP) ## Run the unit and docs tests: no notebook kernel, no server (a few minutes)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest tests/unit tests/test_docs.py tests/test_layout.py -m "not notebook and not team"

lab: KERNEL = mlworkbench
lab: $(STAMP) ## Start JupyterLab; its default kernel "mlworkbench (.venv)" (this .venv) is registered for your user
	$(BIN)/python -m ipykernel install --user --name $(KERNEL) --display-name "$(KERNEL) (.venv)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --notebook-dir=$(CURDIR) --MappingKernelManager.default_kernel_name=$(KERNEL)

ui: $(STAMP) ## Start the MLflow UI on 127.0.0.1 against the default store (mlflow.db)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port $(UI_PORT)

lint: $(STAMP) ## Lint and format check (ruff), import layers (import-linter), sizes, notebooks without outputs
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_layout.py
	$(BIN)/nbstripout --verify notebooks/*.ipynb tests/fixtures/notebooks/*.ipynb

format: $(STAMP) ## Format the code and fix what ruff can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: $(STAMP) ## Build the documentation site into site/ (mkdocs --strict); `mkdocs serve` to browse it
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(STAMP) ## Run the benchmarks in bench/ (needs ../shared/data or MLWB_BENCH_DATA)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

clean: ## Remove generated reports, the default MLflow store and caches (keeps .venv)
	rm -rf reports/*/ reports/index.html reports/monitoring.html mlflow.db mlflow.db-* mlflow.db.lock mlruns site .pytest_cache .ruff_cache
