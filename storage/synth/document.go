package synth

import (
	"fmt"
	"strings"

	"taskbot/storage"
)

// Document writes tasks as a task-list document in the layout of the real
// list (seeds' parser reads it): a title, the section heading, and per
// task its problem, 整改目标, numbered 整改措施, 责任领导, 牵头单位, 责任单位,
// 责 任 人 and 整改时限, each on a line of its own. Benchmarks use it to
// seed, re-seed and start on large lists through the same road as a real
// deployment. Only section-1 tasks are written, numbered as given.
func Document(title string, tasks []storage.Task) []byte {
	var b strings.Builder
	// Sampled sentences carry the real list's labels and numbers; a label
	// inside a field would start another.
	clean := labels.Replace
	fmt.Fprintf(&b, "附件\n\n%s\n\n一、共性整改任务\n\n", title)
	for _, t := range tasks {
		fmt.Fprintf(&b, "%d.%s\n\n", t.Number, strings.TrimLeft(clean(t.Problem), "0123456789."))
		if t.Goal != "" {
			fmt.Fprintf(&b, "整改目标：%s\n\n", clean(t.Goal))
		}
		if len(t.Measures) > 0 {
			b.WriteString("整改措施：")
			for i, m := range t.Measures {
				fmt.Fprintf(&b, "（%d）%s", i+1, clean(m.Text))
			}
			b.WriteString("\n")
		}
		var leaders []string
		for _, l := range t.Leaders {
			leaders = append(leaders, l.Post)
		}
		fmt.Fprintf(&b, "责任领导：%s\n", strings.Join(leaders, "，"))
		for _, role := range []struct{ role, label string }{{storage.RoleLead, "牵头单位"}, {storage.RoleResponsible, "责任单位"}} {
			var names []string
			for _, u := range t.Units {
				if u.Role == role.role {
					names = append(names, u.Unit.Name)
				}
			}
			if len(names) > 0 {
				fmt.Fprintf(&b, "%s：%s\n", role.label, strings.Join(names, "、"))
			}
		}
		if t.Persons != "" {
			fmt.Fprintf(&b, "责 任 人：%s\n", t.Persons)
		}
		fmt.Fprintf(&b, "整改时限：%s\n", clean(t.Deadline))
	}
	return []byte(b.String())
}

// labels removes the field labels of the real list from sampled text.
var labels = strings.NewReplacer("整改目标：", "", "整改措施：", "", "责任领导：", "", "牵头单位：", "",
	"责任单位：", "", "责 任 人：", "", "整改时限：", "", "：", "，", "（", "〔", "）", "〕")
