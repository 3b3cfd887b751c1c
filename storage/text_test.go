package storage

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCleanText: what CleanText returns is always valid UTF-8 without NUL,
// and text that already was is returned unchanged.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "台账已建立", "a\x00b", "\xff\xfe完成", "ok\xe4\xb8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CleanText(s)
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Fatalf("CleanText(%q) = %q: not storable", s, got)
		}
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0) && got != s {
			t.Fatalf("CleanText(%q) = %q; want it unchanged", s, got)
		}
	})
}

// FuzzContains: the search's contains agrees with strings.Contains on any
// text, Chinese or not, valid UTF-8 or not.
func FuzzContains(f *testing.F) {
	for _, seed := range [][2]string{{"垃圾渗滤液处理", "渗滤液"}, {"渗滤", "渗滤液"}, {"abc", ""}, {"液液液", "液液"}, {"\xe6\xb8", "\xb8"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, s, word string) {
		if got, want := contains(s, word), strings.Contains(s, word); got != want {
			t.Errorf("Contains(%q, %q) = %v; strings.Contains says %v", s, word, got, want)
		}
	})
}
