# shellcheck shell=bash
# Sourced by scripts/test and scripts/run: make sure .venv exists and holds the project.
#
# The install is skipped when pyproject.toml (and the extras asked for) are unchanged since the
# last successful install; the stamp file inside .venv records that. Never prompts.

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# Print the first python3 of version 3.11 or newer on PATH.
dteam_find_python() {
    local candidate
    for candidate in "${DTEAM_PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: no python3 of version 3.11 or newer found on PATH (set DTEAM_PYTHON)" >&2
    return 1
}

# dteam_venv ROOT EXTRAS: create ROOT/.venv if needed and pip install -e "ROOT[EXTRAS]".
# EXTRAS is "" or e.g. "dev". An install with extras also satisfies a later call without.
dteam_venv() {
    local root="$1" extras="${2:-}"
    local venv="$root/.venv" stamp="$root/.venv/.dteam-install-stamp"
    local python hash spec

    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        python="$(dteam_find_python)" || return 1
        echo "scripts: creating $venv with $python" >&2
        rm -rf "$venv"
        if ! "$python" -m venv "$venv"; then
            echo "error: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
            return 1
        fi
    fi

    hash="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
    if [ -f "$stamp" ]; then
        local stamped_hash stamped_extras
        read -r stamped_hash stamped_extras <"$stamp" || true
        if [ "$stamped_hash" = "$hash" ] && { [ -z "$extras" ] || [ "$stamped_extras" = "$extras" ]; }; then
            return 0
        fi
    fi

    spec="$root"
    [ -n "$extras" ] && spec="$root[$extras]"
    echo "scripts: installing the project into $venv (pip install -e '$spec')" >&2
    "$venv/bin/python" -m pip install --quiet --upgrade pip || return 1
    if ! "$venv/bin/python" -m pip install --quiet -e "$spec"; then
        rm -f "$stamp"
        echo "error: pip install -e '$spec' failed" >&2
        return 1
    fi
    printf '%s %s\n' "$hash" "$extras" >"$stamp"
}
