#!/bin/sh
# Builds the desktop console twice and runs the desktop layer tests (app_test.go, TestDesktop*):
#   build/bin/gatehouse      the production build (`go tool wails build -tags webkit2_41`),
#                            started under Xvfb: login screen shown, clean exit on SIGTERM;
#   build/bin/gatehouse-dev  a -tags dev,webkit2_41 build serving the real front end and Go
#                            bindings on loopback, driven from Chromium (chromedp).
# Needs: Go, node/npm, libgtk-3-dev libwebkit2gtk-4.1-dev xvfb imagemagick chromium.
# GATEHOUSE_SCREENSHOT_DIR (default build/bin/screenshots) keeps a screenshot of every screen.
# Never ship gatehouse-dev.
set -eu
cd "$(dirname "$0")/.."

# -m: leave go.mod alone. wails build runs npm ci + npm run build and regenerates frontend/wailsjs.
go tool wails build -m -tags webkit2_41
go build -tags dev,webkit2_41 -o build/bin/gatehouse-dev .

export GATEHOUSE_DESKTOP_TESTS=1
export GATEHOUSE_BINARY="$PWD/build/bin/gatehouse"
export GATEHOUSE_DEV_BINARY="$PWD/build/bin/gatehouse-dev"
export GATEHOUSE_SCREENSHOT_DIR="${GATEHOUSE_SCREENSHOT_DIR:-$PWD/build/bin/screenshots}"
go test -count=1 -run '^TestDesktop' -v .

# The committed bindings must match App: a stale frontend/wailsjs fails here.
git -c core.fileMode=false diff --exit-code -- frontend/wailsjs
