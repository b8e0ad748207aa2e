#!/usr/bin/env bash
# The package the way a user meets it: `npm pack`, install the tarball into a fresh
# project with a PATH that has node, npm and sh but no compiler, make or python, and
# launch a proc through it. Also: what the tarball holds, how many packages it pulls
# in at run time, the source-build fallback (failing clearly without a compiler,
# working with one), and the allowScripts advice of the README.
#   bash test/pack/check-tarball.sh [NODE_DIR ...]   (other Node builds to load it with)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
MAX_RUNTIME_PACKAGES=15
work=$(mktemp -d -t proclaunch-pack.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-tarball: FAIL: $*" >&2; exit 1; }
say() { echo "check-tarball: $*"; }

# 1. The tarball (prepack builds the prebuilt addon; postpack removes it again).
(cd "$repo" && npm pack --pack-destination "$work" --loglevel=error >/dev/null)
tarball=$(ls "$work"/proclaunch-*.tgz)
[ ! -e "$repo/prebuilds" ] || fail "postpack left prebuilds/ in the checkout"
listing=$(tar tvzf "$tarball")
for file in prebuilds/linux-x64/proclaunch.node prebuilds/linux-x64/manifest.json scripts/install.mjs dist/index.js dist/index.d.ts binding.gyp; do
  grep -q " package/$file\$" <<<"$listing" || fail "$file is not in the tarball"
done
for file in prebuilds/linux-x64/proclaunch-watchdog prebuilds/linux-x64/proclaunch-spawner dist/cli/main.js; do
  grep -qE "^-rwx.* package/$file\$" <<<"$listing" || fail "$file is not executable in the tarball"
done
if grep -qE " package/(build/|dist/\.tsbuildinfo|node_modules/)" <<<"$listing"; then fail "the tarball holds build products it should not"; fi
glibc=$(tar xzOf "$tarball" package/prebuilds/linux-x64/manifest.json | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).glibc')
grep -q "glibc >= $glibc" "$repo/README.md" || fail "README.md does not say the prebuilt needs glibc >= $glibc (read off the binaries)"
say "tarball $(basename "$tarball"), $(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) KB; prebuilt needs glibc >= $glibc"

# 2. A PATH with node, npm, npx and sh only (what a slim image like node:20-slim has).
bin="$work/bin"
mkdir -p "$bin"
for tool in node npm npx sh; do ln -s "$(readlink -f "$(command -v "$tool")")" "$bin/$tool"; done
for tool in g++ c++ gcc cc make python3 python node-gyp; do
  if PATH="$bin" command -v "$tool" >/dev/null; then fail "$tool is reachable on the slim PATH"; fi
done
slim() { env PATH="$bin" "$@"; }

# 3. The README's two-command quick start, in a fresh project, on the slim PATH.
app="$work/app"
mkdir -p "$app"
echo '{"name":"pack-check-app","private":true,"type":"module"}' >"$app/package.json"
cd "$app"
slim npm install --no-audit --no-fund --foreground-scripts "$tarball" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "npm install of the tarball failed on the slim PATH"; }
grep "install-scripts" "$work/install.log" || true
grep -q "proclaunch: using the prebuilt addon" "$work/install.log" || { cat "$work/install.log"; fail "the install script did not take the prebuilt"; }
if grep -q "gyp" "$work/install.log"; then cat "$work/install.log"; fail "node-gyp ran during the install"; fi
[ ! -e node_modules/proclaunch/build ] || fail "the install built the addon from source"
slim npx proclaunch run -n 4 -- sh -c 'echo hi from $PROCLAUNCH_INDEX' >"$work/run.log" 2>&1 || { cat "$work/run.log"; fail "npx proclaunch run failed"; }
grep -q "hi from 3" "$work/run.log" || { cat "$work/run.log"; fail "npx proclaunch run did not run the procs"; }
cp "$repo/test/pack/launch-one.mjs" "$app/launch-one.mjs"
slim node launch-one.mjs

# 4. What it costs at run time: every package the installed tarball pulls in.
runtime=$(npm ls --omit=dev --all --parseable | tail -n +2 | sort -u | wc -l)
((runtime < MAX_RUNTIME_PACKAGES)) || { npm ls --omit=dev --all; fail "$runtime runtime packages (limit: under $MAX_RUNTIME_PACKAGES)"; }
[ ! -e node_modules/node-gyp ] || fail "node-gyp is installed at run time"
say "runtime tree: $runtime packages (proclaunch and its dependencies, all levels)"

# 5. npm 11's allowScripts: what the README tells users to run does cover the package.
if npm install-scripts ls >/dev/null 2>&1; then
  npm install-scripts ls 2>&1 | grep -q proclaunch || fail "npm install-scripts ls does not list proclaunch before approval"
  npm install-scripts approve proclaunch >/dev/null
  node -e 'const p = require("./package.json"); if (!Object.keys(p.allowScripts ?? {}).some((k) => k.includes("proclaunch"))) process.exit(1)' || fail "approve did not write allowScripts"
  if npm install-scripts ls 2>&1 | grep -q proclaunch; then fail "proclaunch is still pending after approval"; fi
  say "npm install-scripts approve proclaunch writes $(node -p 'JSON.stringify(require("./package.json").allowScripts)')"
fi

# 6. Other Node versions load the same prebuilt (Node-API is ABI-stable).
for nodedir in "$@"; do
  env PATH="$nodedir/bin:$bin" node launch-one.mjs
done

# 7. No usable prebuilt: without a compiler the install fails with a clear message...
rm -rf node_modules/proclaunch/prebuilds
if slim npm rebuild proclaunch --foreground-scripts >"$work/rebuild.log" 2>&1; then cat "$work/rebuild.log"; fail "npm rebuild succeeded without a prebuilt or a compiler"; fi
grep -q "node-gyp needs a C++ compiler, make and python3" "$work/rebuild.log" || { cat "$work/rebuild.log"; fail "no clear message when the source build fails"; }
grep -q "Not found on PATH: g++, make, python3" "$work/rebuild.log" || { cat "$work/rebuild.log"; fail "the message does not name the missing tools"; }
say "no prebuilt, no compiler: the install fails and says why"
# ... and with one, it builds from source with the node-gyp npm hands to install scripts.
npm rebuild proclaunch --foreground-scripts >"$work/rebuild.log" 2>&1 || { cat "$work/rebuild.log"; fail "the source build failed with a compiler on PATH"; }
grep -q "building the addon from source" "$work/rebuild.log" || { cat "$work/rebuild.log"; fail "the install script did not build from source"; }
[ -f node_modules/proclaunch/build/Release/proclaunch.node ] || fail "no build/Release/proclaunch.node after the source build"
slim node launch-one.mjs
say "no prebuilt, a compiler: built from source with npm's own node-gyp, and it runs"
# 8. A prebuilt whose glibc need this machine does not meet is passed over by the
#    loader (the addon alone might load; its watchdog would not run), and when nothing
#    else loads, the error names the need.
pkg=node_modules/proclaunch
tar xzf "$tarball" -C "$work" package/prebuilds
mv "$work/package/prebuilds" "$pkg/prebuilds"
node -e 'const f = process.argv[1], m = JSON.parse(require("fs").readFileSync(f, "utf8")); m.glibc = "99.0"; require("fs").writeFileSync(f, JSON.stringify(m))' "$pkg/prebuilds/linux-x64/manifest.json"
slim node launch-one.mjs
mv "$pkg/build" "$work/build-aside"
if slim node launch-one.mjs >"$work/load.log" 2>&1; then fail "the addon loaded with an unfit prebuilt and no build"; fi
grep -q "ERR_ADDON_LOAD\|could not load the native addon" "$work/load.log" || { cat "$work/load.log"; fail "no ERR_ADDON_LOAD"; }
grep -q "needs glibc >= 99.0, this machine has" "$work/load.log" || { cat "$work/load.log"; fail "the load error does not name the glibc the prebuilt needs"; }
say "a prebuilt needing a newer glibc is passed over; with nothing else the error says: $(grep -m1 'prebuilt:' "$work/load.log" | sed 's/^ *//')"
say "OK"
