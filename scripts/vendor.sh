#!/bin/sh
# Copies the front-end libraries pinned in package.json (and locked in
# package-lock.json) into static/vendor/, with their licenses. Run after
# changing a version in package.json: make vendor, then commit static/vendor/.
set -eu
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --ignore-scripts
src=node_modules/lightweight-charts
dest=static/vendor/lightweight-charts
mkdir -p "$dest"
cp "$src/dist/lightweight-charts.standalone.production.js" "$dest/lightweight-charts.standalone.production.js"
cp "$src/LICENSE" "$dest/LICENSE"
version=$(node -p "require('./$src/package.json').version")
printf 'lightweight-charts %s from the npm registry (package-lock.json pins its integrity hash).\n' "$version" > "$dest/VERSION"
echo "vendored lightweight-charts $version into $dest"
