// Command dmtcp-double is the TEST DOUBLE of DMTCP's commands used by the
// shim's tests where no real DMTCP is installed; see package dmtcpdouble.
// Install it under the names dmtcp_launch, dmtcp_coordinator,
// dmtcp_command, dmtcp_restart and mtcp_restart in a bin/ directory.
package main

import (
	"os"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcpdouble"
)

func main() { os.Exit(dmtcpdouble.Main(os.Args)) }
