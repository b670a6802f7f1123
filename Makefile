# make run  — set up (.venv, requirements, demo database if missing, an older one upgraded) and start the dashboard
# make run CONFIG=organisation.yaml — the same on an organisation's own config (`python -m metrics init`, or the
#   set-up page the dashboard opens on while that file does not exist)
# make test — the same set-up, then the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     := data/cx.duckdb
PORT   ?= 8501
CONFIG ?=

.PHONY: run test setup demo prepare check clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(VENV)/.installed

# The demo database: built when missing, its schema upgraded when older (a second run only opens it).
demo: | $(VENV)/.installed
	$(PY) -m metrics demo --db $(DB) --if-missing

# What `make run` starts on: the demo, or an organisation's own config (checked; its database made by init) — or,
# when that file does not exist yet, the dashboard's set-up page, which writes it.
ifeq ($(CONFIG),)
prepare: demo
else
prepare: | $(VENV)/.installed
	@if [ -f "$(CONFIG)" ]; then $(PY) -m metrics check --config $(CONFIG); \
	else echo "$(CONFIG) does not exist yet: the dashboard opens on its set-up page (the code is in the server's log)"; fi
endif

check: setup
	$(PY) -m metrics check

run: setup prepare
	CX_CONFIG=$(CONFIG) $(PY) -m streamlit run dashboard.py --server.port $(PORT) --server.headless true

test: setup demo
	$(PY) -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) $(DB) $(DB).wal .pytest_cache
