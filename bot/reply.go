package bot

import (
	"fmt"
	"strings"

	"taskbot/storage"
)

// Status is the traffic-light state of a milestone or task as of a date.
type Status int

// Statuses, in the order a reader cares about them.
const (
	StatusNone    Status = iota
	StatusRed            // overdue
	StatusYellow         // due within 7 days (today included)
	StatusGreen          // due later
	StatusDone           // done or closed
	StatusFlagged        // immediate / ongoing / long-term, no date
)

// Marker is the symbol shown before an item with the status.
func (s Status) Marker() string {
	switch s {
	case StatusRed:
		return "🔴"
	case StatusYellow:
		return "🟡"
	case StatusGreen:
		return "🟢"
	case StatusDone:
		return "✅"
	case StatusFlagged:
		return "🔵"
	}
	return "•"
}

// Reply is what the core answers: structured, so that the console renders
// text and the Slack adapter renders Block Kit from the same value.
type Reply struct {
	Title string
	// AsOf is the date the answer depends on ("截至 …"); zero when it does
	// not depend on today.
	AsOf      storage.Date
	Sections  []Section
	Footnotes []string
	// Error marks a reply to bad input or a refusal.
	Error bool
	// Unavailable marks an error reply because the database cannot be
	// written (disk full, read-only): a terminal session stops with it.
	Unavailable bool `json:",omitempty"`
	// Notices are for other people; adapters deliver them (see Notice).
	Notices []Notice
	// Actions are follow-up questions the reader may ask with one click
	// (查看全文, 各单位): commands that only read. Adapters that have
	// buttons show them; the footnotes say the same in words.
	Actions []Action `json:",omitempty"`
	// Short, when set, is the same answer made compact for chat, where
	// people read what changed at a glance (the Slack adapter shows it;
	// the console shows the full reply).
	Short *Reply `json:",omitempty"`
	// Upload is a file that goes with the reply (the Excel ledger): the
	// Slack adapter uploads it to the conversation, the console saves it.
	Upload *Upload `json:",omitempty"`
}

// Section is a titled block of a reply.
type Section struct {
	Heading string
	Text    string
	Fields  []Field
	Items   []Item
	// More is how many items were left out to keep the reply readable;
	// Counter the word that counts them ("项" when empty, "个" for units).
	More    int
	Counter string
}

// MoreLine says how many items were left out: "…另有 3 项未列出".
func (s *Section) MoreLine() string {
	counter := s.Counter
	if counter == "" {
		counter = "项"
	}
	return fmt.Sprintf("…另有 %d %s未列出", s.More, counter)
}

// Field is a label and its value, e.g. 责任单位：市城管局.
type Field struct {
	Label string
	Value string
}

// Item is one line of a list, with an optional status marker.
type Item struct {
	Status Status
	Text   string
	// Thread, when set, is the task whose tracking thread the line should
	// link to but that has none yet: the adapter that posts the message
	// starts the thread and adds the link (see Bot.TaskThread).
	Thread *ThreadRef `json:",omitempty"`
	// Action, when set, is what to do about this line with one click
	// (确认 a report, 报送 a share); adapters with buttons put it beside
	// the line, and the line's text says the same as a command.
	Action *Action `json:",omitempty"`
}

// Text renders the reply as plain text: the console's output and the Slack
// fallback.
func (r Reply) Text() string {
	var b strings.Builder
	if r.Title != "" {
		b.WriteString(r.Title)
		b.WriteByte('\n')
	}
	if !r.AsOf.IsZero() {
		fmt.Fprintf(&b, "截至 %s\n", r.AsOf)
	}
	for _, s := range r.Sections {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if s.Heading != "" {
			fmt.Fprintf(&b, "【%s】\n", s.Heading)
		}
		if s.Text != "" {
			b.WriteString(s.Text)
			b.WriteByte('\n')
		}
		for _, f := range s.Fields {
			fmt.Fprintf(&b, "%s：%s\n", f.Label, f.Value)
		}
		for _, it := range s.Items {
			if it.Status != StatusNone {
				fmt.Fprintf(&b, "%s %s\n", it.Status.Marker(), it.Text)
			} else {
				fmt.Fprintf(&b, "  %s\n", it.Text)
			}
		}
		if s.More > 0 {
			fmt.Fprintf(&b, "  %s\n", s.MoreLine())
		}
	}
	if len(r.Footnotes) > 0 {
		b.WriteByte('\n')
		for _, f := range r.Footnotes {
			b.WriteString(f)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Upload is a file that goes with a reply.
type Upload struct {
	Name string
	Data []byte
}

// Action is a button: its label and the command it runs as the person who
// presses it, with the same authorization as typing it. A command that
// only reads answers the presser; one that writes acts, and the message
// it came from shows the outcome. Reason, when set, is the label of the
// reason the presser must give (a form), appended to the command.
type Action struct {
	Label   string
	Command string
	Reason  string `json:",omitempty"`
	// Form, when set, opens a form of that kind for the task Command names
	// (a code, then perhaps the milestone to preselect) instead of running it: "report" (报送进展), "close" (申请销号) or
	// "extend" (申请延期); submitted, it goes through SubmitProgress.
	Form string `json:",omitempty"`
}
