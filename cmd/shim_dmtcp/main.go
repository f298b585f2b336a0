// Command shim_dmtcp runs a long job under DMTCP so that it survives
// eviction; see package shim.
package main

import (
	"os"

	"github.com/dmtcp-condor/dmtcp-condor/shim"
)

func main() { os.Exit(shim.Main(os.Args)) }
