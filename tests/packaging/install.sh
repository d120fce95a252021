#!/usr/bin/env bash
# `cmake --install BUILD --prefix TMP` installs exactly the expected files:
# the binary, the units (their paths rewritten to TMP), sysusers, tmpfiles,
# the host example as etc/kinship/kinship.yaml, and the docs. A second
# install keeps an edited config.
# usage: install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
status=0
fail() {
  echo "install: $*" >&2
  status=1
}

if ! cmake --install "$build" --prefix "$prefix" >"$tmp/log" 2>&1; then
  cat "$tmp/log" >&2
  echo "install: cmake --install failed" >&2
  exit 1
fi

# What should be there: the docs and examples as the source tree has them.
{
  echo bin/kinship
  echo etc/kinship/kinship.yaml
  echo lib/systemd/system/kinship.service
  echo lib/systemd/system/kinship@.service
  echo lib/sysusers.d/kinship.conf
  echo lib/tmpfiles.d/kinship.conf
  echo share/doc/kinship/README.md
  for f in "$src"/LICENSE*; do
    [[ -e "$f" ]] && echo "share/doc/kinship/$(basename "$f")"
  done
  (cd "$src/docs" && find . -type f -name '*.md' | sed 's#^\./#share/doc/kinship/#')
  (cd "$src/config/examples" && find . -type f -name '*.yaml' | sed 's#^\./#share/doc/kinship/examples/#')
} | sort >"$tmp/want"
(cd "$prefix" && find . -type f -o -type l | sed 's#^\./##' | sort) >"$tmp/got"
if ! diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
  fail "installed files differ from the expected list (- missing, + unexpected):"
  cat "$tmp/diff" >&2
fi
[[ -f "$src/docs/systemd.md" ]] || fail "docs/systemd.md is missing from the source tree"

[[ -x "$prefix/bin/kinship" ]] && version="$("$prefix/bin/kinship" --version 2>&1)" || version=""
[[ "$version" == kinship\ * ]] || fail "bin/kinship --version: '$version'"
# CMake drops the build tree's RPATH on install; a leftover would load
# libraries from the build tree.
if command -v readelf >/dev/null 2>&1 && readelf -d "$prefix/bin/kinship" | grep -E 'R(UN)?PATH' | grep -qF "$build"; then
  fail "bin/kinship keeps an RPATH into the build tree"
fi

cmp -s "$src/config/examples/systemd-host.yaml" "$prefix/etc/kinship/kinship.yaml" ||
  fail "etc/kinship/kinship.yaml is not config/examples/systemd-host.yaml"
cmp -s "$src/systemd/kinship.sysusers" "$prefix/lib/sysusers.d/kinship.conf" ||
  fail "lib/sysusers.d/kinship.conf is not systemd/kinship.sysusers"
cmp -s "$src/systemd/kinship.tmpfiles" "$prefix/lib/tmpfiles.d/kinship.conf" ||
  fail "lib/tmpfiles.d/kinship.conf is not systemd/kinship.tmpfiles"

# Outside /usr the units name the installed binary and config.
for unit in kinship.service kinship@.service; do
  installed="$prefix/lib/systemd/system/$unit"
  [[ -f "$installed" ]] || continue
  config="kinship.yaml"
  [[ "$unit" == kinship@.service ]] && config="%i.yaml"
  grep -qxF "ExecStart=$prefix/bin/kinship --config $prefix/etc/kinship/$config" "$installed" ||
    fail "$unit: ExecStart= not rewritten to $prefix: $(grep '^ExecStart=' "$installed")"
  grep -qF "/usr/bin/kinship" "$installed" && fail "$unit: still names /usr/bin/kinship"
  # Nothing else changed.
  diff <(sed "s#$prefix/bin/#/usr/bin/#; s#$prefix/etc/kinship/#/etc/kinship/#; s#$prefix/share/doc/kinship/#/usr/share/doc/kinship/#" "$installed") \
    "$src/systemd/$unit" >/dev/null || fail "$unit: differs from systemd/$unit beyond the rewritten paths"
done

# A reinstall keeps an edited config and restores a deleted unit.
echo "# edited" >>"$prefix/etc/kinship/kinship.yaml"
rm -f "$prefix/lib/systemd/system/kinship.service"
cmake --install "$build" --prefix "$prefix" >"$tmp/log2" 2>&1 || fail "second cmake --install failed: $(cat "$tmp/log2")"
tail -n 1 "$prefix/etc/kinship/kinship.yaml" | grep -qx "# edited" || fail "a reinstall overwrote an edited etc/kinship/kinship.yaml"
[[ -f "$prefix/lib/systemd/system/kinship.service" ]] || fail "a reinstall did not restore kinship.service"

# The prefix /usr (under DESTDIR) puts the config in /etc, as GNUInstallDirs
# says, and leaves the units as written.
DESTDIR="$tmp/dest" cmake --install "$build" --prefix /usr >"$tmp/log3" 2>&1 || fail "DESTDIR install failed: $(cat "$tmp/log3")"
[[ -f "$tmp/dest/etc/kinship/kinship.yaml" ]] || fail "prefix /usr: no /etc/kinship/kinship.yaml"
[[ -e "$tmp/dest/usr/etc" ]] && fail "prefix /usr: something went to /usr/etc"
cmp -s "$src/systemd/kinship.service" "$tmp/dest/usr/lib/systemd/system/kinship.service" ||
  fail "prefix /usr: /usr/lib/systemd/system/kinship.service is not systemd/kinship.service"

if ((status == 0)); then
  echo "install: $(wc -l <"$tmp/got") files installed as expected"
fi
exit "$status"
