// Package synth generates large, realistic task lists for benchmarks: text
// sampled from the real document's sentences, units and deadlines spread the
// way the real list spreads them.
package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"taskbot/storage"
)

// Bureaus are the city departments tasks are led by.
var Bureaus = []string{"市生态环境局", "市发改委", "市工信局", "市水利局", "市城管局", "市住建局", "市农业农村局",
	"市自然资源和规划局", "市公安局", "市交通运输局", "市商务局", "市卫健委", "市统计局", "市法院", "市检察院"}

// Counties are the members of the collective 各县（市、区）.
var Counties = []string{"魏都区", "建安区", "禹州市", "长葛市", "鄢陵县", "襄城县", "城乡一体化示范区", "经济技术开发区", "东城区"}

// Collective is the collective unit most tasks are given to.
const Collective = "各县（市、区）"

// Tasks returns n tasks numbered 1..n in section 1, generated
// deterministically from seed. sentences is the pool of text to sample
// (e.g. the real document's sentences).
func Tasks(n int, seed uint64, sentences []string) []storage.Task {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(k int) string {
		var b strings.Builder
		for i := 0; i < k; i++ {
			b.WriteString(sentences[r.IntN(len(sentences))])
			b.WriteString("。")
		}
		return b.String()
	}
	start := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	out := make([]storage.Task, n)
	for i := range out {
		t := storage.Task{Section: 1, Number: i + 1, Code: fmt.Sprintf("共性%d", i+1)}
		t.Title = sentences[r.IntN(len(sentences))]
		t.Problem = t.Title + "。" + pick(3+r.IntN(5))
		t.Goal = pick(1 + r.IntN(2))
		t.Persons = "牵头单位、责任单位主要负责同志"
		for k := 0; k < 2+r.IntN(4); k++ {
			t.Measures = append(t.Measures, storage.Measure{Text: pick(1 + r.IntN(2))})
		}
		t.Leaders = []storage.Leader{{Post: "市政府分管" + []string{"生态环境", "城建", "水利", "农业", "工业"}[r.IntN(5)] + "副市长"}}
		if r.IntN(5) == 0 {
			t.Leaders = append(t.Leaders, storage.Leader{Post: "市政府常务副市长"})
		}
		for k, perm := 0, r.Perm(len(Bureaus)); k < 1+r.IntN(3); k++ {
			t.Units = append(t.Units, storage.TaskUnit{Role: storage.RoleLead, Unit: storage.Unit{Name: Bureaus[perm[k]]}})
		}
		if r.IntN(10) < 8 {
			t.Units = append(t.Units, storage.TaskUnit{Role: storage.RoleResponsible, Unit: storage.Unit{Name: Collective}})
		} else {
			for k, perm := 0, r.Perm(len(Counties)); k < 1+r.IntN(3); k++ {
				t.Units = append(t.Units, storage.TaskUnit{Role: storage.RoleResponsible, Unit: storage.Unit{Name: Counties[perm[k]]}})
			}
		}
		switch x := r.IntN(20); {
		case x < 2:
			t.Immediate, t.Deadline = true, "立行立改"
		case x < 3:
			t.LongTerm, t.Deadline = true, "长期坚持"
		default:
			var parts []string
			for k := 0; k < 1+r.IntN(3); k++ {
				due := storage.DateIn(start.AddDate(0, 0, r.IntN(3*365+200)), start.Location())
				t.Milestones = append(t.Milestones, storage.Milestone{Due: due, PlannedDue: due, Text: fmt.Sprintf("%d年%d月底前%s", due.Year, due.Month, sentences[r.IntN(len(sentences))])})
				parts = append(parts, t.Milestones[k].Text)
			}
			t.Deadline = strings.Join(parts, "；")
			t.Ongoing = r.IntN(10) == 0
		}
		out[i] = t
	}
	return out
}

// Sentences splits text into sentences on 。, dropping short fragments.
func Sentences(text string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(text, func(r rune) bool { return r == '。' || r == '\n' }) {
		if s = strings.TrimSpace(s); len([]rune(s)) >= 8 {
			out = append(out, s)
		}
	}
	return out
}

// Specs returns the collective configuration matching the generated units.
func Specs() []storage.UnitSpec {
	return []storage.UnitSpec{{Name: Collective, Members: Counties}}
}
