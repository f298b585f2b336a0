package packaging_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2/files"
	"gopkg.in/yaml.v3"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/dmtcp-condor/dmtcp-condor/packaging"
	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

// goreleaserPackages is the part of .goreleaser.yaml that says what the
// packages are: the fields nfpm.Info has too.
type goreleaserPackages struct {
	Builds []struct {
		ID     string `yaml:"id"`
		Binary string `yaml:"binary"`
	} `yaml:"builds"`
	Nfpms []struct {
		ID           string   `yaml:"id"`
		Formats      []string `yaml:"formats"`
		PackageName  string   `yaml:"package_name"`
		IDs          []string `yaml:"ids"`
		Bindir       string   `yaml:"bindir"`
		Description  string   `yaml:"description"`
		Vendor       string   `yaml:"vendor"`
		Homepage     string   `yaml:"homepage"`
		Maintainer   string   `yaml:"maintainer"`
		License      string   `yaml:"license"`
		Section      string   `yaml:"section"`
		Priority     string   `yaml:"priority"`
		Release      string   `yaml:"release"`
		Dependencies []string `yaml:"dependencies"`
		Contents     []struct {
			Src      string `yaml:"src"`
			Dst      string `yaml:"dst"`
			Type     string `yaml:"type"`
			Packager string `yaml:"packager"`
			FileInfo struct {
				Mode os.FileMode `yaml:"mode"`
			} `yaml:"file_info"`
		} `yaml:"contents"`
		RPM struct {
			Summary   string `yaml:"summary"`
			Group     string `yaml:"group"`
			Packager  string `yaml:"packager"`
			BuildHost string `yaml:"buildhost"`
		} `yaml:"rpm"`
		Deb struct {
			Compression string `yaml:"compression"`
		} `yaml:"deb"`
	} `yaml:"nfpms"`
}

// TestGoreleaserMatchesPackaging ties .goreleaser.yaml's nfpms sections,
// which cannot use packaging's values, to the nfpm.Info that "dmtcp-condor
// package" builds from: the same metadata, dependencies and files, with
// the same types and modes, for each format.
func TestGoreleaserMatchesPackaging(t *testing.T) {
	data, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserPackages
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	binaries := map[string]string{}
	for _, b := range cfg.Builds {
		binaries[b.ID] = b.Binary
	}
	staged := stageWithCLI(t)
	cli, shim := packaging.StandIns()
	o := packaging.Options{Version: "1.2.0", CLI: cli, Shim: shim, Staged: staged, MTime: time.Unix(1714564800, 0), Maintainer: "Ada <ada@example.org>"}
	formats := map[string]bool{}
	for _, n := range cfg.Nfpms {
		if len(n.Formats) != 1 {
			t.Errorf(".goreleaser.yaml's nfpms %s makes %v; one format per section, as their descriptions differ", n.ID, n.Formats)
			continue
		}
		format := n.Formats[0]
		formats[format] = true
		info, err := o.Info("amd64", format)
		if err != nil {
			t.Fatal(err)
		}
		// Maintainer: whoever releases, from the variable "package" reads.
		maintainer := "{{ .Env." + packaging.MaintainerEnv + " }}"
		for _, f := range []struct{ field, yaml, info string }{
			{"package_name", n.PackageName, info.Name},
			{"description", n.Description, info.Description},
			{"vendor", n.Vendor, info.Vendor},
			{"homepage", n.Homepage, info.Homepage},
			{"license", n.License, info.License},
			{"section", n.Section, info.Section},
			{"priority", n.Priority, info.Priority},
			{"release", n.Release, info.Release},
			{"dependencies", strings.Join(n.Dependencies, ", "), strings.Join(info.Depends, ", ")},
			{"maintainer", n.Maintainer, maintainer},
			{"rpm.summary", n.RPM.Summary, info.RPM.Summary},
			{"rpm.group", n.RPM.Group, info.RPM.Group},
			{"rpm.packager", n.RPM.Packager, maintainer},
			{"rpm.buildhost", n.RPM.BuildHost, info.RPM.BuildHost},
			{"deb.compression", n.Deb.Compression, info.Deb.Compression},
		} {
			if f.yaml != f.info {
				t.Errorf(".goreleaser.yaml's nfpms %s %s is\n%s\nbut dmtcp-condor package (packaging.go) gives\n%s", n.ID, f.field, f.yaml, f.info)
			}
		}

		// The files, as "destination type mode [-> link target]".
		var got []string
		for _, id := range n.IDs {
			got = append(got, entry(path(n.Bindir, binaries[id]), "", 0o755, ""))
		}
		for _, c := range n.Contents {
			if !installs(c.Packager, format) {
				continue
			}
			rel, fromStage := strings.CutPrefix(c.Src, "bin/staged/")
			if !fromStage || !strings.HasSuffix(c.Dst, "/") {
				got = append(got, entry(c.Dst, c.Type, c.FileInfo.Mode, c.Src))
				continue
			}
			matches, _ := filepath.Glob(filepath.Join(staged, rel))
			for _, m := range matches {
				got = append(got, entry(c.Dst+filepath.Base(m), c.Type, c.FileInfo.Mode, m))
			}
		}
		var want []string
		for _, c := range info.Contents {
			if installs(c.Packager, format) {
				want = append(want, entry(c.Destination, c.Type, c.FileInfo.Mode, c.Source))
			}
		}
		if diff := setDiff(got, want); diff != "" {
			t.Errorf(".goreleaser.yaml's nfpms %s contents differ from dmtcp-condor package's %s (packaging.go):\n%s", n.ID, format, diff)
		}
	}
	for _, f := range packaging.Formats {
		if !formats[f] {
			t.Errorf(".goreleaser.yaml has no nfpms section for %s", f)
		}
	}
}

func path(dir, name string) string { return strings.TrimSuffix(dir, "/") + "/" + name }

// installs says whether an entry for packager goes into a package of format.
func installs(packager, format string) bool { return packager == "" || packager == format }

// entry describes one file of a package: "destination type mode", and
// " -> target" for a link, whose src is the target.
func entry(dst, typ string, mode os.FileMode, src string) string {
	switch typ {
	case files.TypeFile:
		typ = ""
	case files.TypeSymlink:
		// A link's own mode means nothing.
		return fmt.Sprintf("%s %q -> %s", strings.TrimSuffix(dst, "/"), typ, src)
	}
	return fmt.Sprintf("%s %q %#o", strings.TrimSuffix(dst, "/"), typ, mode.Perm())
}

// setDiff lists what only got has (+) and what only want has (-).
func setDiff(got, want []string) string {
	var out []string
	for _, g := range got {
		if !slices.Contains(want, g) {
			out = append(out, "+ "+g+" (only in .goreleaser.yaml)")
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, "- "+w+" (only in dmtcp-condor package)")
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// TestPackagedToolFindsItsShim ties where a package installs the tool and
// the shim to where the installed tool looks for the shim
// (bundle.ShimCandidates), which is the path render writes for an
// installed shim (submitgen.InstalledShim).
func TestPackagedToolFindsItsShim(t *testing.T) {
	cli, shim := packaging.StandIns()
	o := packaging.Options{Version: "1.2.0", CLI: cli, Shim: shim, Staged: stageWithCLI(t), MTime: time.Unix(1714564800, 0), Maintainer: "Ada <ada@example.org>"}
	info, err := o.Info("amd64", "deb")
	if err != nil {
		t.Fatal(err)
	}
	dst := map[string]string{}
	for _, c := range info.Contents {
		dst[c.Source] = c.Destination
	}
	if dst[shim] != submitgen.InstalledShim {
		t.Errorf("the package installs the shim at %s, but render writes %s", dst[shim], submitgen.InstalledShim)
	}
	if dst[cli] != packaging.ToolPath || !slices.Contains(bundle.ShimCandidates(dst[cli]), dst[shim]) {
		t.Errorf("the package installs the tool at %s (ToolPath %s), whose bundle.ShimCandidates %q do not hold the shim's %s", dst[cli], packaging.ToolPath, bundle.ShimCandidates(dst[cli]), dst[shim])
	}
}
