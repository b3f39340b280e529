#!/usr/bin/env bash
# Runs every test of Gatehouse: formatting, generated files, vet, the Go tests (store, backend,
# web with real Chromium, desktop bindings) and the desktop console under Xvfb. It first installs
# what the tests need and is missing: Debian packages (as root, or with sudo) and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
# go.mod names the toolchain (a Go release with the security fixes the code needs): let go
# fetch it even where the environment says GOTOOLCHAIN=local.
export GOTOOLCHAIN=auto

packages=(chromium xvfb xauth libgtk-3-dev libwebkit2gtk-4.1-dev imagemagick oathtool poppler-utils nginx caddy postgresql haproxy)
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "== installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "not gofmt-ed:"; echo "$unformatted"; exit 1
fi

echo "== generated files are current"
go tool templ generate >/dev/null
git diff --exit-code --stat -- '*_templ.go' || { echo "run 'go tool templ generate' and commit"; exit 1; }

echo "== go.mod and go.sum are tidy"
go mod tidy -diff || { echo "run 'go mod tidy' and commit"; exit 1; }

echo "== go vet"
go vet ./...

echo "== staticcheck"
go tool staticcheck ./...

echo "== govulncheck"
# The Go vulnerability database, offline and pinned: the module golang.org/x/vulndb carries every
# report as OSV JSON, and its indexdb command builds from them the database govulncheck reads.
# Raise vulndb_version to check against newer reports.
vulndb_version=v0.0.0-20261105234957-e22db6528018
vulndb="${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/vulndb-$vulndb_version"
if [ ! -f "$vulndb/index/db.json" ]; then
	src=$(go mod download -json "golang.org/x/vulndb@$vulndb_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	rm -rf "$vulndb.tmp"
	go run "golang.org/x/vulndb/cmd/indexdb@$vulndb_version" -vulns "$src/data/osv" -out "$vulndb.tmp"
	mv "$vulndb.tmp" "$vulndb"
fi
go tool govulncheck -db "file://$vulndb" ./...

echo "== npm packages of the browser tests"
# axe-core, which the web browser tests inject into every page they visit (backend/web/a11y_test.go).
axe=backend/web/testdata/axe
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ]; then
	(cd "$axe" && npm ci --no-audit --no-fund)
fi

echo "== go test"
# The timeout is per package: backend/web's took 20 minutes under -race on this shared 2-CPU
# machine at load 16, and on a cold machine its TestOAuth2Proxy first builds oauth2-proxy from
# the Go module proxy (about 3 minutes; then cached under ~/.cache/gatehouse).
go test -race -count=1 -timeout 30m ./...

echo "== go test: backend's Service tests on PostgreSQL"
# The same tests again on the other store (backend/backendtest.Stores); about 3.5 minutes here.
GATEHOUSE_TEST_STORE=postgres go test -race -count=1 -timeout 20m ./backend/

if [ -f build/desktop-test.sh ]; then
	echo "== desktop console"
	bash build/desktop-test.sh
fi
