package storage

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// searchIndex holds every task's searchable text in memory. Searching
// Chinese substrings with strings.Index over it is many times faster than
// LIKE in SQL, and the text changes only when the list is seeded: the
// index is reloaded when the content version in the meta table changes,
// whichever process seeded.
type searchIndex struct {
	version string
	docs    []searchDoc
	// postings maps each pair of adjacent characters to the ascending
	// indexes of the docs containing it. A word of two or more characters
	// can only occur in docs holding all its pairs, so a search verifies
	// that intersection instead of every doc. titles and goals do the
	// same for the titles and the goals alone, which score a match.
	postings, titles, goals map[uint64][]uint32

	// words keeps, for words of three or more characters searched
	// before, the docs that really contain them: their pairs' postings
	// only say which docs may. A common word's candidates are thousands,
	// each verified in its text; the second search of it is an
	// intersection. Bounded by wordsKept in all (see docsWith); guarded by
	// mu.
	mu    sync.Mutex
	words map[string][]uint32
	kept  int
}

// wordsKept bounds what is kept for searched words, in units of 4 bytes:
// a doc index, or 4 bytes of a word and its map entry.
const wordsKept = 1 << 20

func bigram(a, b rune) uint64 { return uint64(a)<<32 | uint64(uint32(b)) }

func newSearchIndex(version string, docs []searchDoc) *searchIndex {
	ix := &searchIndex{version: version, docs: docs,
		postings: map[uint64][]uint32{}, titles: map[uint64][]uint32{}, goals: map[uint64][]uint32{}}
	for i := range docs {
		addBigrams(ix.postings, docs[i].text, uint32(i))
		addBigrams(ix.titles, docs[i].title, uint32(i))
		addBigrams(ix.goals, docs[i].goal, uint32(i))
	}
	return ix
}

// addBigrams adds doc to the postings of text's character pairs. Docs are
// added in order, so a repeat is always last.
func addBigrams(postings map[uint64][]uint32, text string, doc uint32) {
	prev := rune(-1)
	for _, r := range text {
		if prev >= 0 {
			k := bigram(prev, r)
			if l := postings[k]; len(l) == 0 || l[len(l)-1] != doc {
				postings[k] = append(l, doc)
			}
		}
		prev = r
	}
}

// holding returns the ascending docs whose text in postings holds every
// character pair of word, and whether that is exact (word is one pair);
// ok is false for a single character, which has none.
func holding(postings map[uint64][]uint32, word string) (docs []uint32, exact, ok bool) {
	if !indexable(word) {
		return nil, false, false
	}
	var lists [][]uint32
	prev := rune(-1)
	for _, r := range word {
		if prev >= 0 {
			lists = append(lists, postings[bigram(prev, r)])
		}
		prev = r
	}
	if len(lists) == 0 {
		return nil, false, false
	}
	sort.Slice(lists, func(i, j int) bool { return len(lists[i]) < len(lists[j]) })
	out := append([]uint32(nil), lists[0]...)
	for _, l := range lists[1:] {
		out = intersect(out, l)
	}
	return out, onePair(word), true
}

// onePair reports whether word is exactly one character pair, so that a
// doc holding the pair holds the word.
func onePair(word string) bool { return indexable(word) && utf8.RuneCountInString(word) == 2 }

// indexable reports whether word can be looked up by its character pairs:
// not when it holds U+FFFD or bytes that are not UTF-8 (they match parts
// of characters, or invalid bytes in a text, that pairs do not tell).
func indexable(word string) bool { return !strings.ContainsRune(word, utf8.RuneError) }

// field tells, for ascending docs, whether a title (or goal) contains a
// word: by the field's postings, walked along with the docs, confirmed
// with contains when the word is longer than one pair.
type field struct {
	word  string
	get   func(d *searchDoc) string
	docs  []uint32
	exact bool
	ok    bool // false: no pairs, check every doc with contains
}

func newField(postings map[uint64][]uint32, word string, get func(d *searchDoc) string) *field {
	f := &field{word: word, get: get}
	f.docs, f.exact, f.ok = holding(postings, word)
	return f
}

func (f *field) has(i uint32, d *searchDoc) bool {
	if !f.ok {
		return contains(f.get(d), f.word)
	}
	for len(f.docs) > 0 && f.docs[0] < i {
		f.docs = f.docs[1:]
	}
	if len(f.docs) == 0 || f.docs[0] != i {
		return false
	}
	return f.exact || contains(f.get(d), f.word)
}

// docsWith returns the ascending docs containing word, exactly, when the
// index can tell: from the postings for a word of one pair, from the words
// searched before or by verifying the pairs' candidates for a longer one.
// ok is false for a single character and a word that is not UTF-8: those
// are checked in each candidate's text.
func (ix *searchIndex) docsWith(word string) (docs []uint32, ok bool) {
	if !indexable(word) || utf8.RuneCountInString(word) < 2 {
		return nil, false
	}
	if onePair(word) {
		r1, n := utf8.DecodeRuneInString(word)
		r2, _ := utf8.DecodeRuneInString(word[n:])
		return ix.postings[bigram(r1, r2)], true
	}
	ix.mu.Lock()
	docs, ok = ix.words[word]
	ix.mu.Unlock()
	if ok {
		return docs, true
	}
	cands, _, _ := holding(ix.postings, word)
	docs = cands[:0]
	for _, i := range cands {
		if contains(ix.docs[i].text, word) {
			docs = append(docs, i)
		}
	}
	docs = slices.Clip(docs)
	// Each word costs its docs and its own bytes, so that words that
	// match nothing cannot grow the map without bound either.
	cost := len(docs) + len(word)/4 + 4
	ix.mu.Lock()
	if ix.kept+cost > wordsKept {
		ix.words, ix.kept = nil, 0
	}
	if cost <= wordsKept {
		if ix.words == nil {
			ix.words = map[string][]uint32{}
		}
		if _, dup := ix.words[word]; !dup {
			ix.words[word] = docs
			ix.kept += cost
		}
	}
	ix.mu.Unlock()
	return docs, true
}

// candidates returns the ascending indexes of the docs that contain every
// word the index can tell (docsWith), and the words it cannot, to be
// checked in each candidate's text. With no word it can tell, every doc
// is a candidate.
func (ix *searchIndex) candidates(words []string) (cands []uint32, check []string) {
	var lists [][]uint32
	for _, w := range words {
		if docs, ok := ix.docsWith(w); ok {
			lists = append(lists, docs)
		} else {
			check = append(check, w)
		}
	}
	if len(lists) == 0 {
		all := make([]uint32, len(ix.docs))
		for i := range all {
			all[i] = uint32(i)
		}
		return all, check
	}
	sort.Slice(lists, func(i, j int) bool { return len(lists[i]) < len(lists[j]) })
	out := append([]uint32(nil), lists[0]...)
	for _, l := range lists[1:] {
		if len(out) == 0 {
			break
		}
		out = intersect(out, l)
	}
	return out, check
}

func intersect(a, b []uint32) []uint32 {
	out := a[:0]
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) {
			break
		}
		if b[j] == x {
			out = append(out, x)
		}
	}
	return out
}

type searchDoc struct {
	id              uint
	section, number int
	code, title     string
	goal, text      string
}

func (s *Store) searchIndex(ctx context.Context) (*searchIndex, error) {
	version, err := s.MetaValue(ctx, metaContentVersion)
	if err != nil {
		return nil, err
	}
	s.searchMu.Lock()
	defer s.searchMu.Unlock()
	if s.search != nil && s.search.version == version {
		return s.search, nil
	}
	var rows []struct {
		ID, ListID         uint
		Section, Number    int
		Code, Title        string
		Goal, Problem, Doc string
	}
	err = s.db.WithContext(ctx).Model(&Task{}).
		Select("id, list_id, section, number, code, title, goal, problem, doc").
		Order("list_id, section, number").Scan(&rows).Error
	if err != nil {
		return nil, Internal(err)
	}
	names, err := s.ListNames(ctx)
	if err != nil {
		return nil, err
	}
	docs := make([]searchDoc, len(rows))
	for i, r := range rows {
		var doc taskDoc // a doc that does not read leaves the measures out
		_ = json.Unmarshal([]byte(r.Doc), &doc)
		// What a search reads: the title, goal, measures and problem.
		text := strings.Join(append(append([]string{r.Title, r.Goal}, doc.Measures...), r.Problem), "\n")
		docs[i] = searchDoc{r.ID, r.Section, r.Number, qualify(r.Code, r.ListID, names), r.Title, r.Goal, text}
	}
	s.search = newSearchIndex(version, docs)
	return s.search, nil
}

// WarmSearch loads the search index now, so that the first search after
// start does not pay for it.
func (s *Store) WarmSearch(ctx context.Context) error {
	_, err := s.searchIndex(ctx)
	return err
}

// SearchHit is a task that matched a search.
type SearchHit struct {
	ID      uint
	Section int
	Number  int
	Code    string
	Title   string
	Score   int
	// Snippet is the text around the first word's first match.
	Snippet string
}

// SearchTasks returns the tasks whose title, problem, goal or measures
// contain every word, best first (a match in the title counts most, then
// the goal), at most limit of them, and the total.
func (s *Store) SearchTasks(ctx context.Context, words []string, limit int) ([]SearchHit, int, error) {
	if len(words) == 0 {
		return nil, 0, nil
	}
	for _, w := range words {
		if w == "" {
			return nil, 0, Errorf(EINVALID, "搜索词不能为空")
		}
	}
	ix, err := s.searchIndex(ctx)
	if err != nil {
		return nil, 0, err
	}
	hits, total := ix.search(words, limit)
	return hits, total, nil
}

// search returns the docs containing every word, best first (4 points a
// word in the title, 2 in the goal; document order among equals), at most
// limit of them, and how many there are.
func (ix *searchIndex) search(words []string, limit int) ([]SearchHit, int) {
	// Matches go into buckets by score (a few values: 4 per word in the
	// title, 2 in the goal), each in document order, so the best limit
	// come out without sorting or building every match: a common word
	// matches a third of a 100,000-task list.
	var buckets [][]uint32
	total := 0
	titles, goals := make([]*field, len(words)), make([]*field, len(words))
	for k, w := range words {
		titles[k] = newField(ix.titles, w, func(d *searchDoc) string { return d.title })
		goals[k] = newField(ix.goals, w, func(d *searchDoc) string { return d.goal })
	}
	cands, check := ix.candidates(words)
next:
	for _, i := range cands {
		d := &ix.docs[i]
		for _, w := range check {
			if !contains(d.text, w) {
				continue next
			}
		}
		score := 0
		for k := range words {
			if titles[k].has(i, d) {
				score += 4
			}
			if goals[k].has(i, d) {
				score += 2
			}
		}
		for len(buckets) <= score {
			buckets = append(buckets, nil)
		}
		buckets[score] = append(buckets[score], i)
		total++
	}
	out := make([]SearchHit, 0, min(limit, total))
	for score := len(buckets) - 1; score >= 0 && len(out) < limit; score-- {
		for _, i := range buckets[score] {
			if len(out) == limit {
				break
			}
			d := &ix.docs[i]
			out = append(out, SearchHit{ID: d.id, Section: d.section, Number: d.number, Code: d.code, Title: d.title,
				Score: score, Snippet: snippet(d.text, words[0], 24)})
		}
	}
	return out, total
}

// contains is strings.Contains for Chinese text. strings.Index anchors on
// the word's first byte, which in UTF-8 Chinese is one of a few lead bytes
// found every third byte; contains anchors on the word's last byte, a
// continuation byte spread over 64 values, and compares from there: a
// fraction of the false starts.
func contains(s, word string) bool {
	n := len(word)
	switch {
	case n == 0:
		return true
	case n > len(s):
		return false
	}
	last := word[n-1]
	for i := n - 1; i < len(s); {
		j := strings.IndexByte(s[i:], last)
		if j < 0 {
			return false
		}
		i += j
		if s[i-n+1:i+1] == word {
			return true
		}
		i++
	}
	return false
}
