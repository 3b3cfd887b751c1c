package seeds

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// WriteSummary writes the plain-text summary of d that `taskbot check`
// prints, in Chinese as its readers are: for each task its code, line,
// title (clipped to 40 characters), measure count, leaders, lead and
// responsible units, due dates and flags; then a count of tasks by section
// under name, and every problem, warning and note. It
// returns the error, if any, of the single write to w.
func WriteSummary(w io.Writer, name string, d *Document) error {
	// Built in memory and written once, so a failing w is reported once and
	// never leaves half a task behind.
	var b bytes.Buffer
	for _, t := range d.Tasks {
		var dues []string
		for _, m := range t.Milestones {
			dues = append(dues, m.Due.String())
		}
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{t.Immediate, KeywordImmediate}, {t.Ongoing, KeywordOngoing}, {t.LongTerm, KeywordLongTerm}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(&b, "%-6s %-9s %s\n", t.Code, fmt.Sprintf("第 %d 行", t.Line), clipRunes(t.Title, 40))
		fmt.Fprintf(&b, "       措施 %d 条 · 责任领导 %s\n", len(t.Measures), orDash(strings.Join(t.Leaders, "、")))
		if len(t.LeadUnits) > 0 {
			fmt.Fprintf(&b, "       牵头单位 %s\n", strings.Join(t.LeadUnits, "、"))
		}
		fmt.Fprintf(&b, "       责任单位 %s\n", orDash(strings.Join(t.Units, "、")))
		fmt.Fprintf(&b, "       时限 %s\n", strings.TrimSpace(orDash(strings.Join(dues, "、"))+" "+strings.Join(flags, " ")))
	}
	bySection := map[string]int{}
	var order []string
	for _, t := range d.Tasks {
		k := strings.TrimRight(t.Code, "0123456789")
		if bySection[k] == 0 {
			order = append(order, k)
		}
		bySection[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s %d 项", k, bySection[k]))
	}
	fmt.Fprintf(&b, "\n%s：%d 项任务（%s），%d 条提示", name, len(d.Tasks), strings.Join(parts, "、"), len(d.Warnings))
	if len(d.Problems) > 0 {
		fmt.Fprintf(&b, "，%d 处未能读取", len(d.Problems))
	}
	b.WriteString("\n")
	for _, wn := range d.Problems {
		fmt.Fprintf(&b, "未能读取：%s\n", wn)
	}
	for _, wn := range d.Warnings {
		fmt.Fprintf(&b, "提示：%s\n", wn)
	}
	for _, wn := range d.Notes {
		fmt.Fprintf(&b, "说明：%s\n", wn)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
