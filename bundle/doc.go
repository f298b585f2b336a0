// Package bundle builds dmtcp_condor_integration tarballs: the shim and a
// DMTCP install packed so that an HTCondor job can carry them to any
// execute node, as release engineers have shipped them since 2011
// (dmtcp_condor_integration-<version>-Any-Any.tar.gz).
//
// For most uses, locate DMTCP with dmtcp.Locate, learn its version with
// Identify, pick a release shim with Shim.Resolve and a timestamp with SourceDate,
// then call Build:
//
//	inst, err := dmtcp.Locate(dmtcp.Search{Prefix: "/opt/dmtcp"})
//	inst.Identify(ctx)
//	shim, how, cleanup, err := bundle.Shim.Resolve(ctx, bundle.Source{Version: "1.2.0", GOARCH: "amd64"})
//	when, from, err := bundle.SourceDate(ctx, os.Getenv, ".", "1.2.0")
//	res, err := bundle.Build(ctx, bundle.Options{Version: "1.2.0", Install: inst, Shim: shim, MTime: when, OutDir: "dist"})
//
// An error about one of those inputs is an *InputError naming its field
// ("Version", "Shim", ...), never a command's flag: a command adds its own.
//
// The layout inside the tarball is the one DMTCP resolves itself from
// (bin/ beside lib/dmtcp/, see notes on DMTCP's installDir) and the one
// submitgen transfers (a bundle's bin and lib): the shim started with
// --dmtcp-prefix . in a job's sandbox, or from bin/ of the extracted
// directory, finds the bundled DMTCP and nothing else.
//
// A bundle is byte-reproducible: entries are sorted, every mtime is the
// given one, owners are root, modes are 0755 or 0644, gzip carries no
// name or time, and nothing of the build machine (paths, host or user
// names) is written into the files the bundle adds. Build checks the
// result by extracting it and running the bundled dmtcp_launch and
// shim_dmtcp with --version.
package bundle
