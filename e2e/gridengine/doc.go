// Package gridengine holds the end-to-end tests of the Grid Engine
// integration on a real single-host cell (testdata/gridengine/cell.sh). It
// has no code of its own: everything is in its _test.go files, whose
// main_test.go says what they check.
package gridengine
