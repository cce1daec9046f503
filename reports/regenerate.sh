#!/usr/bin/env bash
# Regenerates the certification reports of real third-party credential helpers and login CLIs:
# the Debian packages (and the docker CLI at /usr/local/bin/docker), and the upstream releases
# pinned in compat/go.mod (built from their Go modules by compat/build.sh), each helper with a
# throwaway store. Everything runs inside a network namespace that has only loopback, so nothing
# can leave 127.0.0.0/8 (docker-credential-ecr-login otherwise calls the EC2 metadata endpoint).
#
#   reports/regenerate.sh                  regenerate reports/<program>/report.{json,md,html} + badge
#   reports/regenerate.sh --check          regenerate into a temporary folder and fail when any
#                                          case's verdict differs from the committed report.json
#   reports/regenerate.sh --helpers-only   only the credential helpers (with or without --check)
#
# Without --helpers-only it also runs reports/oci-conformance.sh (fake-registry against the OCI
# distribution-spec conformance suite, reports/fake-registry/), building the suite with
# compat/build.sh first when OCI_CONFORMANCE_BIN is unset and the binary is missing.
# CREDCONFORM_BIN: an already built credconform (CI reuses the one its tests built).
# CREDCONFORM_COMPAT_BIN: the folder compat/build.sh builds into (default target/compat/bin).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
mode=write
only=all
for arg in "$@"; do
  case "$arg" in
    --check) mode=check ;;
    --helpers-only) only=helpers ;;
    *) echo "usage: $0 [--check] [--helpers-only]" >&2; exit 2 ;;
  esac
done
bin=${CREDCONFORM_BIN:-"$root/target/debug/credconform"}

if [ "${CC_INSIDE_NETNS:-}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  need=(golang-docker-credential-helpers amazon-ecr-credential-helper pass gnupg dbus gnome-keyring
        util-linux iproute2 python3 libsecret-1-dev pkg-config)
  [ "$only" = all ] && need+=(skopeo podman buildah)
  missing=()
  for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ -z "${CREDCONFORM_BIN:-}" ]; then
    cargo build --quiet --locked --manifest-path "$root/Cargo.toml" -p credconform
  fi
  export CREDCONFORM_BIN=$bin
  # The upstream releases and the OCI conformance suite (needs the Go module proxy, so before
  # the network goes away).
  CREDCONFORM_COMPAT_BIN=$(bash "$root/compat/build.sh" | tail -n 1)
  export CREDCONFORM_COMPAT_BIN
  export OCI_CONFORMANCE_BIN=${OCI_CONFORMANCE_BIN:-$CREDCONFORM_COMPAT_BIN/oci-conformance}
  # Everything below runs in a network namespace with only loopback.
  exec unshare --net env CC_INSIDE_NETNS=1 bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi

out_root=$here
[ "$mode" = check ] && out_root=$(mktemp -d)
work=$(mktemp -d /tmp/ccr.XXXXXX)   # short: gpg-agent's socket lives below it
trap 'rm -rf "$work"; [ "$mode" = check ] && rm -rf "$out_root"' EXIT

compat=$CREDCONFORM_COMPAT_BIN
debian="Debian 12"
upstream="upstream"
# The version compat/go.mod pins PROGRAM at (names the upstream reports' folders).
pinned() { awk -v p="$1" '$1 == p {print $2}' "$compat/versions"; }

# certify NAME ORIGIN TARGET-FLAG TARGET [credconform args...]
# ORIGIN (where the binary comes from) goes to NAME/origin for the matrix.
certify() {
  local name=$1 origin=$2 flag=$3 target=$4; shift 4
  local dir="$out_root/$name"
  mkdir -p "$dir"
  echo "$origin" > "$dir/origin"
  set +e
  "$bin" "$flag" "$target" --seed 1 "$@" \
      --json "$dir/report.json" --markdown "$dir/report.md" --html "$dir/report.html" \
      --badge "$dir/badge.svg" > "$dir/run.log" 2>&1
  local code=$?
  set -e
  [ "$code" -le 1 ] || { cat "$dir/run.log"; echo "credconform failed to run for $name ($code)"; exit 1; }
  echo "$name: $(grep '^verdict:' "$dir/run.log")"
}

# docker-credential-pass: a throwaway GPG key and password store.
export GNUPGHOME="$work/g" PASSWORD_STORE_DIR="$work/p"
mkdir -m 700 -p "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "credconform reports <reports@credconform.test>" default default never
pass init "$(gpg --list-keys --with-colons | awk -F: '/^fpr/ {print $10; exit}')" >/dev/null
# certify_pass NAME ORIGIN HELPER
certify_pass() {
  certify "$1" "$2" --helper "$3" \
    --env "GNUPGHOME=$GNUPGHOME" --env "PASSWORD_STORE_DIR=$PASSWORD_STORE_DIR"
}
certify_pass docker-credential-pass "$debian" docker-credential-pass
certify_pass "docker-credential-pass-$(pinned docker-credential-pass)" "$upstream" "$compat/docker-credential-pass"
gpgconf --kill gpg-agent || true

# docker-credential-secretservice: a private D-Bus session with an unlocked gnome-keyring each.
export -f certify
export bin out_root
# certify_secretservice NAME ORIGIN HELPER
certify_secretservice() {
  local home="$work/ss-$1"
  mkdir -p -m 700 "$home/run" "$home/data"
  HOME="$home" XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run" \
    dbus-run-session -- bash -c '
      eval "$(printf credconform | gnome-keyring-daemon --unlock --components=secrets)"
      export GNOME_KEYRING_CONTROL
      certify "$1" "$2" --helper "$3"' bash "$@" 2>/dev/null
}
certify_secretservice docker-credential-secretservice "$debian" docker-credential-secretservice
certify_secretservice "docker-credential-secretservice-$(pinned docker-credential-secretservice)" "$upstream" \
  "$compat/docker-credential-secretservice"

# docker-credential-ecr-login: a get-only helper (store and erase answer `not implemented`),
# certified as one; no AWS credentials and no metadata endpoint.
# certify_ecr NAME ORIGIN HELPER
certify_ecr() {
  HOME="$work/ecr-$1" AWS_EC2_METADATA_DISABLED=true AWS_REGION= \
    certify "$1" "$2" --helper "$3" --get-only
}
certify_ecr docker-credential-ecr-login "$debian" docker-credential-ecr-login
certify_ecr "docker-credential-ecr-login-$(pinned docker-credential-ecr-login)" "$upstream" "$compat/docker-credential-ecr-login"

# Login CLIs: each case gets its own fake registry on loopback and a sandboxed HOME and config.
if [ "$only" = all ]; then
  certify docker "release binary" --login-cli /usr/local/bin/docker
  for cli in skopeo podman buildah; do
    certify "$cli" "$debian" --login-cli "$cli"
  done
  for cli in crane oras; do
    certify "$cli" "$upstream" --login-cli "$compat/$cli"
  done
fi

# fake-registry against the OCI distribution-spec conformance suite (its own script and check).
if [ "$only" = all ]; then
  if [ "$mode" = check ]; then
    bash "$here/oci-conformance.sh" --check
  else
    bash "$here/oci-conformance.sh"
  fi
fi

if [ "$mode" = write ]; then
  python3 "$here/matrix.py" "$here"
fi

if [ "$mode" = check ]; then
  python3 - "$here" "$out_root" <<'PY'
import json, sys, pathlib
committed, fresh = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
changed = []
for new in sorted(fresh.glob("*/report.json")):
    old = committed / new.parent.name / "report.json"
    if not old.exists():
        changed.append(f"{new.parent.name}: no committed report")
        continue
    a = {c["id"]: c["status"] for c in json.loads(old.read_text())["cases"]}
    b = {c["id"]: c["status"] for c in json.loads(new.read_text())["cases"]}
    for cid in sorted(set(a) | set(b)):
        if a.get(cid) != b.get(cid):
            changed.append(f"{new.parent.name} {cid}: committed {a.get(cid)}, now {b.get(cid)}")
if changed:
    print("verdicts changed:\n  " + "\n  ".join(changed))
    sys.exit(1)
print("every committed verdict still holds")
PY
fi
