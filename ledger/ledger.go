// Package ledger writes the rectification ledger (整改台账) as an Excel
// workbook, the file the inspection office prints, files and sends up:
// one row per task, one per unit's share, one per progress entry, and the
// statistics with a chart. The big sheets are streamed (excelize's
// StreamWriter), so memory stays flat however long the list.
package ledger

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"taskbot/bot"
	"taskbot/storage"
)

// Sheet names, in workbook order.
const (
	SheetTasks   = "整改台账"
	SheetShares  = "单位分解"
	SheetEntries = "进展记录"
	SheetStats   = "统计"
)

// DefaultTitle is the ledger's title before "（截至 YYYY-MM-DD）".
const DefaultTitle = "许昌市中央生态环境保护督察整改任务台账"

// Headers of each sheet, in column order.
var (
	TaskHeader  = []string{"序号", "编号", "问题", "整改目标", "整改措施", "责任领导", "牵头单位", "责任单位", "责任人", "整改时限", "完成情况", "最新进展", "状态"}
	ShareHeader = []string{"任务", "节点", "到期日", "单位", "状态", "报完成日期", "确认日期", "逾期天数", "佐证数", "最新进展"}
	EntryHeader = []string{"时间", "任务", "单位", "报送人", "类型", "内容", "佐证"}
	StatsHeader = []string{"排名", "单位", "承担", "已确认", "完成率", "按时确认", "逾期确认", "待确认", "未完成", "逾期", "逾期天数合计", "最近进展", "未报送天数"}
)

// FileName is the file the ledger of day is saved or uploaded as.
func FileName(day storage.Date) string { return fmt.Sprintf("整改台账-%s.xlsx", day) }

// Write writes the ledger as of now to w, titled title (DefaultTitle when
// empty) with "（截至 day）". Errors are the store's (EINTERNAL) or w's.
func Write(ctx context.Context, w io.Writer, b *bot.Bot, now time.Time, title string) error {
	if title == "" {
		title = DefaultTitle
	}
	day := b.Clock().Day(now)
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	x := &writer{f: f, st: st, b: b, day: day, title: fmt.Sprintf("%s（截至 %s）", title, day)}
	if err := f.SetSheetName("Sheet1", SheetTasks); err != nil {
		return err
	}
	for _, s := range []string{SheetShares, SheetEntries, SheetStats} {
		if _, err := f.NewSheet(s); err != nil {
			return err
		}
	}
	for _, step := range []func(context.Context) error{x.tasks, x.shares, x.entries, x.stats} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	_, err = f.WriteTo(w)
	return err
}

type writer struct {
	f     *excelize.File
	st    styles
	b     *bot.Bot
	day   storage.Date
	title string
}

// styles are the workbook's cell styles.
type styles struct {
	title, header, cell, red, amber, green int
}

func newStyles(f *excelize.File) (styles, error) {
	border := []excelize.Border{{Type: "left", Color: "A6A6A6", Style: 1}, {Type: "right", Color: "A6A6A6", Style: 1},
		{Type: "top", Color: "A6A6A6", Style: 1}, {Type: "bottom", Color: "A6A6A6", Style: 1}}
	wrap := &excelize.Alignment{Vertical: "top", WrapText: true}
	font := &excelize.Font{Family: "宋体", Size: 10}
	fill := func(color string) excelize.Fill {
		if color == "" {
			return excelize.Fill{}
		}
		return excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}}
	}
	var s styles
	var err error
	for _, d := range []struct {
		dst   *int
		style excelize.Style
	}{
		{&s.title, excelize.Style{Font: &excelize.Font{Family: "黑体", Size: 16, Bold: true}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}}},
		{&s.header, excelize.Style{Font: &excelize.Font{Family: "黑体", Size: 10, Bold: true}, Border: border, Fill: fill("D9D9D9"),
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&s.cell, excelize.Style{Font: font, Border: border, Alignment: wrap}},
		{&s.red, excelize.Style{Font: font, Border: border, Alignment: wrap, Fill: fill("FFC7CE")}},
		{&s.amber, excelize.Style{Font: font, Border: border, Alignment: wrap, Fill: fill("FFEB9C")}},
		{&s.green, excelize.Style{Font: font, Border: border, Alignment: wrap, Fill: fill("C6EFCE")}},
	} {
		if *d.dst, err = f.NewStyle(&d.style); err != nil {
			return s, err
		}
	}
	return s, nil
}

// fillOf is the style of a row in the given traffic-light status.
func (x *writer) fillOf(s bot.Status) int {
	switch s {
	case bot.StatusRed:
		return x.st.red
	case bot.StatusYellow:
		return x.st.amber
	case bot.StatusDone:
		return x.st.green
	}
	return x.st.cell
}

// open starts a streamed sheet: column widths, the title row over every
// column, the header row, frozen under the header, printed A3 landscape
// with the title and header repeated on every page.
func (x *writer) open(sheet string, header []string, widths []float64) (*excelize.StreamWriter, error) {
	a3, landscape, fit := 8, "landscape", 1
	noHeight := 0
	if err := x.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &a3, Orientation: &landscape, FitToWidth: &fit, FitToHeight: &noHeight}); err != nil {
		return nil, err
	}
	if err := x.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$1:$2", sheet), Scope: sheet}); err != nil {
		return nil, err
	}
	sw, err := x.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	last, _ := excelize.ColumnNumberToName(len(header))
	if err := sw.MergeCell("A1", last+"1"); err != nil {
		return nil, err
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: x.st.title, Value: x.title}}, excelize.RowOpts{Height: 30}); err != nil {
		return nil, err
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: x.st.header, Value: h}
	}
	return sw, sw.SetRow("A2", cells, excelize.RowOpts{Height: 20})
}

// row writes values at row n, every cell in style.
func row(sw *excelize.StreamWriter, n, style int, values ...any) error {
	cells := make([]any, len(values))
	for i, v := range values {
		cells[i] = excelize.Cell{StyleID: style, Value: v}
	}
	cell, _ := excelize.CoordinatesToCellName(1, n)
	return sw.SetRow(cell, cells)
}

// tasks is the 整改台账 sheet: one row per task in the official columns.
func (x *writer) tasks(ctx context.Context) error {
	sw, err := x.open(SheetTasks, TaskHeader, []float64{5, 8, 40, 28, 40, 14, 14, 14, 14, 24, 30, 30, 8})
	if err != nil {
		return err
	}
	latest, err := x.b.Store.LatestEntries(ctx)
	if err != nil {
		return err
	}
	n := 2
	err = x.b.Store.EachTask(ctx, func(t *storage.Task) error {
		n++
		st, status := x.taskStatus(t)
		var measures []string
		for _, m := range t.Measures {
			measures = append(measures, fmt.Sprintf("%d. %s", m.Seq, m.Text))
		}
		var done []string
		for _, m := range t.Milestones {
			if m.Retired {
				continue
			}
			s, label := bot.MilestoneStatus(&m, x.day, x.b.Clock().Zone())
			if t.Closed() && s != bot.StatusDone {
				label = "随任务销号"
			}
			done = append(done, fmt.Sprintf("节点%d %s %s", m.Seq, m.Due, label))
		}
		if flags := bot.Flags(t); flags != "" {
			done = append(done, flags)
		}
		last := ""
		if p, ok := latest[t.ID]; ok {
			last = fmt.Sprintf("%s %s", x.b.Clock().Day(p.CreatedAt), p.Text)
			if p.UnitName != "" {
				last = fmt.Sprintf("%s（%s）%s", x.b.Clock().Day(p.CreatedAt), p.UnitName, p.Text)
			}
		}
		return row(sw, n, x.fillOf(st), n-2, t.Ref(), t.Problem, t.Goal, strings.Join(measures, "\n"),
			strings.Join(t.LeaderPosts(), "、"), strings.Join(t.UnitsWithRole(storage.RoleLead), "、"),
			strings.Join(t.UnitsWithRole(storage.RoleResponsible), "、"), t.Persons, t.Deadline,
			strings.Join(done, "\n"), last, status)
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

// taskStatus is a task's light and word: 已销号, 已完成, 逾期, 临期, 推进中.
func (x *writer) taskStatus(t *storage.Task) (bot.Status, string) {
	if t.Closed() {
		return bot.StatusDone, "已销号"
	}
	worst, open := bot.StatusDone, false
	for _, m := range t.Milestones {
		if m.Retired || m.Done() {
			continue
		}
		open = true
		if s := bot.DueStatus(m.Due, x.day); s < worst {
			worst = s
		}
	}
	switch {
	case !open && len(t.Milestones) == 0:
		return bot.StatusNone, "推进中"
	case !open:
		return bot.StatusDone, "已完成"
	case worst == bot.StatusRed:
		return worst, "逾期"
	case worst == bot.StatusYellow:
		return worst, "临期"
	}
	return bot.StatusNone, "推进中"
}

// shares is the 单位分解 sheet: one row per unit's share.
func (x *writer) shares(ctx context.Context) error {
	sw, err := x.open(SheetShares, ShareHeader, []float64{8, 6, 11, 16, 8, 11, 11, 8, 7, 40})
	if err != nil {
		return err
	}
	latest := map[[2]uint]string{}
	err = x.b.Store.EachEntry(ctx, func(p *storage.ProgressItem) error {
		if p.UnitID != nil {
			latest[[2]uint{p.TaskID, *p.UnitID}] = fmt.Sprintf("%s %s", x.b.Clock().Day(p.CreatedAt), p.Text)
		}
		return nil
	})
	if err != nil {
		return err
	}
	n := 2
	err = x.b.Store.EachShare(ctx, func(s *storage.ShareView) error {
		n++
		milestone, due := "整体", ""
		if s.Seq > 0 {
			milestone, due = fmt.Sprintf("节点%d", s.Seq), s.Due.String()
		}
		var reported, confirmed string
		if s.ReportedAt != nil {
			reported = x.b.Clock().Day(*s.ReportedAt).String()
		}
		late := 0
		light := bot.StatusNone
		state := storage.ShareStateNames[s.State]
		if s.Reason != "" {
			state += "（" + s.Reason + "）"
		}
		switch {
		case s.TaskClosed && !s.Settled():
			light = bot.StatusDone
			state = "随任务销号"
		case s.Settled():
			light = bot.StatusDone
			if s.DecidedAt != nil {
				d := x.b.Clock().Day(*s.DecidedAt)
				confirmed = d.String()
				if s.State == storage.ShareConfirmed && s.Seq > 0 && s.Due.Before(d) {
					late = s.Due.DaysUntil(d)
				}
			}
		case s.Seq > 0:
			light = bot.DueStatus(s.Due, x.day)
			if s.Due.Before(x.day) {
				late = s.Due.DaysUntil(x.day)
			}
		}
		return row(sw, n, x.fillOf(light), s.Code, milestone, due, s.Unit, state, reported, confirmed, late, s.Evidence,
			latest[[2]uint{s.TaskID, s.UnitID}])
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

// entries is the 进展记录 sheet: every entry with its evidence.
func (x *writer) entries(ctx context.Context) error {
	sw, err := x.open(SheetEntries, EntryHeader, []float64{16, 8, 14, 12, 10, 60, 40})
	if err != nil {
		return err
	}
	kinds := map[string]string{storage.KindReport: "进展", storage.KindDone: "报完成", storage.KindCloseRequest: "申请销号",
		storage.KindExtensionRequest: "申请延期"}
	n := 2
	err = x.b.Store.EachEntry(ctx, func(p *storage.ProgressItem) error {
		n++
		kind := kinds[p.Kind]
		if p.MilestoneSeq > 0 {
			kind += fmt.Sprintf(" 节点%d", p.MilestoneSeq)
		}
		who := p.AuthorName
		if who == "" {
			who = p.Author
		}
		var ev []string
		named := map[string]bool{}
		for _, a := range p.Attachments {
			ev = append(ev, a.Name+" "+a.URL)
			named[a.URL] = true
		}
		for _, l := range p.EvidenceLinks() {
			if !named[l] {
				ev = append(ev, l)
			}
		}
		return row(sw, n, x.st.cell, p.CreatedAt.In(x.b.Clock().Zone()).Format("2006-01-02 15:04"), p.Code, p.UnitName, who, kind, p.Text,
			strings.Join(ev, "\n"))
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

// stats is the 统计 sheet: the ranking and a bar chart of completion by
// unit. It is small (one row per unit), so it is written cell by cell.
func (x *writer) stats(ctx context.Context) error {
	st, err := x.b.Statistics(ctx, x.day.In(x.b.Clock().Zone()).Add(9*time.Hour), storage.StatsFilter{})
	if err != nil {
		return err
	}
	f, sheet := x.f, SheetStats
	last, _ := excelize.ColumnNumberToName(len(StatsHeader))
	if err := f.MergeCell(sheet, "A1", last+"1"); err != nil {
		return err
	}
	if err := f.SetCellValue(sheet, "A1", x.title); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, "A1", "A1", x.st.title); err != nil {
		return err
	}
	if err := f.SetSheetRow(sheet, "A2", &StatsHeader); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, "A2", last+"2", x.st.header); err != nil {
		return err
	}
	for i, u := range st.Units {
		n := i + 3
		lastEntry, silent := "", ""
		if !u.LastEntry.IsZero() {
			d := x.b.Clock().Day(u.LastEntry)
			lastEntry, silent = d.String(), fmt.Sprint(d.DaysUntil(x.day))
		}
		values := []any{u.Rank, u.Unit, u.Considered(), u.Confirmed(), u.DoneRate(), u.ConfirmedOnTime, u.ConfirmedLate,
			u.Reported, u.Open, u.Overdue, u.DaysOverdue, lastEntry, silent}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		if err := f.SetSheetRow(sheet, cell, &values); err != nil {
			return err
		}
		style := x.st.cell
		if u.Overdue > 0 {
			style = x.st.red
		}
		end, _ := excelize.CoordinatesToCellName(len(StatsHeader), n)
		if err := f.SetCellStyle(sheet, cell, end, style); err != nil {
			return err
		}
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 9})
	if err != nil {
		return err
	}
	if len(st.Units) > 0 {
		if err := f.SetCellStyle(sheet, "E3", fmt.Sprintf("E%d", len(st.Units)+2), pct); err != nil {
			return err
		}
	}
	for i, w := range []float64{6, 20, 7, 7, 8, 8, 8, 7, 7, 6, 10, 12, 10} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, col, col, w); err != nil {
			return err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 2, TopLeftCell: "A3", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	a3, landscape := 8, "landscape"
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Size: &a3, Orientation: &landscape}); err != nil {
		return err
	}
	if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$1:$2", sheet), Scope: sheet}); err != nil {
		return err
	}
	if len(st.Units) == 0 {
		return nil
	}
	// A bar per unit, at most 60 so that the chart stays readable; the
	// table above has them all.
	shown := min(len(st.Units), 60)
	return f.AddChart(sheet, "O2", &excelize.Chart{
		Type: excelize.Bar,
		Series: []excelize.ChartSeries{{
			Name:       fmt.Sprintf("'%s'!$E$2", sheet),
			Categories: fmt.Sprintf("'%s'!$B$3:$B$%d", sheet, shown+2),
			Values:     fmt.Sprintf("'%s'!$E$3:$E$%d", sheet, shown+2),
		}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "各单位完成率（已确认 ÷ 承担）"}}},
		Legend:    excelize.ChartLegend{Position: "none"},
		Dimension: excelize.ChartDimension{Width: 640, Height: uint(max(320, 18*shown))},
	})
}
