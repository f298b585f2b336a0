package ckptstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// writeCheckpoint fakes what an engine leaves in its directory.
func writeCheckpoint(t *testing.T, src string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func open(t *testing.T) (*Store, string) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, t.TempDir()
}

func commit(t *testing.T, s *Store, src string, images ...string) *Generation {
	t.Helper()
	files := map[string]string{}
	isImage := map[string]bool{}
	for _, img := range images {
		files[img] = "image " + img
		isImage[img] = true
	}
	files["ckpt_a_files/copy.txt"] = "saved copy"
	writeCheckpoint(t, src, files)
	names := append(append([]string{}, images...), "ckpt_a_files")
	g, err := s.Commit(src, names, isImage, Manifest{Engine: "test", Argv: []string{"./a.out"}, Processes: len(images)})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCommitThenLatest(t *testing.T) {
	s, src := open(t)
	if g, _, err := s.Latest(); err != nil || g != nil {
		t.Fatalf("empty store: %v, %v", g, err)
	}
	g1 := commit(t, s, src, "ckpt_a.dmtcp", "ckpt_b.dmtcp")
	got, skipped, err := s.Latest()
	if err != nil || got == nil || len(skipped) > 0 {
		t.Fatalf("Latest: %v %v %v", got, skipped, err)
	}
	if got.Manifest.Generation != 1 || got.Dir != g1.Dir {
		t.Errorf("latest is %d in %s, want 1 in %s", got.Manifest.Generation, got.Dir, g1.Dir)
	}
	if imgs := got.Manifest.Images(); strings.Join(imgs, ",") != "ckpt_a.dmtcp,ckpt_b.dmtcp" {
		t.Errorf("images %v", imgs)
	}
	if len(got.Manifest.Files) != 3 {
		t.Errorf("files %v, want 2 images and the saved copy", got.Manifest.Files)
	}
	// The engine's directory no longer holds what was committed.
	if left, _ := os.ReadDir(src); len(left) != 0 {
		t.Errorf("source still holds %v", left)
	}
	// Private: 0700 directories, 0600 files.
	filepath.Walk(s.Dir(), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && info.Mode().Perm() != 0o700 || info.Mode().IsRegular() && info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", p, info.Mode().Perm())
		}
		return nil
	})

	// Commit deletes nothing; Prune keeps the newest N complete ones.
	g2 := commit(t, s, src, "ckpt_a.dmtcp")
	if err := s.Prune(DefaultKeep); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g1.Dir); err != nil {
		t.Errorf("generation 1 went although 2 generations are kept: %v", err)
	}
	g3 := commit(t, s, src, "ckpt_a.dmtcp")
	if err := s.Prune(DefaultKeep); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g1.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("generation 1 survived generations 2 and 3 with 2 kept: %v", err)
	}
	if _, err := os.Stat(g2.Dir); err != nil {
		t.Errorf("generation 2, the one before the newest, went: %v", err)
	}
	if err := s.Prune(1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g2.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("generation 2 survived Prune(1): %v", err)
	}
	if got, _, _ := s.Latest(); got.Manifest.Generation != 3 || got.Dir != g3.Dir {
		t.Errorf("latest is %d, want 3", got.Manifest.Generation)
	}
	for _, f := range g3.Manifest.Files {
		if len(f.CRC32C) != 8 {
			t.Errorf("%s: CRC-32C %q, want 8 hex digits", f.Name, f.CRC32C)
		}
	}
}

// damages are what disks, transfers and people do to a generation.
var damages = []struct {
	name   string
	damage func(t *testing.T, dir string)
	why    string
}{
	{"manifest garbled", func(t *testing.T, dir string) { write(t, filepath.Join(dir, "manifest.json"), "\x00garbage{") }, "manifest unreadable"},
	{"manifest missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "manifest.json")) }, "manifest.json is missing"},
	{"image truncated", func(t *testing.T, dir string) { os.Truncate(filepath.Join(dir, "ckpt_a.dmtcp"), 3) }, "manifest says"},
	{"image missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ckpt_a.dmtcp")) }, "missing"},
	{"image bytes changed", func(t *testing.T, dir string) {
		p := filepath.Join(dir, "ckpt_a.dmtcp")
		data, _ := os.ReadFile(p)
		data[0] ^= 0xff
		write(t, p, string(data))
	}, "CRC-32C"},
	{"saved copy changed", func(t *testing.T, dir string) {
		write(t, filepath.Join(dir, "ckpt_a_files", "copy.txt"), "SAVED COPY")
	}, "ckpt_a_files/copy.txt is damaged"},
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A damaged newest generation is set aside and the one before it used; a
// lone damaged one is set aside and nothing is used. Nothing is deleted.
func TestDamagedGenerationIsSetAside(t *testing.T) {
	for _, d := range damages {
		for _, gens := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d generation(s)", d.name, gens), func(t *testing.T) {
				s, src := open(t)
				var g *Generation
				for i := 0; i < gens; i++ {
					g = commit(t, s, src, "ckpt_a.dmtcp")
				}
				d.damage(t, g.Dir)
				before := tree(t, s.Dir())
				got, damaged, err := s.Usable()
				if err != nil {
					t.Fatal(err)
				}
				if len(damaged) != 1 || damaged[0].Generation != gens || !strings.Contains(damaged[0].Reason, d.why) {
					t.Fatalf("damaged %+v, want generation %d with a reason containing %q", damaged, gens, d.why)
				}
				aside := fmt.Sprintf("bad-gen-%08d", gens)
				if damaged[0].Aside != aside {
					t.Errorf("set aside as %s, want %s", damaged[0].Aside, aside)
				}
				if gens == 1 && got != nil {
					t.Errorf("Usable returned generation %d from a store whose only one is damaged", got.Manifest.Generation)
				}
				if gens == 2 && (got == nil || got.Manifest.Generation != 1) {
					t.Errorf("Usable returned %v, want the intact generation 1", got)
				}
				// The same files, one generation renamed.
				after := tree(t, s.Dir())
				renamed := strings.Split(strings.ReplaceAll(before, fmt.Sprintf("gen-%08d", gens), aside), " ")
				sort.Strings(renamed)
				want := strings.Join(renamed, " ")
				if after != want {
					t.Errorf("files changed:\nbefore (renamed) %s\nafter %s", want, after)
				}
				if err := s.Tidy(); err != nil {
					t.Fatal(err)
				}
				if err := s.Remove(); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(s.Dir(), aside)); err != nil {
					t.Errorf("Remove deleted the generation set aside: %v", err)
				}
			})
		}
	}
}

// tree lists the files under dir with their contents' sizes.
func tree(t *testing.T, dir string) string {
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && info.Name() != "lock" {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, fmt.Sprintf("%s:%d", rel, info.Size()))
		}
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, " ")
}

// An interrupted commit leaves gen-N.partial, which Tidy removes without
// touching a generation; its number is never reused.
func TestInterruptedCommit(t *testing.T) {
	s, src := open(t)
	g1 := commit(t, s, src, "ckpt_a.dmtcp")
	partial := filepath.Join(s.Dir(), "gen-00000002.partial")
	os.Mkdir(partial, 0o700)
	write(t, filepath.Join(partial, "ckpt_a.dmtcp"), "half")
	if got, _, _ := s.Latest(); got == nil || got.Manifest.Generation != 1 {
		t.Fatalf("Latest %v, want generation 1", got)
	}
	if err := s.Tidy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("interrupted commit kept: %v", err)
	}
	if _, err := os.Stat(g1.Dir); err != nil {
		t.Errorf("complete generation removed: %v", err)
	}
	os.Mkdir(filepath.Join(s.Dir(), "bad-gen-00000004.2"), 0o700)
	if g := commit(t, s, src, "ckpt_a.dmtcp"); g.Manifest.Generation != 5 {
		t.Errorf("next generation %d, want 5 (after the one set aside)", g.Manifest.Generation)
	}
}

// A commit that fails leaves nothing of itself and every generation as it
// was.
func TestFailedCommitLeavesNothing(t *testing.T) {
	s, src := open(t)
	commit(t, s, src, "ckpt_a.dmtcp")
	before := tree(t, s.Dir())
	writeCheckpoint(t, src, map[string]string{"ckpt_b.dmtcp": "image"})
	if _, err := s.Commit(src, []string{"ckpt_b.dmtcp", "no-such-file"}, map[string]bool{"ckpt_b.dmtcp": true}, Manifest{}); err == nil {
		t.Fatal("Commit of a missing file succeeded")
	}
	if after := tree(t, s.Dir()); after != before {
		t.Errorf("a failed commit changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

func TestOneShimPerDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Open: %v, want ErrLocked naming %s", err, dir)
	}
	s.Close()
	s2, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestCommitRejectsBadNames(t *testing.T) {
	s, src := open(t)
	for _, names := range [][]string{{"../escape.dmtcp"}, {"/abs.dmtcp"}, {}} {
		if _, err := s.Commit(src, names, map[string]bool{}, Manifest{}); err == nil {
			t.Errorf("Commit(%q) succeeded", names)
		}
	}
}

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
}

// Only staging paths the shim makes are taken from a manifest: it removes
// and chmods them.
func TestStagePathOK(t *testing.T) {
	for key, want := range map[string]bool{"b8f99ea3a84cb0b5": true, "": false, "../..": false, "ab/cd": false, "ABCD": false} {
		if StageKeyOK(key) != want {
			t.Errorf("StageKeyOK(%q) = %v", key, !want)
		}
	}
	for dir, want := range map[string]bool{
		"/tmp/dmtcp-condor-1000/b8f99ea3a84cb0b5":          true,
		"/scratch/dmtcp-condor-1000-x7Yz/b8f99ea3a84cb0b5": true,
		"/tmp/dmtcp-condor-1001/b8f99ea3a84cb0b5":          false, // another user's
		"/tmp/dmtcp-condor-10000/b8f99ea3a84cb0b5":         false,
		"/tmp/b8f99ea3a84cb0b5":                            false,
		"tmp/dmtcp-condor-1000/b8f99ea3a84cb0b5":           false,
		"/tmp/dmtcp-condor-1000/../b8f99ea3a84cb0b5":       false,
		"/tmp/dmtcp-condor-1000/other":                     false,
		"/tmp/dmtcp-condor-1000/..":                        false,
	} {
		key := filepath.Base(dir)
		if key == "other" || key == ".." {
			key = "b8f99ea3a84cb0b5"
		}
		if got := StagePathOK(dir, key, 1000); got != want {
			t.Errorf("StagePathOK(%q, %q) = %v, want %v", dir, key, got, want)
		}
	}
}
