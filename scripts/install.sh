#!/usr/bin/env bash
# Installs everything kinship needs to build and test on Debian 12:
# the Debian packages (compiler, libraries, Node.js) and kinesalite and aws-kinesis-agg (npm) in
# <repo>/.deps/node. Idempotent and quick when everything is already there.
# Runs as root (or with sudo available), never reads stdin.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps_node="$repo/.deps/node"
kinesalite_version="3.3.3"
kinesis_agg_version="4.2.8"

export DEBIAN_FRONTEND=noninteractive

packages=(
  g++ cmake make pkg-config git ca-certificates
  libasio-dev libyaml-cpp-dev libcurl4-openssl-dev libssl-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev googletest libsimdjson-dev libre2-dev libsystemd-dev libfmt-dev libisal-dev libcbor-dev libpugixml-dev
  # pipeline/added_fields.cc: xxHash (XXH3), used header-only (no library at run time)
  libxxhash-dev
  curl
  # tests/integration/tls_endpoint and bench/run.sh make self-signed
  # certificates for the fake endpoint's HTTPS.
  openssl
  # tests/packaging: systemd-analyze, systemd-sysusers and systemd-tmpfiles
  # (a fresh Debian 12 container has no systemd), dpkg-shlibdeps, which
  # cpack -G DEB runs for the package's Depends (with file(1)), and
  # systemd-nspawn (with pgrep from procps), which boots the installed .deb
  # in a container.
  systemd dpkg-dev file systemd-container procps
  # scripts/fuzz.sh: clang 14 and its libFuzzer and sanitizer runtimes
  # (libclang-rt-14-dev is only a recommendation of clang-14).
  clang libclang-rt-14-dev
  # The sink's unit tests read KPL aggregated records back with libprotobuf
  # (tests/support/kpl_decoder.h); kinship itself does not link it.
  libprotobuf-dev
)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n DEBIAN_FRONTEND=noninteractive "$@"
  else
    echo "install.sh: need root to run: $*" >&2
    return 1
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done
# Node.js and npm: any node/npm on PATH will do (e.g. NodeSource's nodejs,
# which bundles npm); otherwise Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  is_installed nodejs || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || is_installed npm || missing+=(npm)
fi

did=()
if ((${#missing[@]} > 0)); then
  echo "install.sh: installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  did+=("apt: ${missing[*]}")
fi

if [[ ! -f "$deps_node/node_modules/kinesalite/package.json" ]]; then
  echo "install.sh: installing kinesalite@$kinesalite_version into $deps_node"
  mkdir -p "$deps_node"
  [[ -f "$deps_node/package.json" ]] || printf '{\n  "name": "kinship-test-deps",\n  "private": true\n}\n' >"$deps_node/package.json"
  (cd "$deps_node" && npm install --no-audit --no-fund --save-exact --loglevel=error \
      "kinesalite@$kinesalite_version" </dev/null)
  did+=("npm: kinesalite@$kinesalite_version")
fi

# tests/integration/kpl_aggregation: an independent deaggregator (awslabs'
# kinesis-aggregation for Node.js) unpacks what kinship aggregated.
if [[ ! -f "$deps_node/node_modules/aws-kinesis-agg/package.json" ]]; then
  echo "install.sh: installing aws-kinesis-agg@$kinesis_agg_version into $deps_node"
  mkdir -p "$deps_node"
  [[ -f "$deps_node/package.json" ]] || printf '{\n  "name": "kinship-test-deps",\n  "private": true\n}\n' >"$deps_node/package.json"
  (cd "$deps_node" && npm install --no-audit --no-fund --save-exact --loglevel=error \
      "aws-kinesis-agg@$kinesis_agg_version" </dev/null)
  did+=("npm: aws-kinesis-agg@$kinesis_agg_version")
fi

if ((${#did[@]} > 0)); then
  echo "install.sh: done (${did[*]})"
else
  echo "install.sh: all dependencies present"
fi
