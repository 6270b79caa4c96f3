# The two README commands: `make demo` (the main job end to end) and `make test` (every test).
# Each creates the virtualenv and installs what it needs when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEEDS := $(BIN)/seedsmetrics
export DO_NOT_TRACK := 1
export PGTZ := UTC

.PHONY: demo test lint pytest ci-build docs warehouse-start warehouse-stop bench-load bench-build clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## demo: embedded warehouse, synthetic Django source (scale 0.1), load, dbt build, docs
demo: $(STAMP)
	$(SEEDS) demo

## test: lint, pytest (unit + integration on real PostgreSQL), dbt build on the ci target
test: $(STAMP) lint pytest ci-build

lint: $(STAMP)
	$(BIN)/ruff check scripts
	$(SEEDS) warehouse start >/dev/null
	$(SEEDS) dbt deps --quiet >/dev/null 2>&1 || true
	DBT_PROFILES_DIR=.warehouse/dbt-profiles $(BIN)/sqlfluff lint models tests --processes 2 --disable-progress-bar --nocolor

pytest: $(STAMP)
	$(BIN)/python -m pytest; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

ci-build: $(STAMP)
	$(SEEDS) demo --target ci --scale 0.02 --source-database savings_ci --skip-docs

docs: $(STAMP)
	$(SEEDS) dbt docs generate --static

warehouse-start: $(STAMP)
	$(SEEDS) warehouse start

warehouse-stop: $(STAMP)
	$(SEEDS) warehouse stop

clean:
	-$(SEEDS) warehouse stop
	rm -rf target logs .warehouse
