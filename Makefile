# Two commands for a newcomer: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run setup test lint fmt clean pdf-libs bench-ingest bench-allocate bench-invoices bench-explorer bench-scores bench-insights

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory pdf-libs
	@touch $(STAMP)

# WeasyPrint (invoice PDFs) needs Pango and a font from the system; Debian's packages
# bring them when the machine lacks them.
pdf-libs:
	@$(PY) -c "import weasyprint" 2>/dev/null || { \
		echo "Installing Pango and fonts for WeasyPrint (Debian packages)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq \
			libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; }

## setup: install, start the embedded database if needed, migrate, load demo data
setup: $(STAMP)
	$(PY) manage.py migrate_schemas --shared --noinput -v 0
	$(PY) manage.py migrate_schemas --tenant --noinput -v 0
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py load_demo

## run: setup, then the web server and a Celery worker (Ctrl-C stops both)
run: setup
	$(PY) -m portal.devserver $(if $(PORT),--port $(PORT))

## test: lint, then the test suite
test: $(STAMP) lint
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run -v 1

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache

## bench-ingest: generate a 1,000,000-row CUR month and time its ingest against raw COPY
bench-ingest: setup
	$(PY) -m bench.ingest --rows $(or $(ROWS),1000000)

## bench-allocate: allocate the 1,000,000-row month with 50 rules and 3 splits, against a GROUP BY floor
bench-allocate: setup
	$(PY) -m bench.allocate --rows $(or $(ROWS),1000000)

## bench-invoices: draft, issue and render 1,000 invoices of 30 lines, against bare WeasyPrint
bench-invoices: setup
	$(PY) -m bench.invoices --units $(or $(UNITS),1000)

## bench-explorer: time 200 cost explorer API requests over three 10,000,000-line-item months
bench-explorer: setup
	$(PY) -m bench.explorer --rows-per-month $(or $(ROWS),10000000)

## bench-scores: time one week's team scores (and recommendations) of 1,000 teams over a 10,000,000-line-item month
bench-scores: setup
	$(PY) -m bench.scores --rows $(or $(ROWS),10000000) --teams $(or $(TEAMS),1000)

## bench-insights: anomaly detection over 10,000 daily series of 90 days (target 30 s), forecasts of 1,000 series (target 60 s)
bench-insights: setup
	$(PY) -m bench.insights_anomalies --series $(or $(SERIES),10000) --days 90
	$(PY) -m bench.insights_forecasts --series $(or $(FORECASTS),1000)
