#!/usr/bin/env bash
# Installs Claude Code (npm @anthropic-ai/claude-code, its native binary ships inside the package) into a cache folder
# once, and exports PROXY_TEST_CLAUDE_CODE=/path/to/claude for the test that runs it against the gateway.
# Source it, then call claude_code_install. Kept across runs: a second run finds the binary and installs nothing.
CLAUDE_CODE_VERSION="${CLAUDE_CODE_VERSION:-2.1.328}"

claude_code_install() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/llm-gateway-tests/claude-code-$CLAUDE_CODE_VERSION"
  local bin="$cache/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
  if [ ! -x "$bin" ] || [ "$(stat -c %s "$bin" 2>/dev/null || echo 0)" -lt 1000000 ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "claude-code: npm not found; the Claude Code test will fail" >&2
      return 0
    fi
    mkdir -p "$cache"
    echo "claude-code: installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION into $cache"
    # The postinstall copies the platform's native binary (an optional dependency) over the placeholder.
    if ! (cd "$cache" && npm install --no-audit --no-fund --loglevel=error --prefix "$cache" "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >"$cache/install.log" 2>&1); then
      echo "claude-code: npm install failed (see $cache/install.log); the Claude Code test will fail" >&2
      return 0
    fi
  fi

  if [ -x "$bin" ]; then
    export PROXY_TEST_CLAUDE_CODE="$bin"
    echo "claude-code: $("$bin" --version 2>/dev/null | head -1) at $bin"
  fi
}
