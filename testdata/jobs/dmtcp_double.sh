# Cooperation with the dmtcp-condor TEST DOUBLE of DMTCP (see README.md), for
# bash scripts: source it, call double_restore, then double_poll STATE at safe
# points. Inert under a real DMTCP, which keeps SIGUSR2 for itself.
double_requested=0
trap 'double_requested=1' USR2

# double_restore prints the saved state, if any.
double_restore() {
    if [ -n "${DMTCP_DOUBLE_RESTORE:-}" ] && [ -f "$DMTCP_DOUBLE_RESTORE" ]; then
        cat "$DMTCP_DOUBLE_RESTORE"
    fi
}

double_poll() {
    [ "$double_requested" = 1 ] || return 0
    double_requested=0
    [ -n "${DMTCP_DOUBLE_DIR:-}" ] || return 0
    local me=$BASHPID
    if [ -f "$DMTCP_DOUBLE_DIR/$me.exit" ]; then
        exit "$(cat "$DMTCP_DOUBLE_DIR/$me.exit")"
    fi
    printf '%s\n' "$1" > "$DMTCP_DOUBLE_DIR/$me.state.tmp"
    mv "$DMTCP_DOUBLE_DIR/$me.state.tmp" "$DMTCP_DOUBLE_DIR/$me.state"
    kill -STOP "$me"
}
