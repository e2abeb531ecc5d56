# Sourced by scripts/postgres.sh and scripts/chromium.sh: installing Debian packages.
# The sourcing script defines `die MESSAGE` and `say MESSAGE`.

# apt_install WHAT PACKAGE...: install PACKAGEs with apt-get (root, or sudo), updating the
# package lists only when the first attempt fails. WHAT names the software in messages.
apt_install() {
    local what=$1
    shift
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "$what is not installed and installing it needs root (apt-get install $*)."
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || die "$what is not installed and apt-get is not available: install it with your system's package manager and retry."
    say "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y "$@"; then
        say "apt-get install failed; updating the package lists and retrying"
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y "$@" || die "apt-get install $* failed."
    fi
}
