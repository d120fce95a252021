#!/usr/bin/env bash
# `cpack -G DEB` on the build tree: the .deb holds the files at their /usr
# and /etc paths, the units as written, a Depends line that dpkg-shlibdeps
# computed, the config as a conffile, and the maintainer scripts.
# usage: deb.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build="$1"
src="$2"
for tool in cpack dpkg-deb dpkg-shlibdeps file; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "deb: $tool not found: skipped"
    exit 77
  fi
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
  echo "deb: $*" >&2
  status=1
}

# For a Makefile tree cpack first runs `make preinstall`, which builds
# everything: a build from inside a test would race with any other build of
# the tree. A generator without that step (Ninja has none) makes cpack
# install the tree as it is, by the same install scripts, prefix and DESTDIR.
cat >"$tmp/CPackConfig.cmake" <<EOF
include("$build/CPackConfig.cmake")
set(CPACK_CMAKE_GENERATOR Ninja)
EOF
start=$SECONDS
if ! cpack -G DEB --config "$tmp/CPackConfig.cmake" -B "$tmp/out" >"$tmp/log" 2>&1; then
  cat "$tmp/log" >&2
  echo "deb: cpack failed" >&2
  exit 1
fi
debs=("$tmp"/out/kinship_*.deb)
if [[ ! -f "${debs[0]}" ]] || ((${#debs[@]} != 1)); then
  cat "$tmp/log" >&2
  fail "expected one kinship_*.deb in the output, got: $(ls "$tmp/out")"
  exit 1
fi
deb="${debs[0]}"
echo "deb: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) in $((SECONDS - start)) s"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's#^\./#/#' >"$tmp/files"
for f in /usr/bin/kinship /usr/lib/systemd/system/kinship.service /usr/lib/systemd/system/kinship@.service \
  /usr/lib/sysusers.d/kinship.conf /usr/lib/tmpfiles.d/kinship.conf /etc/kinship/kinship.yaml \
  /usr/share/doc/kinship/README.md /usr/share/doc/kinship/systemd.md \
  /usr/share/doc/kinship/examples/systemd-host.yaml; do
  grep -qxF "$f" "$tmp/files" || fail "no $f in the package"
done
# Nothing at the configured prefix (/usr/local) or under /usr/etc.
grep -E '^/usr/(local|etc)/' "$tmp/files" >&2 && fail "files outside /usr and /etc (above)"

dpkg-deb -I "$deb" >"$tmp/info"
depends="$(sed -n 's/^ Depends: //p' "$tmp/info")"
for lib in libc6 libcurl4 libyaml-cpp libssl3 libsystemd0; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: '$depends'"
done
# dpkg-shlibdeps writes versions, e.g. "libc6 (>= 2.34)".
[[ "$depends" =~ libc6\ \(\>=\ [0-9] ]] || fail "Depends has no versioned libc6 (not from dpkg-shlibdeps?): '$depends'"
grep -q '^ Recommends: systemd$' "$tmp/info" || fail "no 'Recommends: systemd'"

mkdir -p "$tmp/control" "$tmp/root"
dpkg-deb -e "$deb" "$tmp/control"
dpkg-deb -x "$deb" "$tmp/root"
[[ "$(cat "$tmp/control/conffiles" 2>/dev/null)" == "/etc/kinship/kinship.yaml" ]] ||
  fail "conffiles is not /etc/kinship/kinship.yaml: '$(cat "$tmp/control/conffiles" 2>/dev/null)'"
for script in postinst prerm postrm; do
  [[ -x "$tmp/control/$script" ]] || fail "no executable $script"
  cmp -s "$src/systemd/deb/$script" "$tmp/control/$script" || fail "$script is not systemd/deb/$script"
done
grep -q 'systemd-sysusers kinship.conf' "$tmp/control/postinst" || fail "postinst does not run systemd-sysusers"

for unit in kinship.service kinship@.service; do
  cmp -s "$src/systemd/$unit" "$tmp/root/usr/lib/systemd/system/$unit" ||
    fail "/usr/lib/systemd/system/$unit is not systemd/$unit"
done
cmp -s "$src/config/examples/systemd-host.yaml" "$tmp/root/etc/kinship/kinship.yaml" ||
  fail "/etc/kinship/kinship.yaml is not config/examples/systemd-host.yaml"
# Stripped (CPACK_STRIP_FILES), and it runs.
file "$tmp/root/usr/bin/kinship" | grep -q 'not stripped' && fail "/usr/bin/kinship is not stripped"
version="$("$tmp/root/usr/bin/kinship" --version 2>&1 || true)"
[[ "$version" == kinship\ * ]] || fail "/usr/bin/kinship --version: '$version'"

if ((status == 0)); then
  echo "deb: $(wc -l <"$tmp/files") entries; Depends: $depends"
fi
exit "$status"
