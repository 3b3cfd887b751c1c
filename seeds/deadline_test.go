package seeds_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"taskbot/seeds"
)

func TestParseDeadline(t *testing.T) {
	const (
		I = 1 << iota // immediate
		O             // ongoing
		L             // long-term
	)
	tests := []struct {
		text  string
		dues  []string
		flags int
	}{
		{"2021年9月底前", []string{"2021-09-30"}, 0},
		{"2023年3月", []string{"2023-03-31"}, 0},
		{"2023年完成", []string{"2023-12-31"}, 0},
		{"2023年底", []string{"2023-12-31"}, 0},
		{"2022年12月底", []string{"2022-12-31"}, 0},
		{"2022年12月底前", []string{"2022-12-31"}, 0},
		{"2021年11月15日前", []string{"2021-11-15"}, 0},
		{"2021年11月5号前完成", []string{"2021-11-05"}, 0},
		{"2021年6月底前", []string{"2021-06-30"}, 0},
		{"2021年4月底前", []string{"2021-04-30"}, 0},

		// A month without a year takes the year of the clause before it.
		{"2021年9月底前完成排查，12月底前完成整改", []string{"2021-09-30", "2021-12-31"}, 0},
		{"2022年3月底前完成排查；6月底前完成整改；2023年6月底前完成验收", []string{"2022-03-31", "2022-06-30", "2023-06-30"}, 0},

		// Ranges are due at their end.
		{"计划建设周期2022年—2024年", []string{"2024-12-31"}, 0},
		{"2022—2024年", []string{"2024-12-31"}, 0},
		{"2020年6月至2021年12月", []string{"2021-12-31"}, 0},
		{"2022年4月—8月", []string{"2022-08-31"}, 0},
		{"2022年4月-8月完成", []string{"2022-08-31"}, 0},
		{"2021年12月—2022年4月完成铁路路基", []string{"2022-04-30"}, 0},
		{"2021年1—6月", []string{"2021-06-30"}, 0},

		// Full-width digits.
		{"２０２３年３月", []string{"2023-03-31"}, 0},
		{"２０２１年９月底前完成排查，１２月底前完成整改", []string{"2021-09-30", "2021-12-31"}, 0},

		// February's real last day.
		{"2024年2月底前", []string{"2024-02-29"}, 0},
		{"2023年2月底前", []string{"2023-02-28"}, 0},
		{"2000年2月底前", []string{"2000-02-29"}, 0},
		{"2100年2月底前", []string{"2100-02-28"}, 0},

		// Parts of a year.
		{"2022年上半年", []string{"2022-06-30"}, 0},
		{"2022年第三季度", []string{"2022-09-30"}, 0},

		// Keywords.
		{"立行立改", []string{}, I},
		{"持续推进", []string{}, O},
		{"按方案持续推进", []string{}, O},
		{"长期坚持", []string{}, L},
		{"立行立改，长期坚持", []string{}, I | L},

		// Dates and flags together.
		{"2021年9月底前完成灌区超计划用水问题排查，12月底前完成超计划用水问题整改，2022年6月底前完成省定治理任务，持续推进",
			[]string{"2021-09-30", "2021-12-31", "2022-06-30"}, O},
		{"立行立改，2021年12月底前完成", []string{"2021-12-31"}, I},
		{"2021年12月底前完成，长期坚持", []string{"2021-12-31"}, L},

		// Numbers that are not dates.
		{"对初步掌握适宜采取工程治理的2.54万亩历史遗留矿山，2021年10月底前完成治理", []string{"2021-10-31"}, 0},
		{"2022年12月底前城市污泥无害化处置率达90%以上，压减污泥填埋规模20%以上", []string{"2022-12-31"}, 0},
		{"2023年底增加污水处理能力12万吨/日", []string{"2023-12-31"}, 0},
		{"2022年6月底前实现2019年后新建集中式农村污水处理设施正常运行率达90%以上", []string{"2022-06-30"}, 0},
		{"截至2020年底已完成，2021年6月底前验收", []string{"2021-06-30"}, 0},
		{"每年对辖区内计划用水户进行1—3次监督检查，2021年底前完成", []string{"2021-12-31"}, 0},
		{"共计181天，2021年12月底前", []string{"2021-12-31"}, 0},
		{"2021年10月底前各县（市、区）制定方案", []string{"2021-10-31"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := seeds.ParseDeadline(tt.text)
			if diff := cmp.Diff(tt.dues, dues(got.Milestones)); diff != "" {
				t.Errorf("ParseDeadline(%q) dues (-want +got):\n%s", tt.text, diff)
			}
			gotFlags := [3]bool{got.Immediate, got.Ongoing, got.LongTerm}
			wantFlags := [3]bool{tt.flags&I != 0, tt.flags&O != 0, tt.flags&L != 0}
			if gotFlags != wantFlags {
				t.Errorf("ParseDeadline(%q) flags (immediate, ongoing, long_term) = %v; want %v", tt.text, gotFlags, wantFlags)
			}
			if len(got.Warnings) != 0 {
				t.Errorf("ParseDeadline(%q) warnings = %q; want none", tt.text, got.Warnings)
			}
		})
	}
}

func TestParseDeadlineTexts(t *testing.T) {
	tests := []struct {
		text string
		want []seeds.Milestone
	}{
		{"2021年9月底前完成排查，12月底前完成整改", []seeds.Milestone{
			{Due: date(t, "2021-09-30"), Text: "2021年9月底前完成排查"},
			{Due: date(t, "2021-12-31"), Text: "12月底前完成整改"},
		}},
		{"2021年10月底前完成排查工作，2021年12月底前各县（市、区）制定分类整治提升方案，按方案持续推进；2022年6月底前实现2019年后新建集中式农村污水处理设施正常运行率达90%以上", []seeds.Milestone{
			{Due: date(t, "2021-10-31"), Text: "2021年10月底前完成排查工作"},
			{Due: date(t, "2021-12-31"), Text: "2021年12月底前各县（市、区）制定分类整治提升方案"},
			{Due: date(t, "2022-06-30"), Text: "2022年6月底前实现2019年后新建集中式农村污水处理设施正常运行率达90%以上"},
		}},
		{"2023年3月", []seeds.Milestone{{Due: date(t, "2023-03-31"), Text: "2023年3月"}}},
		{"计划建设周期2022年—2024年", []seeds.Milestone{{Due: date(t, "2024-12-31"), Text: "计划建设周期2022年—2024年"}}},
		{"２０２３年３月完成", []seeds.Milestone{{Due: date(t, "2023-03-31"), Text: "２０２３年３月完成"}}},
	}
	for _, tt := range tests {
		got := seeds.ParseDeadline(tt.text)
		if diff := cmp.Diff(tt.want, got.Milestones); diff != "" {
			t.Errorf("ParseDeadline(%q) milestones (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestParseDeadlineWarnings(t *testing.T) {
	tests := []struct {
		text     string
		contains string
	}{
		{"尽快完成", "既没有日期，也没有可识别的关键词"},
		{"", "既没有日期，也没有可识别的关键词"},
		{"按照上级要求", "既没有日期，也没有可识别的关键词"},
		{"2.54万亩", "既没有日期，也没有可识别的关键词"},
		{"12月底前完成", "没有年份"},
		{"2021年13月底前", "没有 13 月"},
		{"2023年2月29日前", "2 月没有 29 日"},
	}
	for _, tt := range tests {
		got := seeds.ParseDeadline(tt.text)
		if len(got.Milestones) != 0 {
			t.Errorf("ParseDeadline(%q) milestones = %v; want none", tt.text, got.Milestones)
		}
		if !strings.Contains(strings.Join(got.Warnings, "\n"), tt.contains) {
			t.Errorf("ParseDeadline(%q) warnings = %q; want one mentioning %q", tt.text, got.Warnings, tt.contains)
		}
	}
}

// TestParseWarnsOnUndatedDeadline checks that a task whose deadline cannot be
// read still parses but carries a warning with the deadline's line.
func TestParseWarnsOnUndatedDeadline(t *testing.T) {
	doc := strings.Replace(string(seeds.Xuchang()), "整改时限：2021年9月底前完成全面排查，对排查发现的问题建立台账；2021年12月底前完成整改", "整改时限：尽快完成", 1)
	d, err := seeds.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	if len(d.Warnings) != 1 {
		t.Fatalf("warnings = %v; want exactly one", d.Warnings)
	}
	w := d.Warnings[0]
	if w.Task != "共性7" || w.Line != 97 || !strings.Contains(w.Msg, "尽快完成") {
		t.Errorf("warning = %+v; want task 共性7, line 97, mentioning the text", w)
	}
}
