package exitcode

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// The README's table of exit codes is the users' copy of Codes: every code
// has a row, and no row names a code the shim does not have.
func TestReadmeListsEveryCode(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (2[0-9][0-9]) \|`).FindAllStringSubmatch(string(data), -1) {
		n, _ := strconv.Atoi(m[1])
		rows[n] = true
	}
	for _, c := range Codes {
		if !rows[c.Code] {
			t.Errorf("README.md has no row for exit code %d (%s)", c.Code, c.Reason)
		}
		delete(rows, c.Code)
	}
	for n := range rows {
		t.Errorf("README.md documents exit code %d, which the shim does not have", n)
	}
}

// Codes are distinct and clear of what a job or DMTCP exits with on its
// own account: DMTCP's 99, Grid Engine's 99 and 100, shells' 126-128+N.
func TestCodesAreDistinct(t *testing.T) {
	seen := map[int]bool{}
	for _, c := range Codes {
		if seen[c.Code] || c.Code < 200 || c.Code == CheckpointDefault {
			t.Errorf("exit code %d is repeated or clashes", c.Code)
		}
		seen[c.Code] = true
	}
}
