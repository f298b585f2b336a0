package ckptstore

import (
	"errors"
	"os"
	"path/filepath"
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

	g2 := commit(t, s, src, "ckpt_a.dmtcp")
	if _, err := os.Stat(g1.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("generation 1 survived a complete generation 2: %v", err)
	}
	if got, _, _ := s.Latest(); got.Manifest.Generation != 2 || got.Dir != g2.Dir {
		t.Errorf("latest is %d, want 2", got.Manifest.Generation)
	}
}

// A kill at any point of a commit leaves the previous generation usable.
func TestInterruptedCommitKeepsPrevious(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, dir string) // damages generation 2
		why    string
	}{
		{"no manifest yet", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "manifest.json")) }, "incomplete"},
		{"image cut short", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "ckpt_a.dmtcp"), []byte("x"), 0o600) }, "manifest says"},
		{"image missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "ckpt_a.dmtcp")) }, "missing"},
		{"manifest garbled", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{"), 0o600) }, "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, src := open(t)
			g1 := commit(t, s, src, "ckpt_a.dmtcp")
			// Generation 2 as a kill would leave it: generation 1 is only
			// removed after 2 is complete, so put a copy of 1 back.
			keep := filepath.Join(t.TempDir(), "g1")
			if err := copyDir(g1.Dir, keep); err != nil {
				t.Fatal(err)
			}
			g2 := commit(t, s, src, "ckpt_a.dmtcp")
			if err := os.Rename(keep, g1.Dir); err != nil {
				t.Fatal(err)
			}
			tc.break_(t, g2.Dir)
			got, skipped, err := s.Latest()
			if err != nil || got == nil {
				t.Fatalf("Latest: %v, %v", got, err)
			}
			if got.Manifest.Generation != 1 {
				t.Errorf("resumed from generation %d, want the complete 1", got.Manifest.Generation)
			}
			if len(skipped) != 1 || !strings.Contains(skipped[0], tc.why) {
				t.Errorf("skipped %q, want a reason with %q", skipped, tc.why)
			}
			if err := s.Tidy(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(g1.Dir); err != nil {
				t.Errorf("Tidy removed the complete generation: %v", err)
			}
		})
	}
}

func TestTidyRemovesOnlyIncomplete(t *testing.T) {
	s, src := open(t)
	g1 := commit(t, s, src, "ckpt_a.dmtcp")
	partial := filepath.Join(s.Dir(), "gen-00000002")
	os.Mkdir(partial, 0o700)
	os.WriteFile(filepath.Join(partial, "ckpt_a.dmtcp"), []byte("half"), 0o600)
	if err := s.Tidy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("incomplete generation kept: %v", err)
	}
	if _, err := os.Stat(g1.Dir); err != nil {
		t.Errorf("complete generation removed: %v", err)
	}
	// The next commit does not reuse a number a partial generation had.
	if g := commit(t, s, src, "ckpt_a.dmtcp"); g.Manifest.Generation != 2 {
		t.Errorf("next generation %d, want 2", g.Manifest.Generation)
	}
}

func TestOneShimPerDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "--ckpt-dir") {
		t.Fatalf("second Open: %v, want ErrLocked naming --ckpt-dir", err)
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
