package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
)

// releaseFlags are the flags of bundle and package by the input they set:
// the field of bundle's and packaging's Options (or bundle.Program.Input)
// that a *bundle.InputError names.
var releaseFlags = map[string]string{
	"Version":      "--version",
	"Shim":         "--shim",
	"CLI":          "--cli",
	"Install":      "--dmtcp-prefix",
	"NameTemplate": "--name-template",
	"Compression":  "--compression",
	"OutDir":       "-o",
	"Format":       "--format",
	"Maintainer":   "--maintainer",
}

// releaseError reports err from command cmd (bundle, package) as
// "cmd: FLAG: what is wrong" when it is about an input the user gave by a
// flag: the libraries name their inputs in their own words, and only the
// command knows which of its flags set them. Any other error gets the
// "cmd: " prefix once.
func releaseError(cmd string, err error) error {
	var in *bundle.InputError
	if errors.As(err, &in) {
		if flag, ok := releaseFlags[in.Input]; ok {
			return fmt.Errorf("%s: %s: %w", cmd, flag, err)
		}
	}
	if strings.HasPrefix(err.Error(), cmd+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", cmd, err)
}
