package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// NewRootCmd builds the dmtcp-condor command tree. version is stamped into
// the binary at build time and shown by --version and in generated docs.
// Commands read and write the streams set with SetIn/SetOut/SetErr on the
// returned command (the process's by default).
func NewRootCmd(version string) *cobra.Command {
	root := &cobra.Command{
		Use:   "dmtcp-condor",
		Short: "Run HTCondor jobs under DMTCP checkpointing",
		Long: `dmtcp-condor writes HTCondor submit files that run a program under DMTCP
through shim_dmtcp, so the job survives eviction and can checkpoint itself.

Describe the job in a few lines of YAML (see "dmtcp-condor schema" and the
commented example shipped with the documentation), then:

  dmtcp-condor wizard              # asks, then writes job.yaml and job.sub
  dmtcp-condor render job.yaml     # writes job.sub next to it
  condor_submit job.sub`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(c, err)
	})
	root.AddCommand(
		NewCmdRender(nil),
		NewCmdSchema(nil),
		NewCmdDocs(nil),
		NewCmdWizard(nil),
		NewCmdDemo(nil),
		NewCmdLocate(nil),
		NewCmdBundle(nil),
		NewCmdPackage(nil),
		NewCmdSGE(),
	)
	return root
}

// Execute runs dmtcp-condor with args and returns the process exit status:
// 0 on success, 1 after printing the error. Errors from a job description
// already start with FILE:LINE, so they are printed as they are.
func Execute(version string, args []string, streams *IOStreams) int {
	root := NewRootCmd(version)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetArgs(args)
	// After SetOut: cobra's completion command keeps the stream it was
	// made with.
	finishTree(root)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(streams.ErrOut, "dmtcp-condor: %v\n", err)
		return 1
	}
	return 0
}
