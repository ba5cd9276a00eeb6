# The commands of the README: `make run`, `make test` and `make stack`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
MULTIARCH := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu")')
# package:file-that-shows-it-is-installed, for what the sandbox and the browser tests need
SANDBOX_SYSTEM_PACKAGES := bubblewrap:/usr/bin/bwrap util-linux:/usr/bin/setpriv util-linux:/usr/bin/prlimit \
	libseccomp2:/usr/lib/$(MULTIARCH)/libseccomp.so.2 python3:/usr/bin/python3
TEST_SYSTEM_PACKAGES := $(SANDBOX_SYSTEM_PACKAGES) chromium:/usr/bin/chromium procps:/usr/bin/pgrep iproute2:/bin/ip

.PHONY: run test stack lint format install serve-setup clean bench-load

run: serve-setup
	$(PY) manage.py runserver $(HOST):$(PORT)

# The production shape on this machine: gunicorn, a Celery worker and beat
# under honcho (Procfile), on PostgreSQL and Redis (docs/operations.md).
stack: install
	@scripts/system-packages.sh $(SANDBOX_SYSTEM_PACKAGES)
	$(PY) -m examsite.stack --host $(HOST) --port $(PORT)

test: install
	@scripts/system-packages.sh $(TEST_SYSTEM_PACKAGES)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# Many candidates at once against the stack (bench/load.py; figures in docs/performance.md).
bench-load: install
	@scripts/system-packages.sh $(SANDBOX_SYSTEM_PACKAGES)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/load.py $(ARGS)

serve-setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_exams
	$(PY) manage.py create_demo_accounts

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || scripts/system-packages.sh python3-venv:/nonexistent
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var/db.sqlite3* var/staticfiles
