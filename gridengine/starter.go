package gridengine

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
)

// launch is how Grid Engine's built-in starter would start a job.
type launch struct {
	shell  string   // the shell that runs the job; "" when it is exec'd directly
	login  bool     // the shell is a login shell (argv[0] "-sh")
	args   []string // after the shell, or the whole argv when there is none
	stdin  string   // script_from_stdin: the script the shell reads on fd 0
	script int      // index in args of the job script; -1 for none
}

// builtin works out what Grid Engine's built-in starter runs for args (the
// script's spool copy or a -b y command, then the job's arguments), from
// the SGE_STARTER_* variables and the spool config (recorded on 8.1.9: a
// script is "-sh SCRIPT ARGS", a -b y job "-sh -c 'ARGS joined'", exec'd
// directly with -shell no or shell_start_mode unix_behavior).
func builtin(e jobEnv, args []string) (launch, error) {
	if len(args) == 0 {
		return launch{}, errors.New("no job to start: the starter gets the job script or command as its arguments")
	}
	l := launch{
		shell:  firstOf(e.getenv("SGE_STARTER_SHELL_PATH"), e.Config["shell_path"], "/bin/sh"),
		login:  e.getenv("SGE_STARTER_USE_LOGIN_SHELL") == "true",
		script: -1,
	}
	mode := firstOf(e.getenv("SGE_STARTER_SHELL_START_MODE"), e.Config["shell_start_mode"])
	binary := e.Config["handle_as_binary"] == "1"
	switch {
	case binary && e.Config["no_shell"] == "1", !binary && mode == "unix_behavior":
		path, err := exec.LookPath(args[0])
		if err != nil {
			return launch{}, fmt.Errorf("start %s: %w", args[0], err)
		}
		l.shell, l.login = "", false
		l.args = append([]string{path}, args[1:]...)
		if !binary {
			l.script = 0
		}
	case binary:
		l.args = []string{"-c", strings.Join(args, " ")}
	case mode == "script_from_stdin":
		// The shepherd has put the script on fd 0 and passes "-s ARGS"
		// (builtin_starter.c).
		l.args = append([]string(nil), args...)
		if args[0] != "-s" {
			l.args = append([]string{"-s"}, args...)
		}
		l.stdin = e.Config["script_file"]
	default:
		l.args = append([]string(nil), args...)
		l.script = 0
	}
	return l, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// execBuiltin replaces the starter with the job, as the built-in starter
// does.
func execBuiltin(l launch) error {
	// The built-in starter's job never sees the starter's own variables.
	env := os.Environ()[:0:0]
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SGE_STARTER_") {
			env = append(env, kv)
		}
	}
	if l.shell == "" {
		return syscall.Exec(l.args[0], l.args, env)
	}
	argv0 := l.shell
	if l.login {
		argv0 = "-" + filepath.Base(l.shell)
	}
	return syscall.Exec(l.shell, append([]string{argv0}, l.args...), env)
}

// program is the argv the shim runs for l, with the job script replaced by
// copy. dmtcp_launch cannot set argv[0], so a login shell's "-sh" becomes
// "sh -l" (the same startup files) for the shells that take -l.
func (l launch) program(copy string) []string {
	args := append([]string(nil), l.args...)
	if l.script >= 0 && copy != "" {
		args[l.script] = copy
	}
	if l.stdin != "" {
		// The shell read the script on fd 0: give it as a file instead,
		// so that stdin is the job's (--stdin) and survives a restart.
		args = append([]string{copy}, args[1:]...)
	}
	if l.shell == "" {
		return args
	}
	prog := []string{l.shell}
	if l.login {
		switch filepath.Base(l.shell) {
		case "sh", "bash", "dash", "ksh", "mksh", "zsh":
			prog = append(prog, "-l")
		}
	}
	return append(prog, args...)
}

// starter starts the job: under the shim for the DMTCP checkpoint
// environment, as the built-in starter otherwise.
func starter(e jobEnv, log *log, args []string, runShim func([]string) int) int {
	l, err := builtin(e, args)
	if err != nil {
		log.Errorf("%v", err)
		return exitNotExec
	}
	if !e.dmtcpJob() {
		err := execBuiltin(l)
		log.Errorf("%v", err)
		return exitNotExec
	}
	argv, err := prepare(e, log, args, l)
	if err != nil {
		log.Errorf("%v", err)
		return exitcode.CheckpointDir
	}
	code := runShim(argv)
	if exitcode.IsShimCode(code) {
		tailLog(filepath.Join(e.Dir(), shimLog), os.Stderr, 60)
		if gen, _ := latest(filepath.Join(e.Dir(), storeName)); gen > 0 && resumable[code] || code == exitcode.NoUsableCheckpoint {
			// Ending normally would lose the job: Grid Engine holds a job
			// that exits 100 in error state, with its checkpoint kept.
			log.Errorf("shim_dmtcp failed with exit code %d and checkpoint generation %d is kept; the job is put in error state (exit 100): fix the cause, then qmod -cj %s to resume it, or qdel it", code, gen, e.JobID)
			return exitErrorState
		}
	}
	return code
}

// resumable are the shim's failures after which the checkpoint is still
// good: the fault is in the host or the install, not the checkpoint.
var resumable = map[int]bool{
	exitcode.DMTCPNotFound: true, exitcode.Coordinator: true, exitcode.Restart: true,
	exitcode.Incompatible: true, exitcode.MissingFiles: true, exitcode.CheckpointDir: true,
	exitcode.RestartTimeout: true,
}

// prepare makes the job's checkpoint directory ready for this run and
// returns the shim's command line.
func prepare(e jobEnv, log *log, args []string, l launch) ([]string, error) {
	if e.CkptDir == "" {
		return nil, errors.New("the checkpoint environment has no ckpt_dir; set one (a directory every execution host shares, mode 1777)")
	}
	if !filepath.IsAbs(e.CkptDir) {
		return nil, fmt.Errorf("the checkpoint environment's ckpt_dir %q is not an absolute path", e.CkptDir)
	}
	dir := e.Dir()
	if e.Restarted == 0 {
		// A first run finds a directory only when a job id was reused (a
		// new cell, or the id counter wrapped): not this job's state.
		if err := moveAside(dir, log); err != nil {
			return nil, err
		}
	}
	if err := ownDir(dir, true); err != nil {
		return nil, err
	}
	// The run token: the commands check that the job they signal is this
	// run's shim, and clean leaves the directory to a later run.
	if err := writePrivate(filepath.Join(dir, tokenName), []byte(runToken(os.Getpid()))); err != nil {
		return nil, fmt.Errorf("write the run token: %w", err)
	}

	copy, src := "", args[0]
	if l.stdin != "" {
		src = l.stdin
	}
	if l.script >= 0 || l.stdin != "" {
		// The script's spool copy lives on this host only, and a shell
		// keeps it open: the job resumes from a copy beside its
		// checkpoints, at the same path on every host.
		copy = filepath.Join(dir, scriptName)
		if e.Restarted == 0 || !exists(copy) {
			if err := copyFile(src, copy); err != nil {
				return nil, fmt.Errorf("copy the job script: %w", err)
			}
		}
	}
	prog := l.program(copy)

	argv := []string{"shim_dmtcp",
		"--ckpt-dir", filepath.Join(dir, storeName),
		"--log", filepath.Join(dir, shimLog),
		"--status-file", filepath.Join(dir, statusName),
		"--keep-output",
	}
	if e.getenv("SHIM_DMTCP_CKPT_TIMEOUT") == "" {
		// Below the commands' own limit, so that the shim stops a hung
		// job itself (the commands can only reach its process group).
		argv = append(argv, "--ckpt-timeout", (DefaultTimeout - time.Minute).String())
	}
	// The shim cuts the job's output back to its size at the checkpoint
	// on a restart; only a file Grid Engine named for this job alone
	// (-o/-e a directory, or the default) may be cut: a file given by
	// name may be shared by tasks or jobs.
	for _, s := range []struct{ opt, path, cfg string }{{"--stdout", e.Stdout, "stdout_path"}, {"--stderr", e.Stderr, "stderr_path"}} {
		if isDir(e.Config[s.cfg]) && regularOrMissing(s.path) {
			argv = append(argv, s.opt, s.path)
		}
	}
	if regularOrMissing(e.Stdin) {
		argv = append(argv, "--stdin", e.Stdin)
	}
	argv = append(argv, "--")
	argv = append(argv, prog...)
	log.Printf("starting (RESTARTED=%d) under shim_dmtcp: %s", e.Restarted, strings.Join(argv, " "))
	return argv, nil
}

// moveAside renames a leftover directory instead of deleting it: it may be
// someone's checkpoint.
func moveAside(dir string, log *log) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	if err := ownDir(dir, false); err != nil {
		return err
	}
	if gen, uncertain := latest(filepath.Join(dir, storeName)); gen == 0 && !uncertain {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove the leftover %s: %w", dir, err)
		}
		return nil
	}
	stale := fmt.Sprintf("%s.stale-%s", dir, time.Now().Format("20060102T150405"))
	if err := os.Rename(dir, stale); err != nil {
		return fmt.Errorf("move the leftover %s aside: %w", dir, err)
	}
	log.Errorf("a first run (RESTARTED=0) found checkpoints of an earlier job with the same id in %s; moved them to %s and started afresh", dir, stale)
	return nil
}

// latest is the number of the newest complete generation in a shim's
// checkpoint directory (0 for none), read without locking it (the shim may
// be running). uncertain means it could not be read completely: a
// generation was unreadable or the directory was; never delete then.
func latest(store string) (gen int, uncertain bool) {
	s, err := ckptstore.Inspect(store)
	if err != nil {
		return 0, true
	}
	g, skipped, err := s.Latest()
	if err != nil {
		return 0, true
	}
	if g != nil {
		gen = g.Manifest.Generation
	}
	// A generation that did not read back (a manifest unreadable, or of a
	// newer shim), or one the shim set aside as damaged, may still be
	// worth something to its owner.
	if gen == 0 && (len(skipped) > 0 || len(s.SetAside()) > 0) {
		uncertain = true
	}
	return gen, uncertain
}

// regularOrMissing says whether the shim may manage path as the job's
// stream file: a regular file (or one not made yet), not /dev/null or a
// terminal.
func regularOrMissing(path string) bool {
	if path == "" {
		return false
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && st.Mode().IsRegular()
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// ownDir makes sure dir is a real directory of this user's, private; with
// create it is made when missing. ckpt_dir is shared (mode 1777) and job
// ids are predictable: another user may have put anything there first.
func ownDir(dir string, create bool) error {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create the job's checkpoint directory: %w (ckpt_dir must exist on this host, shared by all, mode 1777)", err)
		}
		st, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("checkpoint directory: %w", err)
	}
	sys, _ := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory (a %s): ask the Grid Engine admin to remove it", dir, st.Mode().Type())
	case sys != nil && int(sys.Uid) != os.Getuid():
		return fmt.Errorf("%s belongs to uid %d, not to this job's owner (uid %d): ask the Grid Engine admin to remove it", dir, sys.Uid, os.Getuid())
	}
	if st.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make %s private: %w", dir, err)
		}
	}
	return nil
}

// writePrivate writes a small file in the job's own directory without
// following a symlink planted there.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runToken names one run of the job: the starter's pid (which is the
// shim's, and Grid Engine's $job_pid) and host.
func runToken(pid int) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%d %s\n", pid, host)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// copyFile copies src to dst, private and executable (unix_behavior runs
// it), through a temporary name so that a half copy is never used.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	_ = os.Remove(tmp)
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o700)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// tailLog copies the last n lines of the shim's log to w: after a failure
// the user reads the job's stderr, and the log may be removed with the
// checkpoint directory.
func tailLog(path string, w io.Writer, n int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Fprintf(w, "---- last lines of %s ----\n%s\n----\n", path, strings.Join(lines, "\n"))
}
