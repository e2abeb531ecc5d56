#!/usr/bin/env bash
# Headless Chromium and its WebDriver, for the browser tests (pytest -m browser).
#
#   scripts/chromium.sh install
#   scripts/chromium.sh check
#
# See usage() below, or run with --help.
set -euo pipefail
# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

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

install() {
    [[ $# -eq 0 ]] || { usage >&2; exit 2; }
    local missing
    missing=$(missing_programs)
    if [[ -n "$missing" ]]; then
        say "not on PATH: $(echo $missing)"
        apt_install "Chromium" "${PACKAGES[@]}"
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
