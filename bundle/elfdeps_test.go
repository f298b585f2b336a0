package bundle

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
)

// A C++ program with a private library found through $ORIGIN: the bundle
// takes libstdc++ and the private library, never glibc or the loader.
func TestResolveSharedLibs(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("skipped: g++ is not installed (apt-get install g++)")
	}
	dir := t.TempDir()
	for _, d := range []string{"bin", "lib"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gxx := func(args ...string) {
		if out, err := exec.Command("g++", args...).CombinedOutput(); err != nil {
			t.Fatalf("g++ %v: %v\n%s", args, err, out)
		}
	}
	gxx("-shared", "-fPIC", "-o", filepath.Join(dir, "lib", "libprivate.so.1"), "-Wl,-soname,libprivate.so.1",
		src("private.cc", "int private_answer() { return 42; }\n"))
	prog := filepath.Join(dir, "bin", "prog")
	gxx("-o", prog, src("prog.cc", "#include <iostream>\nint private_answer();\nint main() { std::cout << private_answer() << std::endl; }\n"),
		"-L"+filepath.Join(dir, "lib"), "-l:libprivate.so.1", "-Wl,-rpath,$ORIGIN/../lib")

	libs, unresolved := resolveSharedLibs([]string{prog}, runtimelib.LdSoConf("", "/etc/ld.so.conf", 0))
	names := map[string]SharedLib{}
	for _, l := range libs {
		names[l.Name] = l
	}
	for _, want := range []string{"libprivate.so.1", "libstdc++.so.6"} {
		if _, ok := names[want]; !ok {
			t.Errorf("%s not bundled: %+v", want, libs)
		}
	}
	if l := names["libprivate.so.1"]; l.Path != filepath.Join(dir, "lib", "libprivate.so.1") || !reflect.DeepEqual(l.NeededBy, []string{"prog"}) {
		t.Errorf("libprivate: %+v", l)
	}
	for name := range names {
		if isSystemLib(name) {
			t.Errorf("glibc or the loader bundled: %s", name)
		}
	}
	if len(unresolved) != 0 {
		t.Errorf("unresolved %v", unresolved)
	}

	// Without the private library it is reported, with who needs it.
	if err := os.Remove(filepath.Join(dir, "lib", "libprivate.so.1")); err != nil {
		t.Fatal(err)
	}
	_, unresolved = resolveSharedLibs([]string{prog}, runtimelib.LdSoConf("", "/etc/ld.so.conf", 0))
	if len(unresolved) != 1 || unresolved[0] != "libprivate.so.1 (needed by prog)" {
		t.Errorf("unresolved = %v", unresolved)
	}
}

func TestIsSystemLib(t *testing.T) {
	for name, want := range map[string]bool{
		"libc.so.6": true, "libm.so.6": true, "libpthread.so.0": true, "ld-linux-x86-64.so.2": true,
		"ld-linux-aarch64.so.1": true, "libnss_files.so.2": true,
		"libstdc++.so.6": false, "libgcc_s.so.1": false, "libatomic.so.1": false, "libz.so.1": false,
	} {
		if got := isSystemLib(name); got != want {
			t.Errorf("isSystemLib(%s) = %v", name, got)
		}
	}
}
