package dmtcp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const layouts = "../testdata/dmtcp-layouts"

// layoutRoot is the absolute sysroot of one fake layout.
func layoutRoot(t *testing.T, name string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join(layouts, name))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// envOf is a getenv over a fixed map, so tests never see the real
// environment's Spack or EasyBuild variables.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLocateLayouts(t *testing.T) {
	tests := []struct {
		layout string
		search func(root string) Search
		// Paths below are relative to the layout's root.
		prefix, launch, mtcpRestart, libDir string
		version, versionFrom                string // versionFrom: a substring
		runs                                bool
		legacy                              bool
		plugins                             []string
		programs                            int
	}{
		{
			layout: "opt",
			search: func(root string) Search { return Search{Roots: KnownRoots(root, envOf(nil))} },
			prefix: "opt/dmtcp", launch: "opt/dmtcp/bin/dmtcp_launch", mtcpRestart: "opt/dmtcp/bin/mtcp_restart", libDir: "opt/dmtcp/lib/dmtcp",
			version: "4.2.0", versionFrom: "dmtcp_launch --version", runs: true,
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
		{
			layout: "debian",
			search: func(root string) Search { return Search{Roots: KnownRoots(root, envOf(nil))} },
			prefix: "usr", launch: "usr/bin/dmtcp_launch", mtcpRestart: "usr/bin/mtcp_restart", libDir: "usr/lib/dmtcp",
			version: "2.6.0", versionFrom: "--version", runs: true,
			plugins: []string{"alloc", "pid", "timer"}, programs: 6, // not unrelated-tool
		},
		{
			layout: "fedora",
			search: func(root string) Search { return Search{Roots: KnownRoots(root, envOf(nil))} },
			prefix: "usr", launch: "usr/bin/dmtcp_launch", mtcpRestart: "usr/bin/mtcp_restart", libDir: "usr/lib64/dmtcp",
			version: "3.0.0", versionFrom: "libdmtcp.so",
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
		{
			layout: "arch",
			search: func(root string) Search { return Search{Roots: KnownRoots(root, envOf(nil))} },
			prefix: "usr", launch: "usr/bin/dmtcp_launch", mtcpRestart: "usr/bin/mtcp_restart", libDir: "usr/lib/dmtcp",
			version: "3.0.0", versionFrom: "version.h",
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
		{
			layout: "usrlocal",
			search: func(root string) Search { return Search{Roots: KnownRoots(root, envOf(nil))} },
			prefix: "usr/local", launch: "usr/local/bin/dmtcp_launch", mtcpRestart: "usr/local/bin/mtcp_restart", libDir: "usr/local/lib/dmtcp",
			version: "4.1.0", versionFrom: "--version", runs: true,
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
		{
			layout: "spack",
			search: func(root string) Search {
				return Search{Roots: KnownRoots(root, envOf(map[string]string{"SPACK_ROOT": filepath.Join(root, "spack")}))}
			},
			prefix:      "spack/opt/spack/linux-debian12-x86_64/gcc-12.2.0/dmtcp-4.1.0-3zkd6qq",
			launch:      "spack/opt/spack/linux-debian12-x86_64/gcc-12.2.0/dmtcp-4.1.0-3zkd6qq/bin/dmtcp_launch",
			mtcpRestart: "spack/opt/spack/linux-debian12-x86_64/gcc-12.2.0/dmtcp-4.1.0-3zkd6qq/bin/mtcp_restart",
			libDir:      "spack/opt/spack/linux-debian12-x86_64/gcc-12.2.0/dmtcp-4.1.0-3zkd6qq/lib/dmtcp",
			version:     "4.1.0", versionFrom: "install prefix",
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
		{
			layout: "easybuild",
			search: func(root string) Search {
				eb := filepath.Join(root, "easybuild", "software", "DMTCP", "3.0.0-GCCcore-12.2.0")
				return Search{Roots: KnownRoots(root, envOf(map[string]string{"EBROOTDMTCP": eb}))}
			},
			prefix:      "easybuild/software/DMTCP/3.0.0-GCCcore-12.2.0",
			launch:      "easybuild/software/DMTCP/3.0.0-GCCcore-12.2.0/bin/dmtcp_launch",
			mtcpRestart: "easybuild/software/DMTCP/3.0.0-GCCcore-12.2.0/bin/mtcp_restart",
			libDir:      "easybuild/software/DMTCP/3.0.0-GCCcore-12.2.0/lib/dmtcp",
			version:     "3.0.0", versionFrom: "install prefix",
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
		{
			layout: "dmtcp1",
			search: func(root string) Search { return Search{Roots: KnownRoots(root, envOf(nil))} },
			prefix: "usr", launch: "usr/bin/dmtcp_checkpoint", mtcpRestart: "usr/lib/dmtcp/mtcp_restart", libDir: "usr/lib/dmtcp",
			version: "1.2.5", versionFrom: "dmtcp_checkpoint --version", runs: true, legacy: true,
			programs: 5, // four in bin/ (dmtcp_checkpoint is a dmtcp_ name too) and mtcp_restart
		},
		{
			layout: "dmtcp2",
			search: func(root string) Search { return Search{Roots: KnownRoots(root, envOf(nil))} },
			prefix: "opt/dmtcp-2.2.1", launch: "opt/dmtcp-2.2.1/bin/dmtcp_launch", mtcpRestart: "opt/dmtcp-2.2.1/lib/dmtcp/mtcp_restart", libDir: "opt/dmtcp-2.2.1/lib/dmtcp",
			version: "2.2.1", versionFrom: "share/doc/dmtcp-2.2.1",
			plugins: []string{"pid"}, programs: 5,
		},
		{
			layout: "symlinked",
			search: func(root string) Search { return Search{Path: filepath.Join(root, "usr", "local", "bin")} },
			prefix: "opt/dmtcp-4.2.0", launch: "opt/dmtcp-4.2.0/bin/dmtcp_launch", mtcpRestart: "opt/dmtcp-4.2.0/bin/mtcp_restart", libDir: "opt/dmtcp-4.2.0/lib/dmtcp",
			version: "4.2.0", versionFrom: "--version", runs: true,
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
		{
			layout: "opt", // an explicit prefix wins over everything
			search: func(root string) Search {
				return Search{Prefix: filepath.Join(root, "opt", "dmtcp"), Path: layoutRoot(t, "debian") + "/usr/bin"}
			},
			prefix: "opt/dmtcp", launch: "opt/dmtcp/bin/dmtcp_launch", mtcpRestart: "opt/dmtcp/bin/mtcp_restart", libDir: "opt/dmtcp/lib/dmtcp",
			version: "4.2.0", versionFrom: "--version", runs: true,
			plugins: []string{"alloc", "pid", "timer"}, programs: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			root := layoutRoot(t, tt.layout)
			in, err := Locate(tt.search(root))
			if err != nil {
				t.Fatalf("Locate: %v", err)
			}
			rel := func(p string) string {
				if p == "" {
					return ""
				}
				r, err := filepath.Rel(root, p)
				if err != nil {
					t.Fatal(err)
				}
				return filepath.ToSlash(r)
			}
			for _, c := range []struct{ name, got, want string }{
				{"Prefix", rel(in.Prefix), tt.prefix},
				{"Launch", rel(in.Launch), tt.launch},
				{"MtcpRestart", rel(in.MtcpRestart), tt.mtcpRestart},
				{"LibDir", rel(in.LibDir), tt.libDir},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
				}
			}
			if in.Coordinator == "" || in.Command == "" || in.Restart == "" || in.Library == "" {
				t.Errorf("incomplete Install without Missing: %+v", in)
			}
			if len(in.Missing) != 0 {
				t.Errorf("Missing = %v", in.Missing)
			}
			if in.Legacy != tt.legacy {
				t.Errorf("Legacy = %v, want %v", in.Legacy, tt.legacy)
			}
			if !reflect.DeepEqual(in.Plugins, tt.plugins) {
				t.Errorf("Plugins = %v, want %v", in.Plugins, tt.plugins)
			}
			if len(in.Programs) != tt.programs {
				t.Errorf("Programs = %v, want %d of them", in.Programs, tt.programs)
			}
			runErr := in.Identify(context.Background())
			if (runErr == nil) != tt.runs {
				t.Errorf("Identify: runs = %v (%v), want %v", runErr == nil, runErr, tt.runs)
			}
			if in.Version != tt.version || !strings.Contains(in.VersionFrom, tt.versionFrom) {
				t.Errorf("version %q from %q, want %q from ...%s...", in.Version, in.VersionFrom, tt.version, tt.versionFrom)
			}
		})
	}
}

func TestLocateBrokenNamesWhatIsMissing(t *testing.T) {
	root := layoutRoot(t, "broken")
	_, err := Locate(Search{Prefix: filepath.Join(root, "opt", "dmtcp")})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want a *NotFoundError matching ErrNotFound", err)
	}
	if len(nf.Partial) != 1 {
		t.Fatalf("Partial = %+v, want the one broken install", nf.Partial)
	}
	want := []string{"bin/dmtcp_command", "bin/dmtcp_restart", "bin/mtcp_restart", "lib/dmtcp/libdmtcp.so"}
	if got := nf.Partial[0].Missing; !reflect.DeepEqual(got, want) {
		t.Errorf("Missing = %v, want %v", got, want)
	}
	for _, w := range append(want, "incomplete install", filepath.Join(root, "opt", "dmtcp")) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q: %v", w, err)
		}
	}
}

// A broken install found first does not hide a complete one later.
func TestLocateSkipsBrokenForComplete(t *testing.T) {
	broken := filepath.Join(layoutRoot(t, "broken"), "opt", "dmtcp")
	good := filepath.Join(layoutRoot(t, "opt"), "opt", "dmtcp")
	in, err := Locate(Search{EnvPrefix: broken, Roots: []string{good}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Prefix != good || !strings.HasPrefix(in.Where, "layout ") {
		t.Errorf("found %s via %s, want %s via its layout", in.Prefix, in.Where, good)
	}
}

func TestLocateNothingNamesWhereItLooked(t *testing.T) {
	empty := t.TempDir()
	_, err := Locate(Search{Cwd: empty, EnvPrefix: filepath.Join(empty, "nope"), Path: empty, Roots: KnownRoots(empty, envOf(nil))})
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Partial) != 0 {
		t.Fatalf("err = %v, want not found with nothing partial", err)
	}
	for _, w := range []string{filepath.Join(empty, "bin"), filepath.Join(empty, "nope", "bin"), "PATH", filepath.Join(empty, "opt", "dmtcp", "bin")} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q: %v", w, err)
		}
	}
}

// Locate's errors name no command's option; each command adds its own
// with PrefixHint, worded for what was found.
func TestPrefixHint(t *testing.T) {
	broken := filepath.Join(layoutRoot(t, "broken"), "opt", "dmtcp")
	empty := t.TempDir()
	other := errors.New("some other error")
	for _, tt := range []struct {
		name string
		err  error
		want string // the whole message ends so
	}{
		{"incomplete", locateErr(t, Search{Prefix: broken}), "; reinstall DMTCP there or give --opt DIR of a complete install"},
		{"nothing", locateErr(t, Search{Cwd: empty}), "; transfer a dmtcp_condor_integration bundle with the job, or give --opt DIR (the directory holding bin/dmtcp_launch)"},
		{"another error", other, "some other error"},
		{"no error", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err != nil && strings.Contains(tt.err.Error(), "--") {
				t.Errorf("Locate's error names an option: %v", tt.err)
			}
			got := PrefixHint(tt.err, "--opt")
			if tt.err == nil {
				if got != nil {
					t.Errorf("PrefixHint(nil) = %v", got)
				}
				return
			}
			if !strings.HasSuffix(got.Error(), tt.want) || !errors.Is(got, tt.err) {
				t.Errorf("PrefixHint = %v, want %v ending in %q", got, tt.err, tt.want)
			}
		})
	}
}

// locateErr is Locate's error for s, which must find nothing.
func locateErr(t *testing.T, s Search) error {
	t.Helper()
	in, err := Locate(s)
	if err == nil {
		t.Fatalf("Locate(%+v) found %s", s, in.Prefix)
	}
	return err
}

func TestKnownRootsOrder(t *testing.T) {
	root := layoutRoot(t, "spack")
	env := map[string]string{
		"SPACK_ROOT":  filepath.Join(root, "spack"),
		"EBROOTDMTCP": "/eb/DMTCP/3.0",
		"DMTCP_ROOT":  "/spack/module/dmtcp",
	}
	got := KnownRoots(root, envOf(env))
	sp := filepath.Join(root, "spack", "opt", "spack", "linux-debian12-x86_64", "gcc-12.2.0")
	want := []string{
		"/eb/DMTCP/3.0", "/spack/module/dmtcp",
		filepath.Join(root, "usr"), filepath.Join(root, "usr", "local"), filepath.Join(root, "opt", "dmtcp"),
		filepath.Join(sp, "dmtcp-4.1.0-3zkd6qq"), filepath.Join(sp, "dmtcp-3.0.0-a2uvwxy"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KnownRoots =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestVersionFromPrefix(t *testing.T) {
	for _, tt := range []struct{ prefix, want string }{
		{"/spack/opt/spack/linux-x/gcc-12/dmtcp-4.2.0-abcdef", "4.2.0"},
		{"/apps/software/DMTCP/3.0.0-GCCcore-12.2.0", "3.0.0"},
		{"/apps/software/dmtcp/2.6", "2.6"},
		{"/opt/dmtcp-2.2.1", "2.2.1"},
		{"/opt/dmtcp", ""},
		{"/usr", ""},
		{"/opt/other-1.0", ""},
	} {
		if got := versionFromPrefix(tt.prefix); got != tt.want {
			t.Errorf("versionFromPrefix(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

// The JSON form is what "dmtcp-condor locate --json" prints: every field
// named in snake case, Missing only when something is.
func TestInstallJSONFieldNames(t *testing.T) {
	typ := reflect.TypeOf(Install{})
	for i := 0; i < typ.NumField(); i++ {
		tag := typ.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || strings.ToLower(name) != name {
			t.Errorf("field %s has json tag %q", typ.Field(i).Name, tag)
		}
	}
}

func TestInspectUnresolvableLaunch(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "dmtcp_launch")
	if err := os.Symlink(filepath.Join(dir, "gone"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(link, "test"); err == nil || !strings.Contains(err.Error(), link) {
		t.Errorf("Inspect of a dangling symlink: %v", err)
	}
}
