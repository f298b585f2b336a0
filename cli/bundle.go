package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
)

// BundleOptions are the inputs of "dmtcp-condor bundle".
type BundleOptions struct {
	IO           *IOStreams
	Version      string
	Prefix       string // --dmtcp-prefix; "" searches like locate
	Shim         string // --shim; "" finds or builds one
	OutDir       string
	NameTemplate string
	Compression  string
	Quiet        bool
	// Getenv, Sysroot and Self (the running dmtcp-condor) are the
	// environment the command sees; tests replace them.
	Getenv  func(string) string
	Sysroot string
	Self    string
}

// NewCmdBundle builds "bundle", which packs the shim and a DMTCP install
// into the dmtcp_condor_integration tarball that jobs carry to execute
// nodes.
func NewCmdBundle(runF func(*BundleOptions) error) *cobra.Command {
	opts := &BundleOptions{}
	cmd := &cobra.Command{
		Use:   "bundle --version VERSION",
		Short: "Pack shim_dmtcp and DMTCP into a dmtcp_condor_integration tarball",
		Long: `Bundle writes dmtcp_condor_integration-VERSION-Any-Any.tar.gz (or .tar.zst, .tar.xz
with --compression): one directory
that an HTCondor job carries to any execute node, with

  bin/shim_dmtcp           static, for DMTCP's architecture
  bin/, lib/dmtcp/         DMTCP's programs, library and plugins, side by side
                           as DMTCP resolves them
  lib/runtime/             the shared libraries DMTCP needs besides glibc, each
                           used on an execute node only where it lacks them
  job.yaml, job.sub        an example job rendered for the bundle
  README, VERSION, SHA256SUMS

DMTCP is found as "locate" finds it. The shim is never a development
build: --shim when it is a release build of --version (static, stripped,
-trimpath, saying that version), else the one installed beside
dmtcp-condor when it is one, else built from source (inside the project's
checkout). A symbolic link in DMTCP's prefix that leads out of it is
refused. The tarball is byte-reproducible: every file gets the time from
SOURCE_DATE_EPOCH, else the commit of tag vVERSION (or HEAD) in the current
git checkout. After writing it, bundle extracts it to a temporary directory
and runs the bundled dmtcp_launch --version and shim_dmtcp --version.

The tarball's path is printed on standard output; progress goes to standard
error when it is a terminal.`,
		Example: `  dmtcp-condor bundle --version 1.2.0 --dmtcp-prefix /opt/dmtcp -o dist
  dmtcp-condor bundle --version 1.2.0 --name-template 'dmtcp_condor_integration-{{.Version}}-{{.Arch}}-Linux.tar.gz'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if runF != nil {
				return runF(opts)
			}
			return runBundle(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Version, "version", "", "the release `VERSION`, such as 1.2.0 or 1.2.0-rc1 (required; pattern "+bundle.VersionPattern+")")
	cmd.Flags().StringVar(&opts.Prefix, "dmtcp-prefix", "", "DMTCP install `DIR` to bundle; default: as locate finds it")
	cmd.Flags().StringVar(&opts.Shim, "shim", "", "static shim_dmtcp `BINARY` to bundle; default: installed beside dmtcp-condor, else built")
	cmd.Flags().StringVarP(&opts.OutDir, "output", "o", ".", "`DIR` to write the tarball into")
	cmd.Flags().StringVar(&opts.NameTemplate, "name-template", bundle.DefaultNameTemplate, "tarball name (Go template: .Version .DMTCPVersion .Arch .GOARCH .OS .Ext)")
	cmd.Flags().StringVar(&opts.Compression, "compression", "gz", "`FORMAT` of the tarball: gz, zst or xz (each byte-reproducible)")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print only the tarball's path (and errors)")
	_ = cmd.MarkFlagRequired("version")
	cmd.AddCommand(newCmdBundleVerify())
	return cmd
}

// processEnv fills in the process's environment and the running binary's
// real path where a test gave none.
func processEnv(getenv func(string) string, self string) (func(string) string, string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if self == "" {
		if exe, err := os.Executable(); err == nil {
			self, _ = filepath.EvalSymlinks(exe)
		}
	}
	return getenv, self
}

// progress returns the function that reports steps: to standard error
// when it is a terminal, never with --quiet.
func progress(io *IOStreams, quiet bool) func(string, ...any) {
	f, ok := io.ErrOut.(*os.File)
	if quiet || !ok || !isTerminal(f) {
		return func(string, ...any) {}
	}
	start := time.Now()
	return func(format string, args ...any) {
		fmt.Fprintf(io.ErrOut, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// newCmdBundleVerify builds "bundle verify", which a site admin runs on
// an execute node before rolling a bundle out.
func newCmdBundleVerify() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE-or-DIR",
		Short: "Check a bundle on this machine before rolling it out",
		Long: `Verify checks a dmtcp_condor_integration bundle, the tarball or the extracted
directory, on the machine it runs on (an execute node). The tarball's format
is told by its content, not its name: .tar.gz, .tar.zst and .tar.xz as bundle
writes them, or the bundle repacked as any archive mholt/archives reads (a
plain tar, a zip, another compression).

  - every entry is a directory or a regular file below the bundle's top
    directory (no links, devices, absolute or ".." paths), and every file
    matches SHA256SUMS, which lists them all;
  - the bundle's self-test: bin/dmtcp_launch --version with the libraries
    this machine needs from the bundle, again with all of them, and
    bin/shim_dmtcp --version;
  - what this machine lacks of what DMTCP needs (the C++ runtime, a new
    enough glibc) and whether the bundle supplies it.

It prints what it checked and found, and exits 1 when anything fails.`,
		Example: `  dmtcp-condor bundle verify dmtcp_condor_integration-1.2.0-Any-Any.tar.gz
  dmtcp-condor bundle verify /nfs/dmtcp_condor_integration-1.2.0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			io := streamsOf(cmd)
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			lines, err := bundle.Check(ctx, args[0])
			for _, l := range lines {
				fmt.Fprintln(io.Out, l)
			}
			if err != nil {
				return fmt.Errorf("bundle verify %s: %w", args[0], err)
			}
			fmt.Fprintf(io.Out, "%s: ok\n", args[0])
			return nil
		},
	}
}

func runBundle(ctx context.Context, o *BundleOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := bundle.CheckVersion(o.Version); err != nil {
		return releaseError("bundle", err)
	}
	getenv, self := processEnv(o.Getenv, o.Self)
	say := progress(o.IO, o.Quiet)
	in, err := findDMTCP(o.Prefix, getenv, o.Sysroot)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	if runErr := in.Identify(ctx); runErr != nil {
		say("DMTCP does not run here (%v); version %s from %s", runErr, in.Version, in.VersionFrom)
	}
	if in.Legacy {
		return fmt.Errorf("bundle: DMTCP at %s has the 1.x names (dmtcp_checkpoint, dmtcphijack.so), which shim_dmtcp cannot drive; give --dmtcp-prefix DIR of DMTCP 2.x or later", in.Prefix)
	}
	say("DMTCP %s at %s (found via %s)", in.Version, in.Prefix, in.Where)
	when, from, err := bundle.SourceDate(ctx, getenv, ".", o.Version)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	say("timestamp %s (from %s)", when.Format(time.RFC3339), from)
	goarch := bundle.TargetGOARCH(in, runtime.GOARCH)
	shim, how, cleanup, err := bundle.Shim.Resolve(ctx, bundle.Source{Path: o.Shim, Candidates: bundle.ShimCandidates(self), GOARCH: goarch, Version: o.Version})
	if err != nil {
		return releaseError("bundle", err)
	}
	defer cleanup()
	if o.Shim != "" {
		how = "--shim " + how
	}
	say("shim_dmtcp: %s", how)
	var libPath []string
	if v := getenv("LD_LIBRARY_PATH"); v != "" {
		libPath = filepath.SplitList(v)
	}
	res, err := bundle.Build(ctx, bundle.Options{
		Version: o.Version, Install: in, Shim: shim, OutDir: o.OutDir, NameTemplate: o.NameTemplate, Compression: o.Compression,
		MTime: when, LibPath: libPath, Progress: say,
	})
	if err != nil {
		return releaseError("bundle", err)
	}
	if !o.Quiet {
		fmt.Fprintf(o.IO.ErrOut, "wrote %s (%.1f MB, sha256 %s)\nverified: %s\n", res.Path, float64(res.Size)/1e6, res.SHA256, res.Verified)
		for _, u := range res.Unresolved {
			fmt.Fprintf(o.IO.ErrOut, "warning: %s is not in the bundle (not found here); execute nodes must have it\n", u)
		}
	}
	fmt.Fprintln(o.IO.Out, res.Path)
	return nil
}
