package bundle

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dmtcpcondor "github.com/dmtcp-condor/dmtcp-condor"
)

// A bundle carries LICENSE, DMTCP's licence, and for each runtime library
// it copies the licence and exception texts from this machine's package
// documentation, each listed in README. DMTCP's launch command here is a
// C++ stand-in, so that the bundle copies libstdc++ and libgcc_s.
func TestBundleLicenses(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("skipped: g++ is not installed (apt-get install g++)")
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("skipped: the licence texts are looked up with dpkg-query (a Debian machine)")
	}
	prefix := filepath.Join(t.TempDir(), "dmtcp")
	src, _ := filepath.Abs(filepath.Join(layouts, "opt", "opt", "dmtcp"))
	if out, err := exec.Command("cp", "-a", src, prefix).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	cc := filepath.Join(t.TempDir(), "launch.cc")
	if err := os.WriteFile(cc, []byte("#include <iostream>\nint main() { std::cout << \"dmtcp_launch (DMTCP) 4.2.0\" << std::endl; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	launch := filepath.Join(prefix, "bin", "dmtcp_launch")
	if out, err := exec.Command("g++", "-o", launch, cc).CombinedOutput(); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}
	res := build(t, Options{Install: locate(t, prefix)})
	_, data := headers(t, res.Path)
	top := "dmtcp_condor_integration-1.2.0/"
	if string(data[top+"LICENSE"]) != string(dmtcpcondor.License) || !strings.Contains(string(data[top+"LICENSE"]), "Apache License") {
		t.Error("LICENSE is not the project's")
	}
	readme := string(data[top+"README"])
	var gccCopyright string
	for _, l := range res.Licenses {
		if _, ok := data[top+l.Name]; !ok {
			t.Errorf("README lists %s, which the bundle lacks", l.Name)
		}
		if !strings.Contains(readme, "  "+l.Name+"\n") {
			t.Errorf("README does not list %s:\n%s", l.Name, readme)
		}
		if strings.HasPrefix(l.Name, "doc/runtime/") && strings.Contains(strings.Join(l.Covers, " "), "libstdc++.so.6") {
			gccCopyright = string(data[top+l.Name])
		}
	}
	for _, want := range []string{"GCC RUNTIME LIBRARY EXCEPTION", "/usr/share/common-licenses/GPL-3"} {
		if !strings.Contains(gccCopyright, want) {
			t.Errorf("the licence of the copied libstdc++ lacks %q (licences: %+v)", want, res.Licenses)
		}
	}
	for _, name := range []string{"doc/common-licenses/GPL-3", "doc/common-licenses/LGPL-3", "doc/dmtcp/COPYING"} {
		if len(data[top+name]) == 0 {
			t.Errorf("no %s in the bundle", name)
		}
	}
	if len(res.LicenseMissing) > 0 {
		t.Errorf("licences not found for %v", res.LicenseMissing)
	}
	t.Logf("licences: %+v", res.Licenses)
}
