# Two commands for a fresh clone: `make run` and `make test`.
# `make run` installs the runtime dependencies only (requirements.lock); `make test` adds the
# test tools (requirements-test.lock) and the Node packages of the HTTP audit (package-lock.json).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check --quiet
RUNTIME := $(VENV)/.runtime-installed
TESTING := $(VENV)/.test-installed
NODE := node_modules/.package-lock.json

.PHONY: run test lint bench schema lock assets screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements.lock
	$(PIP) install --no-deps -e .
	touch $@

$(TESTING): requirements-test.lock $(RUNTIME)
	$(PIP) install -r requirements-test.lock
	touch $@

$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

run: $(RUNTIME)
	AUDIENCE_DEMO=$${AUDIENCE_DEMO:-1} $(BIN)/audience serve

test: $(TESTING) $(NODE)
	$(BIN)/ruff check .
	$(BIN)/mypy api schema resolvers domain store services
	$(BIN)/pytest -n $${TEST_WORKERS:-auto} --dist loadfile

lint: $(TESTING)
	$(BIN)/ruff check .
	$(BIN)/mypy api schema resolvers domain store services

bench: $(TESTING)
	$(BIN)/python bench/ingest.py

# After any schema change: rewrites schema.graphql and docs/api-reference.md (a test fails
# while they differ from the code's schema).
schema: $(RUNTIME)
	$(BIN)/python -m api.schema_export

# After changing dependencies in pyproject.toml: re-resolve both lock files.
lock: $(BIN)/python
	$(PIP) install uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --quiet -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --quiet \
		-o requirements-test.lock

# Refresh the vendored front-end builds (GraphiQL, Chart.js) from package-lock.json; they are
# committed, so `make run` needs no npm.
assets: $(NODE)
	sed '/sourceMappingURL/d' node_modules/chart.js/dist/chart.umd.min.js \
		> api/static/dashboard/vendor/chart.umd.min.js
	cp node_modules/chart.js/LICENSE.md api/static/dashboard/vendor/chart.js.LICENSE.md
	mkdir -p api/static/graphiql
	cp node_modules/graphiql/graphiql.min.css node_modules/react/umd/react.production.min.js \
		node_modules/react-dom/umd/react-dom.production.min.js api/static/graphiql/
	sed '/sourceMappingURL=/d' node_modules/graphiql/graphiql.min.js \
		> api/static/graphiql/graphiql.min.js
	cp node_modules/graphiql/LICENSE api/static/graphiql/LICENSE-graphiql

# The dashboard screenshots in docs/, from a live demo server and headless /usr/bin/chromium.
screenshots: $(TESTING)
	$(BIN)/python -m tests.browser.screenshots

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache
