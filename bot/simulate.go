package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"taskbot/storage"
)

// simState is what a simulation has claimed and queued so far, on top of
// the store (which it never writes).
type simState struct {
	claimed map[string]bool
	queued  map[string]bool
}

// SimMessage is one message a simulated pass would send.
type SimMessage struct {
	// Date is the day of the pass, in the clock's zone.
	Date storage.Date
	// Type is what the message is: "reminder", "escalation", "nudge" or
	// "digest" (the outbox kinds).
	Type   string
	To     Recipient
	Notice Notice
	// Tasks are the codes of the tasks the message is about.
	Tasks []string
	// Covers are the (unit, task, milestone, step) facts the message
	// reaches its recipient with, e.g. "长葛市|共性7|1|d7".
	Covers []string
}

// SimulateReminders runs reminder passes at the given moments and digest
// passes at digests (both in order), as the scheduler would, with progress
// as it stands: each pass sees what the earlier ones claimed and queued.
// Nothing is written and nothing is sent. It returns every message in
// order.
func (b *Bot) SimulateReminders(ctx context.Context, passes, digests []time.Time, p RemindPolicy, dp DigestPolicy) ([]SimMessage, error) {
	sim := &simState{claimed: map[string]bool{}, queued: map[string]bool{}}
	var out []SimMessage
	i, j := 0, 0
	for i < len(passes) || j < len(digests) {
		if j < len(digests) && (i == len(passes) || digests[j].Before(passes[i])) {
			m, ok, err := b.simDigest(ctx, digests[j], dp, sim)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, m)
			}
			j++
			continue
		}
		now := passes[i]
		i++
		plan, err := b.plan(ctx, now, p, sim)
		if err != nil {
			return nil, err
		}
		for _, st := range plan.Steps {
			sim.claimed[st.Key] = true
		}
		day := b.today(now)
		for _, m := range plan.Messages {
			if sim.queued[m.Key] {
				continue
			}
			sim.queued[m.Key] = true
			out = append(out, SimMessage{Date: day, Type: m.Kind, To: m.To, Notice: m.Notice, Tasks: m.Tasks, Covers: m.Covers})
		}
	}
	return out, nil
}

// simDigest is a digest pass: a digest on working days, once a day.
func (b *Bot) simDigest(ctx context.Context, now time.Time, p DigestPolicy, sim *simState) (SimMessage, bool, error) {
	day := b.today(now)
	key := DigestKey(day)
	if p.Calendar != nil && !p.Calendar.Working(day) || sim.queued[key] || p.Channel == "" {
		return SimMessage{}, false, nil
	}
	r, err := b.Digest(ctx, now, p)
	if err != nil {
		return SimMessage{}, false, err
	}
	sim.queued[key] = true
	return SimMessage{Date: day, Type: KindDigest, To: Recipient{"channel", p.Channel}, Notice: Notice{To: "日报频道", Channel: p.Channel, Reply: r}}, true, nil
}

// simType is the message's type for a preview: escalation, digest, or the
// most urgent of what a reminder carries (overdue, due, ahead, nudge).
func simType(kind string, facts []string) string {
	if kind == KindEscalation || kind == KindDigest {
		return kind
	}
	rank := map[string]int{"overdue": 4, "due": 3, "ahead": 2, "nudge": 1}
	best := "nudge"
	for _, f := range facts {
		step := f[strings.LastIndexByte(f, '|')+1:]
		t := "ahead"
		switch {
		case step == "nudge":
			t = "nudge"
		case step == "d0":
			t = "due"
		case strings.HasPrefix(step, "o"):
			t = "overdue"
		}
		if rank[t] > rank[best] {
			best = t
		}
	}
	return best
}

// simJSON is one message of a preview as `remind --json` prints it.
type simJSON struct {
	Date  string    `json:"date"`
	To    Recipient `json:"to"`
	Type  string    `json:"type"`
	Tasks []string  `json:"tasks"`
	Text  string    `json:"text"`
}

// WriteSimulation prints a preview: with asJSON one JSON object per
// message; otherwise a line per day with messages and the totals: by
// recipient kind, the busiest recipients, the days with messages.
func WriteSimulation(w io.Writer, from, to storage.Date, msgs []SimMessage, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, m := range msgs {
			tasks := m.Tasks
			if tasks == nil {
				tasks = []string{}
			}
			err := enc.Encode(simJSON{Date: m.Date.String(), To: m.To, Type: simType(m.Type, m.Covers), Tasks: tasks,
				Text: strings.TrimRight(m.Notice.Reply.Text(), "\n")})
			if err != nil {
				return err
			}
		}
		return nil
	}
	kindNames := map[string]string{"unit": "单位", "user": "个人", "channel": "频道"}
	byDay := map[storage.Date][]SimMessage{}
	var days []storage.Date
	byKind := map[string]int{}
	byTo := map[Recipient]int{}
	for _, m := range msgs {
		if byDay[m.Date] == nil {
			days = append(days, m.Date)
		}
		byDay[m.Date] = append(byDay[m.Date], m)
		byKind[m.To.Kind]++
		byTo[m.To]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "提醒预演 %s 至 %s（按调度时间逐日模拟；未写入、未发送）\n", from, to)
	for _, d := range days {
		k := map[string]int{}
		for _, m := range byDay[d] {
			k[m.To.Kind]++
		}
		fmt.Fprintf(&b, "%s %s：%d 条（单位 %d · 个人 %d · 频道 %d）\n", d, weekdayNames[d.Weekday()], len(byDay[d]), k["unit"], k["user"], k["channel"])
	}
	fmt.Fprintf(&b, "\n合计 %d 条消息，%d 个发送日。", len(msgs), len(days))
	var kinds []string
	for _, k := range []string{"unit", "user", "channel"} {
		kinds = append(kinds, fmt.Sprintf("%s %d", kindNames[k], byKind[k]))
	}
	fmt.Fprintf(&b, "按接收方：%s。\n", strings.Join(kinds, " · "))
	tos := make([]Recipient, 0, len(byTo))
	for r := range byTo {
		tos = append(tos, r)
	}
	sort.Slice(tos, func(i, j int) bool {
		if byTo[tos[i]] != byTo[tos[j]] {
			return byTo[tos[i]] > byTo[tos[j]]
		}
		return tos[i].Name < tos[j].Name
	})
	var busy []string
	for i, r := range tos {
		if i == 5 {
			break
		}
		busy = append(busy, fmt.Sprintf("%s（%s）%d 条", r.Name, kindNames[r.Kind], byTo[r]))
	}
	if len(busy) > 0 {
		fmt.Fprintf(&b, "最忙的接收方：%s。\n", strings.Join(busy, "、"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var weekdayNames = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}
