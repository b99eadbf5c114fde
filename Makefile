# Two commands: `make run` (install + materialize everything) and `make test` (install + tests).
# `make pull` runs the configured API pulls (Oura, REDCap) once into the data root's raw/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR := $(if $(MGLT_DATA_DIR),$(MGLT_DATA_DIR),$(CURDIR)/data)
UI_PORT ?= 3000
export DAGSTER_HOME := $(abspath $(DATA_DIR))/dagster_home

.PHONY: install run pull test ui docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.py $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	@mkdir -p "$(DAGSTER_HOME)"
	@test -f "$(DAGSTER_HOME)/dagster.yaml" || cp mglt_pipeline/automation/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"
	MGLT_DATA_DIR="$(DATA_DIR)" $(BIN)/python -m mglt_pipeline.run

pull: install
	@mkdir -p "$(DAGSTER_HOME)"
	@test -f "$(DAGSTER_HOME)/dagster.yaml" || cp mglt_pipeline/automation/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"
	MGLT_DATA_DIR="$(DATA_DIR)" $(BIN)/python -m mglt_pipeline.pull

test: install
	$(BIN)/python -m pytest -q -n auto --dist loadfile mglt_pipeline_tests

ui: install
	@mkdir -p "$(DAGSTER_HOME)"
	@test -f "$(DAGSTER_HOME)/dagster.yaml" || cp mglt_pipeline/automation/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"
	MGLT_DATA_DIR="$(DATA_DIR)" $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

docs: install
	$(BIN)/python -m mglt_pipeline.warehouse.docs

clean:
	rm -rf "$(DATA_DIR)/warehouse.duckdb" "$(DATA_DIR)/reports" "$(DATA_DIR)/run.lock" "$(DAGSTER_HOME)"
