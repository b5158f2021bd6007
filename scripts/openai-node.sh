#!/usr/bin/env bash
# Installs the official Node SDK (npm openai) into a cache folder once, and exports PROXY_TEST_OPENAI_NODE=/path/to/it
# (a folder with node_modules/openai) for the tests that drive the gateway's Responses API with it. Source it, then
# call openai_node_install. Kept across runs: a second run finds the package and installs nothing.
OPENAI_NODE_VERSION="${OPENAI_NODE_VERSION:-6.30.1}"

openai_node_install() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/llm-gateway-tests/openai-node-$OPENAI_NODE_VERSION"
  if [ ! -f "$cache/node_modules/openai/package.json" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "openai-node: npm not found; the Node SDK tests will fail" >&2
      return 0
    fi
    mkdir -p "$cache"
    echo "openai-node: installing openai@$OPENAI_NODE_VERSION into $cache"
    if ! (cd "$cache" && npm install --no-audit --no-fund --loglevel=error --prefix "$cache" "openai@$OPENAI_NODE_VERSION" >"$cache/install.log" 2>&1); then
      echo "openai-node: npm install failed (see $cache/install.log); the Node SDK tests will fail" >&2
      return 0
    fi
  fi

  if [ -f "$cache/node_modules/openai/package.json" ] && command -v node >/dev/null 2>&1; then
    export PROXY_TEST_OPENAI_NODE="$cache"
    echo "openai-node: openai@$(node -p "require('$cache/node_modules/openai/package.json').version") with node $(node --version)"
  fi
}
