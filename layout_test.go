package dmtcpcondor

import (
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/dmtcp-condor/dmtcp-condor"

const (
	cliPkg  = module + "/cli"
	shimPkg = module + "/shim" // the program package, not shim/ckptstore etc.
	// testHelper is for tests only.
	testHelper = module + "/dmtcp/dmtcptest"
)

// upper says whether p is the top of the house: the CLI, the shim program,
// the mains or the end-to-end suites. Every other package of the module is a
// leaf that they stand on, and must not import them (issue 16).
func upper(p string) bool {
	return forbidden(p) || strings.HasPrefix(p, module+"/cmd/") ||
		p == module+"/e2e" || strings.HasPrefix(p, module+"/e2e/")
}

// forbidden says whether a leaf may not depend on p.
func forbidden(p string) bool {
	return p == cliPkg || strings.HasPrefix(p, cliPkg+"/") || p == shimPkg
}

// leaves must exist and be checked, so the test cannot pass by finding
// nothing to check after a rename.
var leaves = []string{
	"dmtcp", "dmtcp/dmtcptest", "dmtcp/dmtcpdouble", "gridengine",
	"shim/ckptstore", "shim/exitcode", "shim/engine", "shim/platform", "internal/duration", "internal/signals",
	"bundle", "submitgen", "packaging",
}

// shimModules are the only modules besides the standard library and this
// one that the shim binary may be built from: it is a static program that
// is copied onto execute nodes, so what it carries is kept small.
var shimModules = map[string]bool{module: true, "github.com/klauspost/compress": true}

// goList runs go list in the module. go test caches a passing result
// keyed on the files the test itself opened, not on what a child process
// read, so goList first reads every Go file and go.mod: an import added
// anywhere then runs the test again instead of replaying the last pass.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	for _, path := range append(GoFiles(t), "go.mod") {
		if _, err := os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestLayering fails when a leaf package imports, directly or not, the CLI
// or the shim program (non-test code; tests may use them), and when the shim
// binary depends on a module it should not carry.
func TestLayering(t *testing.T) {
	deps := map[string][]string{}
	imports := map[string][]string{}
	for _, line := range goList(t, "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		imports[f[0]] = strings.Fields(f[1])
		deps[f[0]] = strings.Fields(f[2])
	}
	for _, l := range leaves {
		if _, ok := deps[module+"/"+l]; !ok {
			t.Errorf("package %s/%s is not in the module any more: update the leaves list", module, l)
		}
	}
	pkgs := make([]string, 0, len(deps))
	for p := range deps {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		// The test helper builds the double with the go command and looks
		// for DMTCP the way tests want: no program may need it.
		if p != testHelper && slices.Contains(deps[p], testHelper) {
			t.Errorf("%s depends on the test helper %s; only tests may (dmtcp/dmtcpdouble installs the test double)", p, testHelper)
		}
		if upper(p) {
			continue
		}
		for _, d := range deps[p] {
			if !forbidden(d) {
				continue
			}
			// Name the direct import that leads there.
			via := ""
			for _, i := range imports[p] {
				if i == d {
					via = ""
					break
				}
				for _, dd := range deps[i] {
					if dd == d {
						via = i
					}
				}
			}
			if via != "" {
				t.Errorf("%s depends on %s (through its import of %s): packages other than the CLI, the shim program and the mains must not", p, d, via)
			} else {
				t.Errorf("%s imports %s: packages other than the CLI, the shim program and the mains must not", p, d)
			}
		}
	}

	for _, line := range goList(t, "-deps", "-f", `{{.ImportPath}}|{{.Standard}}|{{with .Module}}{{.Path}}{{end}}`, "./cmd/shim_dmtcp") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		if f[1] == "true" || shimModules[f[2]] {
			continue
		}
		t.Errorf("the shim binary (cmd/shim_dmtcp) depends on %s (module %q); it may use only the standard library, this module and github.com/klauspost/compress", f[0], f[2])
	}
}
