// Package dmtcpcondor holds the project's licence text, so that every
// artifact the tool writes (a bundle, a package) carries it wherever the
// tool runs, inside the source tree or not.
package dmtcpcondor

import _ "embed"

// License is the text of LICENSE (Apache-2.0).
//
//go:embed LICENSE
var License []byte
