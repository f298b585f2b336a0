package cli

import (
	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
	"github.com/spf13/cobra"
)

// SchemaOptions are the inputs of "dmtcp-condor schema".
type SchemaOptions struct {
	IO *IOStreams
}

// NewCmdSchema builds "schema", which prints the JSON Schema of job
// descriptions so editors (for example the YAML language server) can
// complete and check them.
func NewCmdSchema(runF func(*SchemaOptions) error) *cobra.Command {
	opts := &SchemaOptions{}
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of job descriptions",
		Long: `Schema prints the JSON Schema (draft 2020-12) of job descriptions. Save it
and point your editor at it, for example with a first line
"# yaml-language-server: $schema=job.schema.json" in job.yaml.`,
		Example: `  dmtcp-condor schema > job.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if runF != nil {
				return runF(opts)
			}
			return runSchema(opts)
		},
	}
}

func runSchema(opts *SchemaOptions) error {
	s, err := submitgen.Schema()
	if err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(s)
	return err
}
