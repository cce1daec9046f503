#!/usr/bin/env bash
# Builds the third-party programs pinned in compat/go.mod (by version, checksums in go.sum) from
# their Go modules into one folder, default target/compat/bin (CREDCONFORM_COMPAT_BIN moves it):
#
#   docker-credential-pass, docker-credential-secretservice   docker-credential-helpers
#   docker-credential-ecr-login                               amazon-ecr-credential-helper
#   crane                                                     go-containerregistry
#   oras                                                      oras
#   oci-conformance                                           distribution-spec conformance tests
#
# Sources come from the Go module proxy only (no prebuilt binary, no toolchain download). A
# binary newer than go.mod, go.sum and this script is kept; Go's build cache makes the rest fast.
# Writes `versions` there (a line `PROGRAM VERSION` each, as pinned) and prints the folder on the
# last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${CREDCONFORM_COMPAT_BIN:-"$root/target/compat/bin"}

command -v go >/dev/null 2>&1 || {
  echo "compat/build.sh: no \`go\` on PATH; install Go $(awk '/^go /{print $2}' "$here/go.mod")" \
       "or newer (Debian 12's golang-go is too old) and rerun" >&2
  exit 2
}
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=1
mkdir -p "$out"
cd "$here"

# The version a module is pinned at, from go.mod.
pinned() { go list -m -f '{{.Version}}' "$1"; }

# up_to_date NAME: the binary exists and is newer than everything that decides its contents.
up_to_date() {
  local bin="$out/$1" f
  [ -x "$bin" ] || return 1
  for f in "$here/go.mod" "$here/go.sum" "$here/build.sh"; do
    [ "$bin" -nt "$f" ] || return 1
  done
}

versions=()

# build NAME VERSION PACKAGE [go build flags...]
build() {
  local name=$1 version=$2 pkg=$3; shift 3
  versions+=("$name ${version#v}")
  if up_to_date "$name"; then
    echo "up to date: $name" >&2
    return
  fi
  echo "building: $name ($pkg)" >&2
  go build -trimpath "$@" -o "$out/$name.tmp" "$pkg"
  mv -f "$out/$name.tmp" "$out/$name"
}

dch=github.com/docker/docker-credential-helpers
dch_version=$(pinned $dch)
for helper in pass secretservice; do
  if [ "$helper" = secretservice ] && ! pkg-config --exists libsecret-1 2>/dev/null; then
    echo "compat/build.sh: docker-credential-secretservice needs cgo with libsecret" \
         "(apt-get install libsecret-1-dev pkg-config)" >&2
    exit 2
  fi
  # The same -X flags as upstream's Makefile, so `version` names the pinned release.
  build "docker-credential-$helper" "$dch_version" "$dch/$helper/cmd" -ldflags "-s -w \
    -X $dch/credentials.Version=$dch_version -X $dch/credentials.Package=$dch \
    -X $dch/credentials.Name=docker-credential-$helper"
done

ecr=github.com/awslabs/amazon-ecr-credential-helper/ecr-login
ecr_version=$(pinned $ecr)
build docker-credential-ecr-login "$ecr_version" "$ecr/cli/docker-credential-ecr-login" \
  -ldflags "-s -w -X $ecr/version.Version=${ecr_version#v}"

ggcr=github.com/google/go-containerregistry
ggcr_version=$(pinned $ggcr)
build crane "$ggcr_version" "$ggcr/cmd/crane" -ldflags "-s -w -X $ggcr/cmd/crane/cmd.Version=$ggcr_version"

# oras carries its version in its source.
build oras "$(pinned oras.land/oras)" oras.land/oras/cmd/oras -ldflags "-s -w"

conformance=github.com/opencontainers/distribution-spec/conformance
if up_to_date oci-conformance; then
  echo "up to date: oci-conformance" >&2
else
  echo "building: oci-conformance ($conformance, test binary)" >&2
  go test -c -trimpath -o "$out/oci-conformance.tmp" "$conformance"
  mv -f "$out/oci-conformance.tmp" "$out/oci-conformance"
fi
versions+=("oci-conformance $(pinned $conformance)")

printf '%s\n' "${versions[@]}" > "$out/versions"

echo "$out"
