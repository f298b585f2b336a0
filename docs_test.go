package dmtcpcondor_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/gridengine"
	"github.com/dmtcp-condor/dmtcp-condor/packaging"
	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

// TestReadmeInstallPaths ties the install paths README.md shows to the
// ones the packages use (submitgen.InstalledShim, packaging.SGEDir and gridengine.Roles).
func TestReadmeInstallPaths(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	known := []string{submitgen.InstalledShimDir + "/", submitgen.InstalledShim, packaging.SGEDir + "/"}
	for _, r := range gridengine.Roles {
		known = append(known, packaging.SGEDir+"/"+string(r))
	}
	paths := regexp.MustCompile("/usr/libexec/[^ `),]*").FindAllString(string(data), -1)
	if len(paths) == 0 {
		t.Fatal("README.md shows no path in /usr/libexec; update this test")
	}
	for _, p := range paths {
		if !slices.Contains(known, strings.TrimRight(p, ".;:")) {
			t.Errorf("README.md shows %s, which the packages do not install (shim %s, Grid Engine commands in %s)", p, submitgen.InstalledShim, packaging.SGEDir)
		}
	}
}
