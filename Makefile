# Padu: `make run` starts the demo, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/padu
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint check-deploy messages bench faults-short

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo --port $(PORT)

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		sh .ci/ensure-services
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check-deploy: install
	PADU_ENV=production DEBUG=false ALLOWED_HOSTS=padu.example.com \
		SECRET_KEY=check-deploy-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		TOKEN_ENCRYPTION_KEYS=k1:$$($(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())') \
		$(PY) manage.py check --deploy --fail-level WARNING

messages: install
	$(PY) manage.py makemessages --locale tr --no-location --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --locale tr --ignore '.venv/*'

bench: install
	$(PY) bench/webhooks.py
	$(PY) bench/faults.py
	$(PY) bench/embedded_broker.py
	$(PY) bench/inbox.py
	$(PY) bench/privacy.py
	$(PY) bench/api.py

# Two minutes of bench/faults.py, as CI runs it.
faults-short: install
	$(PY) bench/faults.py --minutes 2 --rate 50 --burst 1000 --redis-down 10
