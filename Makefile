# The two commands of the README: `make demo` and `make test`.
# Both install what they need on a fresh Debian/Ubuntu machine first.
CARGO ?= cargo
NPM ?= npm

.PHONY: demo test deps browser npm lint

demo: browser
	$(CARGO) run --release --quiet -- demo

test: deps lint
	$(CARGO) test --all-targets

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

deps: browser npm

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

# npm devDependencies (web-vitals, the oracle the collector is tested against).
npm: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
