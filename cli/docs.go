package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/shim"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// DocsOptions are the inputs of "dmtcp-condor docs".
type DocsOptions struct {
	IO     *IOStreams
	Format string // "man" or "markdown"
	Dir    string // directory to write into, created if missing
	Root   *cobra.Command
}

// NewCmdDocs builds "docs", which writes the command reference as man pages
// (for packages) or markdown (for the web) from the same help text as --help.
func NewCmdDocs(runF func(*DocsOptions) error) *cobra.Command {
	opts := &DocsOptions{}
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Write man pages or markdown documentation for every command",
		Long: `Docs writes one page per command. Man pages carry the date from
SOURCE_DATE_EPOCH when it is set, so packages build reproducibly.`,
		Example: `  dmtcp-condor docs --format man --dir man/man1
  dmtcp-condor docs --format markdown --dir docs/cli`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return runDocs(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "man", "man or markdown")
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "directory to write the pages into")
	return cmd
}

func runDocs(opts *DocsOptions) error {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("creating docs directory: %w", err)
	}
	// A generated-on line would make every build differ.
	opts.Root.DisableAutoGenTag = true
	var err error
	switch opts.Format {
	case "man":
		err = writeManPages(opts.Root, opts.Dir, opts.Root.Version, nil)
	case "markdown", "md":
		err = doc.GenMarkdownTree(opts.Root, opts.Dir)
	default:
		return fmt.Errorf("unknown docs format %q; use man or markdown", opts.Format)
	}
	if err != nil {
		return fmt.Errorf("writing %s docs to %s: %w", opts.Format, opts.Dir, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s pages to %s\n", opts.Format, opts.Dir)
	return nil
}

// writeManPages writes a man page for every command into dir, each titled
// after its command (DMTCP-CONDOR-RENDER(1)), and shim_dmtcp(1) from the
// shim's own usage text, for the given version. when dates the pages (nil:
// SOURCE_DATE_EPOCH or now, as cobra does).
func writeManPages(root *cobra.Command, dir, version string, when *time.Time) error {
	root.DisableAutoGenTag = true // a generated-on line would make every build differ
	// An empty Title makes cobra title each page after its command path.
	header := &doc.GenManHeader{Section: "1", Date: when, Source: "dmtcp-condor " + version, Manual: "dmtcp-condor manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	var usage bytes.Buffer
	shim.Usage(&usage)
	// Indented four spaces, the usage text stays preformatted in the page.
	long := "    " + strings.ReplaceAll(strings.TrimRight(usage.String(), "\n"), "\n", "\n    ")
	sc := &cobra.Command{
		Use:                   "shim_dmtcp [options] [--] PROGRAM [ARG...]",
		Short:                 "run a program under DMTCP so that it survives eviction, on HTCondor and Grid Engine",
		Long:                  long,
		DisableFlagsInUseLine: true,
		DisableAutoGenTag:     true,
		Run:                   func(*cobra.Command, []string) {},
	}
	sc.SetHelpCommand(&cobra.Command{Hidden: true})
	f, err := os.Create(filepath.Join(dir, "shim_dmtcp.1"))
	if err != nil {
		return err
	}
	shimHeader := *header
	shimHeader.Title = "SHIM_DMTCP"
	if err := doc.GenMan(sc, &shimHeader, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
