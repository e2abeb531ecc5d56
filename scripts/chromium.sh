#!/usr/bin/env bash
# Headless Chromium and its WebDriver, for the browser tests (pytest -m browser).
#
#   scripts/chromium.sh install
#   scripts/chromium.sh check
#
# See usage() below, or run with --help.
set -euo pipefail

PACKAGES=(chromium chromium-driver)

usage() {
    cat <<'EOF'
Usage: scripts/chromium.sh install
       scripts/chromium.sh check

Chromium and ChromeDriver for the browser tests (tests/browser, `pytest -m browser`),
which open the generated reports in headless Chromium through Selenium.

install
    Installs Debian's packages 'chromium' and 'chromium-driver' (apt-get install -y)
    when `chromium` or `chromedriver` is not on PATH; the package lists are updated
    (apt-get update) only when the first install attempt fails. Needs root, or sudo.
    Prints the versions of both programs.

check
    Exits 0 when both `chromium` and `chromedriver` are on PATH, 1 otherwise (and
    names what is missing).

Elsewhere than Debian or Ubuntu, install Chromium (or Chrome) and the ChromeDriver of
the same major version with your system's package manager, and put both on PATH.
EOF
}

die() {
    echo "chromium.sh: error: $*" >&2
    exit 2
}

say() {
    echo "chromium.sh: $*"
}

# The programs of PACKAGES that are not on PATH, one per line.
missing_programs() {
    command -v chromium >/dev/null || echo chromium
    command -v chromedriver >/dev/null || echo chromedriver
}

install_packages() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "Chromium is not installed and installing it needs root (apt-get install ${PACKAGES[*]})."
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || die "Chromium is not installed and apt-get is not available: install Chromium and ChromeDriver, put both on PATH and retry."
    say "installing ${PACKAGES[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y "${PACKAGES[@]}"; then
        say "apt-get install failed; updating the package lists and retrying"
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y "${PACKAGES[@]}" || die "apt-get install ${PACKAGES[*]} failed."
    fi
}

install() {
    [[ $# -eq 0 ]] || { usage >&2; exit 2; }
    local missing
    missing=$(missing_programs)
    if [[ -n "$missing" ]]; then
        say "not on PATH: $(echo $missing)"
        install_packages
        missing=$(missing_programs)
        [[ -z "$missing" ]] || die "installed ${PACKAGES[*]}, but still not on PATH: $(echo $missing)."
    fi
    say "$(chromium --version 2>/dev/null | head -n 1) at $(command -v chromium)"
    say "$(chromedriver --version 2>/dev/null | head -n 1) at $(command -v chromedriver)"
}

check() {
    [[ $# -eq 0 ]] || { usage >&2; exit 2; }
    local missing
    missing=$(missing_programs)
    if [[ -n "$missing" ]]; then
        echo "chromium.sh: not on PATH: $(echo $missing) (scripts/chromium.sh install)" >&2
        exit 1
    fi
    say "chromium and chromedriver are on PATH"
}

case "${1:-}" in
    install) shift; install "$@" ;;
    check) shift; check "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
