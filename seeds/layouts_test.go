package seeds_test

import (
	"strings"
	"testing"

	"taskbot/seeds"
	"taskbot/storage"
)

// The layout families other lists use (issue 16), each in a document
// written for the test in that shape.

// headingPerField: a notice whose fields each have a heading (一、反馈问题
// …), the value on the lines after; the document is one task, a second
// block a second task.
const headingPerField = `关于某县饮用水水源地问题整改情况的公示

一、反馈问题
某县饮用水水源一级保护区内仍有养殖场未清理。
二、整改目标
水源地保护区内违法建设项目全部清理到位。
三、整改措施
1.开展拉网式排查；
2.依法关闭拆除养殖场；
3.建立长效巡查机制。
四、整改期限
2022年6月底前
五、整改完成情况
已完成，养殖场已全部拆除。
公示期：2022年7月1日至7月7日。
某县生态环境保护委员会办公室
2022年7月1日
`

// flattenedTable: a Word table copied as text, a label cell and a value
// cell on consecutive lines, each ending in " |".
const flattenedTable = `整改任务概述 |
城区部分河段雨污混流，汛期污水直排。 |
目标任务 |
城区河段消除污水直排。 |
主要措施 |
（1）完成雨污分流改造。（2）建设调蓄池。 |
整改实施主体 |
市住建局、市城管局 |
完成时限 |
2023年12月底前 |
`

// numberedNotice: tasks numbered 编号N and 第N项, inline fields with
// synonyms, a page header between pages, a date and signature at the end,
// and a last task cut off before its deadline.
const numberedNotice = `某市第二轮省级督察反馈问题整改清单
编号1：工业园区污水处理厂超标排放。
整改目标：稳定达标排放。
重点措施：（1）提标改造。（2）在线监测联网。
整改责任单位：某市工业园区管委会
整改时间：2022年12月底前
- 2 -
编号2：建筑工地扬尘管控不力。
整改目标：扬尘管控“六个百分之百”落实到位。
重点措施：（1）加强巡查。
整改责任单位：市住建局
完成时限：立行立改，长期坚持
第3项：秸秆露天焚烧时有发生。
整改责任单位：各县（市、区）
某市生态环境保护委员会
2022年1月5日
`

func parse(t *testing.T, doc string) *seeds.Document {
	t.Helper()
	d, err := seeds.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	return d
}

func TestHeadingPerField(t *testing.T) {
	d := parse(t, headingPerField)
	if len(d.Tasks) != 1 || len(d.Problems) != 0 {
		t.Fatalf("tasks %+v, problems %v; want one task", d.Tasks, d.Problems)
	}
	task := d.Tasks[0]
	if task.Problem != "某县饮用水水源一级保护区内仍有养殖场未清理。" || task.Goal != "水源地保护区内违法建设项目全部清理到位。" {
		t.Errorf("problem %q, goal %q", task.Problem, task.Goal)
	}
	if task.Status != "已完成，养殖场已全部拆除。" {
		t.Errorf("status %q; want the 整改完成情况, not the goal", task.Status)
	}
	if len(task.Milestones) != 1 || task.Milestones[0].Due != storage.NewDate(2022, 6, 30) {
		t.Errorf("milestones %+v; want 2022-06-30", task.Milestones)
	}
	if task.Deadline != "2022年6月底前" {
		t.Errorf("deadline %q: the 公示 note, signature and date are not part of it", task.Deadline)
	}
	notes := joinWarnings(d.Notes)
	if got := strings.Join(task.Measures, "|"); got != "开展拉网式排查；|依法关闭拆除养殖场；|建立长效巡查机制。" {
		t.Errorf("measures %q; want the three numbered 1. 2. 3.", task.Measures)
	}
	for _, want := range []string{"第 1 行：", "第 15 行：已跳过公示说明", "第 16 行：已跳过落款", "第 17 行：已跳过日期行"} {
		if !strings.Contains(notes, want) {
			t.Errorf("no note %q in:\n%s", want, notes)
		}
	}
	// Two blocks: two tasks.
	d = parse(t, headingPerField+strings.ReplaceAll(headingPerField, "养殖场", "砂石厂"))
	if len(d.Tasks) != 2 || d.Tasks[1].Number != 2 || !strings.Contains(d.Tasks[1].Problem, "砂石厂") {
		t.Errorf("two blocks: %+v", d.Tasks)
	}
}

func TestFlattenedTable(t *testing.T) {
	d := parse(t, flattenedTable)
	if len(d.Tasks) != 1 || len(d.Problems) != 0 {
		t.Fatalf("tasks %+v, problems %v; want one task", d.Tasks, d.Problems)
	}
	task := d.Tasks[0]
	want := seeds.Task{Problem: "城区部分河段雨污混流，汛期污水直排。", Goal: "城区河段消除污水直排。",
		Measures: []string{"完成雨污分流改造。", "建设调蓄池。"}, Units: []string{"市住建局", "市城管局"}, Deadline: "2023年12月底前"}
	if task.Problem != want.Problem || task.Goal != want.Goal || strings.Join(task.Measures, "|") != strings.Join(want.Measures, "|") ||
		strings.Join(task.Units, "|") != strings.Join(want.Units, "|") || task.Deadline != want.Deadline {
		t.Errorf("task %+v; want %+v", task, want)
	}
}

func TestNumberedNotice(t *testing.T) {
	d := parse(t, numberedNotice)
	var codes []string
	for _, task := range d.Tasks {
		codes = append(codes, task.Code)
	}
	if strings.Join(codes, " ") != "任务1 任务2 任务3" {
		t.Fatalf("codes %v; want 任务1 任务2 任务3", codes)
	}
	if u := d.Tasks[0].Units; len(u) != 1 || u[0] != "某市工业园区管委会" {
		t.Errorf("任务1 units %q (整改责任单位)", u)
	}
	if m := d.Tasks[0].Milestones; len(m) != 1 || m[0].Due != storage.NewDate(2022, 12, 31) {
		t.Errorf("任务1 milestones %+v (整改时间)", m)
	}
	if d.Tasks[0].Deadline != "2022年12月底前" {
		t.Errorf("任务1 deadline %q: the page number is not part of it", d.Tasks[0].Deadline)
	}
	if !d.Tasks[1].LongTerm || !d.Tasks[1].Immediate {
		t.Errorf("任务2 flags: %+v (完成时限：立行立改，长期坚持)", d.Tasks[1])
	}
	// The last task, cut off: read, with its deadline missing.
	last := d.Tasks[2]
	if last.Deadline != "" || len(last.Milestones) != 0 || strings.Join(last.Units, "") != "各县（市、区）" {
		t.Errorf("任务3 = %+v; want units and no deadline (the signature and date are no part of it)", last)
	}
	warnings := joinWarnings(d.Warnings)
	if !strings.Contains(warnings, "任务3：缺少整改时限：时限未定") {
		t.Errorf("no warning of 任务3's missing deadline in:\n%s", warnings)
	}
	notes := joinWarnings(d.Notes)
	for _, want := range []string{"第 7 行：已跳过页码", "第 15 行：已跳过落款", "第 16 行：已跳过日期行"} {
		if !strings.Contains(notes, want) {
			t.Errorf("no note %q in:\n%s", want, notes)
		}
	}
}

// TestNoticeFieldsOnOneLine: a notice whose task is one line of fields
// after one another (编号1：整改任务：…。整改目标：…。责任单位：…), and one
// whose problem label follows its number on a line of its own: the
// fields are read, the labels are not part of the text.
func TestNoticeFieldsOnOneLine(t *testing.T) {
	d := parse(t, "编号1：整改任务：部分县区扬尘治理不到位。整改目标：扬尘得到有效控制。整改措施：1.排查登记；2.限期整改。"+
		"责任单位：长葛市、禹州市。整改时限：2022年6月底前\n"+
		"编号2\n整改任务：秸秆焚烧时有发生。\n整改目标：零火点。\n整改责任单位：禹州市\n完成时限：立行立改\n")
	if len(d.Tasks) != 2 || len(d.Problems) != 0 {
		t.Fatalf("tasks %d, problems %v; want 2 tasks read whole", len(d.Tasks), d.Problems)
	}
	one, two := d.Tasks[0], d.Tasks[1]
	if one.Title != "部分县区扬尘治理不到位" || one.Goal != "扬尘得到有效控制。" || len(one.Measures) != 2 ||
		strings.Join(one.Units, "、") != "长葛市、禹州市" || len(one.Milestones) != 1 || one.Milestones[0].Due != storage.NewDate(2022, 6, 30) {
		t.Errorf("任务1 = %+v", one)
	}
	if two.Title != "秸秆焚烧时有发生" || two.Goal != "零火点。" || strings.Join(two.Units, "") != "禹州市" || !two.Immediate {
		t.Errorf("任务2 = %+v", two)
	}
}

// TestLabelsInsideFields: a field whose text names another field's label
// (a measure's own deadline, a status's date, a goal's 完成时间) is not
// cut there: only a task written on one line is.
func TestLabelsInsideFields(t *testing.T) {
	d := parse(t, "一、共性整改任务\n1.问题甲。\n整改措施：（1）开展排查。完成时限：2022年3月底前。（2）建立台账。完成时限：2022年6月底前。\n"+
		"责任单位：长葛市\n整改时限：2022年6月底前\n2.问题乙。\n整改完成情况：已完成整改。完成时间：2022年5月。\n责任单位：禹州市\n"+
		"整改时限：2022年6月底前\n3.问题丙。\n整改目标：2022年底前完成。完成时间：以验收为准\n责任单位：襄城县\n整改时限：2022年6月底前\n")
	if len(d.Tasks) != 3 || len(d.Problems) != 0 {
		t.Fatalf("tasks %d, problems %v; want 3 read whole", len(d.Tasks), d.Problems)
	}
	for _, task := range d.Tasks {
		if task.Deadline != "2022年6月底前" {
			t.Errorf("%s deadline %q; want its 整改时限", task.Code, task.Deadline)
		}
	}
	if m := d.Tasks[0].Measures; len(m) != 2 || !strings.Contains(m[1], "完成时限：2022年6月底前") {
		t.Errorf("共性1 measures %q; want both, each with its own deadline", m)
	}
	if d.Tasks[1].Status != "已完成整改。完成时间：2022年5月。" || d.Tasks[2].Goal != "2022年底前完成。完成时间：以验收为准" {
		t.Errorf("status %q, goal %q; want them whole", d.Tasks[1].Status, d.Tasks[2].Goal)
	}
}

func joinWarnings(ws []seeds.Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

// TestMeasureNumbering: measures numbered 1. 1、 （一） 一是 are split into
// items, as （1） are; a number in the text is not a marker.
func TestMeasureNumbering(t *testing.T) {
	for _, tt := range []struct{ measures, want string }{
		{"（1）甲。（2）乙。", "甲。|乙。"},
		{"1.甲；2.乙；3.丙。", "甲；|乙；|丙。"},
		{"1、甲。2、乙。", "甲。|乙。"},
		{"（一）甲。（二）乙。", "甲。|乙。"},
		{"一是加强甲；二是推进乙。", "加强甲；|推进乙。"},
		{"完成1.5万亩治理。", "完成1.5万亩治理。"},
		{"完成治理，共2.完成验收。", "完成治理，共2.完成验收。"},
		{"甲项目：1.拆除；2.复绿。", "甲项目：拆除；|甲项目：复绿。"},
	} {
		d := parse(t, "一、共性整改任务\n1.问题。\n整改措施："+tt.measures+"\n责任单位：甲县\n整改时限：立行立改\n")
		if got := strings.Join(d.Tasks[0].Measures, "|"); got != tt.want {
			t.Errorf("整改措施：%s → %q; want %q", tt.measures, got, tt.want)
		}
	}
}

// TestOtherFields: a field under a label taskbot does not read is kept as
// the task's note (其他) and reported, never glued to the field before it.
func TestOtherFields(t *testing.T) {
	d := parse(t, "一、共性整改任务\n1.问题。\n整改目标：目标。\n备注：需协调省厅，\n分两期实施。\n责任单位：甲县\n整改时限：立行立改\n整改要求：按月报送进展。\n")
	task := d.Tasks[0]
	if task.Goal != "目标。" {
		t.Errorf("goal %q; want the note kept out of it", task.Goal)
	}
	if got := strings.Join(task.Other, "|"); got != "备注：需协调省厅，分两期实施。|整改要求：按月报送进展。" {
		t.Errorf("other %q", task.Other)
	}
	if task.Deadline != "立行立改" {
		t.Errorf("deadline %q", task.Deadline)
	}
	warnings := joinWarnings(d.Warnings)
	for _, want := range []string{"第 4 行 共性1：“备注”不是可识别的字段", "第 8 行 共性1：“整改要求”不是可识别的字段"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("no warning %q in:\n%s", want, warnings)
		}
	}
}

// TestLayoutEdges: inputs an independent review found read wrongly, each
// now read as its writer meant.
func TestLayoutEdges(t *testing.T) {
	type want struct {
		code, field, value string
	}
	for _, tt := range []struct {
		name, doc string
		tasks     int
		wants     []want
	}{
		{"text after the last task", "一、共性整改任务\n1.污水收集不完善。\n责任单位：市住建局\n整改时限：2022年12月底前\n联系人：张三，电话0374-1234567\n2023年1月5日印发\n中共某县委办公室 某县人民政府办公室\n",
			1, []want{{"共性1", "deadline", "2022年12月底前"}, {"共性1", "other", "联系人：张三，电话0374-1234567"}}},
		{"a date and a signature as values", "一、反馈问题\n渗滤液外溢。\n二、整改措施\n1.修复防渗膜；\n2.建立台账并向社会公示；\n三、责任单位\n某县人民政府\n四、整改期限\n2022年6月30日\n",
			1, []want{{"任务1", "units", "某县人民政府"}, {"任务1", "deadline", "2022年6月30日"}, {"任务1", "measures", "修复防渗膜；|建立台账并向社会公示；"}}},
		{"a task about 公示", "一、共性整改任务\n1.扬尘管控不到位。\n责任单位：市住建局\n整改时限：2022年12月底前\n2.环境信息未依法公示。\n责任单位：市生态环境局\n整改时限：2022年6月底前\n",
			2, []want{{"共性2", "problem", "环境信息未依法公示。"}}},
		{"a task without units or deadline", "一、共性整改任务\n1.河道垃圾漂浮。\n整改目标：保洁常态化。\n2.黑臭水体治理滞后。\n责任单位：各县（市、区）\n整改时限：2023年底前\n",
			2, []want{{"共性1", "goal", "保洁常态化。"}, {"共性2", "problem", "黑臭水体治理滞后。"}}},
		{"two heading blocks without deadlines", "一、反馈问题\n甲河段黑臭。\n二、整改目标\n消除黑臭。\n一、反馈问题\n乙河段垃圾堆放。\n二、整改目标\n清理到位。\n",
			2, []want{{"任务2", "problem", "乙河段垃圾堆放。"}}},
		{"measures after the deadline", "一、共性整改任务\n1.餐饮油烟扰民。\n责任单位：市城管局\n整改时限：2022年12月底前\n整改措施：\n1.安装净化设施；\n2.联合执法；\n3.快速处置。\n2.渣土车抛洒。\n责任单位：市城管局\n整改时限：立行立改\n",
			2, []want{{"共性1", "measures", "安装净化设施；|联合执法；|快速处置。"}, {"共性2", "problem", "渣土车抛洒。"}}},
		{"a numbered status", "一、反馈问题\n有违建。\n二、整改期限\n2022年6月底前\n三、整改完成情况\n1.已完成排查；\n2.已拆除违建3处。\n",
			1, []want{{"任务1", "status", "1.已完成排查；2.已拆除违建3处。"}}},
		{"问题： in a wrapped problem", "一、共性整改任务\n1.园区存在以下\n问题：一是管网不完善；二是数据异常。\n责任单位：园区管委会\n整改时限：2022年12月底前\n",
			1, []want{{"共性1", "problem", "园区存在以下问题：一是管网不完善；二是数据异常。"}}},
		{"a preamble with labels", "某县整改清单\n整改任务：共2项。\n完成时限：2022年底前全部完成\n一、共性整改任务\n1.扬尘。\n责任单位：市住建局\n整改时限：2022年12月底前\n",
			1, []want{{"共性1", "deadline", "2022年12月底前"}}},
		{"a form's rows", "整改任务 | 企业治理设施运行不正常。 |\n责任单位 | 市生态环境局 | 整改时限 | 2022年12月底前 |\n整改目标 | 设施正常运行 |\n",
			1, []want{{"任务1", "units", "市生态环境局"}, {"任务1", "deadline", "2022年12月底前"}, {"任务1", "goal", "设施正常运行"}}},
		{"（四） notices", "（一）水库周边违建。\n整改措施：\n（一）拆除；\n（二）复绿。\n责任单位：某区政府\n整改时限：2022年6月底前\n（二）山体违规开采。\n责任单位：某区自然资源局\n整改时限：2022年12月底前\n",
			2, []want{{"任务1", "measures", "拆除；|复绿。"}, {"任务2", "problem", "山体违规开采。"}}},
		{"a section headed 整改任务", "一、整改任务\n1.扬尘。\n责任单位：市住建局\n整改时限：2022年12月底前\n2.油烟。\n责任单位：市城管局\n整改时限：立行立改\n",
			2, []want{{"第1部分2", "problem", "油烟。"}}},
		{"a task numbered as the list above would go on", "一、共性整改任务\n1.垃圾。\n责任单位：市水利局\n整改时限：2023年6月底前\n2.扬尘。\n责任单位：市住建局\n整改时限：2023年12月底前\n整改措施：\n1.巡查。\n2.处罚。\n3.黑臭水体反弹。\n责任单位：市生态环境局\n整改时限：2024年6月底前\n",
			3, []want{{"共性2", "measures", "巡查。|处罚。"}, {"共性3", "units", "市生态环境局"}}},
		{"问题： without sections", "问题：管网破损。\n整改目标：完好率95%。\n整改措施：改造管网。\n问题：垃圾收运不畅。\n责任单位：市城管局\n整改时限：2023年12月底前\n",
			2, []want{{"任务1", "measures", "改造管网。"}, {"任务2", "problem", "垃圾收运不畅。"}}},
		{"a form of rows without sections", "问题 | 垃圾清理不及时 | 整改目标 | 河道洁净\n整改时限 | 2023年6月底前 | 完成情况 | 已完成\n问题 | 扬尘 | 责任单位 | 市住建局\n",
			2, []want{{"任务1", "status", "已完成"}, {"任务2", "units", "市住建局"}}},
		{"（一） measures on the label's line", "（一）垃圾清理不及时。\n整改措施：（一）开展排查；\n（二）建立台账。\n责任单位：市水利局\n整改时限：2023年6月底前\n（二）扬尘管控不到位。\n责任单位：市住建局\n整改时限：2023年12月底前\n",
			2, []want{{"任务1", "measures", "开展排查；|建立台账。"}, {"任务2", "problem", "扬尘管控不到位。"}}},
		{"（一） list in a problem", "一、共性整改任务\n1.管护问题突出，主要表现在：\n（一）垃圾清理不及时；\n（二）巡河不到位。\n责任单位：市水利局\n整改时限：2023年6月底前\n2.扬尘。\n责任单位：市住建局\n整改时限：2023年12月底前\n",
			2, []want{{"共性1", "problem", "管护问题突出，主要表现在：（一）垃圾清理不及时；（二）巡河不到位。"}, {"共性2", "problem", "扬尘。"}}},
		{"第一百项", "第九十九项：排污口未整治。\n整改责任单位：某区政府\n整改时间：2022年12月底前\n第一百项：矿山未复绿。\n整改责任单位：某县政府\n整改时间：2023年6月底前\n",
			2, []want{{"任务100", "problem", "矿山未复绿。"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := parse(t, tt.doc)
			if len(d.Tasks) != tt.tasks || len(d.Problems) != 0 {
				t.Fatalf("tasks %+v, problems %v; want %d tasks, no problem", d.Tasks, d.Problems, tt.tasks)
			}
			checkAccounted(t, []byte(tt.doc), d)
			for _, w := range tt.wants {
				var task *seeds.Task
				for i := range d.Tasks {
					if d.Tasks[i].Code == w.code {
						task = &d.Tasks[i]
					}
				}
				if task == nil {
					t.Fatalf("no task %s in %+v", w.code, d.Tasks)
				}
				got := map[string]string{"deadline": task.Deadline, "problem": task.Problem, "goal": task.Goal, "status": task.Status,
					"units": strings.Join(task.Units, "|"), "measures": strings.Join(task.Measures, "|"), "other": strings.Join(task.Other, "|")}[w.field]
				if got != w.value {
					t.Errorf("%s %s = %q; want %q", w.code, w.field, got, w.value)
				}
			}
		})
	}
}
