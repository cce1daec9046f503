#!/usr/bin/env bash
# The GitHub Action's step (action.yml): certifies a credential helper or a login CLI with one
# or several suites, gated by an optional baseline report and waiver file; writes the reports
# into credconform-report/ (one folder per suite when several are named), the job summary with
# regressions first, and the outputs (verdict and counts). Inputs arrive as INPUT_* variables.
# CREDCONFORM_BIN, when set, is the credconform binary to use instead of `cargo run`.
set -uo pipefail

fail() { echo "::error title=credconform::$*"; exit 2; }

credconform() {
  if [ -n "${CREDCONFORM_BIN:-}" ]; then
    "$CREDCONFORM_BIN" "$@"
  else
    cargo run --release --locked --quiet --manifest-path "$ACTION_PATH/Cargo.toml" -- "$@"
  fi
}

target=()
if [ -n "${INPUT_HELPER:-}" ] && [ -n "${INPUT_LOGIN_CLI:-}" ]; then
  fail "give either helper or login-cli, not both"
elif [ -n "${INPUT_HELPER:-}" ]; then
  target=(--helper "$INPUT_HELPER")
elif [ -n "${INPUT_LOGIN_CLI:-}" ]; then
  target=(--login-cli "$INPUT_LOGIN_CLI")
  [ -n "${INPUT_PROFILE:-}" ] && target+=(--profile "$INPUT_PROFILE")
else
  fail "the helper or the login-cli input is required (a path or a program name on PATH)"
fi

flags=()
case "${INPUT_STRICT:-false}" in
  true) flags+=(--strict) ;;
  false | "") ;;
  *) fail "strict must be true or false, got: $INPUT_STRICT" ;;
esac
for input in BASELINE WAIVERS; do
  var=INPUT_$input
  file=${!var:-}
  [ -z "$file" ] && continue
  [ -f "$file" ] || fail "${input,,} file not found: $file"
  flags+=("--${input,,}" "$file")
done

out=credconform-report
mkdir -p "$out"
echo "report-dir=$out" >> "${GITHUB_OUTPUT:-/dev/null}"
suites_input=${INPUT_SUITES:-}
read -r -a suites <<< "${suites_input//,/ }"
[ ${#suites[@]} -eq 0 ] && suites=("")
read -r -a extra <<< "${INPUT_ARGS:-}"

code=0
reports=()
for suite in "${suites[@]}"; do
  dir=$out${suite:+/$suite}
  mkdir -p "$dir"
  selection=()
  [ -n "$suite" ] && selection=(--suite "$suite")
  c=0
  credconform "${target[@]}" "${selection[@]}" "${flags[@]}" \
    --junit "$dir/junit.xml" --json "$dir/report.json" --markdown "$dir/report.md" \
    --html "$dir/report.html" --badge "$dir/badge.svg" "${extra[@]}" || c=$?
  [ "$c" -gt "$code" ] && code=$c
  [ -f "$dir/report.json" ] && reports+=("$dir/report.json")
done

if [ ${#reports[@]} -gt 0 ]; then
  python3 "$ACTION_PATH/action/summary.py" "${GITHUB_STEP_SUMMARY:-/dev/null}" \
    "${GITHUB_OUTPUT:-/dev/null}" "${reports[@]}" || code=2
else
  echo "verdict=" >> "${GITHUB_OUTPUT:-/dev/null}"
fi

case $code in
  0) ;;
  1) echo "::error title=credconform::a failure that no baseline or waiver accepts; see the job summary and $out/" ;;
  *) echo "::error title=credconform::credconform could not run (exit $code)" ;;
esac
exit $code
