package bundle

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	for _, tt := range []struct {
		v  string
		ok bool
	}{
		{"1.2.0", true},
		{"1.2.0-rc1", true},
		{"1.2.0~rc1", true},
		{"1.2.0+git20240501", true},
		{"1.2.1-SNAPSHOT.abc1234", true}, // goreleaser's snapshot template
		{"0.0.0", true},
		{"", false},
		{"..", false},
		{"1/../../x", false},
		{"1.2.0\nPre-Depends: evilpkg", false},
		{"1.2.0\n", false},
		{"1..2", false},
		{"1.2_3", false},
		{"-1", false},
		{"v1.2.0", false},
		{strings.Repeat("1", 65), false},
	} {
		err := CheckVersion(tt.v)
		if (err == nil) != tt.ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", tt.v, err, tt.ok)
		}
		var in *InputError
		if err != nil && (!errors.As(err, &in) || in.Input != "Version") {
			t.Errorf("CheckVersion(%q) = %v: not an InputError for Version", tt.v, err)
		}
	}
}

func TestOutputPath(t *testing.T) {
	for _, tt := range []struct {
		dir, name, want string
	}{
		{"dist", "x.deb", "dist/x.deb"},
		{"", "x.deb", "x.deb"},
		{"dist/", "x.deb", "dist/x.deb"},
		{"dist", "../x.deb", ""},
		{"dist", "a/x.deb", ""},
		{"dist", "..", ""},
		{"dist", "", ""},
		{"dist", "x\n.deb", ""},
	} {
		got, err := OutputPath(tt.dir, tt.name)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("OutputPath(%q, %q) = %q, %v; want %q", tt.dir, tt.name, got, err, tt.want)
		}
		var in *InputError
		if err != nil && (!errors.As(err, &in) || in.Input != "OutDir" || !strings.Contains(err.Error(), "output directory")) {
			t.Errorf("OutputPath error %v is not an InputError for OutDir naming the output directory", err)
		}
	}
}
