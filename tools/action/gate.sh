#!/usr/bin/env bash
# The action's gate step: `rumcheck run` (a whole gate, or one shard of it)
# or, with `samples`, `rumcheck compare` over the shards' samples. Reports
# go to the out directory; the exit code and the artifact name become step
# outputs, so the reports are uploaded before the job fails.
set -euo pipefail

out="${INPUT_OUT:-rumcheck-out}"
mkdir -p "$out"
read -r -a extra <<<"${INPUT_ARGS:-}"

if [ -n "${INPUT_SAMPLES:-}" ]; then
	read -r -a patterns <<<"$INPUT_SAMPLES"
	files=()
	for pattern in "${patterns[@]}"; do
		matches=$(compgen -G "$pattern" || true)
		if [ -z "$matches" ]; then
			echo "::error::samples: no file matches '$pattern' (did the shard jobs upload their samples, and did download-artifact put them there?)"
			exit 2
		fi
		while IFS= read -r f; do files+=("$f"); done <<<"$matches"
	done
	args=(compare "${files[@]}" --scenario "$INPUT_SCENARIO")
	artifact="${INPUT_ARTIFACT_NAME:-rumcheck-report}"
else
	args=(run "$INPUT_SCENARIO" --out "$out")
	if [ -n "${INPUT_REFERENCE_URL:-}" ]; then args+=(--reference-url "$INPUT_REFERENCE_URL"); fi
	if [ -n "${INPUT_RUNS:-}" ]; then args+=(--runs "$INPUT_RUNS"); fi
	if [ -n "${INPUT_SHARD:-}" ]; then
		args+=(--shard "$INPUT_SHARD")
		# An artifact name cannot hold '/': shard 2/4 uploads as rumcheck-shard-2-of-4.
		artifact="${INPUT_ARTIFACT_NAME:-rumcheck-shard-${INPUT_SHARD%%/*}-of-${INPUT_SHARD##*/}}"
	else
		artifact="${INPUT_ARTIFACT_NAME:-rumcheck-report}"
	fi
fi
if [ -n "${INPUT_BASELINE:-}" ]; then args+=(--baseline "$INPUT_BASELINE"); fi
args+=(--html "$out/report.html" --json "$out/results.json" --junit "$out/junit.xml" --markdown "$out/summary.md")

# rumcheck appends the Markdown summary to $GITHUB_STEP_SUMMARY itself.
echo "rumcheck ${args[*]} ${extra[*]}"
set +e
rumcheck "${args[@]}" "${extra[@]}"
code=$?
set -e
echo "exit-code=$code" >>"$GITHUB_OUTPUT"
echo "artifact=$artifact" >>"$GITHUB_OUTPUT"
