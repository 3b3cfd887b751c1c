package seeds_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"taskbot/internal/testenv"
	"taskbot/seeds"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got, *update)
}

func TestWriteSummary(t *testing.T) {
	small, err := os.ReadFile(filepath.Join("testdata", "summary-small.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string // as WriteSummary prints it
		doc    []byte
		golden string
	}{
		// The real list: no warnings, lead units on some tasks only.
		{"embedded list", seeds.Xuchang(), "summary-xuchang.golden"},
		// A clipped title, a task without dates, flags and warnings.
		{"summary-small.txt", small, "summary-small.golden"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			d, err := seeds.Parse(tt.doc)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var out bytes.Buffer
			if err := seeds.WriteSummary(&out, tt.name, d); err != nil {
				t.Fatalf("WriteSummary(%q) = %v; want nil", tt.name, err)
			}
			golden(t, tt.golden, out.Bytes())
		})
	}
}

type failWriter struct{ err error }

func (w failWriter) Write(p []byte) (int, error) { return 0, w.err }

func TestWriteSummaryWriteError(t *testing.T) {
	d, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	want := errors.New("disk full")
	if err := seeds.WriteSummary(failWriter{want}, "x", d); !errors.Is(err, want) {
		t.Errorf("WriteSummary to a failing writer = %v; want %v", err, want)
	}
}
