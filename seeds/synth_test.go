package seeds_test

import (
	"testing"

	"taskbot/seeds"
	"taskbot/storage"
	"taskbot/storage/synth"
)

// TestSynthDocumentReadsBack: a generated list written as a document (what
// the large-list benchmarks seed from) is read back task for task, numbers
// past 999 included: codes and units by role, and at least the measures and
// milestones written (a sampled sentence may hold a numbered item or a date).
func TestSynthDocumentReadsBack(t *testing.T) {
	tasks := synth.Tasks(1200, 7, synth.Sentences(string(seeds.Xuchang())))
	d, err := seeds.Parse(synth.Document("合成清单", tasks))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tasks) != len(tasks) || len(d.Warnings) != 0 {
		t.Fatalf("%d tasks, warnings %v; want %d tasks, none", len(d.Tasks), d.Warnings, len(tasks))
	}
	units := func(t storage.Task, role string) (n int) {
		for _, u := range t.Units {
			if u.Role == role {
				n++
			}
		}
		return n
	}
	for i, got := range d.Records() {
		want := tasks[i]
		if got.Code != want.Code || len(got.Measures) < len(want.Measures) || len(got.Milestones) < len(want.Milestones) ||
			units(got, storage.RoleLead) != units(want, storage.RoleLead) || units(got, storage.RoleResponsible) != units(want, storage.RoleResponsible) {
			t.Fatalf("task %d read back as %s: %d measures, %d milestones; want %s: %d, %d",
				i, got.Code, len(got.Measures), len(got.Milestones), want.Code, len(want.Measures), len(want.Milestones))
		}
	}
}
