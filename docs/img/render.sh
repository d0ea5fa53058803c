#!/usr/bin/env bash
# Renders the pictures in docs/img from the demo pull request (docs/img/demo-pr.sh): what a
# reviewer sees in the step summary (summary.png), `miglint graph` as Mermaid (graph-mermaid.png)
# and as Graphviz DOT (graph-dot.png). Run by hand after a change to the markdown report or the
# graph; CI checks the same outputs with a CommonMark parser, Mermaid's parser and Graphviz.
# Needs: Graphviz (dot), Chromium (Debian: apt-get install -y graphviz chromium), node, and in
# $TOOLS (default target/render-tools) the npm packages this installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
tools=${TOOLS:-$root/target/render-tools}
if [ ! -d "$tools/node_modules/puppeteer-core" ]; then
    mkdir -p "$tools"
    (cd "$tools" && npm install --silent --no-audit --no-fund --prefix . \
        mermaid@11.17.2 marked@15 github-markdown-css@5 puppeteer-core@24 >/dev/null)
fi
cargo build --release --quiet --bin miglint
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docs/img/demo-pr.sh "$work/repo" "$root/target/release/miglint"
cd "$work/repo"
# Links as in GitHub Actions, so the picture shows what the step summary shows.
GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/shop GITHUB_SHA=$(git rev-parse HEAD) \
    "$root/target/release/miglint" check --format markdown > "$work/summary.md" || [ $? = 1 ]
{ echo '```mermaid'; "$root/target/release/miglint" graph; echo '```'; } > "$work/graph.md"
"$root/target/release/miglint" graph --format dot | dot -Tpng -Gdpi=110 -o "$root/docs/img/graph-dot.png"
node "$root/docs/img/render.mjs" "$tools/node_modules" "$work/summary.md" "$root/docs/img/summary.png" 1000
node "$root/docs/img/render.mjs" "$tools/node_modules" "$work/graph.md" "$root/docs/img/graph-mermaid.png" 700
ls -la "$root"/docs/img/*.png
