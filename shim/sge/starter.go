package sge

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
	stdin  string   // script_from_stdin: the file the shell reads as stdin
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
		l.args = append([]string{"-s"}, args[1:]...)
		l.stdin = args[0]
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
	if l.stdin != "" {
		f, err := os.Open(l.stdin)
		if err != nil {
			return fmt.Errorf("open the job script for the shell's stdin: %w", err)
		}
		if err := syscall.Dup3(int(f.Fd()), 0, 0); err != nil {
			return fmt.Errorf("redirect stdin: %w", err)
		}
	}
	if l.shell == "" {
		return syscall.Exec(l.args[0], l.args, os.Environ())
	}
	argv0 := l.shell
	if l.login {
		argv0 = "-" + filepath.Base(l.shell)
	}
	return syscall.Exec(l.shell, append([]string{argv0}, l.args...), os.Environ())
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
		// The shell read the script from stdin: give it as a file instead,
		// so that stdin stays the job's.
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
	}
	return code
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
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the job's checkpoint directory: %w (ckpt_dir must exist and be writable by the job's owner: mode 1777)", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make %s private: %w", dir, err)
	}

	copy := ""
	if l.script >= 0 || l.stdin != "" {
		// The script's spool copy lives on this host only, and a shell
		// keeps it open: the job resumes from a copy beside its
		// checkpoints, at the same path on every host.
		copy = filepath.Join(dir, scriptName)
		if e.Restarted == 0 || !exists(copy) {
			if err := copyFile(args[0], copy); err != nil {
				return nil, fmt.Errorf("copy the job script: %w", err)
			}
		}
	}
	prog := l.program(copy)

	argv := []string{"shim_dmtcp",
		"--ckpt-dir", filepath.Join(dir, storeName),
		"--log", filepath.Join(dir, shimLog),
		"--status-file", filepath.Join(dir, statusName),
	}
	for _, s := range []struct{ opt, path string }{{"--stdout", e.Stdout}, {"--stderr", e.Stderr}, {"--stdin", e.Stdin}} {
		if regularOrMissing(s.path) {
			argv = append(argv, s.opt, s.path)
		}
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
	if gen, _, _ := inspect(filepath.Join(dir, storeName)); gen == nil {
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

// inspect returns the newest complete generation in a shim's checkpoint
// directory, without locking it (the shim may be running).
func inspect(store string) (*ckptstore.Generation, []string, error) {
	s, err := ckptstore.Inspect(store)
	if err != nil {
		return nil, nil, err
	}
	return s.Latest()
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
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o700)
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
