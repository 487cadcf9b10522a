# Reproduce the book. Needs only python3.11 (with pip and venv), and make.
#
#   make book                 set up .venv, execute all chapters at CI scale, build the HTML
#   make test                 set up .venv, then everything CI checks
#   make chapter NAME=bars    execute one chapter again and rebuild the HTML
#   make paper                execute all chapters at paper scale (hours)
#   make clean                remove _build/ (figures/ stays)
#
# .venv is created when missing and (re)installed only when requirements/lock.txt or
# pyproject.toml changed (stamp file .venv/.installed-<hash>).

SHELL  := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCK   := requirements/lock.txt
EXTRAS := book,test
SEED   ?= 0
STAMP  := $(VENV)/.installed-$(shell cat $(LOCK) pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)
NBVAL_SANITIZE := tests/nbval_sanitize.cfg

# $(call timed,LABEL,COMMAND): run COMMAND, print its wall time, keep its exit code.
define timed
@start=$$(date +%s); echo "==> $(1)"; $(2); rc=$$?; \
 echo "<== $(1): $$(( $$(date +%s) - start )) s (exit $$rc)"; exit $$rc
endef

.PHONY: setup book test test-unit test-chapters test-browser test-nbval check-metrics chapter paper \
        clean lock lint help

help:
	@sed -n '3,8p' Makefile | sed 's/^# \{0,1\}//'

## --------------------------------------------------------------------- environment
setup: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: python3.11 not found"; exit 1; }
	@test -x $(PY) || { echo "==> creating $(VENV) with $(PYTHON)"; \
	  $(PYTHON) -m venv $(VENV) || $(PYTHON) -m virtualenv $(VENV); }
	$(PY) -m pip install --disable-pip-version-check -q --upgrade "pip>=24"
	$(PY) -m pip install --disable-pip-version-check -q -c $(LOCK) -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "==> $(VENV) ready ($$($(PY) --version))"

## --------------------------------------------------------------------- book
book: setup
	$(call timed,build book (scale ci),$(PY) -m dbcode build --scale ci --seed $(SEED))
	@echo "Open $(CURDIR)/_build/html/index.html"

chapter: setup
	@test -n "$(NAME)" || { echo "usage: make chapter NAME=<chapter> (see: $(PY) -m dbcode chapters)"; exit 2; }
	$(call timed,chapter $(NAME),$(PY) -m dbcode build --scale ci --seed $(SEED) --chapters $(NAME))
	@echo "Open $(CURDIR)/_build/html/index.html"

paper: setup
	$(call timed,build book (scale paper),$(PY) -m dbcode build --scale paper --seed $(SEED))
	@echo "Open $(CURDIR)/_build/html/index.html"

## --------------------------------------------------------------------- tests
# Order: ruff (lint and format); execute the chapters (reusing executed copies that are still fresh) and build the
# HTML with -W; open every built page in headless Chromium (screenshots in
# _build/screenshots/); nbval re-executes the executed chapters and compares their outputs;
# the frozen-metrics check compares figures/manifest.json with the committed one; last the
# pytest suite (unit, pipeline, repository and claim tests, which may read the regenerated
# manifest).
test: setup
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-chapters
	$(MAKE) --no-print-directory test-browser
	$(MAKE) --no-print-directory test-nbval
	$(MAKE) --no-print-directory check-metrics
	$(MAKE) --no-print-directory test-unit

test-chapters: setup
	$(call timed,chapters + html (scale ci),$(PY) -m dbcode build --scale ci --seed $(SEED) --reuse)

test-unit: setup
	$(call timed,pytest,$(PY) -m pytest tests -q -ra --durations=10 --ignore=tests/book/test_browser.py)

# The built book in Chromium (skipped without chromium unless CI is set; see .ci/run).
test-browser: setup
	$(call timed,browser,$(PY) -m pytest tests/book/test_browser.py -q -ra -p no:cacheprovider)

test-nbval: setup
	$(call timed,nbval,nbs=$$(find _build/stage/book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null | sort); \
	  if [ -z "$$nbs" ]; then echo "no executed chapters in _build/stage/book: run make book first"; false; \
	  else $(PY) -m pytest -p no:cacheprovider --nbval --nbval-current-env -p dbcode.book.nbval_environment --nbval-sanitize-with $(NBVAL_SANITIZE) $$nbs -q; fi)

check-metrics: setup
	$(call timed,frozen metrics,$(PY) -m dbcode check-metrics)

lint: setup
	$(call timed,lint,$(PY) -m ruff check dbcode tests benchmarks && $(PY) -m ruff format --check dbcode tests benchmarks)

## --------------------------------------------------------------------- maintenance
# Freeze the versions of the working .venv into the lock file (keeps its dev section).
lock:
	@{ sed -n '1,/^# Tools outside/p' $(LOCK); \
	   $(PY) -m pip freeze --exclude-editable | grep -v '^dbcode'; \
	   sed -n '/^# -- dev/,$$p' $(LOCK); } > $(LOCK).new && mv $(LOCK).new $(LOCK)
	@echo "==> wrote $(LOCK)"

clean:
	rm -rf _build .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
