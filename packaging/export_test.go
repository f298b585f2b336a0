package packaging

import "github.com/goreleaser/nfpm/v2"

// Info is the nfpm.Info Build gives nfpm, for the tests of package
// packaging_test, which compare it with .goreleaser.yaml.
func (o Options) Info(goarch, format string) (*nfpm.Info, error) { return o.info(goarch, format) }

// StandIns are the programs TestMain built to package in place of
// dmtcp-condor and shim_dmtcp.
func StandIns() (cli, shim string) { return cliBin, shimBin }
