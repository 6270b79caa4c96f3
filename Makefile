# The two README commands: `make demo` (the main job end to end) and `make test` (every test).
# Each creates the virtualenv and installs what it needs when missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEEDS := $(BIN)/seedsmetrics
export DO_NOT_TRACK := 1
export PGTZ := UTC

.PHONY: venv lock demo test lint pytest ci-build ci-slim semantic bouncer docs warehouse-start warehouse-stop bench-load bench-build clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
	@touch $(STAMP)

venv: $(STAMP)

## lock: record the exact versions of the current environment in constraints.txt
lock: $(STAMP)
	@{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt

## demo: embedded warehouse, synthetic Django source (scale 0.1), load, dbt build, docs
demo: $(STAMP)
	$(SEEDS) demo

## test: lint, pytest (unit + integration on real PostgreSQL), dbt build on the ci target
test: $(STAMP) lint pytest ci-build semantic bouncer

lint: $(STAMP)
	$(BIN)/ruff check scripts bouncer_checks
	$(SEEDS) exec --target ci -- sqlfluff lint models tests --processes 2 --disable-progress-bar --nocolor

pytest: $(STAMP)
	$(BIN)/python -m pytest; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

ci-build: $(STAMP)
	$(SEEDS) demo --target ci --scale 0.02 --source-database savings_ci --skip-docs

## ci-slim: build only state:modified+ (and tests), deferring unchanged parents to the production
## manifest kept by `seedsmetrics run` (SLIM_STATE; see scripts/seedsmetrics/slim_ci.py)
SLIM_STATE ?= .warehouse/state/prod
ci-slim: $(STAMP)
	$(BIN)/python -m seedsmetrics.slim_ci --state $(SLIM_STATE)

## semantic: MetricFlow's checks of the semantic layer (models/semantic/): the semantic manifest,
## then the semantic models, dimensions, entities, measures and metrics queried on the ci database;
## run it after ci-build (the warehouse checks read the built ci marts)
semantic: $(STAMP)
	$(SEEDS) dbt parse --target ci --quiet
	$(SEEDS) exec --target ci -- mf validate-configs --show-all

## bouncer: dbt-bouncer's project rules (dbt-bouncer.yml) on the ci target's manifest and catalog;
## run it after ci-build (the catalog checks read the built ci database)
bouncer: $(STAMP)
	$(SEEDS) dbt docs generate --target ci --target-path target/bouncer --log-path logs/bouncer --quiet
	@$(BIN)/python -c "import json, sys; nodes = json.load(open('target/bouncer/catalog.json'))['nodes']; \
	  sys.exit(0 if any(k.startswith('model.') for k in nodes) else 'bouncer: the ci database has no models (run make ci-build first)')"
	$(BIN)/dbt-bouncer run --config-file dbt-bouncer.yml --show-all-failures

docs: $(STAMP)
	$(SEEDS) dbt docs generate --static

warehouse-start: $(STAMP)
	$(SEEDS) warehouse start

warehouse-stop: $(STAMP)
	$(SEEDS) warehouse stop

clean:
	-$(SEEDS) warehouse stop
	rm -rf target logs .warehouse
