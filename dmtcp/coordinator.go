package dmtcp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Coordinator is a job's own dmtcp_coordinator, a child of the shim.
//
// It listens on a port the kernel picks (never the shared default 7779)
// and reports it through a port file, never through its chatty output,
// which goes to the shim log with everything else DMTCP says. It runs in
// the foreground (no --daemon) so the shim can reap it and see it die, in a
// process group of its own so a terminal's Ctrl-C reaches only the shim,
// and with a parent-death signal so a shim killed outright takes it (and
// with it the job) down instead of leaving them running unsupervised.
type Coordinator struct {
	Port int
	cmd  *exec.Cmd
	done chan struct{}
}

// CoordinatorStartTimeout bounds how long a coordinator may take to write
// its port file; DMTCP 4.2 takes about 10 ms.
const CoordinatorStartTimeout = 30 * time.Second

// StartCoordinator starts a coordinator whose restart scripts go to
// ckptDir. The directory must exist: the coordinator does not create it,
// and a missing one crashes it at the first checkpoint.
func StartCoordinator(ctx context.Context, inst *Install, ckptDir string, logLine func(string), env []string) (*Coordinator, error) {
	portFile := filepath.Join(ckptDir, fmt.Sprintf(".coordinator-%d.port", os.Getpid()))
	_ = os.Remove(portFile)
	defer os.Remove(portFile)
	cmd := exec.Command(inst.Coordinator,
		"--exit-on-last", "--coord-port", "0", "--port-file", portFile, "--ckptdir", ckptDir)
	cmd.Env = env
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start coordinator: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// DMTCP 4.2's coordinator writes to the socket of a worker that may
	// have just exited when a checkpoint begins, and does not ignore
	// SIGPIPE itself: it dies, and every process of the job fails with
	// "_magicBits mismatch" (5 runs in 16 under load in the pool). An
	// ignored signal stays ignored across exec, so the coordinator starts
	// with SIGPIPE ignored; nothing else is started in this window.
	err = startIgnoringSIGPIPE(cmd)
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("start %s: %w", inst.Coordinator, err)
	}
	c := &Coordinator{cmd: cmd, done: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		copyLines(pr, logLine)
		pr.Close()
		close(copied)
	}()
	go func() {
		_ = cmd.Wait()
		<-copied // its last words are in the log before anyone hears it died
		close(c.done)
	}()

	deadline := time.NewTimer(CoordinatorStartTimeout)
	defer deadline.Stop()
	wait := time.Millisecond
	for {
		if port, ok := readPort(portFile); ok {
			c.Port = port
			return c, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s exited (%s) before writing its port file; its messages are in the shim log",
				inst.Coordinator, cmd.ProcessState)
		case <-deadline.C:
			c.Kill()
			return nil, fmt.Errorf("%s wrote no port file within %s", inst.Coordinator, CoordinatorStartTimeout)
		case <-ctx.Done():
			c.Kill()
			return nil, fmt.Errorf("start coordinator: %w", ctx.Err())
		case <-time.After(wait):
		}
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
}

// startIgnoringSIGPIPE starts cmd with SIGPIPE ignored and gives the shim
// back Go's own SIGPIPE handling. signal.Reset alone would leave the shim
// ignoring SIGPIPE (it does not reinstall a handler that Ignore removed);
// Notify reinstalls it, and Reset then only stops the delivery.
func startIgnoringSIGPIPE(cmd *exec.Cmd) error {
	signal.Ignore(syscall.SIGPIPE)
	err := cmd.Start()
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGPIPE)
	signal.Reset(syscall.SIGPIPE)
	return err
}

// readPort reads a port file and confirms that something listens there: a
// file read while the coordinator is still writing it must not be
// mistaken for a shorter port number.
func readPort(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || port <= 0 || port > 65535 {
		return 0, false
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(LoopbackHost, strconv.Itoa(port)), time.Second)
	if err != nil {
		return 0, false
	}
	conn.Close()
	return port, true
}

// ansiRE matches the colour escapes DMTCP puts around every message, even
// when writing to a file.
var ansiRE = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// copyLines passes the coordinator's output to the log a line at a time,
// without colour escapes and interactive prompts, which it prints even
// with no terminal.
func copyLines(r io.Reader, logLine func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := ansiRE.ReplaceAllString(sc.Text(), "")
		for _, part := range strings.Split(line, "\r") {
			part = strings.TrimSpace(strings.ReplaceAll(part, "dmtcp> ", ""))
			part = strings.TrimSpace(strings.TrimSuffix(part, "dmtcp>"))
			if part != "" && logLine != nil {
				logLine("coordinator: " + part)
			}
		}
	}
}

// Done is closed when the coordinator has exited.
func (c *Coordinator) Done() <-chan struct{} { return c.done }

// Wait waits for the coordinator to exit by itself (it exits with its last
// client) and kills it after timeout.
func (c *Coordinator) Wait(timeout time.Duration) {
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.Kill()
	}
}

// Kill ends the coordinator and waits for it.
func (c *Coordinator) Kill() {
	select {
	case <-c.done:
		return
	default:
	}
	if err := c.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return
	}
	<-c.done
}
