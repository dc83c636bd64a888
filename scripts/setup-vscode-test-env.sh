#!/usr/bin/env bash
# Prepares a real VS Code (code-server 4.100.3 = VS Code 1.100.3 server + web workbench) and
# Debian chromium for the in-host / UI test harness in test/vscode/runner/.
# Idempotent and non-interactive; a rerun with everything in place takes about a second.
# Needs root (or sudo) for apt, plus the npm registry and Debian mirrors. Nothing else is
# downloaded: the postinstall scripts that would fetch from GitHub are replaced by hand
# (see /work/shared/notes/real-vscode-offline.md).
# Last stdout line: absolute path of code-server's entry script (run it with `node`).
set -euo pipefail

CS_VERSION=4.100.3
CACHE_ROOT="${EXEC_SERVER_TEST_CACHE:-$HOME/.cache/exec-server-vscode}"
DIR="$CACHE_ROOT/code-server-$CS_VERSION"
MARKER="$DIR/.setup-complete"
ENTRY="$DIR/node_modules/code-server/out/node/entry.js"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# node-gyp must use local headers, never download them (Debian's nodejs ships /usr/include/node).
export npm_config_nodedir="${npm_config_nodedir:-/usr}"

log() { echo "[setup-vscode-test-env] $*" >&2; }
T0=$SECONDS
phase_start() { PHASE="$1"; PT=$SECONDS; log "phase $PHASE ..."; }
phase_end() { log "phase $PHASE done in $((SECONDS - PT))s"; }

# Serialise concurrent runs (e.g. two test jobs on a fresh machine); released when the script exits.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.setup.lock"
flock -w 900 9 || { log "timed out waiting for $CACHE_ROOT/.setup.lock"; exit 1; }

# ---- phase 1: apt packages (only touches apt when something is missing) ----
phase_start apt
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
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

if [ -f "$MARKER" ] && [ -f "$ENTRY" ]; then
  log "code-server $CS_VERSION already set up in $DIR (total $((SECONDS - T0))s)"
  echo "$ENTRY"
  exit 0
fi

# A half-finished earlier attempt is discarded: every step below assumes a clean start.
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"

# ---- phase 2: code-server itself, without install scripts ----
# The cache dir is its own npm project; its package.json approves argon2's install script
# (npm 11 runs dependency install scripts only when approved in package.json "allowScripts").
phase_start code-server-npm
cat > package.json <<EOF
{ "name": "exec-server-vscode-test-cache", "private": true,
  "allowScripts": { "argon2": true } }
EOF
npm install --ignore-scripts --no-save --loglevel=error "code-server@$CS_VERSION" >&2
# argon2 (password hashing; unused with --auth none but imported at startup) needs its binary.
npm rebuild argon2 --loglevel=error >&2
phase_end

# ---- phase 3: VS Code's own dependencies (replays code-server's postinstall by hand) ----
phase_start vscode-deps
cd "$DIR/node_modules/code-server/lib/vscode"
npm install --omit=dev --ignore-scripts --loglevel=error >&2
# @vscode/ripgrep's postinstall downloads rg from GitHub; Debian's ripgrep 13 is the pinned version.
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
# Native modules (node-pty, @vscode/spdlog, kerberos, ...) build from source against /usr/include/node.
# The rebuild must not rerun @vscode/ripgrep's download script, so name the native packages.
NATIVE=$(node -e '
  const fs = require("fs"), path = require("path");
  const out = [];
  const visit = (dir) => { for (const n of fs.readdirSync(dir)) {
    if (n.startsWith(".")) continue;
    const p = path.join(dir, n);
    if (n.startsWith("@")) { visit(p); continue; }
    if (fs.existsSync(path.join(p, "binding.gyp")) && !p.includes("ripgrep")) out.push(path.relative("node_modules", p));
  } };
  visit("node_modules");
  console.log(out.join(" "));')
log "native modules: $NATIVE"
# --dangerously-allow-all-scripts: lib/vscode's package.json (not ours to edit) approves nothing,
# and npm 11 skips unapproved dependency scripts. npm_config_yes: node-pty's postinstall runs
# `npx node-gyp configure` (npm registry only); this machine's npmrc says yes=false, so npx
# would refuse and fail the rebuild.
npm_config_yes=true npm rebuild $NATIVE --dangerously-allow-all-scripts --loglevel=error >&2
# code-server's server looks for modules under node_modules.asar (desktop layout).
ln -sfn node_modules node_modules.asar
phase_end

# ---- phase 4: built-in extensions' dependencies ----
phase_start builtin-extensions
cd "$DIR/node_modules/code-server/lib/vscode/extensions"
npm install --omit=dev --loglevel=error >&2
phase_end

# ---- phase 5: smoke check: the entry script starts and reports its version ----
phase_start verify
# --config keeps code-server from writing ~/.config/code-server/config.yaml.
node "$ENTRY" --config "$DIR/config.yaml" --version >&2
(cd "$DIR/node_modules/code-server/lib/vscode" && node -e '
  for (const m of ["node-pty", "@vscode/spdlog", "kerberos", "@parcel/watcher", "native-watchdog"]) require(m);') >&2
phase_end

date -u +%FT%TZ > "$MARKER"
log "done in $((SECONDS - T0))s"
echo "$ENTRY"
