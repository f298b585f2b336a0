package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const layoutsDir = "../testdata/dmtcp-layouts"

func layout(t *testing.T, parts ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{layoutsDir}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLocateTable(t *testing.T) {
	for _, tt := range []struct {
		name   string
		prefix []string
		want   []string
	}{
		{"source install", []string{"opt", "opt", "dmtcp"}, []string{"DMTCP 4.2.0 at ", "(from dmtcp_launch --version)", "runs here     yes", "plugins       alloc, pid, timer"}},
		{"fedora", []string{"fedora", "usr"}, []string{"DMTCP 3.0.0 at ", "lib64/dmtcp/libdmtcp.so)", "runs here     no: ", "library       " + layout(t, "fedora", "usr", "lib64", "dmtcp", "libdmtcp.so")}},
		{"dmtcp 1.x", []string{"dmtcp1", "usr"}, []string{"DMTCP 1.2.5 at ", "dmtcp_checkpoint", "lib/dmtcp/mtcp_restart", "too old for shim_dmtcp"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", "locate", "--dmtcp-prefix", layout(t, tt.prefix...))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestLocateJSON(t *testing.T) {
	code, out, errOut := run(t, "", "locate", "--json", "--dmtcp-prefix", layout(t, "arch", "usr"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Found   bool
		Runs    bool
		Install struct {
			Prefix      string
			Version     string
			VersionFrom string `json:"version_from"`
			LibDir      string `json:"lib_dir"`
			Plugins     []string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !rep.Found || rep.Runs || rep.Install.Version != "3.0.0" || !strings.HasSuffix(rep.Install.VersionFrom, "include/dmtcp/version.h") ||
		rep.Install.LibDir != layout(t, "arch", "usr", "lib", "dmtcp") || len(rep.Install.Plugins) != 3 {
		t.Errorf("report %+v", rep)
	}
}

func TestLocateBrokenSaysWhatIsMissing(t *testing.T) {
	prefix := layout(t, "broken", "opt", "dmtcp")
	code, out, errOut := run(t, "", "locate", "--json", "--dmtcp-prefix", prefix)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var rep locateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Found || len(rep.Incomplete) != 1 || strings.Join(rep.Incomplete[0].Missing, " ") != "bin/dmtcp_command bin/dmtcp_restart bin/mtcp_restart lib/dmtcp/libdmtcp.so" {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(errOut, "has no bin/dmtcp_command, bin/dmtcp_restart, bin/mtcp_restart, lib/dmtcp/libdmtcp.so") {
		t.Errorf("stderr %q", errOut)
	}
}

// Without --dmtcp-prefix, locate searches the environment and then the
// distributions' and build systems' layouts.
func TestLocateSearches(t *testing.T) {
	for _, tt := range []struct {
		name    string
		sysroot string
		env     map[string]string
		want    string // prefix below the sysroot
	}{
		{"debian", "debian", nil, "usr"},
		{"fedora", "fedora", nil, "usr"},
		{"/usr/local", "usrlocal", nil, "usr/local"},
		{"/opt/dmtcp-2.2.1", "dmtcp2", nil, "opt/dmtcp-2.2.1"},
		{"spack", "spack", map[string]string{"SPACK_ROOT": "{root}/spack"}, "spack/opt/spack/linux-debian12-x86_64/gcc-12.2.0/dmtcp-4.1.0-3zkd6qq"},
		{"easybuild", "easybuild", map[string]string{"EBROOTDMTCP": "{root}/easybuild/software/DMTCP/3.0.0-GCCcore-12.2.0"}, "easybuild/software/DMTCP/3.0.0-GCCcore-12.2.0"},
		{"symlink on PATH", "symlinked", map[string]string{"PATH": "{root}/usr/local/bin"}, "opt/dmtcp-4.2.0"},
		{"$DMTCP_PREFIX", "debian", map[string]string{"DMTCP_PREFIX": layout(t, "opt", "opt", "dmtcp")}, "../opt/opt/dmtcp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := layout(t, tt.sysroot)
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = strings.ReplaceAll(v, "{root}", root)
			}
			var out, errOut bytes.Buffer
			o := &LocateOptions{IO: &IOStreams{Out: &out, ErrOut: &errOut}, JSON: true, Sysroot: root, Getenv: func(k string) string { return env[k] }}
			if err := runLocate(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			var rep locateReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, tt.want); rep.Install == nil || rep.Install.Prefix != want {
				t.Errorf("found %+v, want prefix %s", rep.Install, want)
			}
		})
	}
}
