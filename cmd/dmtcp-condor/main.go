// Command dmtcp-condor writes HTCondor submit files that run a program under
// DMTCP through shim_dmtcp. All behaviour lives in package cli.
package main

import (
	"os"

	"github.com/dmtcp-condor/dmtcp-condor/cli"
)

// version is set at release time with -ldflags "-X main.version=1.2.0".
var version = "dev"

func main() {
	os.Exit(cli.Execute(version, os.Args[1:], cli.System()))
}
