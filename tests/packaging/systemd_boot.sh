#!/usr/bin/env bash
# The hardened unit really runs the daemon: boots systemd in a container
# (systemd-nspawn, private network, the host's tree under a throwaway
# overlay), installs the .deb there with dpkg, and checks that
# kinship.service starts (READY, STATUS), reads a root:adm 0640 log through
# its supplementary group, gives a unix socket to socket_group adm (lchown
# under the system call filter), ships file, unix and UDP records to a fake
# Kinesis, reloads (a broken config fails the reload and the daemon runs on),
# stops cleanly, and that a kinship@ instance runs in its own state
# directory. A new system call, /proc read or address family that the
# sandbox refuses shows up here, not in production.
# usage: systemd_boot.sh BUILD_DIR
# Skipped (77) unless root with systemd-nspawn (Debian: systemd-container)
# and overlayfs.
set -euo pipefail

build="$1"
skip() {
  echo "systemd_boot: $*: skipped"
  exit 77
}
((EUID == 0)) || skip "not root"
for tool in systemd-nspawn nsenter pgrep cpack dpkg-deb dpkg-shlibdeps file; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
[[ -x "$build/kinship-fake-kinesis" ]] || skip "no $build/kinship-fake-kinesis"

tmp="$(mktemp -d)"
root="$tmp/root"
nspawn_pid=""
leader=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [[ -n "$leader" ]] && kill -0 "$leader" 2>/dev/null; then
    nsenter -t "$leader" -a systemctl poweroff >/dev/null 2>&1 || true
  fi
  if [[ -n "$nspawn_pid" ]]; then
    for _ in $(seq 1 50); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  umount "$root" 2>/dev/null || umount -l "$root" 2>/dev/null || true
  umount "$tmp/layers" 2>/dev/null || umount -l "$tmp/layers" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The host's / read-only below, writes in a tmpfs: nothing reaches the host.
mkdir -p "$tmp/layers" "$root"
mount -t tmpfs -o size=1g tmpfs "$tmp/layers" || skip "cannot mount a tmpfs"
mkdir -p "$tmp/layers/upper" "$tmp/layers/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/layers/upper,workdir=$tmp/layers/work" "$root" ||
  skip "cannot mount an overlay of /"

status=0
fail() {
  echo "systemd_boot: FAIL: $*" >&2
  status=1
}

# The package, as deb.sh makes it (no `make preinstall`).
printf 'include("%s/CPackConfig.cmake")\nset(CPACK_CMAKE_GENERATOR Ninja)\n' "$build" >"$tmp/CPackConfig.cmake"
cpack -G DEB --config "$tmp/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 || {
  cat "$tmp/cpack.log" >&2
  echo "systemd_boot: cpack failed" >&2
  exit 1
}
cp "$tmp"/out/kinship_*.deb "$root/root/kinship.deb"
nspawn=(systemd-nspawn -q -D "$root" --private-network --register=no --keep-unit)
"${nspawn[@]}" dpkg -i /root/kinship.deb >"$tmp/dpkg.log" 2>&1 || true
grep -q '^kinship:' "$root/etc/passwd" || {
  cat "$tmp/dpkg.log" >&2
  echo "systemd_boot: dpkg -i did not create the kinship user" >&2
  exit 1
}

# A log only group adm may read, a unix socket for adm, a UDP port, and a
# fake Kinesis; the boot goes to kinship-test.target and nothing else.
install -d -o root -g adm -m 0750 "$root/var/log/app"
printf '{"service":"a","host":"h","n":1}\n{"service":"a","host":"h","n":2}\n' >"$root/var/log/app/a.log"
chown root:adm "$root/var/log/app/a.log"
chmod 0640 "$root/var/log/app/a.log"
cat >"$root/etc/kinship/kinship.yaml" <<'EOF'
data_dir: ${STATE_DIRECTORY:-/var/lib/kinship}
pipelines:
  app:
    inputs:
      - type: file
        paths: ["/var/log/app/a*.log"]
        start_at: beginning
        parser: json
      - type: unix
        path: ${RUNTIME_DIRECTORY:-/run/kinship}/app.sock
        mode: datagram
        socket_group: adm
        socket_mode: "0660"
      - type: udp
        listen: 127.0.0.1:5514
    partition_key: "{service}-{host}"
    sink:
      type: kinesis
      stream: ${KINSHIP_STREAM}
      endpoint: http://127.0.0.1:4567
admin:
  listen: 127.0.0.1:9464
EOF
sed -e 's#/var/log/app/a\*.log#/var/log/app/b*.log#' -e 's#5514#5515#' -e 's#9464#9465#' \
  "$root/etc/kinship/kinship.yaml" >"$root/etc/kinship/b.yaml"
printf 'AWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY=example\nKINSHIP_STREAM=s1\n' |
  tee "$root/etc/default/kinship" >"$root/etc/default/kinship-b"
chmod 0600 "$root/etc/default/kinship" "$root/etc/default/kinship-b"
cp "$build/kinship-fake-kinesis" "$root/usr/local/bin/"
cat >"$root/etc/systemd/system/fake-kinesis.service" <<'EOF'
[Unit]
Before=kinship.service kinship@b.service
[Service]
ExecStart=/usr/local/bin/kinship-fake-kinesis --port 4567 --stream s1
EOF
printf '[Unit]\nWants=fake-kinesis.service kinship.service\n' >"$root/etc/systemd/system/kinship-test.target"

"${nspawn[@]}" --machine="kinship-test-$$" -b systemd.unit=kinship-test.target >"$tmp/boot.log" 2>&1 &
nspawn_pid=$!
for _ in $(seq 1 100); do
  leader="$(pgrep -P "$nspawn_pid" -x systemd || true)"
  [[ -n "$leader" ]] && break
  sleep 0.2
done
# A machine that cannot boot a container (no cgroup delegation, a CI
# sandbox) says nothing about the units: skip, showing why.
[[ -n "$leader" ]] || {
  cat "$tmp/boot.log" >&2
  skip "systemd did not boot in the container (see above)"
}
ctr() { nsenter -t "$leader" -a "$@"; }

# Waits until the unit leaves "activating"; Type=notify holds it there until
# READY=1.
wait_active() {
  local state=""
  for _ in $(seq 1 150); do
    state="$(ctr systemctl is-active "$1" 2>/dev/null || true)"
    [[ "$state" == active || "$state" == failed ]] && break
    sleep 0.2
  done
  [[ "$state" == active ]]
}
sent() { ctr curl -s "127.0.0.1:$1/metrics" 2>/dev/null | awk '/^kinship_sink_records_sent_total/ { n += $2 } END { print n + 0 }'; }
wait_sent() {
  for _ in $(seq 1 100); do
    (($(sent "$1") >= $2)) && return 0
    sleep 0.2
  done
  return 1
}

if ! wait_active kinship.service; then
  fail "kinship.service did not become active"
  ctr systemctl status kinship.service --no-pager >&2 || true
  ctr journalctl -u kinship.service --no-pager >&2 || true
  exit 1
fi
statustext="$(ctr systemctl show -p StatusText --value kinship.service)"
[[ -n "$statustext" ]] || fail "no STATUS= line from the daemon"
echo "systemd_boot: kinship.service active, STATUS: $statustext"

sock="$(ctr stat -c '%a %G' /run/kinship/app.sock 2>&1 || true)"
[[ "$sock" == "660 adm" ]] || fail "/run/kinship/app.sock is '$sock', not '660 adm'"
ctr sh -c 'echo "{\"service\":\"a\",\"host\":\"h\",\"n\":3}" >> /var/log/app/a.log'
ctr logger -u /run/kinship/app.sock unix-datagram || fail "logger to /run/kinship/app.sock failed"
ctr bash -c 'echo udp-datagram > /dev/udp/127.0.0.1/5514' || fail "sending to udp 5514 failed"
wait_sent 9464 5 || fail "Kinesis got $(sent 9464) records, not 5 (3 file lines, 1 unix, 1 udp)"

ctr systemctl reload kinship.service || fail "reload of a good config failed"
ctr cp /etc/kinship/kinship.yaml /root/good.yaml
ctr sh -c 'echo "no_such_option: 1" >> /etc/kinship/kinship.yaml'
ctr systemctl reload kinship.service 2>/dev/null && fail "reload of a broken config succeeded"
ctr cp /root/good.yaml /etc/kinship/kinship.yaml
[[ "$(ctr systemctl is-active kinship.service)" == active ]] || fail "kinship.service not active after a refused reload"

ctr sh -c 'echo "{\"service\":\"b\",\"host\":\"h\"}" > /var/log/app/b.log'
ctr systemctl start kinship@b.service 2>/dev/null || true
if wait_active kinship@b.service; then
  wait_sent 9465 1 || fail "kinship@b shipped nothing"
  ctr test -d /var/lib/kinship/b/checkpoints || fail "kinship@b keeps no checkpoints in /var/lib/kinship/b"
else
  fail "kinship@b.service did not become active"
  ctr journalctl -u kinship@b.service --no-pager >&2 || true
fi

ctr systemctl stop kinship.service kinship@b.service || fail "stop failed"
result="$(ctr systemctl show -p Result --value kinship.service)"
[[ "$result" == success ]] || fail "kinship.service stopped with Result=$result"

# What the sandbox refused, the daemon logged.
if ctr journalctl -u kinship.service -u kinship@b.service --no-pager |
  grep -E 'Operation not permitted|Permission denied|Read-only file system|Address family not supported' >&2; then
  fail "the sandbox refused the daemon something (above)"
fi

if ((status == 0)); then
  echo "systemd_boot: records shipped from file, unix and UDP inputs; reload, refused reload, instance and stop OK"
else
  ctr journalctl -u kinship.service -u kinship@b.service --no-pager >&2 || true
fi
exit "$status"
