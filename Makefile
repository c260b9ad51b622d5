# stockchat: `make run` serves the app on http://127.0.0.1:8000, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
HOST ?= 127.0.0.1
PORT ?= 8000

# The two README commands run with debug on and the embedded defaults.
DEV_ENV := DJANGO_DEBUG=true

.PHONY: help run test test-sqlite test-postgres lint format check clean deploy-lint deploy-check bench vendor graphql-schema

help:
	@echo "make run    - install, migrate, load demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test   - install the test tools and run the test suite (SQLite, then PostgreSQL)"
	@echo "make lint   - ruff, the import contracts (import-linter), Django's system checks, and a check for missing migrations"
	@echo "make format - format the code with ruff"
	@echo "make bench  - run the benchmarks on loopback and write bench/results/REPORT.md (about 13 minutes)"
	@echo "make vendor - copy the chart library pinned in package.json into static/vendor/ (needs npm)"
	@echo "make graphql-schema - write the GraphQL schema to docs/schema.graphql"
	@echo "make clean  - remove the virtualenv, the SQLite database and collected static files"
	@echo "make deploy-lint  - cfn-lint the ECS template (informational checks too), hadolint the Dockerfile, shellcheck the scripts"
	@echo "make deploy-check - Django's deployment checklist with production variables (no warnings allowed)"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "stockchat needs Python 3.11 or newer; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: requirements.txt | $(VENV)/bin/python
	$(PIP) install -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo_data
	@echo "stockchat is at http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/); Ctrl-C stops it."
	$(DEV_ENV) $(PY) -m stockchat.deploy.server -b $(HOST) -p $(PORT) stockchat.asgi:application

test: test-sqlite test-postgres

test-sqlite: $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	$(PY) -m pytest --db=postgres $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(DEV_ENV) $(PY) manage.py check
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache .ruff_cache

# --- Deployment ---------------------------------------------------------------------
DEPLOY_SCRIPTS := docker/entrypoint.sh docker/release.sh deploy/beanstalk/release.sh deploy/ecs/release.sh \
	.platform/hooks/prebuild/01_metadata_hop_limit.sh .platform/hooks/postdeploy/10_restart_unhealthy.sh
# Production-like variables for the deployment checklist. The secret is made up
# on the spot; nothing here is a real credential.
DEPLOY_ENV = DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=stockchat.example.com DJANGO_CSRF_TRUSTED_ORIGINS=https://stockchat.example.com \
	STOCKCHAT_BEHIND_LOAD_BALANCER=true STOCKCHAT_TRUSTED_PROXY_HOPS=1 DJANGO_LOG_FORMAT=json \
	DATABASE_URL=postgresql://stockchat:unused@db.example.internal:5432/stockchat \
	REDIS_URL=rediss://cache.example.internal:6379/0 \
	AWS_STORAGE_BUCKET_NAME=stockchat-static AWS_MEDIA_BUCKET_NAME=stockchat-media \
	AWS_S3_REGION_NAME=eu-west-1 AWS_CLOUDFRONT_DOMAIN=d111111abcdef8.cloudfront.net

deploy-lint: $(VENV)/.installed-dev
	$(VENV)/bin/cfn-lint deploy/ecs/stockchat.yaml --include-checks I
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/shellcheck $(DEPLOY_SCRIPTS)
	$(PY) -m json.tool deploy/ecs/web-task-definition.json >/dev/null
	$(PY) -m json.tool deploy/ecs/feed-task-definition.json >/dev/null
	$(PY) -m json.tool deploy/ecs/release-task-definition.json >/dev/null

deploy-check: $(VENV)/.installed-run
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING

# --- Benchmarks ---------------------------------------------------------------------
# Throwaway PostgreSQL and Redis, servers and load generators pinned to different
# cores; the app under uvicorn and daphne, orders and API also under uvicorn with two
# processes, py-spy on the order and portfolio paths; BENCH_ARGS passes options (e.g. BENCH_ARGS="--only chat --runs 1").
bench: $(VENV)/.installed-dev
	$(PY) bench/run.py --web-processes 2 --profile $(BENCH_ARGS)

# --- Front-end libraries -------------------------------------------------------------
# Versions are pinned in package.json and locked in package-lock.json; the copied
# files under static/vendor/ are committed, so running the app never needs npm.
vendor:
	./scripts/vendor.sh

# --- GraphQL: docs/schema.graphql is the schema printed; a test fails when they differ ---
graphql-schema: $(VENV)/.installed-dev
	DJANGO_DEBUG=1 $(PY) -m stockchat.graphql.export
