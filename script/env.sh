# Sourced by the other scripts: puts the project's pinned Node and pnpm first on PATH.
# It installs nothing; script/bootstrap does that.
PEERSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERSCOPE_TOOLS="$PEERSCOPE_ROOT/.tools"
NODE_VERSION="24.21.0"
PNPM_VERSION="12.18.0"
NODE_MIN_MAJOR=22
if [ -x "$PEERSCOPE_TOOLS/node/bin/node" ]; then
  PATH="$PEERSCOPE_TOOLS/node/bin:$PATH"
fi
if [ -x "$PEERSCOPE_TOOLS/pnpm/node_modules/.bin/pnpm" ]; then
  PATH="$PEERSCOPE_TOOLS/pnpm/node_modules/.bin:$PATH"
fi
export PATH PEERSCOPE_ROOT PEERSCOPE_TOOLS NODE_VERSION PNPM_VERSION NODE_MIN_MAJOR
# No prompts, no update nags, no telemetry in scripted runs.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 npm_config_update_notifier=false
