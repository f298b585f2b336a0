// Package dmtcptest gives tests the DMTCP installs to run against: always
// the test double (built from dmtcpdouble), and a real DMTCP when one is
// installed ($DMTCP_PREFIX, or dmtcp_launch on PATH). Tests that can run
// against a real DMTCP loop over Installs and say when they skipped one.
package dmtcptest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcpdouble"
)

// Install is one DMTCP to test against.
type Install struct {
	Name   string // "double" or "real"
	Prefix string // holds bin/dmtcp_launch
	Real   bool
}

// BuildDouble builds the test double and installs it in dir (see
// dmtcpdouble.Build).
func BuildDouble(dir string) (Install, error) {
	if err := dmtcpdouble.Build(dir); err != nil {
		return Install{}, err
	}
	return Install{Name: "double", Prefix: dir}, nil
}

// Real finds a real DMTCP as dmtcp.Locate does: at $DMTCP_PREFIX when it
// is set, else from dmtcp_launch on PATH. It returns why not when there is
// none, for the skip message.
func Real() (Install, string) {
	s := dmtcp.Search{Prefix: os.Getenv("DMTCP_PREFIX")}
	if s.Prefix == "" {
		s.Path = os.Getenv("PATH")
	}
	in, err := dmtcp.Locate(s)
	var nf *dmtcp.NotFoundError
	switch {
	case errors.As(err, &nf) && len(nf.Partial) == 0 && s.Prefix == "":
		return Install{}, "no real DMTCP installed (set DMTCP_PREFIX or put dmtcp_launch on PATH)"
	case err != nil && s.Prefix != "":
		return Install{}, fmt.Sprintf("$DMTCP_PREFIX %s: %v", s.Prefix, err)
	case err != nil:
		return Install{}, err.Error()
	}
	out, err := exec.Command(in.Launch, "--version").CombinedOutput()
	if err != nil {
		return Install{}, fmt.Sprintf("DMTCP at %s does not run: %v", in.Prefix, err)
	}
	if strings.Contains(string(out), "test double") {
		return Install{}, fmt.Sprintf("%s is the test double, not a real DMTCP", in.Prefix)
	}
	return Install{Name: "real", Prefix: in.Prefix, Real: true}, ""
}
