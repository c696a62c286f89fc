#!/usr/bin/env bash
# rumcheck for the action: built from the action's own checkout (`path`, the
# default) or one already on PATH (`installed`).
set -euo pipefail

case "${RUMCHECK_VERSION:-path}" in
installed)
	if ! command -v rumcheck >/dev/null; then
		echo "::error::rumcheck-version: installed, but no rumcheck is on PATH; install it in an earlier step or use rumcheck-version: path"
		exit 1
	fi
	;;
path)
	if ! command -v cargo >/dev/null; then
		echo "::error::rumcheck-version: path builds rumcheck with cargo, which this runner lacks; add a Rust toolchain step (e.g. dtolnay/rust-toolchain@stable) first"
		exit 1
	fi
	root="${RUNNER_TEMP:-/tmp}/rumcheck"
	# Without fat LTO and one codegen unit the build takes a fraction of the
	# time; a gate's time is the browser's, not rumcheck's own code.
	CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
		cargo install --locked --quiet --path "$GITHUB_ACTION_PATH" --root "$root"
	echo "$root/bin" >>"$GITHUB_PATH"
	export PATH="$root/bin:$PATH"
	;;
*)
	echo "::error::rumcheck-version: '${RUMCHECK_VERSION}' is not 'path' or 'installed'"
	exit 1
	;;
esac
echo "rumcheck: $(rumcheck --version)"
