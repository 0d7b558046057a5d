#!/usr/bin/env bash
# The copy-in-tmux tests (tests/ui/test_tmux_copy.py) drive a real, private tmux server.
# `make test` runs this first: on a machine without tmux it is installed from Debian's packages
# (as root, or with sudo); elsewhere it says what to install.
set -eu
command -v tmux >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && apt-get install -y -qq tmux >/dev/null
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update -qq && sudo apt-get install -y -qq tmux >/dev/null
    fi
fi
command -v tmux >/dev/null 2>&1 || {
    echo "make test: the tests need tmux (3.2 or later); install it and run again" >&2
    exit 1
}
