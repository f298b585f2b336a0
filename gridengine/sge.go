// Package gridengine is shim_dmtcp's side of Grid Engine's checkpoint interface:
// the starter method and the checkpoint, migrate, migrate-to-same-CPU and
// clean commands of an APPLICATION-LEVEL checkpoint environment (seed 004),
// rebuilt on the shim.
//
// They are one binary, the shim, under five names (symlinks that Main
// recognises by argv[0]). The starter runs a job of the DMTCP checkpoint
// environment under the shim, with its checkpoints in ckpt_dir/JOB.TASK,
// and any other job exactly as Grid Engine's built-in starter would. The
// commands talk to that shim by signals (SIGUSR2: checkpoint and go on,
// SIGTERM: checkpoint and stop) and watch its checkpoint generations, so
// a command returns only once the checkpoint is complete on disk. Grid
// Engine ignores the commands' exit codes, so every failure is written to
// the job's stderr file and to ckpt_dir/JOB.TASK/sge.log.
package gridengine

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Role is one of the names the shim answers to as a Grid Engine command.
type Role string

// The names of the 2012 scripts, kept so existing checkpoint environments and queue
// settings keep working when the scripts are replaced by symlinks.
const (
	Starter    Role = "dmtcp_starter"
	Checkpoint Role = "dmtcp_checkpoint"
	Migrate    Role = "dmtcp_migrate"
	MigrateCPU Role = "dmtcp_migrate_cpu"
	Clean      Role = "dmtcp_cleanup"
)

// Roles lists every role, in the order an admin meets them.
var Roles = []Role{Starter, Checkpoint, Migrate, MigrateCPU, Clean}

// RoleOf tells which role the program was started as, from its argv[0].
// Grid Engine starts a starter_method as a login program would be:
// "-dmtcp_starter".
func RoleOf(argv0 string) (Role, bool) {
	base := strings.TrimPrefix(filepath.Base(argv0), "-")
	for _, r := range Roles {
		if base == string(r) {
			return r, true
		}
	}
	return "", false
}

// Exit codes of the commands. Grid Engine ignores them; they are for an
// admin who runs a command by hand. The starter returns the shim's code.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitNotExec = 127 // the starter could not start a non-DMTCP job
	// exitErrorState makes Grid Engine keep the job in error state (Eqw)
	// instead of ending it: what HTCondor's hold is to the shim.
	exitErrorState = 100
)

// Main runs role with args (argv[1:]). runShim runs shim_dmtcp proper on an
// os.Args-style argument list and returns its exit code; the starter uses
// it for DMTCP jobs.
func Main(role Role, args []string, runShim func([]string) int) int {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Print(usage(role))
		return exitOK
	}
	env, err := loadJobEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: error: %v\n", role, err)
		return exitUsage
	}
	log := newLog(role, env)
	defer log.Close()
	switch role {
	case Starter:
		return starter(env, log, args, runShim)
	case Clean:
		return clean(env, log)
	default:
		return command(role, env, log, args)
	}
}

func usage(r Role) string {
	switch r {
	case Starter:
		return `usage: dmtcp_starter JOB [ARG...]   (a queue's starter_method)

Starts a Grid Engine job. A job of a checkpoint environment whose commands
are these tools runs under shim_dmtcp, with its checkpoints in
ckpt_dir/JOB_ID.TASK, and resumes from the newest complete one when
RESTARTED is 1 or 2. Any other job starts exactly as with the built-in
starter. Options for the shim come from SHIM_DMTCP_* variables (qsub -v).
`
	case Clean:
		return `usage: dmtcp_cleanup   (a checkpoint environment's clean_command)

Removes the job's checkpoint directory ckpt_dir/JOB_ID.TASK once the job is
over for good; keeps it while Grid Engine will run the job again (qmod -rj,
a job that exits 99 keeps nothing: the job asked to start over).
`
	}
	return fmt.Sprintf(`usage: %s [$job_pid] [--timeout DURATION]   (a checkpoint environment's command)

%s
Waits until the checkpoint is complete on disk (default at most 10m).
Reads JOB_ID, SGE_TASK_ID, SGE_CKPT_DIR and SGE_JOB_SPOOL_DIR from the job's
environment, as Grid Engine gives it to checkpoint commands.
`, r, map[Role]string{
		Checkpoint: "Checkpoints the job; the job goes on.",
		Migrate:    "Checkpoints the job and stops it, so that Grid Engine starts it again\n(RESTARTED=2), from that checkpoint.",
		MigrateCPU: "Like dmtcp_migrate, after adding cpuflag_<flag>=TRUE for this host's CPU\nfeatures to the job's hard resource list (qalter), so that it resumes on a\nhost with the same features. Needs the cpuflag_* complexes\n(dmtcp-condor sge config --cpu-flags) and the host to be a submit host.",
	}[r])
}

// jobEnv is what Grid Engine tells a starter or a checkpoint command about
// the job.
type jobEnv struct {
	JobID     string
	Task      string // SGE_TASK_ID, "1" for a job that is not an array
	Array     bool
	CkptDir   string // the environment's ckpt_dir ("" for a job without one)
	SpoolDir  string // SGE_JOB_SPOOL_DIR
	Restarted int    // RESTARTED: 0 first run, 1 rerun, 2 after a migration
	Config    map[string]string
	Stdout    string // SGE_STDOUT_PATH
	Stderr    string // SGE_STDERR_PATH
	Stdin     string // SGE_STDIN_PATH
	getenv    func(string) string
}

func loadJobEnv(getenv func(string) string) (jobEnv, error) {
	e := jobEnv{
		JobID:    getenv("JOB_ID"),
		Task:     getenv("SGE_TASK_ID"),
		SpoolDir: getenv("SGE_JOB_SPOOL_DIR"),
		Stdout:   getenv("SGE_STDOUT_PATH"),
		Stderr:   getenv("SGE_STDERR_PATH"),
		Stdin:    getenv("SGE_STDIN_PATH"),
		getenv:   getenv,
		Config:   map[string]string{},
	}
	if e.JobID == "" || e.SpoolDir == "" {
		return e, errors.New("JOB_ID or SGE_JOB_SPOOL_DIR is not set: run this as Grid Engine's starter_method or checkpoint command, not by hand")
	}
	if e.Task == "" || e.Task == "undefined" {
		e.Task = "1"
	} else {
		e.Array = true
	}
	if r := getenv("RESTARTED"); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil {
			return e, fmt.Errorf("RESTARTED=%q is not a number", r)
		}
		e.Restarted = n
	}
	cfg, err := readConfig(filepath.Join(e.SpoolDir, "config"))
	if err != nil {
		return e, err
	}
	e.Config = cfg
	if e.Stderr == "" {
		e.Stderr = e.stderrFile()
	}
	// The spool config holds the environment's own ckpt_dir; SGE_CKPT_DIR
	// is the same exported (and absent from old releases' commands).
	e.CkptDir = cfg["ckpt_dir"]
	if e.CkptDir == "" {
		e.CkptDir = getenv("SGE_CKPT_DIR")
	}
	return e, nil
}

// readConfig reads the job's spool config: key=value lines.
func readConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the job's spool config: %w", err)
	}
	defer f.Close()
	cfg := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			cfg[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return cfg, nil
}

// stderrFile is the job's stderr file as the shepherd names it, for the
// checkpoint commands, whose environment lacks SGE_STDERR_PATH: the spool
// config's stderr_path (stdout_path with -j y) is the file itself, or a
// directory holding JOB_NAME.eJOB_ID[.TASK].
func (e jobEnv) stderrFile() string {
	path, kind := e.Config["stderr_path"], ".e"
	if e.Config["merge_stderr"] == "1" {
		path, kind = e.Config["stdout_path"], ".o"
	}
	if path == "" || path == "/dev/null" {
		return ""
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		name := e.Config["job_name"] + kind + e.JobID
		if e.Array {
			name += "." + e.Task
		}
		path = filepath.Join(path, name)
	}
	return path
}

// Dir is the job's own directory in the checkpoint environment's ckpt_dir.
func (e jobEnv) Dir() string {
	if e.CkptDir == "" {
		return ""
	}
	return filepath.Join(e.CkptDir, e.JobID+"."+e.Task)
}

// Names of what the job's directory holds.
const (
	storeName  = "ckpt"       // the shim's --ckpt-dir
	shimLog    = "shim.log"   // the shim's --log
	statusName = "status"     // the shim's --status-file
	scriptName = "job_script" // the job script, copied out of the host's spool
	logName    = "sge.log"    // what the commands did
	tokenName  = "run"        // which run owns the directory: "PID HOST"
	pinnedName = "cpu-pinned" // the resource list a first pin gave the job
)

// cpuEnvironment reports whether the job's checkpoint environment migrates
// with dmtcp_migrate_cpu: its jobs are pinned to the features of the CPU
// they first ran on.
func (e jobEnv) cpuEnvironment() bool {
	f := strings.Fields(e.Config["ckpt_migr_command"])
	if len(f) == 0 {
		return false
	}
	r, ok := RoleOf(f[0])
	return ok && r == MigrateCPU
}

// dmtcpJob reports whether the job belongs to a checkpoint environment
// whose checkpoint command is one of these tools: only those jobs run
// under the shim.
func (e jobEnv) dmtcpJob() bool {
	if e.Config["ckpt_job"] != "1" {
		return false
	}
	fields := strings.Fields(e.Config["ckpt_command"])
	if len(fields) == 0 {
		return false
	}
	if r, ok := RoleOf(fields[0]); ok && r != Starter {
		return true
	}
	return sameFile(fields[0], selfPath())
}

func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}

// sameFile reports whether a and b are the same file once symlinks are
// followed.
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
