// Command dmtcp-double is the TEST DOUBLE of DMTCP's commands used by the
// shim's tests where no real DMTCP is installed; see package dmtcpdouble.
// "dmtcp-double install PREFIX" installs it in PREFIX as DMTCP would be:
// under the names of DMTCP's commands in bin/, with lib/dmtcp/ beside it.
package main

import (
	"os"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcpdouble"
)

func main() { os.Exit(dmtcpdouble.Main(os.Args)) }
