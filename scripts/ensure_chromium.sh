#!/usr/bin/env bash
# Makes a Chromium available for the browser tests. Playwright's own browser download
# does not work on every machine, so the tests drive the system's Chromium package.
set -u
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  echo "chromium: not found at $CHROMIUM; installing the chromium package with apt-get"
  if $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    [ -x "$CHROMIUM" ] && exit 0
  fi
fi
if [ "${CI:-}" = "true" ]; then
  echo "chromium: none at $CHROMIUM and it could not be installed; CI needs it for the browser tests" >&2
  exit 1
fi
echo "chromium: none at $CHROMIUM and it could not be installed; the browser tests will be skipped"
exit 0
