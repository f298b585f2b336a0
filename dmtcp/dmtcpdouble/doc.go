// Package dmtcpdouble is a TEST DOUBLE of DMTCP's commands, for machines
// without DMTCP (DMTCP is not packaged for Debian 12, where CI runs). It is
// not DMTCP and checkpoints nothing by itself.
//
// One multi-call binary answers to the names dmtcp_launch,
// dmtcp_coordinator, dmtcp_command, dmtcp_restart and mtcp_restart with
// DMTCP 4.2.0's options, and reproduces what the shim depends on:
//
//   - the coordinator listens on a kernel-chosen port (--coord-port 0) and
//     writes it, without a newline, to --port-file; it does not create its
//     --ckptdir and dies at the first checkpoint if that is missing;
//   - dmtcp_launch and dmtcp_restart exec into the job: their PID is the
//     job's PID and their exit status the job's;
//   - dmtcp_command --status prints NUM_PEERS= and RUNNING=yes|no in
//     DMTCP's layout, and exits 2 with no coordinator at the port;
//   - a checkpoint reports RUNNING=no at once but suspends the job only a
//     little later (DMTCP_DOUBLE_SUSPEND_DELAY, default 40ms), writes one
//     image per process as NAME.dmtcp.temp, takes its time
//     (DMTCP_DOUBLE_WRITE_TIME, default 250ms), renames the images into
//     place one by one, then writes dmtcp_restart_script_<id>.sh and its
//     symlink, then resumes the job;
//   - --bcheckpoint returns at once, as in DMTCP 3.1-4.2.0
//     (DMTCP_DOUBLE_BLOCKING=1 makes it block, as in 2.6/3.0);
//     --interval is accepted and ignored, as in 3.1-4.2.0; --kcheckpoint
//     always exits 2; a checkpoint asked for while one is under way or
//     with no process connected is refused with DMTCP's "not in running
//     state" message and exit 2, and DMTCP_DOUBLE_REFUSE_CHECKPOINTS=N
//     refuses the first N requests, as DMTCP does while a process is
//     still joining (--status then says RUNNING=no for a moment);
//   - --kill makes every process exit 0; a coordinator that dies makes
//     the job exit with DMTCP_FAIL_RC (default 99);
//   - dmtcp_restart restarts every image given, from the current
//     directory (paths under the launch directory move with it), gets its
//     stdio from its own fds 0-2, and fails with DMTCP's JASSERT "File not
//     found" message and DMTCP_FAIL_RC when a file the job had open outside
//     that directory is missing;
//   - an image that cannot be written (a full disk) ends every process of
//     the job with DMTCP_FAIL_RC, as DMTCP's failed write assertion does,
//     and leaves only the .temp files;
//   - DMTCP_DOUBLE_RESTART_HANG=1 makes dmtcp_restart hang before it
//     joins its coordinator, as DMTCP 4.2.0's restarts sometimes do in a
//     futex.
//
// What a test double cannot do is save a process's memory. Programs
// checkpointed by it cooperate: they handle SIGUSR2 (DMTCP's own
// checkpoint signal, which real DMTCP keeps for itself, so the handler is
// inert under a real DMTCP) by saving their state at a safe point into
// $DMTCP_DOUBLE_DIR/<pid>.state and stopping themselves with SIGSTOP; they
// resume from the file named by $DMTCP_DOUBLE_RESTORE; and they exit with
// the code in $DMTCP_DOUBLE_DIR/<pid>.exit when it exists. The test jobs in
// testdata/jobs do so in C, Python and bash. A process that does not handle
// SIGUSR2 is stopped during a checkpoint and started afresh on restart, and
// killed with SIGKILL instead of exiting 0.
//
// The program itself is dmtcp/dmtcpdouble/cmd/dmtcp-double (a main that
// calls Main). Build installs it where there is the source and the go
// command (dmtcp/dmtcptest for tests, the demo); .ci/run has it install
// itself ("go run ./dmtcp/dmtcpdouble/cmd/dmtcp-double install PREFIX").
package dmtcpdouble
