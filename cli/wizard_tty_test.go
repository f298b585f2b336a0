package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

// execEnv makes the test binary run dmtcp-condor itself with its
// arguments, so a test can start the real command in a terminal without
// building it.
const execEnv = "DMTCP_CONDOR_CLI_TEST_EXEC"

func init() {
	if os.Getenv(execEnv) == "1" {
		os.Exit(Execute("test", os.Args[1:], System()))
	}
}

// terminal is a tmux session running one command, driven as a user would.
type terminal struct {
	t      *testing.T
	socket string
}

func newTerminal(t *testing.T, dir string, args ...string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("skipped: no tmux to drive a real terminal")
	}
	if testing.Short() {
		t.Skip("skipped: -short")
	}
	term := &terminal{t: t, socket: fmt.Sprintf("dmtcp-condor-test-%d", os.Getpid())}
	cmd := fmt.Sprintf("env %s=1 TERM=xterm-256color %s %s; echo $? > exit-status", execEnv, os.Args[0], strings.Join(args, " "))
	term.tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "50", "-c", dir, cmd)
	t.Cleanup(func() { exec.Command("tmux", "-L", term.socket, "kill-server").Run() })
	return term
}

func (term *terminal) tmux(args ...string) string {
	term.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", term.socket}, args...)...).CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen is what the terminal shows.
func (term *terminal) screen() string { return term.tmux("capture-pane", "-p", "-t", "w") }

// waitFor waits until the screen shows every text.
func (term *terminal) waitFor(texts ...string) {
	term.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := term.screen()
		missing := ""
		for _, want := range texts {
			if !strings.Contains(s, want) {
				missing = want
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the terminal does not show %q:\n%s", missing, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitSuccess waits for the command to exit 0 (its status is written to
// dir/exit-status).
func (term *terminal) waitSuccess(dir string) {
	term.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "exit-status")); err == nil {
			if strings.TrimSpace(string(data)) != "0" {
				term.t.Fatalf("exit status %s:\n%s", data, term.screen())
			}
			return
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the command did not finish:\n%s", term.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys presses tmux key names (Enter, Down, C-u) one by one.
func (term *terminal) keys(keys ...string) {
	for _, k := range keys {
		term.tmux("send-keys", "-t", "w", k)
		time.Sleep(120 * time.Millisecond) // let the form redraw, as a typist would
	}
}

// typ types text literally and waits until the field shows it.
func (term *terminal) typ(text string) {
	term.t.Helper()
	term.tmux("send-keys", "-t", "w", "-l", "--", text)
	term.waitFor(text)
}

// TestWizardInTerminal drives the full-screen wizard in a real terminal
// (tmux): fields show placeholders, not values typing would append to; a
// bad stdout and a memory without a unit are refused as typed; the summary
// shows the answers; No goes back to the first question with every answer
// kept; Yes writes what was typed (interval 20m, not 30m20m).
func TestWizardInTerminal(t *testing.T) {
	dir := wizardDir(t)
	term := newTerminal(t, dir, "wizard", "-o", "job.yaml")
	term.waitFor("Where is the program?", "Program to run", "./myprogram")
	term.keys("Enter")
	term.typ("./sim")
	term.keys("Enter", "Enter")
	term.waitFor("File for the program's standard output", "job.{cluster}.{process}.out")
	term.typ("sim")
	term.keys("Enter")
	term.waitFor(`"sim" is also the sandbox name of the program`)
	term.keys("C-u")
	term.typ("out.{process}")
	term.keys("Enter", "Enter")
	term.typ("results/log.txt summary.txt")
	term.keys("Enter")
	term.waitFor("When should DMTCP checkpoint?", "Checkpoint interval")
	term.keys("Down", "Enter")
	term.typ("20m")
	term.keys("Enter")
	term.waitFor("Where do DMTCP and shim_dmtcp come from")
	term.keys("Enter")
	term.typ("b")
	term.keys("Enter")
	term.waitFor("How many jobs?", "CPU cores per job", "Memory per job, with a unit")
	term.keys("Enter")
	term.typ("3")
	term.keys("Enter")
	term.typ("2")
	term.keys("Enter")
	term.typ("2")
	term.keys("Enter")
	term.waitFor("give a unit: 2GB or 2MB")
	term.typ("GB")
	term.waitFor("> 2GB")
	term.keys("Enter")
	term.waitFor("Summary", "every 20m (self-checkpointing)", "Write job.yaml and job.sub?")

	term.keys("n")
	term.waitFor("Back to the questions; your answers are kept.", "Program to run", "./sim")
	// Every answer is kept: Enter through the questions up to "Write?".
	for i := 0; !strings.Contains(term.screen(), "Write job.yaml and job.sub?"); i++ {
		if i == 30 {
			t.Fatalf("30 times Enter did not reach the question Write?:\n%s", term.screen())
		}
		term.keys("Enter")
		time.Sleep(150 * time.Millisecond)
	}
	term.keys("y")
	term.waitSuccess(dir)
	job, err := submitgen.Load(filepath.Join(dir, "job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if job.Checkpoint.Interval.String() != "20m" || job.Checkpoint.Mode != submitgen.ModeSelf || job.Stdout != "out.{process}" ||
		!reflect.DeepEqual(job.OutputFiles, []string{"results/log.txt", "summary.txt"}) || job.Queue.Count != 3 || job.Resources.CPUs != 2 ||
		job.Resources.Memory.String() != "2GB" || job.DMTCP.Bundle != "b" || job.Program != "./sim" {
		t.Errorf("the description does not hold what was typed: %+v", job)
	}
	if _, err := os.Stat(filepath.Join(dir, "job.sub")); err != nil {
		t.Error(err)
	}
}

// TestWizardInTerminalShimChoice: with DMTCP installed on the nodes the
// full-screen form shows the shim question (a hidden group otherwise), and
// a shim sent from here reaches the description and the summary.
func TestWizardInTerminalShimChoice(t *testing.T) {
	dir := wizardDir(t)
	term := newTerminal(t, dir, "wizard", "-o", "job.yaml")
	term.waitFor("Where is the program?")
	term.keys("Enter")
	term.typ("./sim")
	term.keys("Enter", "Enter")
	term.waitFor("File for the program's standard output")
	term.keys("Enter", "Enter", "Enter")
	term.waitFor("When should DMTCP checkpoint?")
	term.keys("Enter", "Enter")
	term.waitFor("Where do DMTCP and shim_dmtcp come from")
	term.keys("Down", "Enter")
	term.waitFor("DMTCP install prefix on the execute nodes")
	term.typ("/opt/dmtcp")
	term.keys("Enter")
	term.waitFor("And shim_dmtcp, which HTCondor runs in place of the program?", "Installed on every execute node at "+submitgen.InstalledShim)
	term.keys("Down", "Enter")
	term.waitFor("The shim_dmtcp file to send")
	term.typ("b/bin/shim_dmtcp")
	term.keys("Enter")
	term.waitFor("How many jobs?")
	for i := 0; !strings.Contains(term.screen(), "Write job.yaml and job.sub?"); i++ {
		if i == 10 {
			t.Fatalf("Enter did not reach the question Write?:\n%s", term.screen())
		}
		term.keys("Enter")
		time.Sleep(150 * time.Millisecond)
	}
	term.waitFor("b/bin/shim_dmtcp, sent with each job")
	term.keys("y")
	term.waitSuccess(dir)
	job, err := submitgen.Load(filepath.Join(dir, "job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if job.DMTCP.Prefix != "/opt/dmtcp" || job.Shim.Path != "b/bin/shim_dmtcp" {
		t.Errorf("dmtcp %+v, shim %+v", job.DMTCP, job.Shim)
	}
}
