# Two commands on a fresh machine:  `make site` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# The CPU build of torch goes in first, so the `torch>=2.2` requirement is already met
# and pip never pulls a multi-GB CUDA build.
TORCH   ?= torch==2.13.0

$(BIN)/physai-blog: pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

.PHONY: setup site test clean
setup: $(BIN)/physai-blog
	@# The browser tests drive Debian's chromium (never `playwright install`); skipped without it.
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "note: /usr/bin/chromium is missing and root is needed to install it: the browser tests will be skipped"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	    || echo "note: could not install chromium: the browser tests will be skipped"; }

site: setup
	$(BIN)/physai-blog build
	@echo "Open file://$(CURDIR)/site/index.html  (or: $(BIN)/physai-blog serve)"

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf site .physai-cache
