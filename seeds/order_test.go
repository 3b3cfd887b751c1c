package seeds_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"taskbot/seeds"
	"taskbot/storage"
)

// TestMilestonesByDue checks the numbering rule on the deadline texts that
// break it when numbered in the order written: 节点1 is the earliest
// deadline, and deadlines on the same day keep the order written.
func TestMilestonesByDue(t *testing.T) {
	tests := []struct {
		text string
		want []seeds.Milestone
	}{
		{"2021年12月底前建立数据库；2021年10月底前完成方案设计，2022年12月底前完成治理", []seeds.Milestone{
			{Due: date(t, "2021-10-31"), Text: "2021年10月底前完成方案设计"},
			{Due: date(t, "2021-12-31"), Text: "2021年12月底前建立数据库"},
			{Due: date(t, "2022-12-31"), Text: "2022年12月底前完成治理"},
		}},
		// Ties keep the order written, wherever the earlier date sits.
		{"2021年12月底前完成甲，2021年9月底前完成乙；2021年12月底前完成丙，2021年12月31日前完成丁", []seeds.Milestone{
			{Due: date(t, "2021-09-30"), Text: "2021年9月底前完成乙"},
			{Due: date(t, "2021-12-31"), Text: "2021年12月底前完成甲"},
			{Due: date(t, "2021-12-31"), Text: "2021年12月底前完成丙"},
			{Due: date(t, "2021-12-31"), Text: "2021年12月31日前完成丁"},
		}},
		// Undated clauses still join the clause they were written beside.
		{"2022年6月底前完成整改，对问题建立台账；对历史遗留矿山，2021年底前完成排查", []seeds.Milestone{
			{Due: date(t, "2021-12-31"), Text: "对历史遗留矿山，2021年底前完成排查"},
			{Due: date(t, "2022-06-30"), Text: "2022年6月底前完成整改，对问题建立台账"},
		}},
		// A month without a year still takes the year written before it.
		{"2022年3月底前完成甲，1月底前完成乙", []seeds.Milestone{
			{Due: date(t, "2022-01-31"), Text: "1月底前完成乙"},
			{Due: date(t, "2022-03-31"), Text: "2022年3月底前完成甲"},
		}},
	}
	for _, tt := range tests {
		got := seeds.ParseDeadline(tt.text)
		if diff := cmp.Diff(tt.want, got.Milestones); diff != "" {
			t.Errorf("ParseDeadline(%q) milestones (-want +got):\n%s", tt.text, diff)
		}
	}
}

// TestSeededMilestonesByDue seeds documents into a real store and checks
// the numbers people read: for every task, seq runs 1..n over dates that
// never go down, ties in the order written. On the embedded list, task 9
// (written 2021年12月, 2021年10月, 2022年12月) has 节点1 due 2021-10-31.
func TestSeededMilestonesByDue(t *testing.T) {
	docs := map[string][]byte{
		"xuchang": seeds.Xuchang(),
		"ties": []byte("一、共性整改任务\n1.问题。\n整改措施：（1）甲。\n责任单位：市委\n" +
			"整改时限：2021年12月底前完成甲，2021年9月底前完成乙；2021年12月底前完成丙\n" +
			"2.问题二。\n整改措施：（1）乙。\n责任单位：市委\n整改时限：2023年完成，2022年上半年完成，2022年6月30日前验收，持续推进\n"),
	}
	wantTexts := map[string][]string{
		"xuchang/1/9": {
			"对初步掌握适宜采取工程治理的2.54万亩历史遗留矿山，2021年10月底前完成治理方案设计并实施治理",
			"2021年12月底前建立历史遗留矿山核查信息数据库",
			"2022年12月底前完成治理",
		},
		"ties/1/1": {"2021年9月底前完成乙", "2021年12月底前完成甲", "2021年12月底前完成丙"},
		"ties/1/2": {"2022年上半年完成", "2022年6月30日前验收", "2023年完成"},
	}
	ctx := context.Background()
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			store, err := storage.Open(filepath.Join(t.TempDir(), "taskbot.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			d, _, err := seeds.Load(ctx, store, doc, nil)
			if err != nil {
				t.Fatalf("Load(%s): %v", name, err)
			}
			for _, pt := range d.Tasks {
				task, err := store.FindTask(ctx, pt.Section, pt.Number)
				if err != nil {
					t.Fatalf("FindTask(%d, %d): %v", pt.Section, pt.Number, err)
				}
				var texts []string
				for i, m := range task.Milestones {
					if m.Seq != i+1 {
						t.Errorf("%s 节点 at position %d has seq %d; want %d", pt.Code, i, m.Seq, i+1)
					}
					if i > 0 && m.Due.Before(task.Milestones[i-1].Due) {
						t.Errorf("%s 节点%d due %s is before 节点%d due %s", pt.Code, m.Seq, m.Due, i, task.Milestones[i-1].Due)
					}
					texts = append(texts, m.Text)
				}
				if want, ok := wantTexts[fmt.Sprintf("%s/%d/%d", name, pt.Section, pt.Number)]; ok {
					if diff := cmp.Diff(want, texts); diff != "" {
						t.Errorf("%s milestones (-want +got):\n%s", pt.Code, diff)
					}
				}
			}
		})
	}
	t.Run("xuchang task 9", func(t *testing.T) {
		task := parseXuchang(t).Tasks[8]
		if task.Code != "共性9" {
			t.Fatalf("task 9 of the list is %s", task.Code)
		}
		if diff := cmp.Diff([]string{"2021-10-31", "2021-12-31", "2022-12-31"}, dues(task.Milestones)); diff != "" {
			t.Errorf("共性9 节点1..3 dues (-want +got):\n%s", diff)
		}
	})
}
