#!/usr/bin/env bash
# Fails when package-lock.json is not what `npm install --package-lock-only`
# writes for package.json: a lock that lacks other platforms' optional packages
# (biome's and msgpackr-extract's darwin, win32 and musl builds) makes `npm ci`
# refuse it on those platforms, in the Dockerfile and in any CI that runs it.
# Asks the registry, so it runs in .ci/run, not in `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json "$tmp/"
(cd "$tmp" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
node -e '
  const [a, b] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")).packages)
  const pick = (p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.version]))
  const [have, want] = [pick(a), pick(b)]
  const missing = Object.keys(want).filter((k) => !(k in have))
  const changed = Object.keys(want).filter((k) => k in have && have[k] !== want[k])
  const extra = Object.keys(have).filter((k) => !(k in want))
  if (missing.length + changed.length + extra.length === 0) process.exit(0)
  for (const k of missing) console.error(`lock file lacks ${k}@${want[k]}`)
  for (const k of changed) console.error(`lock file has ${k}@${have[k]}, package.json resolves ${want[k]}`)
  for (const k of extra) console.error(`lock file has ${k}, which package.json no longer needs`)
  console.error("run: npm install --package-lock-only, and commit package-lock.json")
  process.exit(1)
' package-lock.json "$tmp/package-lock.json"
echo "lock file complete"
