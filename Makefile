# touchstream: `make demo` runs the pipeline end to end, `make test` runs the whole suite.
# Both set everything up on first use: a virtualenv in .venv and the Kafka broker jars
# (resolved from Maven Central into .cache/ by the first `touchstream kafka up`).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test lint typecheck architecture unit integration faults bench kafka-up kafka-down clean deploy-tools deploy-check

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	@command -v java >/dev/null || { echo "Java 17+ is needed for the local Kafka broker"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is needed to resolve the Kafka broker jars"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) /usr/bin/chromium

# The browser tests drive Debian's chromium through Playwright (Playwright's own browser
# download is not used). Installed when missing and we are root (CI); otherwise they skip.
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "chromium is missing and cannot be installed here: the browser test will fail"; fi

demo: install
	$(BIN)/touchstream demo

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# the import contracts in pyproject.toml: layers, independent domains, Faust only in the runtime
architecture: install
	$(BIN)/lint-imports

# The integration tests start the local broker if none answers, and stop it when they end.
test: lint typecheck architecture deploy-tools
	$(BIN)/pytest -q -m "not faults" --durations=15

unit: install
	$(BIN)/pytest -q -m "not integration"

integration: install
	$(BIN)/pytest -q -m integration

bench: install
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/pip install -q --no-deps aeon==1.6.0
	$(BIN)/python -m benchmarks.run

# fault scenarios under steady load (minutes each; a 30-minute soak: TOUCHSTREAM_SOAK_SECONDS),
# their counts and recovery times merged into benchmarks/results/latest.json under "faults"
faults: install
	$(BIN)/pytest -q -s -m faults tests/faults

kafka-up: install
	$(BIN)/touchstream kafka up

kafka-down: install
	$(BIN)/touchstream kafka down

clean:
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache

# Deployment tools the deploy tests and the Prometheus integration test run (nothing downloads
# at test time): Debian's prometheus (promtool) and docker-compose, Helm built from its Go
# module, and the offline Kubernetes manifest validator (deploy/k8s-validate), into .cache/bin.
TOOLS        := .cache/bin
HELM_VERSION := v3.22.0
GO           ?= $(shell command -v go || echo /usr/local/go/bin/go)
SUDO         := $(if $(filter 0,$(shell id -u)),,sudo)

$(TOOLS)/helm:
	@test -x $(GO) || { echo "Go is needed to build Helm"; exit 1; }
	GOBIN=$(abspath $(TOOLS)) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

$(TOOLS)/k8s-validate: deploy/k8s-validate/main.go deploy/k8s-validate/go.mod deploy/k8s-validate/go.sum
	@test -x $(GO) || { echo "Go is needed to build deploy/k8s-validate"; exit 1; }
	cd deploy/k8s-validate && $(GO) build -o $(abspath $@) .

deploy-tools: $(TOOLS)/helm $(TOOLS)/k8s-validate
	@command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v docker-compose >/dev/null \
	  || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	       --no-install-recommends prometheus docker-compose >/dev/null; }

# metrics pages, alert rules (promtool), dashboards (SQL on the embedded engine), Compose file,
# Dockerfile, Helm chart (lint, template, strict decode into the Kubernetes types)
deploy-check: install deploy-tools
	$(BIN)/pytest -q tests/deploy
