package submitgen

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/internal/signals"
	"github.com/dmtcp-condor/dmtcp-condor/shim"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
)

// TestShimAcceptsRenderedArguments ties the generator to the shim: the
// arguments of every golden submit file, read the way HTCondor reads them,
// are a command line the shim accepts, and name the program last.
func TestShimAcceptsRenderedArguments(t *testing.T) {
	subs, _ := filepath.Glob(filepath.Join("..", "testdata", "submitgen", "*.sub"))
	if len(subs) == 0 {
		t.Fatal("no golden submit files")
	}
	for _, sub := range subs {
		t.Run(filepath.Base(sub), func(t *testing.T) {
			data, err := os.ReadFile(sub)
			if err != nil {
				t.Fatal(err)
			}
			var value string
			for _, line := range strings.Split(string(data), "\n") {
				if v, ok := strings.CutPrefix(line, "arguments = "); ok {
					value = v
				}
			}
			// condor_submit fills in the job's macros; the parser takes $(DOLLAR).
			value = strings.NewReplacer("$(Cluster)", "17", "$(Process)", "0", "$(Item)", "case-a").Replace(value)
			argv, err := parseArguments(value)
			if err != nil {
				t.Fatalf("arguments %s: %v", value, err)
			}
			o, err := shim.ParseOptions(argv, func(string) string { return "" })
			if err != nil {
				t.Fatalf("the shim rejects %q: %v", argv, err)
			}
			if !strings.HasPrefix(o.Program, "./") && !strings.HasPrefix(o.Program, "/") {
				t.Errorf("program %q: the shim needs a path", o.Program)
			}
			if wantSyscall := strings.Contains(string(data), "--engine condor-syscall"); wantSyscall != (o.Engine == "condor-syscall") {
				t.Errorf("engine %q", o.Engine)
			}
		})
	}
}

// TestHoldCodesAreTheShims ties ShimExitCodes, which the generated
// on_exit_hold holds on, to the shim's own table: the same codes, in the
// same order, with no gap (on_exit_hold holds a range).
func TestHoldCodesAreTheShims(t *testing.T) {
	if len(ShimExitCodes) != len(exitcode.Codes) {
		t.Fatalf("submitgen knows %d shim exit codes, the shim has %d", len(ShimExitCodes), len(exitcode.Codes))
	}
	for i, c := range exitcode.Codes {
		if ShimExitCodes[i].Code != c.Code {
			t.Errorf("ShimExitCodes[%d] is %d, the shim's is %d (%s)", i, ShimExitCodes[i].Code, c.Code, c.Reason)
		}
		if c.Code != firstShimFailure+i {
			t.Errorf("shim exit code %d leaves a gap in the range on_exit_hold holds", c.Code)
		}
	}
}

// TestShimTrapsRenderedSignals: every signal render accepts, by name or
// number, the shim's --signal takes as the same signal.
func TestShimTrapsRenderedSignals(t *testing.T) {
	n := 0
	for _, s := range signals.Table {
		for _, in := range []string{s.Name, strconv.Itoa(s.Num)} {
			got, err := ParseSignal(in)
			if err != nil {
				continue
			}
			n++
			sig, err := shim.ParseSignal(string(got))
			if err != nil || int(sig) != s.Num {
				t.Errorf("render takes %q as %s, the shim's --signal %s gives %d, %v", in, got, got, sig, err)
			}
		}
	}
	if n == 0 {
		t.Error("render accepts no signal of the table")
	}
}
