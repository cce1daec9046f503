#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite against fake-registry with bearer token
# auth, logged in as the two-factor account of fixtures/registry/oci-conformance.toml with its
# personal access token, inside a network namespace that has only loopback.
#
#   reports/oci-conformance.sh           write reports/fake-registry/{junit.xml,report.html,report.md}
#   reports/oci-conformance.sh --check   run into a temporary folder and fail when any test case's
#                                        status differs from the committed junit.xml
#
# OCI_CONFORMANCE_BIN  the suite's test binary (default target/compat/bin/oci-conformance, which
#                      compat/build.sh builds from the module pinned in compat/go.mod)
# FAKE_REGISTRY_BIN    a fake-registry binary to serve with; otherwise `credconform registry`
#                      from CREDCONFORM_BIN (default target/release/credconform, built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
mode=write
for arg in "$@"; do
  case "$arg" in
    --check) mode=check ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
  esac
done
suite=${OCI_CONFORMANCE_BIN:-"$root/target/compat/bin/oci-conformance"}
seed="$root/fixtures/registry/oci-conformance.toml"
# The account and personal access token of the seed (test fixtures, never real secrets).
username=conformance
pat=fkr_pat_conformance_admin_5e7a9c1b3d5f

if [ ! -x "$suite" ]; then
  echo "oci-conformance: no conformance test binary at $suite (build it with compat/build.sh," \
       "or set OCI_CONFORMANCE_BIN)" >&2
  exit 2
fi
if [ -n "${FAKE_REGISTRY_BIN:-}" ]; then
  registry=("$FAKE_REGISTRY_BIN")
else
  bin=${CREDCONFORM_BIN:-"$root/target/release/credconform"}
  if [ -z "${CREDCONFORM_BIN:-}" ] && [ "${CC_INSIDE_NETNS:-}" != 1 ]; then
    cargo build --quiet --release --locked --manifest-path "$root/Cargo.toml" -p credconform
  fi
  registry=("$bin" registry)
fi

# Everything below runs in a network namespace with only loopback, where one can be made.
if [ "${CC_INSIDE_NETNS:-}" != 1 ]; then
  if unshare --net true 2>/dev/null; then
    export OCI_CONFORMANCE_BIN=$suite
    [ -n "${FAKE_REGISTRY_BIN:-}" ] || export CREDCONFORM_BIN=${registry[0]}
    exec unshare --net env CC_INSIDE_NETNS=1 \
      bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
  fi
  echo "oci-conformance: cannot create a network namespace; running on the host network" \
       "(every request still goes to 127.0.0.1)" >&2
fi

work=$(mktemp -d /tmp/oci-conformance.XXXXXX)
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

: >"$work/registry.out"   # exists before the background job opens it
"${registry[@]}" --listen 127.0.0.1:0 --seed "$seed" >"$work/registry.out" 2>"$work/registry.err" &
registry_pid=$!
address=
for _ in $(seq 1 300); do   # at most 30 s for the first stdout line
  address=$(sed -n 's#^listening on http://\(127\.0\.0\.1:[0-9]*\)$#\1#p' "$work/registry.out" || true)
  [ -n "$address" ] && break
  kill -0 "$registry_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$address" ]; then
  echo "oci-conformance: the registry did not print 'listening on http://127.0.0.1:PORT'" >&2
  cat "$work/registry.err" >&2
  exit 2
fi

# A clean environment: only the settings below reach the suite (no OCI_* of the caller). The
# spec version is the released 1.1; all four workflows (pull, push, content discovery, content
# management) run, and so do the optional APIs fake-registry implements.
results="$work/results"
set +e
(cd "$work" && env -i PATH="$PATH" HOME="$work" \
  OCI_REGISTRY="$address" OCI_TLS=disabled \
  OCI_REPO1=conformance/repo1 OCI_REPO2=conformance/repo2 \
  OCI_USERNAME="$username" OCI_PASSWORD="$pat" \
  OCI_VERSION=1.1 OCI_API_PULL=true OCI_API_PUSH=true \
  OCI_API_TAGS_LIST=true OCI_API_REFERRER=true \
  OCI_API_TAGS_DELETE=true OCI_API_MANIFESTS_DELETE=true OCI_API_BLOBS_DELETE=true \
  OCI_API_BLOBS_UPLOAD_CANCEL=true OCI_API_BLOBS_DIGEST_HEADER=true \
  OCI_API_MANIFESTS_DIGEST_HEADER=true OCI_API_MANIFESTS_TAG_PARAM=true \
  OCI_RESULTS_DIR="$results" OCI_LOG=warn \
  timeout 900 "$suite" >"$work/suite.out" 2>"$work/suite.err")
code=$?
set -e
if [ "$code" -gt 1 ] || [ ! -s "$results/junit.xml" ] || [ ! -s "$results/report.html" ]; then
  echo "oci-conformance: the suite did not run to the end (exit $code)" >&2
  tail -n 20 "$work/suite.err" >&2
  exit 2
fi
if grep -q -F "$pat" "$results/junit.xml" "$results/report.html" "$work/suite.out"; then
  echo "oci-conformance: the suite's output contains the personal access token; not kept" >&2
  exit 2
fi

version=unknown
if command -v go >/dev/null; then
  version=$(go version -m "$suite" 2>/dev/null | awk '$1 == "mod" {print $3; exit}')
  version=${version:-unknown}
fi

if [ "$mode" = check ]; then
  python3 "$here/oci_conformance.py" compare "$here/fake-registry/junit.xml" "$results/junit.xml"
else
  out="$here/fake-registry"
  mkdir -p "$out"
  cp "$results/junit.xml" "$results/report.html" "$out/"
  python3 "$here/oci_conformance.py" markdown "$results/junit.xml" "$work/suite.out" "$version" \
    >"$out/report.md"
  echo "fake-registry: $(sed -n 's/^\*\*\(.*\)\*\*$/\1/p' "$out/report.md" | head -n 1)"
fi
