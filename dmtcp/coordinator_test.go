package dmtcp_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
)

// TestCoordinatorIgnoresSIGPIPE: DMTCP 4.2's coordinator dies of SIGPIPE
// when a worker goes away as a checkpoint begins, taking the whole job
// with it, so the shim starts it with SIGPIPE ignored. A shell in front of
// the coordinator records the disposition it was started with (a shell
// keeps an inherited "ignore", and so does exec), then runs the real thing.
func TestCoordinatorIgnoresSIGPIPE(t *testing.T) {
	installs := []dmtcptest.Install{}
	double, err := dmtcptest.BuildDouble(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	installs = append(installs, double)
	if r, why := dmtcptest.Real(); r.Real {
		installs = append(installs, r)
	} else {
		t.Logf("real DMTCP skipped: %s", why)
	}
	for _, in := range installs {
		t.Run(in.Name, func(t *testing.T) {
			dir := t.TempDir()
			seen := filepath.Join(dir, "sigign")
			wrapper := filepath.Join(dir, "coordinator")
			script := "#!/bin/sh\ngrep '^SigIgn:' /proc/self/status >" + seen + "\nexec " +
				filepath.Join(in.Prefix, "bin", "dmtcp_coordinator") + ` "$@"` + "\n"
			if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			ckpt := filepath.Join(dir, "ckpt")
			if err := os.Mkdir(ckpt, 0o700); err != nil {
				t.Fatal(err)
			}
			c, err := dmtcp.StartCoordinator(context.Background(), &dmtcp.Install{Coordinator: wrapper}, ckpt,
				func(line string) { t.Log("coordinator: " + line) }, os.Environ())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Kill()
			data, err := os.ReadFile(seen)
			if err != nil {
				t.Fatal(err)
			}
			mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(data), "SigIgn:")), 16, 64)
			if err != nil {
				t.Fatalf("parse %q: %v", data, err)
			}
			if mask&(1<<(13-1)) == 0 { // SIGPIPE is 13
				t.Errorf("the coordinator started with SigIgn %#x: SIGPIPE not ignored", mask)
			}
			// The shim itself goes back to Go's handling: a write to a
			// closed stdout must not turn into silent EPIPE loops.
			self, _ := os.ReadFile("/proc/self/status")
			for _, l := range strings.Split(string(self), "\n") {
				if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
					if m, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64); m&(1<<12) != 0 {
						t.Errorf("the shim still ignores SIGPIPE after starting the coordinator (SigIgn %#x)", m)
					}
				}
			}
		})
	}
}
