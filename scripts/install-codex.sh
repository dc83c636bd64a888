#!/usr/bin/env bash
# Installs the pinned codex CLI (used only by the interop tests, never by the product) into a
# cache directory OUTSIDE the repository and prints the absolute path of the codex binary on stdout.
#
#   scripts/install-codex.sh            # -> /root/.cache/exec-server-vscode/codex-0.169.0/node_modules/.../codex
#   scripts/install-codex.sh 0.171.0    # another version, side by side
#   CODEX_BIN=$(scripts/install-codex.sh)
#
# Cache root: ${EXEC_SERVER_TEST_CACHE:-$HOME/.cache/exec-server-vscode}. Idempotent: once the
# marker file exists (and the binary is still there) a rerun only prints the path (~0 s).
# Everything except the final path goes to stderr. Needs npm and the npm registry; nothing else.
set -euo pipefail

CODEX_VERSION=${1:-0.169.0}
[[ "$CODEX_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "install-codex: bad version $CODEX_VERSION" >&2; exit 2; }
CACHE_ROOT="${EXEC_SERVER_TEST_CACHE:-${HOME:?HOME is not set}/.cache/exec-server-vscode}"
DEST="$CACHE_ROOT/codex-$CODEX_VERSION"
MARKER="$DEST/.installed"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM_PKG=codex-linux-x64; TRIPLE=x86_64-unknown-linux-musl ;;
  Linux-aarch64 | Linux-arm64) PLATFORM_PKG=codex-linux-arm64; TRIPLE=aarch64-unknown-linux-musl ;;
  *) echo "install-codex: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac
REL_BIN="node_modules/@openai/$PLATFORM_PKG/vendor/$TRIPLE/bin/codex"
BIN="$DEST/$REL_BIN"

if [[ -f "$MARKER" && -x "$BIN" ]]; then
  printf '%s\n' "$BIN"
  exit 0
fi

command -v npm >/dev/null || { echo "install-codex: npm not found" >&2; exit 2; }
mkdir -p "$CACHE_ROOT"
STAGE="$(mktemp -d "$CACHE_ROOT/.codex-$CODEX_VERSION.stage.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

echo "install-codex: installing @openai/codex@$CODEX_VERSION into $DEST" >&2
# A private package.json keeps npm from walking up into some other project.
printf '{"name":"codex-cache","private":true}\n' >"$STAGE/package.json"
# --ignore-scripts: the binary ships prebuilt inside the optional platform package.
(cd "$STAGE" && npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
  --include=optional "@openai/codex@$CODEX_VERSION") >&2

if [[ ! -x "$STAGE/$REL_BIN" ]]; then
  echo "install-codex: $REL_BIN missing after npm install (optional dependency not installed?)" >&2
  exit 1
fi
got="$("$STAGE/$REL_BIN" --version 2>/dev/null || true)"
if [[ "$got" != *"$CODEX_VERSION"* ]]; then
  echo "install-codex: unexpected 'codex --version' output: $got" >&2
  exit 1
fi
printf '%s\n' "$got" >"$STAGE/.installed"

# Publish atomically. If a concurrent run won the race, keep its copy.
if [[ -e "$DEST" && ! -f "$MARKER" ]]; then rm -rf "$DEST"; fi  # a stale, half-made install
if ! mv -T "$STAGE" "$DEST" 2>/dev/null; then
  [[ -f "$MARKER" && -x "$BIN" ]] || { echo "install-codex: could not publish $DEST" >&2; exit 1; }
fi
printf '%s\n' "$BIN"
