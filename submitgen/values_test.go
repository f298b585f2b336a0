package submitgen

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1800", 30 * time.Minute, true},
		{"30m", 30 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{" 45s ", 45 * time.Second, true},
		{"0", 0, true},
		{"-5m", -5 * time.Minute, true}, // parses; validation rejects it with the field name
		{"1.5s", 0, false},
		{"30 minutes", 0, false},
		{"", 0, false},
		{"99999999999999999", 0, false},
		{"30m20m", 0, false}, // each unit once: not 50 minutes
		{"1h1h", 0, false},
		{"30s1m", 0, false}, // largest first
		{"1h0m30s", time.Hour + 30*time.Second, true},
		{"1.5h", 90 * time.Minute, true},
		{"2000ms", 0, false},
		{"h", 0, false},
		{"-", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || (tc.ok && time.Duration(got) != tc.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (ok=%v)", tc.in, time.Duration(got), err, tc.want, tc.ok)
		}
	}
	for d, want := range map[Duration]string{Duration(30 * time.Minute): "30m", Duration(time.Hour): "1h", Duration(90 * time.Second): "1m30s", 0: "0s"} {
		if d.String() != want {
			t.Errorf("Duration(%d).String() = %q, want %q", d, d.String(), want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]Signal{"SIGINT": "SIGINT", "int": "SIGINT", "2": "SIGINT", "TERM": "SIGTERM", "15": "SIGTERM", "sigusr1": "SIGUSR1"} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"SIGKILL", "9", "SIGUSR2", "12", "STOP", "", "SIGFOO"} {
		if got, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"2048", "2GB"}, {"2GB", "2GB"}, {"2 GiB", "2GB"}, {"2g", "2GB"}, {"512MB", "512MB"},
		{"1536", "1536MB"}, {"1.5G", "1536MB"}, {"100K", "100KB"}, {"1T", "1TB"}, {"0.5", "512KB"},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"0", "-1G", "lots", "2PB", "", "1e400", "NaN", "nan", "Inf", "2IB", "2B", "1e3", "2GBB", "2  GB", "0x10"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %v, want an error", in, got)
		}
	}
}

// FuzzParseDuration: an accepted duration prints as a form that parses
// back to the same value (so the wizard and render agree).
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30m", "1h30m", "1800", "30m20m", "1.5h", "-5m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if back, err := ParseDuration(d.String()); err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %s, which parses back as %v, %v", s, d, time.Duration(back), err)
		}
	})
}

// FuzzParseSize: an accepted size is positive and prints as a form that
// parses back to the same value.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"2GB", "512", "1.5 GiB", "2IB", "NaN", "100K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		z, err := ParseSize(s)
		if err != nil {
			return
		}
		if z <= 0 {
			t.Fatalf("ParseSize(%q) = %d, not positive", s, z)
		}
		if back, err := ParseSize(z.String()); err != nil || back != z {
			t.Errorf("ParseSize(%q) = %s, which parses back as %v, %v", s, z, back, err)
		}
	})
}
