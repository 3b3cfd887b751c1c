package seeds_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"

	"taskbot/seeds"
	"taskbot/storage"
)

func parseXuchang(t testing.TB) *seeds.Document {
	t.Helper()
	d, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatalf("Parse(Xuchang) error: %v", err)
	}
	return d
}

func date(t testing.TB, s string) storage.Date {
	t.Helper()
	d, err := storage.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func dues(ms []seeds.Milestone) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Due.String())
	}
	return out
}

// Units shared by most tasks.
const counties = "各县（市、区）"

// TestParseXuchang checks every task of the real document against what the
// document says, read by hand.
func TestParseXuchang(t *testing.T) {
	type want struct {
		code      string
		measures  int
		lead      []string
		units     []string
		dues      []string
		immediate bool
		ongoing   bool
		longTerm  bool
	}
	tests := []want{
		{code: "共性1", measures: 6, lead: []string{}, units: []string{"市直相关部门", counties}, dues: []string{}, immediate: true},
		{code: "共性2", measures: 5, lead: []string{"市发改委", "市工信局", "市生态环境局"}, units: []string{counties}, dues: []string{}, ongoing: true},
		{code: "共性3", measures: 4, lead: []string{"市农业农村局", "市统计局"}, units: []string{counties}, dues: []string{"2021-12-31"}},
		{code: "共性4", measures: 6, lead: []string{"市发改委", "市自然资源和规划局", "市生态环境局", "市交通运输局"}, units: []string{"相关县（市、区）"}, dues: []string{"2023-03-31"}},
		{code: "共性5", measures: 3, lead: []string{"市自然资源和规划局", "市公安局"}, units: []string{"禹州市"}, dues: []string{"2021-09-30", "2021-10-31", "2022-06-30"}},
		{code: "共性6", measures: 6, lead: []string{"市城管局"}, units: []string{counties}, dues: []string{"2021-12-31", "2022-12-31"}},
		{code: "共性7", measures: 3, lead: []string{"市水利局"}, units: []string{counties}, dues: []string{"2021-09-30", "2021-12-31"}},
		{code: "共性8", measures: 4, lead: []string{"市水利局", "市农业农村局"}, units: []string{counties}, dues: []string{"2021-09-30", "2021-12-31", "2022-06-30"}, ongoing: true},
		{code: "共性9", measures: 3, lead: []string{"市自然资源和规划局", "市公安局"}, units: []string{"禹州市"}, dues: []string{"2021-10-31", "2021-12-31", "2022-12-31"}},
		{code: "共性10", measures: 2, lead: []string{"市自然资源和规划局", "市公安局"}, units: []string{"禹州市", "长葛市", "襄城县"}, dues: []string{"2021-10-31", "2022-06-30"}},
		{code: "共性11", measures: 2, lead: []string{"市水利局", "市发改委"}, units: []string{counties}, dues: []string{"2023-12-31"}},
		{code: "共性12", measures: 2, lead: []string{"市水利局", "市住建局"}, units: []string{counties}, dues: []string{"2024-12-31"}},
		{code: "共性13", measures: 2, lead: []string{"市水利局", "市发改委"}, units: []string{counties}, dues: []string{"2022-12-31"}},
		{code: "共性14", measures: 2, lead: []string{"市城管局"}, units: []string{counties}, dues: []string{"2022-12-31"}},
		{code: "共性15", measures: 3, lead: []string{"市城管局"}, units: []string{counties}, dues: []string{}, longTerm: true},
		{code: "共性16", measures: 3, lead: []string{}, units: []string{"市城管局"}, dues: []string{"2022-12-31"}},
		{code: "共性17", measures: 3, lead: []string{"市生态环境局"}, units: []string{counties}, dues: []string{"2021-10-31", "2021-12-31", "2022-06-30"}, ongoing: true},
		{code: "共性18", measures: 3, lead: []string{"市农业农村局", "市生态环境局"}, units: []string{counties}, dues: []string{}, immediate: true},
		{code: "共性19", measures: 6, lead: []string{"市交通运输局", "市公安局", "市生态环境局", "市商务局"}, units: []string{counties}, dues: []string{"2021-12-31"}},
		{code: "共性20", measures: 3, lead: []string{"市生态环境局"}, units: []string{counties}, dues: []string{}, immediate: true},
		{code: "共性21", measures: 3, lead: []string{"市生态环境局"}, units: []string{counties}, dues: []string{"2022-09-30"}},
		{code: "共性22", measures: 3, lead: []string{"市卫健委", "市发改委", "市生态环境局"}, units: []string{counties}, dues: []string{"2022-12-31"}},
		{code: "共性23", measures: 2, lead: []string{"市生态环境局", "市法院", "市检察院"}, units: []string{counties}, dues: []string{}, immediate: true},
		{code: "个性1", measures: 4, lead: []string{}, units: []string{"市委", "市政府"}, dues: []string{}, immediate: true},
	}

	d := parseXuchang(t)
	if len(d.Warnings) != 0 {
		t.Errorf("Parse(Xuchang) warnings = %v; want none", d.Warnings)
	}
	if len(d.Tasks) != len(tests) {
		t.Fatalf("Parse(Xuchang) gave %d tasks; want %d", len(d.Tasks), len(tests))
	}
	for i, tt := range tests {
		task := d.Tasks[i]
		t.Run(tt.code, func(t *testing.T) {
			if task.Code != tt.code {
				t.Fatalf("task %d code = %q; want %q", i, task.Code, tt.code)
			}
			if got := len(task.Measures); got != tt.measures {
				t.Errorf("%s: %d measures; want %d\n%q", tt.code, got, tt.measures, task.Measures)
			}
			if diff := cmp.Diff(tt.lead, task.LeadUnits); diff != "" {
				t.Errorf("%s lead units (-want +got):\n%s", tt.code, diff)
			}
			if diff := cmp.Diff(tt.units, task.Units); diff != "" {
				t.Errorf("%s units (-want +got):\n%s", tt.code, diff)
			}
			if diff := cmp.Diff(tt.dues, dues(task.Milestones)); diff != "" {
				t.Errorf("%s milestone dues (-want +got):\n%s", tt.code, diff)
			}
			gotFlags := [3]bool{task.Immediate, task.Ongoing, task.LongTerm}
			if wantFlags := [3]bool{tt.immediate, tt.ongoing, tt.longTerm}; gotFlags != wantFlags {
				t.Errorf("%s flags (immediate, ongoing, long_term) = %v; want %v", tt.code, gotFlags, wantFlags)
			}
			for _, m := range task.Milestones {
				if m.Text == "" || !strings.Contains(task.Deadline, m.Text[:len(m.Text)/2]) {
					t.Errorf("%s milestone %s text %q is not part of the deadline %q", tt.code, m.Due, m.Text, task.Deadline)
				}
			}
			if task.Goal == "" || task.Problem == "" || task.Deadline == "" || len(task.Leaders) == 0 {
				t.Errorf("%s has an empty field: %+v", tt.code, task)
			}
		})
	}
}

func TestParseXuchangFields(t *testing.T) {
	d := parseXuchang(t)
	byCode := map[string]seeds.Task{}
	for _, task := range d.Tasks {
		byCode[task.Code] = task
	}

	wantSections := []seeds.Section{
		{Number: 1, Title: "共性整改任务", Kind: "共性", Line: 5},
		{Number: 2, Title: "个性整改任务", Kind: "个性", Line: 306},
	}
	if diff := cmp.Diff(wantSections, d.Sections); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}

	for i, task := range d.Tasks {
		wantSection, wantNumber := 1, i+1
		if i == 23 {
			wantSection, wantNumber = 2, 1
		}
		if task.Section != wantSection || task.Number != wantNumber {
			t.Errorf("task %d (%s) = section %d number %d; want %d, %d", i, task.Code, task.Section, task.Number, wantSection, wantNumber)
		}
	}

	titles := []struct{ code, title string }{
		{"共性1", "贯彻落实习近平生态文明思想不够深入，思想认识仍然存在偏差"},
		{"共性6", "一些部门推动工作不力，省住房城乡建设部门牵头推进全省垃圾填埋场问题整改工作浮于表面，重调度、轻检查，上报声称全省已开展生活垃圾填埋场整治，所有在用填埋场已完成渗滤液处理设施提标改造，但督察发现，新乡等市生活垃圾填埋场渗滤液巨量积存、处理不力，渗漏风险突出"},
		{"共性7", "企业超计划用水问题突出，水利部门对此疏于监管"},
		{"共性20", "挥发性有机物（VOCs）治理亟待加强"},
		{"个性1", "部分地方履行生态环境保护党委领导、政府主导责任不力，不仅未有效解决突出问题，甚至还成为问题滋生的根源"},
	}
	for _, tt := range titles {
		if got := byCode[tt.code].Title; got != tt.title {
			t.Errorf("%s title = %q; want %q", tt.code, got, tt.title)
		}
	}

	if got, want := byCode["共性7"].Problem, "企业超计划用水问题突出，水利部门对此疏于监管。"; got != want {
		t.Errorf("共性7 problem = %q; want %q", got, want)
	}
	if got, want := byCode["共性7"].Goal, "超计划用水问题整改到位。"; got != want {
		t.Errorf("共性7 goal = %q; want %q", got, want)
	}

	const pre = "河南豫中陆路口岸综合物流港铁路专用线项目："
	wantMeasures4 := []string{
		pre + "2021年12月开工建设。",
		pre + "2021年12月—2022年4月完成铁路路基、涵洞施工。",
		pre + "2022年4月—8月完成铁路桥梁工程。",
		pre + "2022年4月—12月完成铁路货场、站场建筑设备。",
		pre + "2022年10月—12月，完成铁路铺架工程。",
		pre + "2022年6月—2023年3月，完成铁路专线四电工程并完成铁路动态检测及试运行工作。",
	}
	if diff := cmp.Diff(wantMeasures4, byCode["共性4"].Measures); diff != "" {
		t.Errorf("共性4 measures (-want +got):\n%s", diff)
	}
	wantMeasures7 := []string{
		"对纳入计划用水管理的用水户开展全面排查，及时发现问题，推动问题整改，对违法违规问题依法依规查处。",
		"建立健全计划用水监管长效机制，采取“双随机一公开”的形式，按照管理权限每年对辖区内计划用水户进行1—3次监督检查。",
		"对超年度用水计划总量实施累进加价制度，加强取水许可监管。",
	}
	if diff := cmp.Diff(wantMeasures7, byCode["共性7"].Measures); diff != "" {
		t.Errorf("共性7 measures (-want +got):\n%s", diff)
	}

	leaders := []struct {
		code string
		want []string
	}{
		{"共性1", []string{"市委书记", "市政府市长"}},
		{"共性2", []string{"市委常委", "市政府常务副市长", "市政府分管工业副市长", "市政府分管生态环境副市长"}},
		{"共性6", []string{"市政府分管城建副市长"}},
		{"共性13", []string{"市委常委", "市政府常务副市长", "市政府分管水利副市长"}},
		{"个性1", []string{"市委书记", "市政府市长"}},
	}
	for _, tt := range leaders {
		if diff := cmp.Diff(tt.want, byCode[tt.code].Leaders); diff != "" {
			t.Errorf("%s leaders (-want +got):\n%s", tt.code, diff)
		}
	}

	for _, task := range d.Tasks {
		want := "牵头单位、责任单位主要负责同志"
		switch task.Code {
		case "共性1", "共性16":
			want = "责任单位主要负责同志"
		case "个性1":
			want = ""
		}
		if task.Persons != want {
			t.Errorf("%s persons = %q; want %q", task.Code, task.Persons, want)
		}
		if slices.Contains(task.Units, "各县（市") || slices.Contains(task.Units, "区）") {
			t.Errorf("%s units split inside brackets: %q", task.Code, task.Units)
		}
	}

	if got, want := byCode["共性12"].Deadline, "计划建设周期2022年—2024年"; got != want {
		t.Errorf("共性12 deadline = %q; want %q", got, want)
	}
	if got, want := byCode["共性6"].Line, 71; got != want {
		t.Errorf("共性6 line = %d; want %d", got, want)
	}
}

func TestParseXuchangMilestoneTexts(t *testing.T) {
	d := parseXuchang(t)
	byCode := map[string]seeds.Task{}
	for _, task := range d.Tasks {
		byCode[task.Code] = task
	}
	tests := []struct {
		code string
		want []seeds.Milestone
	}{
		{"共性6", []seeds.Milestone{
			{Due: date(t, "2021-12-31"), Text: "2021年12月底前完成全市生活垃圾填埋场渗滤液处理情况调查核查和整改方案制定"},
			{Due: date(t, "2022-12-31"), Text: "2022年12月底前全市生活垃圾填埋场实现渗滤液处理能力与生活垃圾日填埋量相匹配"},
		}},
		{"共性7", []seeds.Milestone{
			{Due: date(t, "2021-09-30"), Text: "2021年9月底前完成全面排查，对排查发现的问题建立台账"},
			{Due: date(t, "2021-12-31"), Text: "2021年12月底前完成整改"},
		}},
		// Written 12月, 10月, 2022年: numbered by due date.
		{"共性9", []seeds.Milestone{
			{Due: date(t, "2021-10-31"), Text: "对初步掌握适宜采取工程治理的2.54万亩历史遗留矿山，2021年10月底前完成治理方案设计并实施治理"},
			{Due: date(t, "2021-12-31"), Text: "2021年12月底前建立历史遗留矿山核查信息数据库"},
			{Due: date(t, "2022-12-31"), Text: "2022年12月底前完成治理"},
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, byCode[tt.code].Milestones); diff != "" {
			t.Errorf("%s milestones (-want +got):\n%s", tt.code, diff)
		}
	}
}

// halfWidth rewrites the document the way a careless typist would: ASCII
// colons, brackets, commas and semicolons.
func halfWidth(s string) string {
	return strings.NewReplacer("：", ":", "（", "(", "）", ")", "，", ",", "；", ";").Replace(s)
}

func TestParseRobust(t *testing.T) {
	orig := string(seeds.Xuchang())
	want := parseXuchang(t)
	tests := []struct {
		name string
		doc  string
	}{
		{"crlf", strings.ReplaceAll(orig, "\n", "\r\n")},
		{"bom", "\ufeff" + orig},
		{"bom crlf", "\ufeff" + strings.ReplaceAll(orig, "\n", "\r\n")},
		{"blank lines", strings.ReplaceAll(orig, "\n", "\n\n\n")},
		{"trailing spaces", strings.ReplaceAll(orig, "\n", " \t\n")},
		{"wrapped deadline", strings.Replace(orig,
			"整改时限：2021年9月底前完成全面排查，对排查发现的问题建立台账；2021年12月底前完成整改",
			"整改时限：2021年9月底前完成全面排查，对排查发现的问题\n建立台账；2021年12月底前完成整改", 1)},
		{"wrapped units", strings.Replace(orig,
			"责任单位：禹州市、长葛市、襄城县",
			"责任单位：禹州市、\n长葛市、襄城县", 1)},
		{"value on the next line", strings.Replace(orig,
			"整改时限：2021年9月底前完成全面排查",
			"整改时限：\n2021年9月底前完成全面排查", 1)},
		{"full-width spaces", strings.Replace(orig, "责 任 人：", "责　任　人　：", -1)},
		{"wrapped problem", strings.Replace(orig,
			"7.企业超计划用水问题突出，水利部门对此疏于监管。",
			"7.企业超计划用水问题突出，\n水利部门对此疏于监管。", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.doc == orig {
				t.Fatal("test document is unchanged; the replacement did not apply")
			}
			got, err := seeds.Parse([]byte(tt.doc))
			if err != nil {
				t.Fatalf("Parse error: %v", err)
			}
			if diff := cmp.Diff(want.Tasks, got.Tasks, ignoreLine); diff != "" {
				t.Errorf("tasks differ from the original document's (-want +got):\n%s", diff)
			}
			if len(got.Warnings) != 0 {
				t.Errorf("warnings = %v; want none", got.Warnings)
			}
		})
	}
}

var ignoreLine = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && (sf.Name() == "Line" || sf.Name() == "LastLine")
}, cmp.Ignore())

// TestParseHalfWidth parses the document with ASCII punctuation. The text of
// problem, goal, measures and deadline keeps the punctuation it was written
// with, so those are compared after the same rewrite; the lists must come out
// exactly as from the original.
func TestParseHalfWidth(t *testing.T) {
	want := parseXuchang(t)
	got, err := seeds.Parse([]byte(halfWidth(string(seeds.Xuchang()))))
	if err != nil {
		t.Fatalf("Parse(half-width) error: %v", err)
	}
	if len(got.Warnings) != 0 {
		t.Errorf("warnings = %v; want none", got.Warnings)
	}
	if len(got.Tasks) != len(want.Tasks) {
		t.Fatalf("Parse(half-width) gave %d tasks; want %d", len(got.Tasks), len(want.Tasks))
	}
	for i := range want.Tasks {
		w := want.Tasks[i]
		w.Title, w.Problem, w.Goal, w.Persons, w.Deadline = halfWidth(w.Title), halfWidth(w.Problem), halfWidth(w.Goal), halfWidth(w.Persons), halfWidth(w.Deadline)
		w.Measures = slices.Clone(w.Measures)
		for j := range w.Measures {
			w.Measures[j] = halfWidth(w.Measures[j])
		}
		w.Milestones = slices.Clone(w.Milestones)
		for j := range w.Milestones {
			w.Milestones[j].Text = halfWidth(w.Milestones[j].Text)
		}
		g := got.Tasks[i]
		// Clauses of one milestone are joined with a full-width comma
		// whatever the document used.
		g.Milestones = slices.Clone(g.Milestones)
		for j := range g.Milestones {
			g.Milestones[j].Text = halfWidth(g.Milestones[j].Text)
		}
		if diff := cmp.Diff(w, g, ignoreLine); diff != "" {
			t.Errorf("%s (-want +got):\n%s", w.Code, diff)
		}
	}
}

func TestParseGBK(t *testing.T) {
	want := parseXuchang(t)
	for _, tt := range []struct {
		name string
		enc  func([]byte) ([]byte, error)
	}{
		{"GBK", func(b []byte) ([]byte, error) { return simplifiedchinese.GBK.NewEncoder().Bytes(b) }},
		{"GB18030", func(b []byte) ([]byte, error) { return simplifiedchinese.GB18030.NewEncoder().Bytes(b) }},
		{"GB18030 crlf", func(b []byte) ([]byte, error) {
			return simplifiedchinese.GB18030.NewEncoder().Bytes(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.enc(seeds.Xuchang())
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if bytes.Equal(doc, seeds.Xuchang()) {
				t.Fatal("encoded document equals the UTF-8 one")
			}
			got, err := seeds.Parse(doc)
			if err != nil {
				t.Fatalf("Parse(%s) error: %v", tt.name, err)
			}
			if diff := cmp.Diff(want.Tasks, got.Tasks, ignoreLine); diff != "" {
				t.Errorf("Parse(%s) tasks (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// TestParseProblems: a problem in one task never sinks the rest. A text
// in which no task could be read is a *ParseError naming the line and what
// was expected; otherwise the tasks read come back, with each problem (a
// part not read) or warning (read, but incomplete) at its line.
func TestParseProblems(t *testing.T) {
	orig := string(seeds.Xuchang())
	lines := strings.Split(orig, "\n")
	lineOf := func(prefix string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no line starts with %q", prefix)
		return 0
	}
	const problem, warning = "problem", "warning"
	tests := []struct {
		name     string
		doc      string
		tasks    int    // 0: a *ParseError
		kind     string // with tasks: where the line is reported
		line     int
		contains string
	}{
		{"hello world", "hello\nworld", 0, "", 1, "不是整改任务清单"},
		{"empty", "", 0, "", 1, "不是整改任务清单"},
		{"only blanks", "\n\n  \n", 0, "", 1, "不是整改任务清单"},
		{"heading without tasks", "一、共性整改任务\n\n", 0, "", 3, "没有找到任务"},
		{"prose under heading", "一、共性整改任务\n这不是任务。\n", 0, "", 2, "应为任务"},
		{"field outside task", "一、共性整改任务\n整改目标：目标。\n", 0, "", 2, "不在任何任务之内"},
		{"binary", "\xff\xfe\x00\x01garbage\x80", 0, "", 1, ""},
		{"task without a heading", "清单\n\n1.某个问题。\n整改目标：目标。\n", 1, warning, 3, "任务1：缺少责任单位"},
		{"no deadline", strings.Replace(orig, "整改时限：2021年9月底前完成全面排查，对排查发现的问题建立台账；2021年12月底前完成整改\n", "", 1),
			24, warning, lineOf("7.企业超计划用水"), "共性7：缺少整改时限：时限未定"},
		{"no units", strings.Replace(orig, "责任单位：禹州市、长葛市、襄城县\n", "", 1),
			24, warning, lineOf("10.矿山非法越界"), "共性10：缺少责任单位"},
		{"duplicate field", strings.Replace(orig, "整改目标：超计划用水问题整改到位。", "整改目标：超计划用水问题整改到位。\n整改目标：又一个。", 1),
			24, problem, lineOf("整改目标：超计划用水问题整改到位。") + 1, "共性7：“整改目标”出现两次"},
		{"task out of order", strings.Replace(orig, "\n8.农业超采地下水", "\n9.农业超采地下水", 1),
			23, warning, lineOf("8.农业超采地下水"), "此处应为第 8 项"},
		{"task given again", strings.Replace(orig, "\n8.农业超采地下水", "\n9.农业超采地下水", 1),
			23, problem, lineOf("9."), "“共性整改任务”第 9 项重复"},
		{"repeated section", "一、共性整改任务\n1.问题。\n责任单位：市城管局\n整改时限：立行立改\n一、共性整改任务（续）\n1.问题。\n责任单位：市城管局\n整改时限：立行立改\n",
			1, problem, 5, "第 5–8 行：“一、共性整改任务（续）”与第 1 部分"},
		{"repeated kind", "一、共性整改任务\n1.问题。\n责任单位：市城管局\n整改时限：立行立改\n二、共性整改任务\n", 1, problem, 5, "重复，其下任务未读取"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := seeds.Parse([]byte(tt.doc))
			if tt.tasks == 0 {
				var pe *seeds.ParseError
				if !errors.As(err, &pe) || d != nil {
					t.Fatalf("Parse(%.40q) = %v, %v; want a *seeds.ParseError", tt.doc, d, err)
				}
				if pe.Line != tt.line {
					t.Errorf("Parse(%.40q) error line = %d; want %d (%v)", tt.doc, pe.Line, tt.line, err)
				}
				if !strings.Contains(pe.Error(), tt.contains) || !strings.HasPrefix(pe.Error(), "第 ") {
					t.Errorf("Parse(%.40q) error = %q; want it to start with the line and mention %q", tt.doc, pe.Error(), tt.contains)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%.40q) error: %v; want %d tasks read", tt.doc, err, tt.tasks)
			}
			if len(d.Tasks) != tt.tasks {
				t.Errorf("read %d tasks; want %d", len(d.Tasks), tt.tasks)
			}
			reported := d.Warnings
			if tt.kind == problem {
				reported = d.Problems
			} else if len(d.Problems) > 0 && tt.name != "task out of order" {
				t.Errorf("problems %v; want none", d.Problems)
			}
			for _, w := range reported {
				if w.Line == tt.line && strings.Contains(w.String(), tt.contains) {
					return
				}
			}
			t.Errorf("no %s at line %d mentioning %q in %v", tt.kind, tt.line, tt.contains, reported)
		})
	}
}

func BenchmarkParse(b *testing.B) {
	doc := seeds.Xuchang()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := seeds.Parse(doc)
		if err != nil || len(d.Tasks) != 24 {
			b.Fatalf("Parse = %v tasks, %v", len(d.Tasks), err)
		}
	}
}

func BenchmarkParseDeadline(b *testing.B) {
	const text = "2021年9月底前完成灌区超计划用水问题排查，12月底前完成超计划用水问题整改，2022年6月底前完成省定治理任务，持续推进"
	b.ReportAllocs()
	for b.Loop() {
		if d := seeds.ParseDeadline(text); len(d.Milestones) != 3 {
			b.Fatal(d)
		}
	}
}

// TestParseWarningsInPlace: the parts of a task read beside the scan (its
// title, measures, units, milestones and the deadline's warnings, see
// seeds.reading) land in their task, and their warnings where the task
// ends among the document's, whatever the number of workers.
func TestParseWarningsInPlace(t *testing.T) {
	const four = "1.甲问题。\n整改目标：甲目标。\n整改措施：1.做甲。\n责任领导：副市长\n牵头单位：市生态环境局\n责任单位：各县（市、区）\n整改时限：尽快完成\n" +
		"2.乙问题。\n联系电话：123\n整改措施：1.做乙。\n责任领导：副市长\n责任单位：长葛市\n整改时限：2022年6月底前\n" +
		"3.丙问题。\n整改目标：丙目标。\n整改措施：1.做丙。\n责任领导：副市长\n责任单位：禹州市\n整改时限：2022年13月底前，抓紧\n" +
		"4.丁问题。\n整改目标：丁目标。\n整改措施：1.做丁。\n责任领导：副市长\n责任单位：禹州市\n"
	d, err := seeds.Parse([]byte("一、共性整改任务\n" + four))
	if err != nil {
		t.Fatal(err)
	}
	want := []seeds.Warning{
		{Line: 8, Task: "共性1", Msg: "整改时限“尽快完成”既没有日期，也没有可识别的关键词（立行立改、持续推进、长期坚持）"},
		{Line: 10, Task: "共性2", Msg: "“联系电话”不是可识别的字段，已作为“其他”内容保留"},
		{Line: 9, Task: "共性2", Msg: "缺少整改目标"},
		{Line: 20, Task: "共性3", Msg: "“2022年13月”：没有 13 月"},
		{Line: 20, Task: "共性3", Msg: "整改时限“2022年13月底前，抓紧”既没有日期，也没有可识别的关键词（立行立改、持续推进、长期坚持）"},
		{Line: 21, Task: "共性4", Msg: "缺少整改时限：时限未定，没有节点"},
	}
	if diff := cmp.Diff(want, d.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	for i, title := range []string{"甲问题", "乙问题", "丙问题", "丁问题"} {
		if got := d.Tasks[i]; got.Title != title || len(got.Measures) != 1 || len(got.Leaders) != 1 || len(got.Units) != 1 {
			t.Errorf("task %d = %q, measures %v, leaders %v, units %v; want %q and one of each", i+1, got.Title, got.Measures, got.Leaders, got.Units, title)
		}
	}
	if got := d.Tasks[1].Milestones; len(got) != 1 || got[0].Due.String() != "2022-06-30" {
		t.Errorf("共性2 milestones = %v; want one due 2022-06-30", got)
	}
	// Many tasks, read by one worker and by several: the same document.
	var big strings.Builder
	for s, name := range []string{"一、共性整改任务", "二、个性整改任务"} {
		big.WriteString(name + "\n")
		for i := range 500 {
			task := strings.Replace(four, "1.甲", fmt.Sprintf("%d.甲", 4*i+1), 1)
			task = strings.Replace(task, "2.乙", fmt.Sprintf("%d.乙", 4*i+2), 1)
			task = strings.Replace(task, "3.丙", fmt.Sprintf("%d.丙", 4*i+3), 1)
			big.WriteString(strings.Replace(task, "4.丁", fmt.Sprintf("%d.丁%d", 4*i+4, s), 1))
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var docs []*seeds.Document
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		d, err := seeds.Parse([]byte(big.String()))
		if err != nil || len(d.Tasks) != 4000 || len(d.Warnings) != 6000 {
			t.Fatalf("GOMAXPROCS %d: %d tasks, %d warnings, %v; want 4000 and 6000", procs, len(d.Tasks), len(d.Warnings), err)
		}
		docs = append(docs, d)
	}
	if diff := cmp.Diff(docs[0], docs[1]); diff != "" {
		t.Errorf("one worker (-) and three (+) read different documents:\n%.2000s", diff)
	}
}

// TestVersionHashesTheTasks: Version is the hash of the tasks' JSON, the
// same bytes however many parts they were marshalled in.
func TestVersionHashesTheTasks(t *testing.T) {
	xuchang, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	var many []seeds.Task
	for i := range 3500 {
		task := xuchang.Tasks[i%len(xuchang.Tasks)]
		task.Number = i + 1
		many = append(many, task)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tasks := range [][]seeds.Task{nil, {}, xuchang.Tasks[:1], xuchang.Tasks[:3], many} {
		b, err := json.Marshal(tasks)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		want := "tasks-" + hex.EncodeToString(sum[:12])
		for _, procs := range []int{1, 2, 3} {
			runtime.GOMAXPROCS(procs)
			if got := (&seeds.Document{Tasks: tasks}).Version(); got != want {
				t.Errorf("%d tasks on %d cores: Version = %s; want %s", len(tasks), procs, got, want)
			}
		}
	}
}
