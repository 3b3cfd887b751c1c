package storage

import (
	"fmt"
	"sort"
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

// FuzzSearchIndex: the index's search (bigram postings for the text, the
// titles and the goals) finds and ranks what a plain scan with
// strings.Contains finds and ranks, on any docs and words.
func FuzzSearchIndex(f *testing.F) {
	f.Add("垃圾填埋", "渗滤液处理", "垃圾渗滤液处理达标", "污水处理", "", "污水管网", "渗滤液 垃圾")
	f.Add("a", "ab", "abc", "bc", "b", "cab", "b c")
	f.Fuzz(func(t *testing.T, t1, g1, x1, t2, g2, x2, query string) {
		words := strings.Fields(query)
		if len(words) == 0 {
			return
		}
		docs := []searchDoc{
			{id: 1, number: 1, title: t1, goal: g1, text: t1 + g1 + x1},
			{id: 2, number: 2, title: t2, goal: g2, text: t2 + g2 + x2},
			{id: 3, number: 3, title: t2, goal: g1, text: x1 + t2 + x2 + g1},
		}
		ix := newSearchIndex("v", docs)
		got, total := ix.search(words, 10)
		// Again, from the words kept by the first search.
		again, totalAgain := ix.search(words, 10)
		if total != totalAgain || fmt.Sprint(got) != fmt.Sprint(again) {
			t.Errorf("search(%q) = %v (total %d), then %v (total %d) from the words kept", words, got, total, again, totalAgain)
		}
		type hit struct{ id, score int }
		var want []hit
		for _, d := range docs {
			score, all := 0, true
			for _, w := range words {
				if !strings.Contains(d.text, w) {
					all = false
					break
				}
				if strings.Contains(d.title, w) {
					score += 4
				}
				if strings.Contains(d.goal, w) {
					score += 2
				}
			}
			if all {
				want = append(want, hit{int(d.id), score})
			}
		}
		sort.SliceStable(want, func(a, b int) bool { return want[a].score > want[b].score })
		var gotHits []hit
		for _, h := range got {
			gotHits = append(gotHits, hit{int(h.ID), h.Score})
		}
		if total != len(want) || fmt.Sprint(gotHits) != fmt.Sprint(want) {
			t.Errorf("search(%q) = %v (total %d); a scan finds %v", words, gotHits, total, want)
		}
	})
}

// TestSearchWordsBounded: the words kept by the search index stay within
// their bound, also when they match nothing (each word costs its bytes).
func TestSearchWordsBounded(t *testing.T) {
	ix := newSearchIndex("v", []searchDoc{{id: 1, title: "垃圾填埋", text: "垃圾填埋场渗滤液"}})
	for i := range 300000 {
		if docs, ok := ix.docsWith(fmt.Sprintf("无此词%d", i)); !ok || len(docs) != 0 {
			t.Fatalf("docsWith(无此词%d) = %v, %v; want none", i, docs, ok)
		}
	}
	if ix.kept > wordsKept || len(ix.words) > wordsKept/4 {
		t.Errorf("after 300,000 words: kept %d (bound %d), %d words", ix.kept, wordsKept, len(ix.words))
	}
	if docs, ok := ix.docsWith("渗滤液"); !ok || len(docs) != 1 {
		t.Errorf("docsWith(渗滤液) = %v, %v; want the doc", docs, ok)
	}
}
