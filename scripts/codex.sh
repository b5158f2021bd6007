#!/usr/bin/env bash
# Installs the Codex CLI (npm @openai/codex; its native binary ships in the platform package it depends on) into a
# cache folder once, and exports PROXY_TEST_CODEX=/path/to/codex for the test that runs it against the gateway.
# Source it, then call codex_install. Kept across runs: a second run finds the binary and installs nothing.
CODEX_VERSION="${CODEX_VERSION:-0.171.0}"

codex_install() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/llm-gateway-tests/codex-$CODEX_VERSION"
  local bin="$cache/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
  if [ ! -x "$bin" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "codex: npm not found; the Codex CLI test will fail" >&2
      return 0
    fi
    mkdir -p "$cache"
    echo "codex: installing @openai/codex@$CODEX_VERSION into $cache"
    if ! (cd "$cache" && npm install --no-audit --no-fund --loglevel=error --prefix "$cache" "@openai/codex@$CODEX_VERSION" >"$cache/install.log" 2>&1); then
      echo "codex: npm install failed (see $cache/install.log); the Codex CLI test will fail" >&2
      return 0
    fi
  fi

  if [ -x "$bin" ]; then
    export PROXY_TEST_CODEX="$bin"
    echo "codex: $("$bin" --version 2>/dev/null | head -1) at $bin"
  fi
}
