#!/usr/bin/env bash
# `systemd-analyze verify` on both units, with ExecStart= pointing at the
# built binary (verify insists that it exists), and the sysusers and tmpfiles
# files applied to an empty root. verify only warns about unknown or
# misspelt settings, so any output at all fails the test.
# usage: systemd_verify.sh SOURCE_DIR KINSHIP_BINARY
set -euo pipefail

src="$1"
binary="$2"
for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "systemd_verify: $tool not found: skipped"
    exit 77
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

status=0
for unit in kinship.service kinship@.service; do
  sed "s#/usr/bin/kinship #$binary #" "$src/systemd/$unit" >"$tmp/$unit"
  if ! grep -q "^ExecStart=$binary " "$tmp/$unit"; then
    echo "systemd_verify: $unit: no ExecStart=/usr/bin/kinship to point at the build" >&2
    status=1
    continue
  fi
  rc=0
  out="$(systemd-analyze verify --man=no "$tmp/$unit" 2>&1)" || rc=$?
  if ((rc != 0)) || [[ -n "$out" ]]; then
    echo "systemd_verify: $unit (exit $rc):" >&2
    echo "$out" >&2
    status=1
  else
    echo "systemd_verify: $unit: OK"
  fi
done

# The user and the runtime directory, as the package's postinst makes them.
root="$tmp/root"
mkdir -p "$root/etc"
rc=0
out="$(systemd-sysusers --root="$root" "$src/systemd/kinship.sysusers" 2>&1)" || rc=$?
if ((rc != 0)) || ! grep -q '^kinship:x:[0-9]*:[0-9]*:[^:]*:/var/lib/kinship:/usr/sbin/nologin$' "$root/etc/passwd"; then
  echo "systemd_verify: kinship.sysusers (exit $rc): $out" >&2
  cat "$root/etc/passwd" >&2 2>/dev/null || true
  status=1
else
  echo "systemd_verify: kinship.sysusers: OK ($(grep '^kinship:' "$root/etc/passwd"))"
fi
rc=0
out="$(systemd-tmpfiles --root="$root" --create "$src/systemd/kinship.tmpfiles" 2>&1)" || rc=$?
# The owner is the uid systemd-sysusers just gave kinship in $root.
uid="$(awk -F: '$1 == "kinship" { print $3 }' "$root/etc/passwd")"
perm="$(stat -c '%a %u' "$root/run/kinship" 2>/dev/null || true)"
if ((rc != 0)) || [[ -n "$out" ]] || [[ "$perm" != "750 $uid" ]]; then
  echo "systemd_verify: kinship.tmpfiles (exit $rc, /run/kinship: '$perm', want '750 $uid'): $out" >&2
  status=1
else
  echo "systemd_verify: kinship.tmpfiles: OK"
fi
exit "$status"
