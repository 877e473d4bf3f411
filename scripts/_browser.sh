# shellcheck shell=bash
# Sourced by scripts/test: Debian's Chromium for the browser tests (tests/web/).
#
# Playwright (the dev extra) drives the system browser at DTEAM_CHROMIUM (default
# /usr/bin/chromium); its own browser download (`playwright install`) is never used. As root
# on Debian the package is installed when missing; otherwise the tests say why they skip
# (and fail under CI=true, where a skipped browser test would hide a broken page).

export DTEAM_CHROMIUM="${DTEAM_CHROMIUM:-/usr/bin/chromium}"

dteam_browser() {
    if [ -x "$DTEAM_CHROMIUM" ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "scripts: $DTEAM_CHROMIUM not found; browser tests will skip" \
            "(install Debian's 'chromium' package, or set DTEAM_CHROMIUM)" >&2
        return 0
    fi
    echo "scripts: installing Chromium for the browser tests (apt-get install chromium)" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends chromium </dev/null >/dev/null 2>&1; then
        apt-get update -q </dev/null >/dev/null &&
            apt-get install -y -q --no-install-recommends chromium </dev/null >/dev/null ||
            echo "error: could not install chromium; browser tests will skip or fail" >&2
    fi
    return 0
}
