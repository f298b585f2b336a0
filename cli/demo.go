package cli

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcpdouble"
)

//go:embed demojob/sums.sh
var demoJob []byte

// DemoOptions are the inputs of "dmtcp-condor demo".
type DemoOptions struct {
	IO          *IOStreams
	DMTCPPrefix string // a DMTCP install; default: a real one if found, else the test double
	Shim        string // shim_dmtcp to run; default: beside this binary, PATH, or built
	Keep        bool   // keep the demo's directory
	Steps       int
}

// NewCmdDemo builds "dmtcp-condor demo": the shim's whole promise, shown on
// an embedded job. runF replaces the run function in tests.
func NewCmdDemo(runF func(*DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Evict a job twice, resume it in new directories, check its output",
		Long: `demo runs an embedded job (a slow running sum in bash) under shim_dmtcp,
asks it to leave twice the way HTCondor does (kill_sig, here SIGINT), moves its
directory to a new "scratch directory" each time as HTCondor does on another
machine, lets it finish, and compares its output with an uninterrupted run.

It uses a real DMTCP when one is installed (--dmtcp-prefix, $DMTCP_PREFIX or
dmtcp_launch on PATH). Otherwise it builds the project's DMTCP TEST DOUBLE
(which needs the source tree and the go command) and says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if runF != nil {
				return runF(opts)
			}
			return runDemo(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DMTCPPrefix, "dmtcp-prefix", "", "DMTCP install `DIR` to use (with bin/dmtcp_launch)")
	cmd.Flags().StringVar(&opts.Shim, "shim", "", "shim_dmtcp `BINARY` to run")
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "keep the demo's directory and print where it is")
	cmd.Flags().IntVar(&opts.Steps, "steps", 60, "how many steps the job computes (0.05 s each)")
	return cmd
}

func runDemo(ctx context.Context, o *DemoOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Steps < 30 {
		return fmt.Errorf("--steps %d is too few to evict the job twice; use 30 or more", o.Steps)
	}
	work, err := os.MkdirTemp("", "dmtcp-condor-demo-")
	if err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	if o.Keep {
		defer fmt.Fprintf(o.IO.Out, "kept: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	out := o.IO.Out
	shim, err := demoShim(ctx, o.Shim, work)
	if err != nil {
		return err
	}
	prefix, what, err := demoDMTCP(ctx, o.DMTCPPrefix, work)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "shim:  %s\nDMTCP: %s\n\n", shim, what)

	// The reference: the same job, uninterrupted and without DMTCP.
	want, err := exec.CommandContext(ctx, "bash", "-c", string(demoJob), "sums.sh", fmt.Sprint(o.Steps)).Output()
	if err != nil {
		return fmt.Errorf("run the job without DMTCP: %w", err)
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tscratch directory\tended\tlines so far\ttook")
	dir := filepath.Join(work, "scratch-1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "sums.sh"), demoJob, 0o755); err != nil {
		return err
	}
	leaveAt := []int{o.Steps / 4, o.Steps / 2}
	for run := 1; run <= 3; run++ {
		args := []string{"--dmtcp-prefix", prefix, "--log", "shim.log", "--stdout", "job.out", "--stderr", "job.err",
			"--", "./sums.sh", fmt.Sprint(o.Steps)}
		cmd := exec.CommandContext(ctx, shim, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DMTCP_TMPDIR="+work)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", shim, err)
		}
		if run <= len(leaveAt) {
			if err := waitLines(filepath.Join(dir, "job.out"), leaveAt[run-1], time.Minute); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				return fmt.Errorf("run %d: %w; shim log:\n%s", run, err, demoReadFile(filepath.Join(dir, "shim.log")))
			}
			cmd.Process.Signal(syscall.SIGINT) // what HTCondor's kill_sig = 2 does
		}
		err := cmd.Wait()
		took := time.Since(start).Round(10 * time.Millisecond)
		code := cmd.ProcessState.ExitCode()
		ended := fmt.Sprintf("exit %d", code)
		switch {
		case run < 3 && code == 85:
			ended = "evicted: checkpointed, exit 85"
		case run == 3 && code == 0:
			ended = "finished, exit 0"
		default:
			tw.Flush()
			return fmt.Errorf("run %d ended with %v; shim stderr: %s\nshim log:\n%s", run, err, stderr.String(), demoReadFile(filepath.Join(dir, "shim.log")))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", run, filepath.Base(dir), ended, countLines(filepath.Join(dir, "job.out")), took)
		if run < 3 {
			next := filepath.Join(work, fmt.Sprintf("scratch-%d", run+1))
			if err := os.Rename(dir, next); err != nil {
				return err
			}
			dir = next
		}
	}
	tw.Flush()
	got, _ := os.ReadFile(filepath.Join(dir, "job.out"))
	if !bytes.Equal(got, want) {
		return fmt.Errorf("the output differs from an uninterrupted run (%d bytes, want %d); see %s", len(got), len(want), dir)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	fmt.Fprintf(out, "\nlast line: %s\noutput identical to an uninterrupted run: yes (%d lines)\n", lines[len(lines)-1], len(lines))
	return nil
}

// demoShim finds shim_dmtcp: given; else where a release or a package puts
// it relative to this binary (bundle.ShimCandidates: beside it, or where an
// installed package has it, with neither the shim on PATH nor the go
// command); else on PATH; else built from the source tree. Unlike bundle
// and package, any build will do.
func demoShim(ctx context.Context, given, work string) (string, error) {
	if given != "" {
		return filepath.Abs(given)
	}
	var candidates []string
	if self, err := os.Executable(); err == nil {
		candidates = bundle.ShimCandidates(self)
	}
	for _, p := range candidates {
		if isExec(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("shim_dmtcp"); err == nil {
		return filepath.Abs(p)
	}
	p := filepath.Join(work, "shim_dmtcp")
	build := exec.CommandContext(ctx, "go", "build", "-o", p, "github.com/dmtcp-condor/dmtcp-condor/cmd/shim_dmtcp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("no shim_dmtcp at %s, and building one failed (%v: %s); give --shim BINARY", strings.Join(append(candidates, "on PATH"), ", "), err, strings.TrimSpace(string(msg)))
	}
	return p, nil
}

// demoDMTCP picks the DMTCP to run with, found the way locate and bundle
// find it, and says which it is.
func demoDMTCP(ctx context.Context, given, work string) (prefix, what string, err error) {
	inst, err := findDMTCP(given, nil, "")
	if err == nil {
		err = inst.Probe(ctx)
	}
	switch {
	case err == nil:
		return inst.Prefix, fmt.Sprintf("DMTCP %s at %s (found via %s)", inst.Version, inst.Prefix, inst.Where), nil
	case given != "":
		return "", "", fmt.Errorf("--dmtcp-prefix %s: %w", given, err)
	}
	double := filepath.Join(work, "dmtcp-test-double")
	if err := dmtcpdouble.Build(double); err != nil {
		return "", "", fmt.Errorf("no DMTCP installed, and the test double could not be built (%v); install DMTCP or give --dmtcp-prefix", err)
	}
	return double, "no DMTCP installed: the project's DMTCP TEST DOUBLE (a stand-in for DMTCP's commands; the job cooperates with it)", nil
}

func waitLines(path string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for countLines(path) < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("the job wrote fewer than %d lines in %s", n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func countLines(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte("\n"))
}

func demoReadFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
