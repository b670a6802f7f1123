# make run  — set up (.venv, requirements, demo database if missing, an older one upgraded) and start the dashboard
# make run CONFIG=organisation.yaml — the same on an organisation's own config (`python -m metrics init`)
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

# What `make run` starts on: the demo, or an organisation's own config (checked; its database made by init).
ifeq ($(CONFIG),)
prepare: demo
else
prepare: | $(VENV)/.installed
	$(PY) -m metrics check --config $(CONFIG)
endif

check: setup
	$(PY) -m metrics check

run: setup prepare
	CX_CONFIG=$(CONFIG) $(PY) -m streamlit run dashboard.py --server.port $(PORT) --server.headless true

test: setup demo
	$(PY) -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) $(DB) $(DB).wal .pytest_cache
