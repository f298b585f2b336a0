// Package e2e holds dmtcp-condor's end-to-end tests on a real HTCondor pool.
// It has no code of its own: everything is in its _test.go files.
//
// The tests use the project's pieces as a user would. A job description
// (YAML) is rendered into job.sub by the dmtcp-condor command, a bundle
// directory (bin/shim_dmtcp and DMTCP's commands, lib/dmtcp) goes with the
// job, condor_submit submits it as the pool's unprivileged user, and
// condor_vacate_job, condor_q, condor_history and the job's event log tell
// what happened. The pool is testdata/condor/pool.sh's one-node HTCondor
// 23.9 in a Debian 13 chroot: TestMain brings it up (about a minute from
// nothing, a few seconds when the chroot exists), every test shares it, and
// the last test run using it stops it at the end (a pool started by hand is
// left running).
//
// What is checked (issue 5):
//   - a job evicted twice with condor_vacate_job lands in a new scratch
//     directory each time, resumes from its checkpoint, and ends with the
//     output of an uninterrupted run (TestEvictedTwiceResumes);
//   - a program speaking HTCondor's old checkpoint-library protocol (engine
//     condor-syscall, testdata/jobs/condor-ckpt.c, sent with a shim but no
//     DMTCP) is evicted twice, resumes with -_condor_restart in a new
//     scratch directory each time, runs with address randomisation off
//     every time, and ends with its own exit code and the output of an
//     uninterrupted run (TestCondorSyscallEvictedTwice, issue 7);
//   - self-checkpointing (checkpoint_exit_code) cycles several times, also
//     across an eviction, and ends (TestSelfCheckpointing);
//   - a self-checkpointing job (modes self and both) keeping a file open in
//     a directory and a top-level file, both in output_files, goes through
//     two exit-85 cycles and an eviction and ends with every file identical
//     to an uninterrupted run (TestSelfCheckpointKeepsNamedFiles, issue 13),
//     and a listed file that does not exist yet holds the job at its first
//     self-checkpoint (TestMissingOutputFileHolds);
//   - every spelling condor_submit takes for what the generator writes
//     (any case, aliases, +Attr, MY.Attr) does override the rendered file
//     in condor_submit -dry-run, and render refuses each in submit:
//     (TestPassThroughRefusesOwned, issue 13), and the ClassAd expressions
//     render accepts as platform.requirements pass condor_submit
//     (TestRequirementsDryRun);
//   - the job's exit code reaches condor_history, a death by signal shows as
//     ExitBySignal, a failure of the shim's own holds the job with the
//     shim's reason (TestExitStatus, TestShimFailureHolds);
//   - the shim's log and the job's stdout and stderr come back as separate
//     files (TestSeparateFiles);
//   - after the first checkpoint the job ad carries the DMTCPCkpt*
//     attributes the shim set with condor_chirp, and Requirements use them
//     (TestPinToFirstCheckpoint);
//   - every shipped job description passes condor_submit -dry-run with the
//     arguments it describes (TestExamplesDryRun), and nasty argument
//     vectors survive render, condor_submit, the job ad and the program's
//     real argv (TestArgumentVectors).
//
// Each job runs against the DMTCP test double and, when one is installed
// ($DMTCP_PREFIX or dmtcp_launch on PATH), a real DMTCP; the real subtests
// skip with a message otherwise. $DMTCP_PREFIX may name a DMTCP that runs
// only inside the pool's chroot (built there, against its newer glibc):
// what counts is that its dmtcp_launch runs in the chroot.
//
// The tests need root (to run the pool), debootstrap and the Debian mirror
// the first time, gcc, python3 and bash. Without root, with -short, or when
// the pool cannot start, they skip with the reason;
// DMTCP_CONDOR_E2E_REQUIRE_POOL=1 (CI) turns that skip into a failure.
// Other knobs: DMTCP_CONDOR_E2E_KEEP_POOL=1 leaves the pool running at the
// end (the next run starts in a fraction of a second),
// DMTCP_CONDOR_E2E_KEEP_JOBS=1 keeps every job directory under /tmp (failed
// tests always keep theirs), and DMTCP_CONDOR_POOL_NUM_CPUS sets the pool's
// slots (default 4 here: the jobs mostly sleep).
package e2e
