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
	@# The browser tests drive Debian's chromium (never `playwright install`); the al-folio tests
	@# use Debian's kramdown (GFM) as the oracle and its jekyll. Each is skipped without them.
	@test -x /usr/bin/chromium -a -x /usr/bin/jekyll && ruby -rkramdown -rkramdown-parser-gfm -e '' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "note: chromium, jekyll or ruby-kramdown is missing and root is needed to install them: their tests will be skipped"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium ruby-kramdown ruby-kramdown-parser-gfm jekyll >/dev/null \
	    || echo "note: could not install chromium, jekyll or ruby-kramdown: their tests will be skipped"; }

site: setup
	$(BIN)/physai-blog build
	@echo "Open file://$(CURDIR)/site/index.html  (or: $(BIN)/physai-blog serve)"

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf site .physai-cache
