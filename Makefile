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
	$(BIN)/pip install -q -e '.[test]'
	touch $@

.PHONY: setup site test clean
setup: $(BIN)/physai-blog

site: setup
	$(BIN)/physai-blog build
	@echo "Open file://$(CURDIR)/site/index.html  (or: $(BIN)/physai-blog serve)"

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf site .physai-cache
