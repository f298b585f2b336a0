package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/dmtcp-condor/dmtcp-condor/packaging"
	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

// PackageOptions are the inputs of "dmtcp-condor package".
type PackageOptions struct {
	IO         *IOStreams
	Format     string // deb or rpm
	Version    string
	OutDir     string
	CLI        string // the dmtcp-condor binary to package; "" is the running one
	Shim       string // "" finds or builds one, as bundle does
	Maintainer string
	Stage      string // write the generated files here and stop (for goreleaser)
	Quiet      bool
	Root       *cobra.Command // the command tree the man pages and completions describe
	Getenv     func(string) string
	Self       string
}

// NewCmdPackage builds "package", which makes the .deb or .rpm that
// installs the tool and the shim on a machine.
func NewCmdPackage(runF func(*PackageOptions) error) *cobra.Command {
	opts := &PackageOptions{}
	cmd := &cobra.Command{
		Use:   "package --format deb|rpm --version VERSION",
		Short: "Build the dmtcp-condor .deb or .rpm",
		Long: `Package builds a Debian or RPM package of dmtcp-condor with nfpm:

` + fmt.Sprintf("  %-44s %s\n", packaging.ToolPath, "this tool") +
			fmt.Sprintf("  %-44s %s\n", submitgen.InstalledShim, "the shim (static)") +
			fmt.Sprintf("  %-44s %s\n", packaging.ShareDir+"/templates, examples", "job.sub templates, example job") +
			`  man pages, bash/zsh/fish completions, copyright and changelog

The package depends on dmtcp. It never holds a development build: the
tool is --cli and the shim --shim when given, and they must be release
builds of --version (static, stripped, -trimpath, saying that version);
without them, this very dmtcp-condor and the shim installed beside it when
they are such builds, else both are built from the source tree in the
current directory (CGO_ENABLED=0, -trimpath, -s -w, the version stamped). Every file gets the time from
SOURCE_DATE_EPOCH, else the commit of tag vVERSION (or HEAD) in the current
git checkout, so the same inputs give the same bytes.

--stage DIR only writes the generated files (man pages, completions,
copyright, changelog, templates) into DIR, for goreleaser's nfpm section.`,
		Example: `  dmtcp-condor package --format deb --version 1.2.0 -o dist
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) dmtcp-condor package --format rpm --version 1.2.0 --cli bin/dmtcp-condor --shim bin/shim_dmtcp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return runPackage(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", "package `FORMAT`: deb or rpm")
	cmd.Flags().StringVar(&opts.Version, "version", "", "the release `VERSION`, such as 1.2.0 or 1.2.0-rc1 (required; pattern "+bundle.VersionPattern+")")
	cmd.Flags().StringVarP(&opts.OutDir, "output", "o", ".", "`DIR` to write the package into")
	cmd.Flags().StringVar(&opts.CLI, "cli", "", "dmtcp-condor `BINARY` to package; default: this one")
	cmd.Flags().StringVar(&opts.Shim, "shim", "", "static shim_dmtcp `BINARY` to package; default: installed beside dmtcp-condor, else built")
	cmd.Flags().StringVar(&opts.Maintainer, "maintainer", "", "the package's maintainer, `NAME <EMAIL>`; default $"+packaging.MaintainerEnv+", else $DEBFULLNAME <$DEBEMAIL>, else git's user.name <user.email>")
	cmd.Flags().StringVar(&opts.Stage, "stage", "", "only write the generated files into `DIR` (for goreleaser)")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the package's path (and errors)")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}

func runPackage(ctx context.Context, o *PackageOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Stage == "" && o.Format != "deb" && o.Format != "rpm" {
		return fmt.Errorf("package: --format %q: use deb or rpm", o.Format)
	}
	if err := bundle.CheckVersion(o.Version); err != nil {
		return releaseError("package", err)
	}
	getenv, self := processEnv(o.Getenv, o.Self)
	when, from, err := bundle.SourceDate(ctx, getenv, ".", o.Version)
	if err != nil {
		return fmt.Errorf("package: %w", err)
	}
	say := progress(o.IO, o.Quiet)
	say("timestamp %s (from %s)", when.Format(time.RFC3339), from)
	assets, err := commandAssets(o.Root, o.Version, when)
	if err != nil {
		return err
	}
	stage := o.Stage
	if stage == "" {
		if stage, err = os.MkdirTemp("", "dmtcp-condor-package-"); err != nil {
			return fmt.Errorf("package: %w", err)
		}
		defer os.RemoveAll(stage)
	}
	maintainer, err := packaging.Maintainer(ctx, o.Maintainer, getenv, ".")
	if err != nil {
		return releaseError("package", err)
	}
	say("maintainer %s", maintainer)
	if err := packaging.Stage(stage, assets, o.Version, when, maintainer, "."); err != nil {
		return err
	}
	if o.Stage != "" {
		if !o.Quiet {
			fmt.Fprintf(o.IO.ErrOut, "staged man pages, completions, copyright, changelog and templates in %s\n", o.Stage)
		}
		return nil
	}
	goarch := runtime.GOARCH
	if o.CLI != "" {
		if goarch, err = bundle.ArchOf(o.CLI); err != nil {
			return fmt.Errorf("package: --cli: %w", err)
		}
	}
	// Never a development build: --cli/--shim only when they are release
	// builds of this version, else release builds at hand, else built
	// from the source tree.
	cliBin, cliHow, cleanCLI, err := bundle.CLI.Resolve(ctx, bundle.Source{Path: o.CLI, Candidates: []string{self}, GOARCH: goarch, Version: o.Version})
	if err != nil {
		return releaseError("package", err)
	}
	defer cleanCLI()
	shim, shimHow, cleanShim, err := bundle.Shim.Resolve(ctx, bundle.Source{Path: o.Shim, Candidates: bundle.ShimCandidates(self), GOARCH: goarch, Version: o.Version})
	if err != nil {
		return releaseError("package", err)
	}
	defer cleanShim()
	if o.CLI != "" {
		cliHow = "--cli " + cliHow
	}
	if o.Shim != "" {
		shimHow = "--shim " + shimHow
	}
	say("dmtcp-condor: %s", cliHow)
	say("shim_dmtcp: %s", shimHow)
	res, err := packaging.Build(packaging.Options{
		Format: o.Format, Version: o.Version, CLI: cliBin, Shim: shim, Staged: stage,
		MTime: when, Maintainer: maintainer, OutDir: o.OutDir,
	})
	if err != nil {
		return releaseError("package", err)
	}
	if !o.Quiet {
		fmt.Fprintf(o.IO.ErrOut, "wrote %s (%.1f MB, sha256 %s)\ncontents: %d files and %d links, dated %s (from %s), maintainer %s\nchecked: %s; %s\n",
			res.Path, float64(res.Size)/1e6, res.SHA256, res.Files, res.Links, when.Format(time.RFC3339), from, maintainer, cliHow, shimHow)
	}
	fmt.Fprintln(o.IO.Out, res.Path)
	return nil
}

// commandAssets generates the man pages and shell completions of the
// whole command tree, dated when so that they build reproducibly.
func commandAssets(root *cobra.Command, version string, when time.Time) (packaging.Assets, error) {
	a := packaging.Assets{ManPages: map[string][]byte{}}
	tmp, err := os.MkdirTemp("", "dmtcp-condor-man-")
	if err != nil {
		return a, fmt.Errorf("package: man pages: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := writeManPages(root, tmp, version, &when); err != nil {
		return a, fmt.Errorf("package: write man pages: %w", err)
	}
	pages, _ := filepath.Glob(filepath.Join(tmp, "*.1"))
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			return a, fmt.Errorf("package: man pages: %w", err)
		}
		a.ManPages[filepath.Base(p)] = data
	}
	var bash, zsh, fish bytes.Buffer
	if err := root.GenBashCompletionV2(&bash, true); err != nil {
		return a, fmt.Errorf("package: bash completion: %w", err)
	}
	if err := root.GenZshCompletion(&zsh); err != nil {
		return a, fmt.Errorf("package: zsh completion: %w", err)
	}
	if err := root.GenFishCompletion(&fish, true); err != nil {
		return a, fmt.Errorf("package: fish completion: %w", err)
	}
	a.Bash, a.Zsh, a.Fish = bash.Bytes(), zsh.Bytes(), fish.Bytes()
	if !strings.Contains(bash.String(), root.Name()) {
		return a, fmt.Errorf("package: the bash completion does not mention %s", root.Name())
	}
	return a, nil
}
