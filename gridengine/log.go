package gridengine

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// log records what a role did in the job's sge.log and, for failures, in
// the job's stderr file too: Grid Engine ignores the commands' exit codes
// and throws away their output, so these are the only places an admin or
// the user will see them.
type log struct {
	role Role
	env  jobEnv
}

func newLog(r Role, e jobEnv) *log { return &log{role: r, env: e} }

func (l *log) line(msg string) string {
	return fmt.Sprintf("%s %s[%d] job %s.%s: %s\n", time.Now().Format("2006-01-02T15:04:05.000"), l.role, os.Getpid(), l.env.JobID, l.env.Task, msg)
}

// Printf notes progress in sge.log.
func (l *log) Printf(format string, a ...any) {
	l.toFile(l.line(fmt.Sprintf(format, a...)))
}

// Errorf reports a failure in sge.log, the job's stderr file and this
// process's stderr.
func (l *log) Errorf(format string, a ...any) {
	msg := l.line("error: " + fmt.Sprintf(format, a...))
	l.toFile(msg)
	fmt.Fprint(os.Stderr, msg)
	if l.env.Stderr != "" && l.role != Starter { // the starter's stderr is that file
		appendTo(l.env.Stderr, msg)
	}
}

func (l *log) toFile(msg string) {
	if dir := l.env.Dir(); dir != "" && ownDir(dir, false) == nil {
		appendTo(filepath.Join(dir, logName), msg)
	}
}

// Close has nothing to release: every line is written at once, as the
// process may be killed at any time.
func (l *log) Close() {}

func appendTo(path, msg string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(msg)
}
