package runtimelib

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cc compiles with gcc, or skips the test when there is none.
func cc(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("skipped: gcc is not installed (apt-get install gcc)")
	}
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, out)
	}
}

// libfoo builds libfoo.so.1 in dir defining symbol versions FOO_1 up to
// FOO_<n>, whose foo() returns n: a stand-in for libstdc++, whose
// releases add GLIBCXX_ versions and keep the old ones.
func libfoo(t *testing.T, dir string, n int) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var script, src strings.Builder
	fmt.Fprintf(&script, "FOO_1 { global: foo; };\n")
	fmt.Fprintf(&src, "int foo(void) { return %d; }\n", n)
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&script, "FOO_%d { global: foo%d; };\n", i, i)
		fmt.Fprintf(&src, "int foo%d(void) { return 0; }\n", i)
	}
	write(t, filepath.Join(dir, "foo.map"), script.String())
	write(t, filepath.Join(dir, "foo.c"), src.String())
	out := filepath.Join(dir, "libfoo.so.1")
	cc(t, "-shared", "-fPIC", "-o", out, "-Wl,-soname,libfoo.so.1", "-Wl,--version-script,"+filepath.Join(dir, "foo.map"), filepath.Join(dir, "foo.c"))
	os.Remove(filepath.Join(dir, "foo.map"))
	os.Remove(filepath.Join(dir, "foo.c"))
	return out
}

func write(t *testing.T, p, text string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sum(p string) (string, error) {
	b, err := os.ReadFile(p)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), err
}

// A bundle carrying libfoo version 2 for a program that needs FOO_2 (as
// DMTCP needs a GLIBCXX_ version), on nodes with no libfoo, an older one,
// the same and a newer one: the bundle's copy is used only where the
// node's cannot serve, and the program then really runs with the copy the
// plan names.
func TestSelect(t *testing.T) {
	build := t.TempDir()
	lib := libfoo(t, filepath.Join(build, "lib"), 2)
	write(t, filepath.Join(build, "prog.c"), "#include <stdio.h>\nint foo(void); int foo2(void);\nint main(void) { printf(\"%d\\n\", foo() + foo2()); return 0; }\n")
	prog := filepath.Join(build, "prog")
	cc(t, "-o", prog, filepath.Join(build, "prog.c"), "-L"+filepath.Dir(lib), "-l:libfoo.so.1")

	top := t.TempDir()
	copyDir := filepath.Join(top, Dir, "libfoo.so.1")
	if err := os.MkdirAll(copyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(lib)
	if err := os.WriteFile(filepath.Join(copyDir, "libfoo.so.1"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Describe([]string{prog, lib}, map[string]string{"libfoo.so.1": lib}, sum)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Libs) != 1 || !reflect.DeepEqual(m.Libs[0].Versions, []string{"FOO_1", "FOO_2"}) || !reflect.DeepEqual(m.Libs[0].NeededBy, []string{"prog"}) {
		t.Fatalf("manifest libs %+v", m.Libs)
	}
	if m.GLIBC == "" || m.Machine == "" {
		t.Errorf("manifest has no glibc floor or machine: %+v", m)
	}
	js, _ := json.Marshal(m)
	write(t, filepath.Join(top, Dir, ManifestFile), string(js))

	for _, tt := range []struct {
		name     string
		node     int  // libfoo version on the node, 0 for none
		inLDPath bool // the node's copy is in a $LD_LIBRARY_PATH directory
		all      bool
		bundle   bool   // the bundle's copy is used
		lacks    string // what the node's copy lacks
		runs     string // what prog prints: foo() of the copy it got
	}{
		{name: "node has none", bundle: true, runs: "2"},
		{name: "node's is older", node: 1, bundle: true, lacks: "FOO_2", runs: "2"},
		{name: "node's is the same", node: 2, runs: "2"},
		{name: "node's is newer", node: 3, runs: "3"},
		{name: "node's newer one in LD_LIBRARY_PATH", node: 3, inLDPath: true, runs: "3"},
		{name: "self-test takes all", node: 3, all: true, bundle: true, runs: "2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			libDir := "/usr/lib/x86_64-linux-gnu"
			ld := ""
			if tt.inLDPath {
				libDir, ld = "/opt/site/lib", "/opt/site/lib"
			} else {
				if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(root, "etc", "ld.so.conf"), libDir+"\n")
			}
			if tt.node > 0 {
				libfoo(t, filepath.Join(root, libDir), tt.node)
			}
			p, err := Select(top, Node{Root: root, LDLibraryPath: ld, All: tt.all})
			if err != nil {
				t.Fatal(err)
			}
			c := p.Choices[0]
			if c.FromBundle != tt.bundle || strings.Join(c.Lacks, ",") != tt.lacks {
				t.Fatalf("choice %+v, want from bundle %v lacking %q", c, tt.bundle, tt.lacks)
			}
			if tt.node > 0 && c.NodeCopy != filepath.Join(libDir, "libfoo.so.1") {
				t.Errorf("node copy %q", c.NodeCopy)
			}
			path := p.LDLibraryPath(filepath.Join(root, libDir))
			if tt.bundle != strings.HasPrefix(path, copyDir+":") {
				t.Errorf("LD_LIBRARY_PATH %q", path)
			}
			cmd := exec.Command(prog)
			cmd.Env = []string{"LD_LIBRARY_PATH=" + path}
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != tt.runs {
				t.Errorf("prog with LD_LIBRARY_PATH=%s: %v %q, want %s", path, err, out, tt.runs)
			}
			t.Log(p.Summary())
		})
	}
}

func TestGLIBCOK(t *testing.T) {
	for _, tt := range []struct {
		need, have string
		ok         bool
		why        string
	}{
		{"2.34", "2.36", true, ""},
		{"2.34", "2.34", true, ""},
		{"2.38", "2.36", false, "needs glibc 2.38, this machine has 2.36"},
		{"2.9", "2.10", true, ""},
		{"2.34", "", false, "no libc.so.6"},
		{"", "", true, ""},
	} {
		ok, why := (&Plan{GLIBC: tt.need, NodeGLIBC: tt.have}).GLIBCOK()
		if ok != tt.ok || !strings.Contains(why, tt.why) {
			t.Errorf("need %s have %s: %v %q", tt.need, tt.have, ok, why)
		}
	}
}

// A directory without lib/runtime/libs.json is not a bundle: no plan.
func TestSelectNotABundle(t *testing.T) {
	p, err := Select(t.TempDir(), Node{})
	if p != nil || err != nil {
		t.Errorf("Select = %v, %v", p, err)
	}
}

func TestLdSoConfFollowsIncludes(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "ld.so.conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "etc", "ld.so.conf"), "# comment\n/opt/first\ninclude ld.so.conf.d/*.conf\n")
	write(t, filepath.Join(root, "etc", "ld.so.conf.d", "b.conf"), "/opt/b\n")
	write(t, filepath.Join(root, "etc", "ld.so.conf.d", "a.conf"), "/opt/a # trailing comment\nrelative/ignored\n")
	if got := strings.Join(LdSoConf(root, "/etc/ld.so.conf", 0), " "); got != "/opt/first /opt/a /opt/b" {
		t.Errorf("LdSoConf = %s", got)
	}
}

// Link leaves in its directory exactly the bundle copies the node needs,
// afresh on every call: a restart on another node refills the same path.
func TestLink(t *testing.T) {
	top := t.TempDir()
	p := &Plan{Choices: []Choice{
		{Lib: Lib{Name: "libstdc++.so.6"}, FromBundle: true, Dir: filepath.Join(top, Dir, "libstdc++.so.6")},
		{Lib: Lib{Name: "libgcc_s.so.1"}, NodeCopy: "/lib/libgcc_s.so.1"},
	}}
	dir := filepath.Join(t.TempDir(), LinkDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "libatomic.so.1"), "left by the run on another node")
	if err := p.Link(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "libstdc++.so.6" {
		t.Errorf("link directory holds %v, want only libstdc++.so.6", names)
	}
	if target, _ := os.Readlink(filepath.Join(dir, "libstdc++.so.6")); target != filepath.Join(top, Dir, "libstdc++.so.6", "libstdc++.so.6") {
		t.Errorf("link to %s", target)
	}
	for _, tt := range []struct{ current, want string }{
		{"", dir},
		{"/opt/site/lib", dir + ":/opt/site/lib"},
	} {
		if got := LoaderPath(dir, tt.current); got != tt.want {
			t.Errorf("LoaderPath(%q) = %q, want %q", tt.current, got, tt.want)
		}
	}
}

// A restart compares this node's choices with the checkpoint's record:
// differences are notes for the log, a glibc too old is an error.
func TestCompare(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "libgcc_s.so.1"), "the node's libgcc_s")
	nodeSum, _ := sum(filepath.Join(root, "libgcc_s.so.1"))
	plan := func(glibc string) *Plan {
		return &Plan{GLIBC: "2.34", NodeGLIBC: glibc, Choices: []Choice{
			{Lib: Lib{Name: "libstdc++.so.6", SHA256: "aaaa"}, FromBundle: true},
			{Lib: Lib{Name: "libgcc_s.so.1", SHA256: "bbbb"}, NodeCopy: "/libgcc_s.so.1"},
		}}
	}
	same := plan("2.36").Used(root)
	if same[1].From != "node" || same[1].SHA256 != nodeSum || same[0].From != "bundle" || same[0].SHA256 != "aaaa" {
		t.Fatalf("Used = %+v", same)
	}
	for _, tt := range []struct {
		name     string
		recorded []Used
		glibc    string
		notes    []string // substrings, one per note
		err      string
	}{
		{"same node", same, "2.36", nil, ""},
		{"libstdc++ came from the node", []Used{{Name: "libstdc++.so.6", From: "node", Path: "/usr/lib/libstdc++.so.6", SHA256: "cccc"}, same[1]}, "2.36",
			[]string{"libstdc++.so.6: the checkpoint used the node's /usr/lib/libstdc++.so.6 (sha256 cccc), this node uses the bundle's copy (sha256 aaaa)"}, ""},
		{"a library the bundle dropped", append(same, Used{Name: "libatomic.so.1", From: "bundle", SHA256: "dddd"}), "2.36",
			[]string{"libatomic.so.1: the checkpoint used the bundle's copy (sha256 dddd), this bundle no longer carries it"}, ""},
		{"glibc too old", same, "2.31", nil, "needs glibc 2.34, this machine has 2.31"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			notes, err := plan(tt.glibc).Compare(tt.recorded, root)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(notes) != len(tt.notes) {
				t.Fatalf("notes %q, err %v; want %d notes", notes, err, len(tt.notes))
			}
			for i := range notes {
				if !strings.Contains(notes[i], tt.notes[i]) {
					t.Errorf("note %q, want %q", notes[i], tt.notes[i])
				}
			}
		})
	}
}
