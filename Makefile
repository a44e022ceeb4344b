# Twinning: `make run` serves the demo with no services; `make test` runs every check on
# PostgreSQL and Redis (DATABASE_URL / REDIS_URL override the local defaults).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/twinning
REDIS_URL ?= redis://127.0.0.1:6379/0
DEMO_DB := sqlite:///$(CURDIR)/db.sqlite3

.PHONY: run test install install-dev messages lint browser bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed messages
install-dev: $(VENV)/.installed-dev messages

# The Arabic catalogue is compiled with Babel, so no GNU gettext is needed.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -d locale -D django

# The embedded default: SQLite, Celery tasks run eagerly on commit, demo data, no services.
run: install
	DEBUG=1 DATABASE_URL=$(DEMO_DB) REDIS_URL= $(PY) manage.py migrate --noinput
	DEBUG=1 DATABASE_URL=$(DEMO_DB) REDIS_URL= $(PY) manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000/ (English: /en/, Arabic: /ar/)"
	DEBUG=1 DATABASE_URL=$(DEMO_DB) REDIS_URL= $(PY) manage.py runserver 127.0.0.1:8000

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

browser:
	@[ -x /usr/bin/chromium ] || bash scripts/ensure_chromium.sh

# Everything CI checks: lint (and the import layers), Django checks (development and production-like), migrations, tests.
test: install-dev lint browser
	DEBUG=1 DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(PY) manage.py check
	DEBUG=1 DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(PY) manage.py makemigrations --check --dry-run
	DEBUG=0 SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(60))')" \
		ALLOWED_HOSTS=twinning.example.org DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) \
		$(PY) manage.py check --deploy --fail-level WARNING
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(VENV)/bin/pytest -n 2

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
