#!/usr/bin/env bash
# Makes a Chromium available for the browser tests. Playwright's own browser download
# does not work on every machine, so the tests drive the system's Chromium package.
exec bash "$(dirname "$0")/ensure_package.sh" chromium "${CHROMIUM:-/usr/bin/chromium}" chromium "the browser tests"
