package gridengine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeQstat puts a qstat on PATH that prints out (or fails).
func fakeQstat(t *testing.T, out string, fail bool) func(string) string {
	bin := t.TempDir()
	script := "#!/bin/sh\ncat <<'EOF'\n" + out + "EOF\n"
	if fail {
		script = "#!/bin/sh\necho 'error: commlib error: got select error (Connection refused)' >&2\nexit 1\n"
	}
	if err := os.WriteFile(filepath.Join(bin, "qstat"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	path := bin + ":/usr/bin:/bin"
	env := map[string]string{"PATH": path}
	t.Setenv("PATH", path)
	return func(k string) string { return env[k] }
}

func TestSweep(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	old := now.Add(-48 * time.Hour)
	mk := func(t *testing.T, ckpt string, name string, mtime time.Time) {
		dir := filepath.Join(ckpt, name)
		os.MkdirAll(filepath.Join(dir, storeName), 0o700)
		os.WriteFile(filepath.Join(dir, shimLog), []byte("log\n"), 0o600)
		for _, p := range []string{filepath.Join(dir, storeName), filepath.Join(dir, shimLog), dir} {
			os.Chtimes(p, mtime, mtime)
		}
	}
	layout := func(t *testing.T) string {
		ckpt := t.TempDir()
		mk(t, ckpt, "2.1", old)                                              // listed (dr)
		mk(t, ckpt, "11.5", old)                                             // listed (an array task)
		mk(t, ckpt, "40.1", old)                                             // gone from the qmaster
		mk(t, ckpt, "41.1", now.Add(-time.Minute))                           // gone, but touched a minute ago
		mk(t, ckpt, "42.1.stale-20261101T101010", old)                       // moved aside
		mk(t, ckpt, "43.1.stale-20261124T115959", now)                       // moved aside just now
		os.WriteFile(filepath.Join(ckpt, "50.1"), nil, 0o600)                // a file, not a job's directory
		os.Symlink(filepath.Join(ckpt, "40.1"), filepath.Join(ckpt, "51.1")) // never followed
		mk(t, ckpt, "notes", old)                                            // not a job's name
		// A running job's store changes while its directory does not.
		mk(t, ckpt, "44.1", old)
		os.Chtimes(filepath.Join(ckpt, "44.1", storeName), now, now)
		return ckpt
	}
	removed := func(es []SweepEntry) []string {
		var out []string
		for _, e := range es {
			if e.Removed {
				out = append(out, e.Name)
			}
		}
		return out
	}
	opts := func(ckpt string, getenv func(string) string, dry bool) SweepOptions {
		return SweepOptions{CkptDir: ckpt, OlderThan: time.Hour, Now: now, Getenv: getenv, DryRun: dry}
	}

	t.Run("dry run", func(t *testing.T) {
		ckpt := layout(t)
		got, err := Sweep(opts(ckpt, fakeQstat(t, qstatOut, false), true))
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"40.1", "42.1.stale-20261101T101010"}; !reflect.DeepEqual(removed(got), want) {
			t.Errorf("would remove %v, want %v; %+v", removed(got), want, got)
		}
		var recent []string
		for _, e := range got {
			if e.Recent {
				recent = append(recent, e.Name)
			}
		}
		if want := []string{"41.1", "43.1.stale-20261124T115959", "44.1"}; !reflect.DeepEqual(recent, want) {
			t.Errorf("kept as recent %v, want %v; %+v", recent, want, got)
		}
		if _, err := os.Stat(filepath.Join(ckpt, "40.1")); err != nil {
			t.Errorf("a dry run removed 40.1")
		}
	})
	t.Run("sweep", func(t *testing.T) {
		ckpt := layout(t)
		got, err := Sweep(opts(ckpt, fakeQstat(t, qstatOut, false), false))
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"40.1", "42.1.stale-20261101T101010"}; !reflect.DeepEqual(removed(got), want) {
			t.Errorf("removed %v, want %v; %+v", removed(got), want, got)
		}
		left, _ := os.ReadDir(ckpt)
		var names []string
		for _, de := range left {
			names = append(names, de.Name())
		}
		want := []string{"11.5", "2.1", "41.1", "43.1.stale-20261124T115959", "44.1", "50.1", "51.1", "notes"}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("left %v, want %v", names, want)
		}
	})
	t.Run("qmaster unreachable", func(t *testing.T) {
		ckpt := layout(t)
		got, err := Sweep(opts(ckpt, fakeQstat(t, "", true), false))
		if err == nil || !strings.Contains(err.Error(), "Connection refused") {
			t.Errorf("error %v, want qstat's", err)
		}
		if want := []string{"42.1.stale-20261101T101010"}; !reflect.DeepEqual(removed(got), want) {
			t.Errorf("removed %v, want only the moved-aside %v", removed(got), want)
		}
	})
	t.Run("a listing it cannot read", func(t *testing.T) {
		ckpt := layout(t)
		_, err := Sweep(opts(ckpt, fakeQstat(t, "Job 40 has been deleted\n", false), false))
		if err == nil || !strings.Contains(err.Error(), "not a job line") {
			t.Errorf("error %v, want one about the unexpected qstat listing", err)
		}
		if _, err := os.Stat(filepath.Join(ckpt, "40.1")); err != nil {
			t.Errorf("40.1 removed on the word of a listing the sweep could not read")
		}
	})
}

func FuzzParseJobIDs(f *testing.F) {
	f.Add(qstatOut)
	f.Add("")
	f.Add("      7 0.5 x u r 1 2 q 1 3-9:2\n")
	f.Fuzz(func(t *testing.T, out string) {
		ids, err := parseJobIDs(out)
		if err != nil {
			return
		}
		for id := range ids {
			if !isDigits(id) || !strings.Contains(out, id) {
				t.Errorf("job id %q from %q", id, out)
			}
		}
	})
}
