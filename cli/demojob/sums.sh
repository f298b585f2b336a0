#!/bin/bash
# The demo job of "dmtcp-condor demo": a slow running sum, one line a step.
# The lines marked "test double" let the DMTCP test double save and restore
# its two variables when no real DMTCP is installed; under a real DMTCP they
# do nothing (DMTCP keeps SIGUSR2 for itself, and DMTCP_DOUBLE_* is unset).
steps=${1:-60}
step=0 sum=0
if [ -n "${DMTCP_DOUBLE_RESTORE:-}" ]; then read -r step sum < "$DMTCP_DOUBLE_RESTORE"; fi # test double
asked=0; trap 'asked=1' USR2                                                                  # test double
while [ "$step" -lt "$steps" ]; do
    if [ "$asked" = 1 ] && [ -n "${DMTCP_DOUBLE_DIR:-}" ]; then                                # test double
        asked=0; d=$DMTCP_DOUBLE_DIR/$BASHPID                                                  # test double
        [ -f "$d.exit" ] && exit "$(cat "$d.exit")"                                            # test double
        echo "$step $sum" > "$d.state.tmp" && mv "$d.state.tmp" "$d.state" && kill -STOP "$BASHPID" # test double
    fi                                                                                         # test double
    step=$((step + 1))
    sum=$((sum + step * step))
    echo "step $step: sum of squares so far $sum"
    sleep 0.05
done
echo "done: 1² + … + ${steps}² = $sum"
