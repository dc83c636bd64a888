#!/usr/bin/env bash
# Installs the pinned agent CLIs used by the real-agent tests (test/agents/) into a cache directory
# OUTSIDE the repository, and prints one `name=/absolute/path/to/binary` line per agent on stdout.
# Never used by the product.
#
#   scripts/install-agents.sh              # codex, claude, gemini (what `npm run test:agents` needs)
#   scripts/install-agents.sh all          # + copilot, opencode
#   scripts/install-agents.sh claude gemini
#
# Cache root: ${EXEC_SERVER_TEST_CACHE:-$HOME/.cache/exec-server-vscode}; each package goes to
# agents-<name>-<version>/ there (codex: codex-<version>/, via scripts/install-codex.sh).
# Idempotent: once an install's marker file exists (and its binary is still there) a rerun only
# prints the path. Each install is staged in a temp dir and published with one rename, so an
# interrupted or concurrent run never leaves a half-made install behind under the final name.
# Everything except the name=path lines goes to stderr. Needs npm and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

CODEX_VERSION=0.171.0
CLAUDE_VERSION=2.1.332
GEMINI_VERSION=0.61.0
COPILOT_VERSION=1.0.102
OPENCODE_VERSION=1.18.33

# Stage dirs still present at exit (a failed or interrupted install) are removed.
STAGES=()
trap 'for s in "${STAGES[@]}"; do rm -rf "$s"; done' EXIT

CACHE_ROOT="${EXEC_SERVER_TEST_CACHE:-${HOME:?HOME is not set}/.cache/exec-server-vscode}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ARCH=x64 ;;
  Linux-aarch64 | Linux-arm64) ARCH=arm64 ;;
  *) echo "install-agents: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac
# The native CLIs ship glibc and musl builds; pick the one this machine's libc runs.
MUSL=""
if ldd --version 2>&1 | grep -qi musl; then MUSL=1; fi

# install_pkg NAME PACKAGE VERSION REL_BIN VERSION_CMD...
#   REL_BIN: the binary, relative to the install dir. VERSION_CMD: how to ask it its version
#   ({} = the binary's absolute path); the output must contain VERSION.
install_pkg() {
  local name=$1 pkg=$2 version=$3 rel_bin=$4
  shift 4
  local dest="$CACHE_ROOT/agents-$name-$version"
  local marker="$dest/.installed" bin="$dest/$rel_bin"
  if [[ -f "$marker" && -e "$bin" ]]; then
    printf '%s=%s\n' "$name" "$bin"
    return 0
  fi
  mkdir -p "$CACHE_ROOT"
  local stage
  stage="$(mktemp -d "$CACHE_ROOT/.agents-$name-$version.stage.XXXXXX")"
  STAGES+=("$stage")
  echo "install-agents: installing $pkg@$version into $dest" >&2
  local started=$SECONDS
  # A private package.json keeps npm from walking up into some other project.
  printf '{"name":"agents-cache","private":true}\n' >"$stage/package.json"
  # --ignore-scripts: every binary ships prebuilt inside an optional platform package (Claude
  # Code's and opencode's postinstall would only copy it); --engine-strict=false: Claude Code's
  # package declares node>=22 although its native binary needs no Node at all.
  (cd "$stage" && npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
    --engine-strict=false --include=optional "$pkg@$version") >&2
  if [[ ! -e "$stage/$rel_bin" ]]; then
    echo "install-agents: $rel_bin missing after npm install (optional dependency not installed?)" >&2
    return 1
  fi
  local cmd=() got
  for a in "$@"; do cmd+=("${a//\{\}/$stage/$rel_bin}"); done
  got="$("${cmd[@]}" 2>/dev/null </dev/null || true)"
  if [[ "$got" != *"$version"* ]]; then
    echo "install-agents: unexpected version output from $name: $got" >&2
    return 1
  fi
  printf '%s\n' "$got" | head -n 1 >"$stage/.installed"
  # Publish atomically. If a concurrent run won the race, keep its copy.
  if [[ -e "$dest" && ! -f "$marker" ]]; then rm -rf "$dest"; fi # a stale, half-made install
  if ! mv -T "$stage" "$dest" 2>/dev/null; then
    [[ -f "$marker" && -e "$bin" ]] || { echo "install-agents: could not publish $dest" >&2; return 1; }
  fi
  echo "install-agents: $name $version ready in $((SECONDS - started)) s" >&2
  printf '%s=%s\n' "$name" "$bin"
}

install_agent() {
  case "$1" in
    codex)
      printf 'codex=%s\n' "$(bash scripts/install-codex.sh "$CODEX_VERSION")"
      ;;
    claude)
      install_pkg claude @anthropic-ai/claude-code "$CLAUDE_VERSION" \
        "node_modules/@anthropic-ai/claude-code-linux-$ARCH${MUSL:+-musl}/claude" '{}' --version
      ;;
    gemini)
      # A Node program (works on Node 20); run it with the node that runs the tests.
      install_pkg gemini @google/gemini-cli "$GEMINI_VERSION" \
        node_modules/@google/gemini-cli/bundle/gemini.js node '{}' --version
      ;;
    copilot)
      install_pkg copilot @github/copilot "$COPILOT_VERSION" \
        "node_modules/@github/copilot-linux${MUSL:+musl}-$ARCH/copilot" '{}' --version
      ;;
    opencode)
      install_pkg opencode opencode-ai "$OPENCODE_VERSION" \
        "node_modules/opencode-linux-$ARCH${MUSL:+-musl}/bin/opencode" '{}' --version
      ;;
    *)
      echo "install-agents: unknown agent $1 (codex, claude, gemini, copilot, opencode, all)" >&2
      return 2
      ;;
  esac
}

agents=("$@")
[[ ${#agents[@]} -gt 0 ]] || agents=(codex claude gemini)
[[ "${agents[*]}" != all ]] || agents=(codex claude gemini copilot opencode)
for a in "${agents[@]}"; do install_agent "$a"; done
