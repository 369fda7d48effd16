#!/usr/bin/env bash
# Makes HAProxy available for the deployment test (tests/deploy), which puts two app replicas
# behind a real load balancer. The test drives Debian's haproxy package; set HAPROXY for another
# binary.
set -u
HAPROXY="${HAPROXY:-$(command -v haproxy 2>/dev/null || echo /usr/sbin/haproxy)}"
if [ -x "$HAPROXY" ]; then
  echo "haproxy: $("$HAPROXY" -v 2>/dev/null | head -n 1 || echo "$HAPROXY")"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  echo "haproxy: not found at $HAPROXY; installing the haproxy package with apt-get"
  if $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; then
    [ -x "$HAPROXY" ] && exit 0
  fi
fi
if [ "${CI:-}" = "true" ]; then
  echo "haproxy: none at $HAPROXY and it could not be installed; CI needs it for the deployment test" >&2
  exit 1
fi
echo "haproxy: none at $HAPROXY and it could not be installed; the deployment test will be skipped"
exit 0
