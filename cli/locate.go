package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp"
)

// LocateOptions are the inputs of "dmtcp-condor locate".
type LocateOptions struct {
	IO     *IOStreams
	Prefix string // --dmtcp-prefix; "" searches
	JSON   bool
	// Getenv reads $DMTCP_PREFIX, $PATH and the build systems' variables;
	// Sysroot is where the distribution layouts are looked for ("/").
	// Tests point both at fake installs.
	Getenv  func(string) string
	Sysroot string
}

// NewCmdLocate builds "locate", which says which DMTCP the other commands
// (and a shim on this machine) would use, or exactly what is missing.
func NewCmdLocate(runF func(*LocateOptions) error) *cobra.Command {
	opts := &LocateOptions{}
	cmd := &cobra.Command{
		Use:   "locate",
		Short: "Find the DMTCP install and show its programs, libraries and version",
		Long: `Locate finds a DMTCP install the way "bundle" does: the directory given with
--dmtcp-prefix, else $DMTCP_PREFIX, dmtcp_launch on PATH (its real path), and the
layouts distributions and build systems use: /usr with lib/dmtcp (Debian, Arch)
or lib64/dmtcp (Fedora, openSUSE), /usr/local, /opt/dmtcp and /opt/dmtcp-*,
EasyBuild ($EBROOTDMTCP, software/DMTCP/*) and Spack ($DMTCP_ROOT,
$SPACK_ROOT/opt/spack/.../dmtcp-*). DMTCP 1.x and 2.x names and places
(dmtcp_checkpoint, dmtcphijack.so, mtcp_restart under lib/dmtcp) are
recognised.

It prints the programs, library, plugins and version it found, or what is
missing from an incomplete install, and exits 1 when there is no complete one.
The version comes from dmtcp_launch --version, or, when DMTCP does not run
here, from its version.h, its library or its install prefix.`,
		Example: `  dmtcp-condor locate
  dmtcp-condor locate --dmtcp-prefix /opt/dmtcp --json | jq .install.version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if runF != nil {
				return runF(opts)
			}
			return runLocate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Prefix, "dmtcp-prefix", "", "DMTCP install `DIR` (holding bin/dmtcp_launch); default: search")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON report instead of a table")
	return cmd
}

// locateReport is what --json prints.
type locateReport struct {
	Found      bool             `json:"found"`
	Install    *dmtcp.Install   `json:"install,omitempty"`
	Runs       bool             `json:"runs"`                // dmtcp_launch --version ran here
	RunError   string           `json:"run_error,omitempty"` // why not
	Looked     []string         `json:"looked,omitempty"`
	Incomplete []*dmtcp.Install `json:"incomplete,omitempty"` // installs with pieces missing
	Error      string           `json:"error,omitempty"`
}

// findDMTCP searches for DMTCP as locate and bundle do. getenv nil means
// the process's environment, sysroot "" means "/".
func findDMTCP(prefix string, getenv func(string) string, sysroot string) (*dmtcp.Install, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if sysroot == "" {
		sysroot = "/"
	}
	s := dmtcp.Search{Prefix: prefix}
	if prefix == "" {
		s.EnvPrefix = getenv("DMTCP_PREFIX")
		s.Path = getenv("PATH")
		s.Roots = dmtcp.KnownRoots(sysroot, getenv)
	}
	in, err := dmtcp.Locate(s)
	return in, dmtcp.PrefixHint(err, "--dmtcp-prefix")
}

func runLocate(ctx context.Context, o *LocateOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	in, err := findDMTCP(o.Prefix, o.Getenv, o.Sysroot)
	rep := locateReport{}
	if err != nil {
		rep.Error = err.Error()
		var nf *dmtcp.NotFoundError
		if errors.As(err, &nf) {
			rep.Looked, rep.Incomplete = nf.Looked, nf.Partial
			for _, p := range nf.Partial {
				p.DetectVersion()
			}
		}
		if o.JSON {
			if werr := writeJSON(o.IO, rep); werr != nil {
				return werr
			}
		}
		return err
	}
	rep.Found, rep.Install = true, in
	if runErr := in.Identify(ctx); runErr != nil {
		rep.RunError = runErr.Error()
	} else {
		rep.Runs = true
	}
	if o.JSON {
		return writeJSON(o.IO, rep)
	}
	return writeLocateTable(o.IO, rep)
}

func writeJSON(io *IOStreams, v any) error {
	enc := json.NewEncoder(io.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeLocateTable(io *IOStreams, rep locateReport) error {
	in := rep.Install
	version := in.Version
	if version == "" {
		version = "(version unknown)"
	}
	fmt.Fprintf(io.Out, "DMTCP %s at %s (found via %s)\n", version, in.Prefix, in.Where)
	w := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(w, "  %s\t%s\n", k, v) }
	if in.VersionFrom != "" {
		row("version", fmt.Sprintf("%s (from %s)", in.Version, in.VersionFrom))
	}
	if rep.Runs {
		row("runs here", "yes")
	} else {
		row("runs here", "no: "+rep.RunError)
	}
	row("launch", in.Launch)
	row("coordinator", in.Coordinator)
	row("command", in.Command)
	row("restart", in.Restart)
	row("mtcp_restart", in.MtcpRestart)
	row("library", in.Library)
	if len(in.Plugins) > 0 {
		row("plugins", strings.Join(in.Plugins, ", "))
	}
	var names []string
	for _, p := range in.Programs {
		names = append(names, filepath.Base(p))
	}
	row("programs", strings.Join(names, " "))
	if in.Legacy {
		row("note", "DMTCP 1.x names (dmtcp_checkpoint, dmtcphijack.so): too old for shim_dmtcp, which drives dmtcp_launch's options")
	}
	return w.Flush()
}
