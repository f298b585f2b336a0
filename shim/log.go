package shim

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// logger writes the shim's own messages, one timestamped line each, to the
// --log file (where the coordinator's output and DMTCP's diagnostics go
// too), keeping the job's stdout and stderr for the job alone.
type logger struct {
	mu   sync.Mutex
	w    io.Writer
	file *os.File // nil when logging to stderr
	path string   // "" when logging to stderr
	pid  int
}

// openLog opens path for appending; "" logs to stderr.
func openLog(path string, stderr *os.File) (*logger, error) {
	l := &logger{w: stderr, file: stderr, pid: os.Getpid()}
	if path == "" {
		return l, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	l.w, l.file, l.path = f, f, path
	return l, nil
}

func (l *logger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := time.Now().Format("2006-01-02 15:04:05.000")
	fmt.Fprintf(l.w, "%s shim_dmtcp[%d]: %s\n", ts, l.pid, fmt.Sprintf(format, args...))
}

// where names the log for messages that point the user at it.
func (l *logger) where() string {
	if l.path == "" {
		return "stderr"
	}
	return l.path
}

func (l *logger) Close() {
	if l.path != "" {
		l.file.Close()
	}
}
