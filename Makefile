# Two commands: `make run` (certmate on http://localhost:8000) and `make test` (the whole suite).
# Both create .venv and install what they need on first use: `make run` only what running needs
# (requirements/run.txt), `make test` and `make lint` the test and lint tools on top (requirements/dev.txt).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint install install-dev clean

$(RUN_STAMP): requirements/run.txt requirements/base.txt requirements/dns-plugins.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/run.txt
	@touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements/dev.txt
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@touch $@

# What `make run` needs; `make install-dev` adds the test and lint tools.
install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

run: $(RUN_STAMP)
	$(PY) -m certmate.devserver

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=certmate.settings.test $(PY) manage.py makemigrations --check --dry-run

# Four pytest processes at once, each with its own embedded PostgreSQL, broker folder and published
# material (CERTMATE_VAR_DIR): the end-to-end tests in two halves (real workers, Pebble, BIND9, secret
# stores; mostly waiting on them) and the rest in two halves by folder. All must pass; the logs of the
# three that run in the background are printed after the one in the foreground, each ending with its
# ten slowest tests.
TEST_HALF := tests/api tests/certificates tests/backups tests/importing tests/metrics tests/audit
E2E_HALF := $(addprefix tests/e2e/,test_notifications_worker_loss.py test_reissue.py test_reissue_order_limit.py \
	test_renewal_failures.py test_renewal_worker_loss.py test_renewals.py test_revocation.py test_secrets_sweep.py \
	test_servers.py test_storage_outage.py test_sweep_markers.py)
PYTEST := $(VENV)/bin/pytest --durations=10
test: lint
	@mkdir -p var
	@CERTMATE_VAR_DIR=$(CURDIR)/var/e2e CERTMATE_TEST_DATABASE_SUFFIX=_e2e \
		$(PYTEST) tests/e2e $(addprefix --ignore=,$(E2E_HALF)) > var/e2e-tests.log 2>&1 & e2e=$$!; \
	CERTMATE_VAR_DIR=$(CURDIR)/var/e2e2 CERTMATE_TEST_DATABASE_SUFFIX=_e2e2 $(PYTEST) $(E2E_HALF) > var/e2e2-tests.log 2>&1 & e2e2=$$!; \
	CERTMATE_VAR_DIR=$(CURDIR)/var/half CERTMATE_TEST_DATABASE_SUFFIX=_half $(PYTEST) $(TEST_HALF) > var/half-tests.log 2>&1 & half=$$!; \
	trap 'kill $$e2e $$e2e2 $$half 2>/dev/null' INT TERM; \
	$(PYTEST) --ignore=tests/e2e $(addprefix --ignore=,$(TEST_HALF)); rest=$$?; \
	wait $$half; half_status=$$?; \
	wait $$e2e; e2e_status=$$?; \
	wait $$e2e2; e2e2_status=$$?; \
	for log in half e2e e2e2; do echo "== run beside the rest: var/$$log-tests.log"; cat var/$$log-tests.log; done; \
	test $$rest -eq 0 && test $$half_status -eq 0 && test $$e2e_status -eq 0 && test $$e2e2_status -eq 0

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
