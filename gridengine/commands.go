package gridengine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/duration"
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
		log.Errorf("the checkpoint environment has no ckpt_dir; set one (qconf -mckpt), a directory every execution host shares, mode 1777")
		return exitFailed
	}
	if err := checkShim(e, pid); err != nil {
		log.Errorf("%v", err)
		if role != Checkpoint && errors.Is(err, errNotOurs) {
			// Nothing can be saved; the job must still end, or Grid
			// Engine never reschedules it.
			endJob(pid, log)
		}
		return exitFailed
	}
	if role == MigrateCPU {
		if err := pinOnce(e, log); err != nil {
			log.Errorf("pin the job to this CPU's features: %v; migrating without it", err)
		}
	}
	store := filepath.Join(e.Dir(), storeName)
	before, _ := latest(store)
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
		// Alive first: a commit between the two reads must not look like
		// a job that ended without its checkpoint.
		gone := !alive(pid)
		gen, _ := latest(store)
		switch {
		case role == Checkpoint && gen > before:
			log.Printf("checkpoint generation %d complete in %s", gen, time.Since(start).Round(time.Millisecond))
			if e.cpuEnvironment() {
				// A rerun (qmod -rj, exit 99) resumes from this
				// checkpoint without any migration having pinned it.
				if err := pinOnce(e, log); err != nil {
					log.Errorf("pin the job to this CPU's features: %v; a rerun may land on a CPU that cannot resume it", err)
				}
			}
			return exitOK
		case role != Checkpoint && gone && gen > before:
			log.Printf("checkpoint generation %d complete and the job stopped in %s; Grid Engine will restart it from there", gen, time.Since(start).Round(time.Millisecond))
			return exitOK
		case gone:
			log.Errorf("the job ended before a new checkpoint was complete (the newest is generation %d); see %s", gen, filepath.Join(e.Dir(), shimLog))
			return exitFailed
		case time.Now().After(deadline):
			if role != Checkpoint {
				log.Errorf("no complete checkpoint after %s; ending the job, which resumes from generation %d (0: from the start); see %s, and give the command --timeout for more time", timeout, gen, filepath.Join(e.Dir(), shimLog))
				endJob(pid, log)
			} else {
				log.Errorf("no complete checkpoint after %s (the newest is generation %d); see %s, and give the command --timeout for more time", timeout, gen, filepath.Join(e.Dir(), shimLog))
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
			if timeout, err = duration.Parse(args[i]); err != nil || timeout <= 0 {
				return 0, 0, fmt.Errorf("--timeout %q: give a duration such as 10m", args[i])
			}
		case strings.HasPrefix(a, "--timeout="):
			v := strings.TrimPrefix(a, "--timeout=")
			if timeout, err = duration.Parse(v); err != nil || timeout <= 0 {
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

// errNotOurs: the job does not run under dmtcp_starter.
var errNotOurs = errors.New("the job does not run under dmtcp_starter")

// checkShim makes sure pid is this run's shim: dmtcp_starter wrote the
// run token with its pid, which is the job's. A queue whose starter_method
// is not dmtcp_starter runs the job without a shim, and nothing can be
// checkpointed. (Comparing executables would fail after a package upgrade
// replaced the binary under running jobs.)
func checkShim(e jobEnv, pid int) error {
	if !alive(pid) {
		return fmt.Errorf("the job (pid %d) is not running", pid)
	}
	token, err := os.ReadFile(filepath.Join(e.Dir(), tokenName))
	if err == nil && ownDir(e.Dir(), false) == nil && string(token) == runToken(pid) {
		return nil
	}
	return fmt.Errorf("%w (pid %d has no run token in %s): set the queue's starter_method to dmtcp_starter (dmtcp-condor sge config prints it)", errNotOurs, pid, e.Dir())
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
	if err := ownDir(dir, false); err != nil {
		log.Errorf("not removing it: %v", err)
		return exitFailed
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
	// A later run (qmod -rj requeues at once, maybe onto another host)
	// owns the directory once it has written its token.
	if token, err := os.ReadFile(filepath.Join(e.Dir(), tokenName)); err == nil {
		if pid, err := os.ReadFile(filepath.Join(e.SpoolDir, "job_pid")); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil && string(token) != runToken(n) {
				return true, "a later run of the job owns it (" + strings.TrimSpace(string(token)) + ")"
			}
		}
	}
	status, _ := os.ReadFile(filepath.Join(e.Dir(), statusName))
	word, _, _ := strings.Cut(strings.TrimSpace(string(status)), " ")
	switch word {
	case "exit", "signal":
		return false, "the job ended by itself (" + strings.TrimSpace(string(status)) + ")"
	}
	gen, uncertain := latest(filepath.Join(e.Dir(), storeName))
	switch {
	case uncertain:
		return true, "its checkpoints could not all be read; remove it by hand once the job is gone"
	case gen == 0:
		return false, "it holds no complete checkpoint"
	case word == "failed":
		return true, "shim_dmtcp failed (" + strings.TrimSpace(string(status)) + ") and the job is held in error state with its checkpoint"
	}
	// Killed (qdel, qmod -rj, a limit): only the qmaster knows whether
	// the job runs again. It still shows a killed run as running (clean
	// runs before the execd reports the end); a rerun is requeued at once.
	state, err := jobState(e)
	switch {
	case err != nil:
		return true, fmt.Sprintf("cannot ask the qmaster whether the job runs again (%v); make this execution host a submit host (qconf -as), or remove it by hand once the job is gone", err)
	case state == "":
		return false, "the job is gone from the qmaster"
	case strings.Contains(state, "d"):
		return false, "the job is being deleted (state " + state + ")"
	case strings.ContainsAny(state, "RqhE"):
		return true, "the job will run again (state " + state + ") and resume from it"
	}
	return false, "the job was killed and will not run again (state " + state + ")"
}

// stageOf is the staging directory the shim used for a store: the shim
// removes it itself unless it was killed.
func stageOf(store string) string {
	s, err := ckptstore.Inspect(store)
	if err != nil {
		return ""
	}
	gen, _, err := s.Latest()
	if err != nil || gen == nil || !ckptstore.StageKeyOK(gen.Manifest.StageKey) {
		return ""
	}
	if dir := gen.Manifest.StageDir; dir != "" {
		if !ckptstore.StagePathOK(dir, gen.Manifest.StageKey, os.Getuid()) {
			return ""
		}
		return dir
	}
	stage := os.Getenv("SHIM_DMTCP_STAGE_DIR")
	if stage == "" {
		stage = "/tmp"
	}
	return filepath.Join(ckptstore.StageParent(stage, os.Getuid()), gen.Manifest.StageKey)
}
