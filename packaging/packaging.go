// Package packaging builds the .deb and .rpm of dmtcp-condor with nfpm as
// a library, for Debian and Fedora packagers and for sites that install
// the tool and the shim on every machine instead of sending a bundle with
// each job.
//
// For most uses, Stage the generated files (man pages, completions,
// changelog) into a directory, then Build one package per format from it:
//
//	err := packaging.Stage(dir, packaging.Assets{...}, "1.2.0", when, "Ada <ada@example.org>", ".")
//	res, err := packaging.Build(packaging.Options{Format: "deb", Version: "1.2.0", CLI: cli, Shim: shim, Staged: dir, MTime: when})
//
// A package holds the dmtcp-condor tool in /usr/bin, shim_dmtcp in
// /usr/libexec/dmtcp-condor/ (the path submitgen writes for an installed
// shim), the job.sub templates and the example description in
// /usr/share/dmtcp-condor/, man pages, shell completions, copyright and
// changelog in their conventional places, and depends on dmtcp. The same
// inputs and MTime give the same bytes. .goreleaser.yaml builds the same
// packages from the same staged files (dmtcp-condor package --stage).
package packaging

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/dmtcp-condor/dmtcp-condor/gridengine"
	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

// Package metadata. License is the project's (LICENSE at the repository's
// root; Apache-2.0, as HTCondor's).
const (
	Name     = "dmtcp-condor"
	License  = "Apache-2.0"
	Homepage = "https://github.com/dmtcp-condor/dmtcp-condor"
	Summary  = "Run HTCondor jobs under DMTCP checkpointing"
	// Description is the long description, paragraphs separated by a
	// blank line. The .deb shows Summary (lower case, Debian's synopsis
	// style) above it, and nfpm writes Debian's " ." for the blank lines;
	// the .rpm has Summary in its own field and this text as it is.
	Description = `dmtcp-condor writes HTCondor submit files that run an unmodified Linux
program under DMTCP through shim_dmtcp, so that the job checkpoints
periodically and when it is evicted, and resumes from its newest
complete checkpoint on whatever machine it lands next.

This package holds the dmtcp-condor tool (render, wizard, bundle,
package), the shim_dmtcp program that HTCondor runs in place of the
job, the Grid Engine checkpoint commands, and the submit file templates.`
	// ToolPath is where the dmtcp-condor tool is installed.
	ToolPath = "/usr/bin/" + Name
	// ShimDir holds the shim, at submitgen.InstalledShim: the path
	// submitgen writes into submit files for jobs that use an installed
	// shim.
	ShimDir = submitgen.InstalledShimDir
	// ShareDir holds the templates and examples.
	ShareDir = "/usr/share/dmtcp-condor"
	// Release is the packaging revision: packages are built from the
	// project's own files only, so there is never a second one.
	Release = "1"
)

// Options are the inputs of Build.
type Options struct {
	Format     string    // "deb" or "rpm"
	Version    string    // "1.2.0"; a prerelease like 1.2.0-rc1 sorts before 1.2.0
	CLI        string    // the dmtcp-condor binary
	Shim       string    // a static shim_dmtcp for the same architecture
	Staged     string    // the directory Stage wrote
	MTime      time.Time // every file's time and the build time (bundle.SourceDate)
	Maintainer string    // "Name <email>" (Maintainer)
	OutDir     string    // "" is the current directory
}

// Formats are the package formats Build makes.
var Formats = []string{"deb", "rpm"}

// Result describes a written package.
type Result struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Files  int    `json:"files"` // files (not directories or links) it installs
	Links  int    `json:"links"`
}

// Build writes one package. Its name is nfpm's conventional one
// (dmtcp-condor_1.2.0-1_amd64.deb, dmtcp-condor-1.2.0-1.x86_64.rpm).
// An error about one of o's fields is a *bundle.InputError naming it.
func Build(o Options) (*Result, error) {
	if err := bundle.CheckVersion(o.Version); err != nil {
		return nil, err
	}
	if o.MTime.IsZero() {
		return nil, fmt.Errorf("package: no timestamp; set SOURCE_DATE_EPOCH")
	}
	goarch, err := bundle.ArchOf(o.CLI)
	if err != nil {
		return nil, &bundle.InputError{Input: "CLI", Err: fmt.Errorf("the dmtcp-condor binary: %w", err)}
	}
	if a, err := bundle.ArchOf(o.Shim); err != nil || a != goarch {
		return nil, &bundle.InputError{Input: "Shim", Err: fmt.Errorf("shim_dmtcp %s is not a %s program like %s (%v); build it with GOARCH=%s CGO_ENABLED=0 go build ./cmd/shim_dmtcp", o.Shim, goarch, o.CLI, err, goarch)}
	}
	packager, err := nfpm.Get(o.Format)
	if err != nil {
		return nil, &bundle.InputError{Input: "Format", Err: fmt.Errorf("format %q: use deb or rpm", o.Format)}
	}
	info, err := o.info(goarch, o.Format)
	if err != nil {
		return nil, err
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, o.Format); err != nil {
		return nil, fmt.Errorf("package: prepare the %s contents: %w", o.Format, err)
	}
	outDir := o.OutDir
	if outDir == "" {
		outDir = "."
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("package: create output directory %s: %w", outDir, err)
	}
	out, err := bundle.OutputPath(outDir, packager.ConventionalFileName(info))
	if err != nil {
		return nil, err
	}
	res := &Result{Path: out}
	for _, c := range info.Contents {
		switch c.Type {
		case files.TypeDir, files.TypeImplicitDir:
		case files.TypeSymlink:
			res.Links++
		default:
			res.Files++
		}
	}
	if err := bundle.WriteFileAtomic(out, func(w io.Writer) error { return packager.Package(info, w) }); err != nil {
		return nil, fmt.Errorf("package: build the %s: %w", o.Format, err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	res.Size, res.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
	return res, nil
}

// info is a fresh nfpm.Info for one format (Package changes its Contents).
func (o Options) info(goarch, format string) (*nfpm.Info, error) {
	maintainer, err := checkMaintainer(o.Maintainer, "")
	if err != nil {
		return nil, err
	}
	description := Description
	if format == "deb" {
		description = strings.ToLower(Summary[:1]) + Summary[1:] + "\n" + Description
	}
	mtime := o.MTime.UTC().Truncate(time.Second)
	contents := files.Contents{
		file(o.CLI, ToolPath, 0o755, mtime, ""),
		file(o.Shim, submitgen.InstalledShim, 0o755, mtime, ""),
		dir(ShimDir, mtime, ""),
		dir(ShareDir, mtime, ""),
		dir(ShareDir+"/templates", mtime, ""),
		dir(ShareDir+"/examples", mtime, ""),
		dir("/usr/share/doc/"+Name, mtime, "deb"),
		dir("/usr/share/licenses/"+Name, mtime, "rpm"),
	}
	contents = append(contents, sgeCommands(mtime)...)
	staged, err := stagedContents(o.Staged, mtime)
	if err != nil {
		return nil, err
	}
	contents = append(contents, staged...)
	return &nfpm.Info{
		Name:        Name,
		Arch:        goarch,
		Platform:    "linux",
		Version:     o.Version,
		Release:     Release,
		Section:     "utils",
		Priority:    "optional",
		Maintainer:  maintainer,
		Description: description,
		Vendor:      "dmtcp-condor",
		Homepage:    Homepage,
		License:     License,
		Changelog:   filepath.Join(o.Staged, ChangelogFile),
		MTime:       mtime,
		Overridables: nfpm.Overridables{
			Depends:  []string{"dmtcp"},
			Contents: contents,
			Umask:    0o022,
			RPM: nfpm.RPM{
				Summary:   Summary,
				Group:     "Applications/System",
				BuildHost: "dmtcp-condor",
				Packager:  maintainer,
			},
			// gzip builds in half xz's time for a package 10% larger
			// (8.6 MB against 7.7), and every dpkg reads it.
			Deb: nfpm.Deb{Compression: "gzip"},
		},
	}, nil
}

// SGEDir holds the Grid Engine commands: symlinks to the shim under the
// names of the 2012 scripts, which the shim answers to (dmtcp-condor sge
// config names this directory).
const SGEDir = ShimDir + "/sge"

func sgeCommands(mtime time.Time) files.Contents {
	out := files.Contents{dir(SGEDir, mtime, "")}
	for _, r := range gridengine.Roles {
		out = append(out, &files.Content{Source: "../shim_dmtcp", Destination: SGEDir + "/" + string(r), Type: files.TypeSymlink,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", MTime: mtime}})
	}
	return out
}

func file(src, dst string, mode os.FileMode, mtime time.Time, packager string) *files.Content {
	return &files.Content{Source: src, Destination: dst, Packager: packager,
		FileInfo: &files.ContentFileInfo{Mode: mode, Owner: "root", Group: "root", MTime: mtime}}
}

func dir(dst string, mtime time.Time, packager string) *files.Content {
	return &files.Content{Destination: dst, Type: files.TypeDir, Packager: packager,
		FileInfo: &files.ContentFileInfo{Mode: 0o755, Owner: "root", Group: "root", MTime: mtime}}
}

// stagedContents turns the staged trees into package contents: every file
// of common/ for both formats, of deb/ and rpm/ for that format only, at
// the same path below /. Directories are not listed: the package must not
// claim /usr/share and its kin, which belong to the base system. In the
// .rpm, man pages are marked as documentation and the copyright (in
// /usr/share/licenses) as the license, as rpmbuild's %doc and %license do.
func stagedContents(staged string, mtime time.Time) (files.Contents, error) {
	var out files.Contents
	for _, tree := range []string{"common", "deb", "rpm"} {
		root := filepath.Join(staged, tree)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			dst := "/" + filepath.ToSlash(rel)
			mode := os.FileMode(0o644)
			if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			switch {
			case tree == "common" && strings.HasPrefix(dst, "/usr/share/man/"):
				out = append(out, file(p, dst, mode, mtime, "deb"))
				doc := file(p, dst, mode, mtime, "rpm")
				doc.Type = files.TypeRPMDoc
				out = append(out, doc)
			case tree == "common":
				out = append(out, file(p, dst, mode, mtime, ""))
			case tree == "rpm" && strings.HasPrefix(dst, "/usr/share/licenses/"):
				lic := file(p, dst, mode, mtime, tree)
				lic.Type = files.TypeRPMLicense
				out = append(out, lic)
			default:
				out = append(out, file(p, dst, mode, mtime, tree))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("package: read staged files in %s (Stage writes them): %w", root, err)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out, nil
}
