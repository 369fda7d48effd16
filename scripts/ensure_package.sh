#!/usr/bin/env bash
# Makes a program from one of the distribution's packages available for the tests that drive it
# (the browser tests drive Chromium, the deployment test HAProxy).
#   ensure_package.sh NAME BINARY PACKAGE WHAT
# installs PACKAGE with apt-get when BINARY is missing and it can; under CI a program that is
# still missing is an error, elsewhere the tests that need it are skipped and say why.
set -u
NAME="$1" BINARY="$2" PACKAGE="$3" WHAT="$4"
if [ -x "$BINARY" ]; then
  echo "$NAME: $("$BINARY" --version 2>/dev/null | head -n 1 || echo "$BINARY")"
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  echo "$NAME: not found at $BINARY; installing the $PACKAGE package with apt-get"
  if $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$PACKAGE" >/dev/null; then
    [ -x "$BINARY" ] && exit 0
  fi
fi
if [ "${CI:-}" = "true" ]; then
  echo "$NAME: none at $BINARY and it could not be installed; CI needs it for $WHAT" >&2
  exit 1
fi
echo "$NAME: none at $BINARY and it could not be installed; $WHAT will be skipped"
exit 0
