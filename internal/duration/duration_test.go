package duration

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string // "" when it parses
	}{
		{"1800", 30 * time.Minute, ""},
		{"30m", 30 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{" 45s ", 45 * time.Second, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"-5m", -5 * time.Minute, ""}, // the caller says what may not be negative
		{"-3", -3 * time.Second, ""},
		{"1h0m30s", time.Hour + 30*time.Second, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"9m0s", 9 * time.Minute, ""}, // time.Duration's own String form
		{"1.5s", 0, "not a whole number of seconds"},
		{"0.5s", 0, "shorter than 1s"},
		{"1ms", 0, "shorter than 1s"},
		{"2000ms", 0, "is not a duration"},
		{"30 minutes", 0, "is not a duration"},
		{"", 0, "is not a duration"},
		{"soon", 0, "is not a duration"},
		{"30m20m", 0, "is not a duration"}, // each unit once: not 50 minutes
		{"1h1h", 0, "is not a duration"},
		{"30s1m", 0, "is not a duration"}, // largest first
		{"h", 0, "is not a duration"},
		{"-", 0, "is not a duration"},
		{"99999999999999999", 0, "too long"},
		{"9999999999h", 0, "too long"},
	} {
		got, err := Parse(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Second: "1m30s", 0: "0s", 25 * time.Hour: "25h"} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
	}
}

// FuzzParse: what Parse accepts is whole seconds, and Format writes it in
// a form Parse reads back to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"30m", "1h30m", "1800", "30m20m", "1.5h", "-5m", "0.5s", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if d%time.Second != 0 {
			t.Errorf("Parse(%q) = %v, not whole seconds", s, d)
		}
		if back, err := Parse(Format(d)); err != nil || back != d {
			t.Errorf("Parse(%q) = %s, which parses back as %v, %v", s, Format(d), back, err)
		}
	})
}
