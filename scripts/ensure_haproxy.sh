#!/usr/bin/env bash
# Makes HAProxy available for the deployment test (tests/deploy), which puts two app replicas
# behind a real load balancer; set HAPROXY for another binary.
HAPROXY="${HAPROXY:-$(command -v haproxy 2>/dev/null || echo /usr/sbin/haproxy)}"
exec bash "$(dirname "$0")/ensure_package.sh" haproxy "$HAPROXY" haproxy "the deployment test"
