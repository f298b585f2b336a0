package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUnknownSubcommand: a typo at any level exits non-zero and suggests
// the command meant.
func TestUnknownSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		suggest string
	}{
		{[]string{"rendr", "job.yaml"}, "render"},
		{[]string{"sge", "confg"}, "config"},
		{[]string{"sge", "swep"}, "sweep"},
		{[]string{"completion", "bsh"}, "bash"},
	} {
		code, out, errOut := run(t, "", tc.args...)
		if code == 0 || !strings.Contains(errOut, "unknown command") || !strings.Contains(errOut, "Did you mean this?\n\t"+tc.suggest) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want an error suggesting %s", tc.args, code, out, errOut, tc.suggest)
		}
	}
	// Every group command in the tree refuses an unknown subcommand.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() {
			args := append(strings.Fields(c.CommandPath())[1:], "no-such-command")
			if code, _, errOut := run(t, "", args...); code == 0 || !strings.Contains(errOut, `unknown command "no-such-command"`) {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := NewRootCmd("test")
	finishTree(root)
	walk(root)
}

// TestUsageErrors: a wrong argument count or an unknown flag shows the
// command's usage with the error.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"render"},
		{"render", "a.yaml", "b.yaml"},
		{"render", "--bogus", "job.yaml"},
		{"schema", "extra"},
		{"sge", "config", "--bogus"},
	} {
		code, _, errOut := run(t, "", args...)
		if code == 0 || !strings.Contains(errOut, "Usage:\n  dmtcp-condor "+args[0]) {
			t.Errorf("%q: exit %d, stderr %q; want the error and the usage", args, code, errOut)
		}
	}
	if _, _, errOut := run(t, "", "render"); !strings.Contains(errOut, "needs one job description to render, such as job.yaml") {
		t.Errorf("render without a file: %q", errOut)
	}
}

// TestCompletions: enum flags complete their values; render's argument
// completes job descriptions only.
func TestCompletions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "docs", "--format", ""}, "man\nmarkdown\n:4\n"},
		{[]string{"__complete", "package", "--format", ""}, "deb\nrpm\n:4\n"},
		{[]string{"__complete", "render", ""}, "yaml\nyml\n:8\n"},
		{[]string{"__complete", "render", "job.yaml", "-o", ""}, "sub\n:8\n"},
		{[]string{"__complete", "render", "--templates", ""}, ":16\n"},
	} {
		if code, out, errOut := run(t, "", tc.args...); code != 0 || out != tc.want {
			t.Errorf("%q: exit %d, completions %q, want %q (%s)", tc.args, code, out, tc.want, errOut)
		}
	}
}

// TestManPages: one page per command, titled after it, and shim_dmtcp(1)
// with the shim's options.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := run(t, "", "docs", "--format", "man", "--dir", dir); code != 0 {
		t.Fatalf("docs: %s", errOut)
	}
	for page, title := range map[string]string{
		"dmtcp-condor.1":            `.TH "DMTCP-CONDOR" "1"`,
		"dmtcp-condor-render.1":     `.TH "DMTCP-CONDOR-RENDER" "1"`,
		"dmtcp-condor-sge-config.1": `.TH "DMTCP-CONDOR-SGE-CONFIG" "1"`,
		"shim_dmtcp.1":              `.TH "SHIM_DMTCP" "1"`,
	} {
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil || !strings.Contains(string(data), title) {
			t.Errorf("%s: %v; want %s", page, err, title)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "shim_dmtcp.1"))
	for _, want := range []string{"--ckptint INTERVAL", "--checkpoint-exit-code CODE", "SHIM_DMTCP_"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("shim_dmtcp.1 lacks %s", want)
		}
	}
}
