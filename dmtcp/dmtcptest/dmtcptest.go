// Package dmtcptest gives tests the DMTCP installs to run against: always
// the test double (built from dmtcpdouble), and a real DMTCP when one is
// installed ($DMTCP_PREFIX, or dmtcp_launch on PATH). Tests that can run
// against a real DMTCP loop over Installs and say when they skipped one.
package dmtcptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Install is one DMTCP to test against.
type Install struct {
	Name   string // "double" or "real"
	Prefix string // holds bin/dmtcp_launch
	Real   bool
}

// commands are the names the double answers to.
var commands = []string{"dmtcp_launch", "dmtcp_coordinator", "dmtcp_command", "dmtcp_restart", "mtcp_restart"}

// BuildDouble builds the test double into dir/bin under DMTCP's command
// names (hard links, so each is a real file, as DMTCP resolves itself by
// its real path) with an empty lib/dmtcp/libdmtcp.so beside it.
func BuildDouble(dir string) (Install, error) {
	bin := filepath.Join(dir, "bin")
	lib := filepath.Join(dir, "lib", "dmtcp")
	for _, d := range []string{bin, lib} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Install{}, err
		}
	}
	first := filepath.Join(bin, commands[0])
	cmd := exec.Command("go", "build", "-o", first, "github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcpdouble/cmd/dmtcp-double")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Install{}, fmt.Errorf("build the DMTCP test double: %v\n%s", err, out)
	}
	for _, name := range commands[1:] {
		p := filepath.Join(bin, name)
		os.Remove(p)
		if err := os.Link(first, p); err != nil {
			return Install{}, err
		}
	}
	if err := os.WriteFile(filepath.Join(lib, "libdmtcp.so"), nil, 0o644); err != nil {
		return Install{}, err
	}
	return Install{Name: "double", Prefix: dir}, nil
}

// Real finds a real DMTCP: $DMTCP_PREFIX, else dmtcp_launch on PATH. It
// returns why not when there is none, for the skip message.
func Real() (Install, string) {
	prefix := os.Getenv("DMTCP_PREFIX")
	if prefix == "" {
		launch, err := exec.LookPath("dmtcp_launch")
		if err != nil {
			return Install{}, "no real DMTCP installed (set DMTCP_PREFIX or put dmtcp_launch on PATH)"
		}
		if real, err := filepath.EvalSymlinks(launch); err == nil {
			launch = real
		}
		prefix = filepath.Dir(filepath.Dir(launch))
	}
	launch := filepath.Join(prefix, "bin", "dmtcp_launch")
	out, err := exec.Command(launch, "--version").CombinedOutput()
	if err != nil {
		return Install{}, fmt.Sprintf("DMTCP at %s does not run: %v", prefix, err)
	}
	if strings.Contains(string(out), "test double") {
		return Install{}, fmt.Sprintf("%s is the test double, not a real DMTCP", prefix)
	}
	return Install{Name: "real", Prefix: prefix, Real: true}, ""
}
