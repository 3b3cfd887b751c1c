package seeds_test

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"taskbot/seeds"
	"taskbot/storage"
)

func FuzzParse(f *testing.F) {
	f.Add(seeds.Xuchang())
	doc := string(seeds.Xuchang())
	// Each task on its own, under its section heading.
	for _, chunk := range strings.SplitAfter(doc, "整改时限：")[1:4] {
		f.Add([]byte("一、共性整改任务\n" + chunk))
	}
	f.Add([]byte(halfWidth(doc)))
	f.Add([]byte(strings.ReplaceAll(doc, "\n", "\r\n")))
	f.Add([]byte("一、共性整改任务\n1.问题。\n整改措施：（1）甲。（2）乙。\n责任单位：各县（市、区）\n整改时限：2021年9月底前完成排查，12月底前完成整改\n"))
	f.Add([]byte("一、共性整改任务\n1.问题。\n整改措施：项目A：（1）甲。（2）乙。项目B：（1）丙。\n责任领导：市政府分管工业、生态环境副市长\n责任单位：市城管局\n整改时限：立行立改\n二、个性整改任务\n1.x\n责任单位：市委\n整改时限：2023年2月底前\n"))
	f.Add([]byte("hello\nworld"))
	f.Add([]byte(""))
	f.Add([]byte("\ufeff一、\n1.\n整改时限：\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 20000 {
			// Mutating inputs this large stalls the fuzzing engine here
			// (the whole seed: TestEveryLineAccounted).
			t.Skip()
		}
		d, err := seeds.Parse(doc)
		if err != nil {
			if d != nil {
				t.Errorf("Parse returned a document and an error %v", err)
			}
			return
		}
		if len(d.Tasks) == 0 {
			t.Fatalf("Parse succeeded with no tasks")
		}
		codes := map[string]bool{}
		for _, task := range d.Tasks {
			if task.Code == "" {
				t.Errorf("task %+v has no code", task)
			}
			if codes[task.Code] {
				t.Errorf("code %q appears twice", task.Code)
			}
			codes[task.Code] = true
			if task.Measures == nil || task.Leaders == nil || task.LeadUnits == nil || task.Units == nil || task.Milestones == nil {
				t.Errorf("task %s has a nil slice: %#v", task.Code, task)
			}
			if task.Number < 1 || task.Line < 1 {
				t.Errorf("task %s: number %d, line %d", task.Code, task.Number, task.Line)
			}
			checkMilestones(t, task.Deadline, task.Milestones)
		}
		checkRecords(t, d)
		checkAccounted(t, doc, d)
	})
}

// checkAccounted: every line of a text list is accounted for: in a task,
// or in a warning, note or problem.
func checkAccounted(t *testing.T, doc []byte, d *seeds.Document) {
	t.Helper()
	text := strings.TrimPrefix(string(doc), "\ufeff")
	if !utf8.ValidString(text) || strings.HasPrefix(text, "PK") {
		return // decoded first, or not text
	}
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	covered := map[int]bool{}
	cover := func(from, to int) {
		for n := from; n <= max(from, to); n++ {
			covered[n] = true
		}
	}
	for _, task := range d.Tasks {
		cover(task.Line, task.LastLine)
	}
	for _, sec := range d.Sections {
		cover(sec.Line, sec.Line)
	}
	for _, ws := range [][]seeds.Warning{d.Warnings, d.Notes, d.Problems} {
		for _, w := range ws {
			cover(w.Line, w.End)
		}
	}
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimFunc(line, func(r rune) bool { return unicode.IsSpace(r) || r == '\u3000' || r == '\ufeff' }) != "" && !covered[i+1] {
			t.Errorf("line %d %q is in no task, warning, note or problem", i+1, line)
		}
	}
}

func FuzzParseDeadline(f *testing.F) {
	for _, s := range []string{
		"立行立改", "持续推进", "长期坚持", "按方案持续推进",
		"2021年9月底前建立“开发式治理”工程管理台账；2021年10月底前完成借生态修复之名非法采矿行为排查分类及清理工作；2022年6月底前全面完成",
		"2021年9月底前完成灌区超计划用水问题排查，12月底前完成超计划用水问题整改，2022年6月底前完成省定治理任务，持续推进",
		"对初步掌握适宜采取工程治理的2.54万亩历史遗留矿山，2021年10月底前完成治理方案设计并实施治理",
		"计划建设周期2022年—2024年", "2020年6月至2021年12月", "2022年4月—8月", "２０２３年３月",
		"2024年2月底前", "2021年11月15日前", "2023年完成", "2022年上半年", "12万吨/日", "90%",
		"2021年10月底前完成排查工作，2021年12月底前各县（市、区）制定分类整治提升方案，按方案持续推进；2022年6月底前实现2019年后新建集中式农村污水处理设施正常运行率达90%以上",
		"0000年0月0日", "9999年99月99日", "2021年2月30日", "12月底前", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d := seeds.ParseDeadline(text)
		if d.Milestones == nil {
			t.Errorf("ParseDeadline(%q).Milestones is nil", text)
		}
		checkMilestones(t, text, d.Milestones)
		if len(d.Milestones) == 0 && !d.Immediate && !d.Ongoing && !d.LongTerm && len(d.Warnings) == 0 {
			t.Errorf("ParseDeadline(%q) found nothing and warned nothing", text)
		}
	})
}

// checkMilestones asserts that every due date is a real, non-zero day and
// that the dates never go down: milestones are numbered in this order, so
// 节点1 is the earliest deadline.
func checkMilestones(t *testing.T, text string, ms []seeds.Milestone) {
	t.Helper()
	for i, m := range ms {
		if i > 0 && m.Due.Before(ms[i-1].Due) {
			t.Errorf("deadline %q: milestone %d due %s comes after milestone %d due %s", text, i+1, m.Due, i, ms[i-1].Due)
		}
		if m.Due.IsZero() {
			t.Errorf("deadline %q: milestone %q has a zero due date", text, m.Text)
			continue
		}
		back, err := storage.ParseDate(m.Due.String())
		if err != nil || back != m.Due {
			t.Errorf("deadline %q: milestone due %+v is not a valid date (%v)", text, m.Due, err)
		}
		if m.Due.Month < time.January || m.Due.Month > time.December {
			t.Errorf("deadline %q: milestone due %+v has a bad month", text, m.Due)
		}
	}
}

// checkRecords asserts that the records seeded from d number each task's
// milestones in due-date order: Store.Seed gives the milestone at position
// i the sequence number i+1.
func checkRecords(t *testing.T, d *seeds.Document) {
	t.Helper()
	recs := d.Records()
	for i, r := range recs {
		task := d.Tasks[i]
		if len(r.Milestones) != len(task.Milestones) {
			t.Errorf("task %s: %d milestone records for %d milestones", task.Code, len(r.Milestones), len(task.Milestones))
			continue
		}
		for k, m := range r.Milestones {
			if m.Due != task.Milestones[k].Due || m.PlannedDue != m.Due || m.Text != task.Milestones[k].Text {
				t.Errorf("task %s: record %d = %s %q; want milestone %d %s %q", task.Code, k, m.Due, m.Text, k+1, task.Milestones[k].Due, task.Milestones[k].Text)
			}
			if k > 0 && m.Due.Before(r.Milestones[k-1].Due) {
				t.Errorf("task %s: record %d due %s before record %d due %s", task.Code, k, m.Due, k-1, r.Milestones[k-1].Due)
			}
		}
	}
}

// TestEveryLineAccounted: every line of the seed and of each layout's
// document is in a task, a warning, a note or a problem.
func TestEveryLineAccounted(t *testing.T) {
	for _, doc := range []string{string(seeds.Xuchang()), headingPerField, flattenedTable, numberedNotice, tableList} {
		d, err := seeds.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		checkAccounted(t, []byte(doc), d)
	}
}
