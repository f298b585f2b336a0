package packaging_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/dmtcp-condor/dmtcp-condor/cli"
)

// goreleaserNfpm is the part of .goreleaser.yaml these tests read.
type goreleaserNfpm struct {
	Nfpms []struct {
		ID          string   `yaml:"id"`
		Formats     []string `yaml:"formats"`
		Description string   `yaml:"description"`
		Contents    []struct {
			Src      string `yaml:"src"`
			Dst      string `yaml:"dst"`
			Type     string `yaml:"type"`
			Packager string `yaml:"packager"`
		} `yaml:"contents"`
	} `yaml:"nfpms"`
}

// stageWithCLI runs "dmtcp-condor package --stage" as the goreleaser hook
// does and returns the directory.
func stageWithCLI(t *testing.T) string {
	t.Helper()
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := cli.Execute("1.2.0", []string{"package", "--stage", dir, "--version", "1.2.0", "--quiet"}, &cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 {
		t.Fatalf("package --stage: exit %d: %s", code, errOut.String())
	}
	return dir
}

// goreleaser's nfpm marks files as documentation only one by one, so
// .goreleaser.yaml lists the man pages; this keeps the list complete, and
// every staged file it names real.
func TestGoreleaserListsEveryManPage(t *testing.T) {
	data, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserNfpm
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(cfg.Nfpms) != 2 || cfg.Nfpms[1].ID != "rpm" {
		t.Fatalf("%d nfpms sections, want 2 (deb, then rpm)", len(cfg.Nfpms))
	}
	staged := stageWithCLI(t)
	pages, _ := filepath.Glob(filepath.Join(staged, "common", "usr", "share", "man", "man1", "*.gz"))
	var want, listed []string
	for _, p := range pages {
		want = append(want, "/usr/share/man/man1/"+filepath.Base(p))
	}
	for _, c := range cfg.Nfpms[1].Contents {
		if c.Type == "doc" && c.Packager == "rpm" {
			listed = append(listed, c.Dst)
		}
		if rel, ok := strings.CutPrefix(c.Src, "bin/staged/"); ok {
			if m, _ := filepath.Glob(filepath.Join(staged, rel)); len(m) == 0 {
				t.Errorf(".goreleaser.yaml names %s, which package --stage does not write", c.Src)
			}
		}
	}
	sort.Strings(want)
	sort.Strings(listed)
	if strings.Join(want, "\n") != strings.Join(listed, "\n") {
		t.Errorf(".goreleaser.yaml's rpm man pages (type: doc) are\n%s\nbut package --stage writes\n%s", strings.Join(listed, "\n"), strings.Join(want, "\n"))
	}
}

// One release command makes everything with one checksums.txt: a hook
// makes the bundle where checksum and release pick it up, and every
// archive carries LICENSE.
func TestGoreleaserReleasesTheBundle(t *testing.T) {
	data, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Before struct {
			Hooks []string `yaml:"hooks"`
		} `yaml:"before"`
		Archives []struct {
			Files []struct {
				Src string `yaml:"src"`
			} `yaml:"files"`
		} `yaml:"archives"`
		Checksum struct {
			ExtraFiles []struct {
				Glob string `yaml:"glob"`
			} `yaml:"extra_files"`
		} `yaml:"checksum"`
		Release struct {
			ExtraFiles []struct {
				Glob string `yaml:"glob"`
			} `yaml:"extra_files"`
		} `yaml:"release"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	hook := ""
	for _, h := range cfg.Before.Hooks {
		if strings.Contains(h, "./cmd/dmtcp-condor bundle ") {
			hook = h
		}
	}
	outDir := ""
	if _, rest, ok := strings.Cut(hook, " -o "); ok {
		outDir, _, _ = strings.Cut(rest, " ")
	}
	if outDir == "" || !strings.Contains(hook, "--version {{ .Version }}") {
		t.Fatalf("no before hook runs dmtcp-condor bundle --version {{ .Version }} -o DIR: %q", cfg.Before.Hooks)
	}
	bundleFile := filepath.Join(outDir, strings.NewReplacer("{{.Version}}", "1.2.1-SNAPSHOT.abc1234", "{{.Ext}}", "gz").Replace(bundle.DefaultNameTemplate))
	for name, extra := range map[string][]struct {
		Glob string `yaml:"glob"`
	}{"checksum": cfg.Checksum.ExtraFiles, "release": cfg.Release.ExtraFiles} {
		found := false
		for _, e := range extra {
			ok, _ := filepath.Match(e.Glob, bundleFile)
			found = found || ok
		}
		if !found {
			t.Errorf("%s.extra_files does not take the bundle %s", name, bundleFile)
		}
	}
	for i, a := range cfg.Archives {
		has := false
		for _, f := range a.Files {
			has = has || f.Src == "LICENSE"
		}
		if !has {
			t.Errorf("archive %d has no LICENSE", i)
		}
	}
}
