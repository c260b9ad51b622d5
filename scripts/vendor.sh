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

# GraphiQL for /graphql/ (signed-in users): React and GraphiQL's UMD builds. The stylesheet's
# @font-face rules load fonts from data: URLs, which the Content-Security-Policy refuses
# (font-src 'self'); they are left out and the page uses the system's fonts. Source-map
# comments are left out too: the maps are not vendored, and collectstatic's manifest storage
# refuses a file that names a missing one.
dest=static/vendor/graphiql
mkdir -p "$dest"
copy_clean='
const fs = require("fs");
const [src, dest, dropFonts] = process.argv.slice(1);
let text = fs.readFileSync(src, "utf8");
text = text.replace(/\n?(\/\/# sourceMappingURL=\S+|\/\*# sourceMappingURL=[^*]+\*\/)\s*$/, "\n");
if (dropFonts) text = text.replace(/@font-face\s*\{[^}]*\}/g, "");
fs.writeFileSync(dest, text);
'
node -e "$copy_clean" node_modules/react/umd/react.production.min.js "$dest/react.production.min.js"
node -e "$copy_clean" node_modules/react-dom/umd/react-dom.production.min.js "$dest/react-dom.production.min.js"
node -e "$copy_clean" node_modules/graphiql/graphiql.min.js "$dest/graphiql.min.js"
node -e "$copy_clean" node_modules/graphiql/graphiql.min.css "$dest/graphiql.min.css" drop-fonts
cp node_modules/graphiql/LICENSE "$dest/LICENSE-graphiql"
cp node_modules/react/LICENSE "$dest/LICENSE-react"
cp node_modules/react-dom/LICENSE "$dest/LICENSE-react-dom"
versions=$(node -p "['graphiql', 'react', 'react-dom'].map(n => n + ' ' + require('./node_modules/' + n + '/package.json').version).join(', ')")
printf '%s from the npm registry (package-lock.json pins their integrity hashes).\n' "$versions" > "$dest/VERSION"
echo "vendored $versions into $dest"
