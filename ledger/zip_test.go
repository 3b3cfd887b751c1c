package ledger_test

import (
	"archive/zip"
	"bytes"
	"testing"
)

// filesOf lists the parts of an .xlsx (a zip).
func filesOf(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range z.File {
		out[f.Name] = true
	}
	return out
}
