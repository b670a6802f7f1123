# make run  — set up (.venv, requirements, demo database if missing) and start the dashboard
# make test — the same set-up, then the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     := data/cx.duckdb
PORT   ?= 8501

.PHONY: run test setup demo check clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(VENV)/.installed

$(DB): | $(VENV)/.installed
	$(PY) -m metrics demo --db $(DB) --if-missing

demo: $(DB)

check: setup
	$(PY) -m metrics check

run: setup $(DB)
	$(PY) -m streamlit run dashboard.py --server.port $(PORT) --server.headless true

test: setup $(DB)
	$(PY) -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) $(DB) $(DB).wal .pytest_cache
