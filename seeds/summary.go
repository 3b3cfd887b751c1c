package seeds

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// WriteSummary writes the plain-text summary of d that `taskbot check`
// prints: for each task its code, line, title (clipped to 40 characters),
// measure count, leaders, lead and responsible units, due dates and flags;
// then a count of tasks by section under name, and every warning. It
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
		fmt.Fprintf(&b, "%-6s line %-4d %s\n", t.Code, t.Line, clipRunes(t.Title, 40))
		fmt.Fprintf(&b, "       measures %d · leaders %s\n", len(t.Measures), strings.Join(t.Leaders, "、"))
		if len(t.LeadUnits) > 0 {
			fmt.Fprintf(&b, "       lead %s\n", strings.Join(t.LeadUnits, "、"))
		}
		fmt.Fprintf(&b, "       units %s\n", strings.Join(t.Units, "、"))
		fmt.Fprintf(&b, "       due %s %s\n", orDash(strings.Join(dues, ", ")), strings.Join(flags, " "))
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
		parts = append(parts, fmt.Sprintf("%d %s", bySection[k], k))
	}
	fmt.Fprintf(&b, "\n%s: %d tasks (%s), %d warnings", name, len(d.Tasks), strings.Join(parts, ", "), len(d.Warnings))
	if len(d.Problems) > 0 {
		fmt.Fprintf(&b, ", %d problems (parts not read)", len(d.Problems))
	}
	b.WriteString("\n")
	for _, wn := range d.Problems {
		fmt.Fprintf(&b, "problem: %s\n", wn)
	}
	for _, wn := range d.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	for _, wn := range d.Notes {
		fmt.Fprintf(&b, "note: %s\n", wn)
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
