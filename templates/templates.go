// Package templates holds the files dmtcp-condor embeds in its binary: the
// job.sub template that submitgen renders, the JSON Schema of job
// descriptions, and a commented example description. They live in their own
// package so a site can read them as plain files (and copy job.sub.tmpl into
// a --templates directory to change it) while the binary needs none of them
// at run time.
package templates

import "embed"

// FS holds the embedded files: *.tmpl (job.sub templates), job.schema.json
// and example.yaml.
//
//go:embed *.tmpl job.schema.json example.yaml
var FS embed.FS

// Names of the non-template files in FS.
const (
	SchemaFile  = "job.schema.json"
	ExampleFile = "example.yaml"
)
