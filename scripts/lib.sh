# Shared settings of the project's scripts. Source it; don't run it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds live outside the tree so they survive clean clones and sessions.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/infera-target}"
INFERA_NODE_BIN="$CARGO_TARGET_DIR/debug/infera-node"
export INFERA_NODE_BIN

log() { printf '\n==> %s\n' "$*"; }
