package dmtcp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// LoopbackHost is where every coordinator of the shim listens and is
// reached: one coordinator per job, on this machine only.
const LoopbackHost = "127.0.0.1"

// ErrNoCoordinator is dmtcp_command's exit code 2: nothing answers at the
// port.
var ErrNoCoordinator = errors.New("no coordinator answers")

// ErrNotRunning is dmtcp_command's exit code 2 with "not in running
// state": the coordinator refused a checkpoint because one is under way,
// no process is connected, or a process is still joining. Asking again a
// little later is the remedy.
var ErrNotRunning = errors.New("the computation is not in a running state")

// Client sends commands to one coordinator through dmtcp_command. DMTCP's
// wire protocol changes between versions; its command-line tool does not.
type Client struct {
	Command string // path of dmtcp_command
	Port    int
}

// Status is the coordinator's answer to dmtcp_command --status.
type Status struct {
	Peers   int  // NUM_PEERS
	Running bool // RUNNING=yes: peers exist and none is in a checkpoint
}

func (c Client) run(ctx context.Context, timeout time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	full := append([]string{"--coord-host", LoopbackHost, "--coord-port", strconv.Itoa(c.Port)}, args...)
	cmd := exec.CommandContext(ctx, c.Command, full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		if strings.Contains(errb.String(), "not in running state") {
			return out.Bytes(), fmt.Errorf("dmtcp_command %s: %w", strings.Join(args, " "), ErrNotRunning)
		}
		return out.Bytes(), fmt.Errorf("dmtcp_command %s: %w at port %d", strings.Join(args, " "), ErrNoCoordinator, c.Port)
	}
	if err != nil {
		return out.Bytes(), fmt.Errorf("dmtcp_command %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// Status asks the coordinator how many processes it has and whether they
// are running or in a checkpoint.
func (c Client) Status(ctx context.Context) (Status, error) {
	out, err := c.run(ctx, 10*time.Second, "--status")
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(out)
}

// ParseStatus reads dmtcp_command --status output ("NUM_PEERS=1",
// "RUNNING=yes", indented, among other lines).
func ParseStatus(out []byte) (Status, error) {
	var st Status
	var sawPeers, sawRunning bool
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch key {
		case "NUM_PEERS":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil {
				return st, fmt.Errorf("status: bad NUM_PEERS %q", val)
			}
			st.Peers, sawPeers = n, true
		case "RUNNING":
			st.Running, sawRunning = strings.TrimSpace(val) == "yes", true
		}
	}
	if !sawPeers || !sawRunning {
		return st, fmt.Errorf("status: no NUM_PEERS/RUNNING in %q", string(out))
	}
	return st, nil
}

// Checkpoint asks for a checkpoint. It uses --bcheckpoint, which blocks
// until the checkpoint is written in DMTCP 2.6, 3.0 and after 4.2 but
// returns at once in 3.1 to 4.2.0: callers must detect completion
// themselves (Job.Checkpoint does).
func (c Client) Checkpoint(ctx context.Context, timeout time.Duration) error {
	_, err := c.run(ctx, timeout, "--bcheckpoint")
	return err
}

// Kill ends every process of the computation. DMTCP makes them exit with
// status 0, so whoever waits for them must remember it asked.
func (c Client) Kill(ctx context.Context) error {
	_, err := c.run(ctx, 10*time.Second, "--kill")
	return err
}
