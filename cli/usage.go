package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// finishTree applies the rules every command of the tree follows, so that
// no command has to remember them:
//   - a command that only groups others (sge, completion) fails on an
//     unknown subcommand, with suggestions, instead of printing its help
//     and exiting 0 (cobra does that only at the root);
//   - a wrong number of arguments shows the command's usage with the error;
//   - enum flags complete their values and file arguments their file types.
func finishTree(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.SuggestionsMinimumDistance == 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply
		}
		switch {
		case c.HasSubCommands() && !c.Runnable():
			c.Args = unknownSubcommand
			c.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
		case c.Args != nil:
			args := c.Args
			c.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					return usageError(c, err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	complete(root)
}

// unknownSubcommand is the Args of a command that only groups others: any
// argument is a subcommand it does not have.
func unknownSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return fmt.Errorf("%s\n\nAvailable commands: %s. Run '%s --help' for usage", msg, strings.Join(names, ", "), c.CommandPath())
}

// enumFlags are the flags that take one of a few values, by command path.
var enumFlags = map[string]map[string][]string{
	"dmtcp-condor docs":    {"format": {"man", "markdown"}},
	"dmtcp-condor package": {"format": {"deb", "rpm"}},
}

// fileFlags complete files with these extensions ("" for directories).
var fileFlags = map[string]map[string][]string{
	"dmtcp-condor render":      {"output": {"sub"}, "templates": nil},
	"dmtcp-condor wizard":      {"output": {"yaml", "yml"}, "templates": nil},
	"dmtcp-condor docs":        {"dir": nil},
	"dmtcp-condor bundle":      {"output": nil, "dmtcp-prefix": nil},
	"dmtcp-condor package":     {"output": nil, "stage": nil},
	"dmtcp-condor locate":      {"dmtcp-prefix": nil},
	"dmtcp-condor demo":        {"dmtcp-prefix": nil},
	"dmtcp-condor sge sweep":   {"ckpt-dir": nil},
	"dmtcp-condor sge config":  {"ckpt-dir": nil},
	"dmtcp-condor sge install": {"dir": nil},
}

// fileArgs complete a command's arguments with files of these extensions.
var fileArgs = map[string][]string{
	"dmtcp-condor render": {"yaml", "yml"},
}

// complete registers the completions of enumFlags, fileFlags and fileArgs.
func complete(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		for name, values := range enumFlags[path] {
			values := values
			c.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return values, cobra.ShellCompDirectiveNoFileComp
			})
		}
		for name, exts := range fileFlags[path] {
			exts := exts
			c.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				if exts == nil {
					return nil, cobra.ShellCompDirectiveFilterDirs
				}
				return exts, cobra.ShellCompDirectiveFilterFileExt
			})
		}
		if exts, ok := fileArgs[path]; ok {
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return exts, cobra.ShellCompDirectiveFilterFileExt
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// usageError is err with the command's usage, naming the command unless
// err already does.
func usageError(c *cobra.Command, err error) error {
	msg := err.Error()
	if !strings.Contains(msg, c.CommandPath()) {
		msg = c.CommandPath() + ": " + msg
	}
	return fmt.Errorf("%s\n\n%s", msg, strings.TrimRight(c.UsageString(), "\n"))
}
