#!/usr/bin/env bash
# Runs every test of Gatehouse: formatting, generated files, vet, the Go tests (store, backend,
# web with real Chromium, desktop bindings) and the desktop console under Xvfb. It first installs
# what the tests need and is missing: Debian packages (as root, or with sudo) and npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium xvfb xauth libgtk-3-dev libwebkit2gtk-4.1-dev imagemagick oathtool poppler-utils)
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "== installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "not gofmt-ed:"; echo "$unformatted"; exit 1
fi

echo "== generated files are current"
go tool templ generate >/dev/null
git diff --exit-code --stat -- '*_templ.go' || { echo "run 'go tool templ generate' and commit"; exit 1; }

echo "== go vet"
go vet ./...

echo "== staticcheck"
go tool staticcheck ./...

echo "== govulncheck"
# govulncheck needs the Go vulnerability database (https://vuln.go.dev). Where the machine cannot
# reach it, the check is skipped with a note; any other failure, or a vulnerability found, fails.
if vulns=$(go tool govulncheck ./... 2>&1); then
	echo "$vulns" | tail -n 1
elif grep -q "fetching vulnerabilities" <<<"$vulns"; then
	echo "NOTE: govulncheck skipped: the vulnerability database (vuln.go.dev) cannot be reached from here"
else
	echo "$vulns"; exit 1
fi

echo "== go test"
go test -race -count=1 -timeout 20m ./...

if [ -f build/desktop-test.sh ]; then
	echo "== desktop console"
	bash build/desktop-test.sh
fi
