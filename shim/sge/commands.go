package sge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
)

// DefaultTimeout bounds how long a command waits for a checkpoint. A
// migrate that runs out of it ends the job anyway (Grid Engine only
// reschedules a job that has ended), leaving the previous checkpoint.
const DefaultTimeout = 10 * time.Minute

// poll is how often a command looks at the shim's generations.
const poll = 50 * time.Millisecond

// command runs the checkpoint, migrate and migrate-to-same-CPU commands:
// signal the job's shim, then wait until the checkpoint is complete (and,
// for a migration, the job has ended).
func command(role Role, e jobEnv, log *log, args []string) int {
	pid, timeout, err := commandArgs(e, args)
	if err != nil {
		log.Errorf("%v", err)
		return exitUsage
	}
	if e.Dir() == "" {
		log.Errorf("the job has no checkpoint directory (ckpt_dir); is it submitted with qsub -ckpt?")
		return exitFailed
	}
	if err := checkShim(pid); err != nil {
		log.Errorf("%v", err)
		if role != Checkpoint {
			endJob(pid, log)
		}
		return exitFailed
	}
	if role == MigrateCPU {
		if err := pinCPU(e, log); err != nil {
			log.Errorf("pin the job to this CPU's features: %v; migrating without it", err)
		}
	}
	store := filepath.Join(e.Dir(), storeName)
	before := generation(store)
	sig, what := syscall.SIGUSR2, "checkpoint"
	if role != Checkpoint {
		sig, what = syscall.SIGTERM, "checkpoint and stop"
	}
	start := time.Now()
	log.Printf("asking shim_dmtcp (pid %d) to %s; the newest checkpoint is generation %d", pid, what, before)
	if err := syscall.Kill(pid, sig); err != nil {
		log.Errorf("signal shim_dmtcp (pid %d): %v", pid, err)
		return exitFailed
	}
	deadline := time.Now().Add(timeout)
	for {
		gen := generation(store)
		gone := !alive(pid)
		switch {
		case role == Checkpoint && gen > before:
			log.Printf("checkpoint generation %d complete in %s", gen, time.Since(start).Round(time.Millisecond))
			return exitOK
		case role != Checkpoint && gone && gen > before:
			log.Printf("checkpoint generation %d complete and the job stopped in %s; Grid Engine will restart it from there", gen, time.Since(start).Round(time.Millisecond))
			return exitOK
		case gone:
			log.Errorf("the job ended before a new checkpoint was complete (the newest is generation %d); see %s", gen, filepath.Join(e.Dir(), shimLog))
			return exitFailed
		case time.Now().After(deadline):
			log.Errorf("no complete checkpoint after %s (the newest is generation %d); see %s", timeout, gen, filepath.Join(e.Dir(), shimLog))
			if role != Checkpoint {
				endJob(pid, log)
			}
			return exitFailed
		}
		time.Sleep(poll)
	}
}

// commandArgs reads "[$job_pid] [--timeout D]". Without a pid the job's
// pid file in the spool directory names it: the starter's pid, which is
// the shim's.
func commandArgs(e jobEnv, args []string) (pid int, timeout time.Duration, err error) {
	timeout = DefaultTimeout
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--timeout" && i+1 < len(args):
			i++
			if timeout, err = time.ParseDuration(args[i]); err != nil || timeout <= 0 {
				return 0, 0, fmt.Errorf("--timeout %q: give a duration such as 10m", args[i])
			}
		case strings.HasPrefix(a, "--timeout="):
			v := strings.TrimPrefix(a, "--timeout=")
			if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
				return 0, 0, fmt.Errorf("--timeout %q: give a duration such as 10m", v)
			}
		case pid == 0:
			if pid, err = strconv.Atoi(a); err != nil || pid <= 1 {
				return 0, 0, fmt.Errorf("argument %q: want the job's pid ($job_pid) or --timeout DURATION", a)
			}
		default:
			return 0, 0, fmt.Errorf("unexpected argument %q; usage: [$job_pid] [--timeout DURATION]", a)
		}
	}
	if pid == 0 {
		data, err := os.ReadFile(filepath.Join(e.SpoolDir, "job_pid"))
		if err != nil {
			return 0, 0, fmt.Errorf("find the job's pid: %w (pass $job_pid as the command's argument)", err)
		}
		if pid, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil || pid <= 1 {
			return 0, 0, fmt.Errorf("the spool's job_pid %q is not a pid", strings.TrimSpace(string(data)))
		}
	}
	return pid, timeout, nil
}

// checkShim makes sure pid is a running shim: a queue whose starter_method
// is not dmtcp_starter runs the job without one, and nothing could be
// checkpointed.
func checkShim(pid int) error {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		if !alive(pid) {
			return fmt.Errorf("the job (pid %d) is not running", pid)
		}
		return fmt.Errorf("inspect the job (pid %d): %w", pid, err)
	}
	if !sameFile(exe, selfPath()) {
		return fmt.Errorf("the job (pid %d) runs %s, not shim_dmtcp: set the queue's starter_method to dmtcp_starter (dmtcp-condor sge config prints it)", pid, exe)
	}
	return nil
}

// generation is the number of the newest complete generation, 0 for none.
func generation(store string) int {
	gen, _, err := inspect(store)
	if err != nil || gen == nil {
		return 0
	}
	return gen.Manifest.Generation
}

// alive reports whether pid still runs (a zombie does not).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses, which may hold
	// spaces or parentheses itself.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// endJob kills the job's process group: a migration must end the job, or
// Grid Engine leaves it suspended instead of rescheduling it.
func endJob(pid int, log *log) {
	if !alive(pid) {
		return
	}
	log.Printf("ending the job (process group %d) so that Grid Engine reschedules it", pid)
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// clean removes the job's checkpoint directory once the job is over for
// good. Grid Engine runs it after every run that is not a migration, also
// before a rerun (qmod -rj) that should resume, so what the run left says
// whether anything is still needed.
func clean(e jobEnv, log *log) int {
	dir := e.Dir()
	if dir == "" {
		return exitOK
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return exitOK
	}
	keep, why := needed(e)
	if keep {
		log.Printf("keeping %s: %s", dir, why)
		return exitOK
	}
	stage := stageOf(filepath.Join(dir, storeName))
	if err := os.RemoveAll(dir); err != nil {
		log.Errorf("remove %s: %v", dir, err)
		return exitFailed
	}
	if stage != "" {
		_ = os.RemoveAll(stage)
	}
	fmt.Fprintf(os.Stderr, "%s: removed %s (%s)\n", Clean, dir, why)
	return exitOK
}

// needed decides whether the job's checkpoints may still be used.
func needed(e jobEnv) (keep bool, why string) {
	status, _ := os.ReadFile(filepath.Join(e.Dir(), statusName))
	word, _, _ := strings.Cut(strings.TrimSpace(string(status)), " ")
	switch word {
	case "exit", "signal":
		return false, "the job ended by itself (" + strings.TrimSpace(string(status)) + ")"
	}
	if generation(filepath.Join(e.Dir(), storeName)) == 0 {
		return false, "it holds no complete checkpoint"
	}
	// Killed (qdel, qmod -rj, a limit) or the shim failed: only the
	// qmaster knows whether the job will run again.
	state, err := jobState(e)
	switch {
	case err != nil:
		return true, fmt.Sprintf("cannot ask the qmaster whether the job runs again (%v); remove it by hand once the job is gone", err)
	case state == "":
		return false, "the job is gone from the qmaster"
	case strings.Contains(state, "d"):
		return false, "the job is being deleted (state " + state + ")"
	}
	return true, "the job will run again (state " + state + ") and resume from it"
}

// stageOf is the staging directory the shim used for a store: the shim
// removes it itself unless it was killed.
func stageOf(store string) string {
	s, err := ckptstore.Inspect(store)
	if err != nil {
		return ""
	}
	gen, _, err := s.Latest()
	if err != nil || gen == nil || gen.Manifest.StageKey == "" {
		return ""
	}
	stage := os.Getenv("SHIM_DMTCP_STAGE_DIR")
	if stage == "" {
		stage = "/tmp"
	}
	return filepath.Join(stage, fmt.Sprintf("dmtcp-condor-%d", os.Getuid()), gen.Manifest.StageKey)
}
