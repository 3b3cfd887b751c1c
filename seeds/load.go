package seeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"taskbot/storage"
)

// Records converts the parsed tasks into storage tasks for Store.Seed.
func (d *Document) Records() []storage.Task {
	out := make([]storage.Task, len(d.Tasks))
	for i, t := range d.Tasks {
		r := storage.Task{
			Section: t.Section, Number: t.Number, Code: t.Code, Title: t.Title, Problem: t.Problem,
			Goal: t.Goal, Persons: t.Persons, Deadline: t.Deadline,
			Immediate: t.Immediate, Ongoing: t.Ongoing, LongTerm: t.LongTerm,
			DocStatus: t.Status, OtherNotes: strings.Join(t.Other, "\n"),
		}
		for _, m := range t.Measures {
			r.Measures = append(r.Measures, storage.Measure{Text: m})
		}
		for _, l := range t.Leaders {
			r.Leaders = append(r.Leaders, storage.Leader{Post: l})
		}
		for _, m := range t.Milestones {
			r.Milestones = append(r.Milestones, storage.Milestone{Due: m.Due, PlannedDue: m.Due, Text: m.Text})
		}
		for _, u := range t.LeadUnits {
			r.Units = append(r.Units, storage.TaskUnit{Role: storage.RoleLead, Unit: storage.Unit{Name: u}})
		}
		for _, u := range t.Units {
			r.Units = append(r.Units, storage.TaskUnit{Role: storage.RoleResponsible, Unit: storage.Unit{Name: u}})
		}
		out[i] = r
	}
	return out
}

// Version identifies the parsed content: a hash of the tasks as parsed, so
// that a changed document or a parser fix both lead to a re-seed.
//
// The hash is of json.Marshal(d.Tasks), whose parts are marshalled on
// every core (a 100,000-task list: about a second on one).
func (d *Document) Version() string {
	h := sha256.New()
	if d.Tasks == nil {
		h.Write([]byte("null"))
	} else {
		n := min(runtime.GOMAXPROCS(0), max(1, len(d.Tasks)/1000))
		parts := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			part := d.Tasks[i*len(d.Tasks)/n : (i+1)*len(d.Tasks)/n]
			wg.Go(func() { parts[i], _ = json.Marshal(part) }) // plain structs: cannot fail
		}
		wg.Wait()
		// Each part is [a,b,…]: one array of them all.
		h.Write([]byte("["))
		first := true
		for _, p := range parts {
			if len(p) > 2 {
				if !first {
					h.Write([]byte(","))
				}
				h.Write(p[1 : len(p)-1])
				first = false
			}
		}
		h.Write([]byte("]"))
	}
	return "tasks-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// Load parses doc and seeds it into store. A store already seeded from the
// same content is left as it is; one seeded from these very bytes, by this
// parser, is not even parsed again (a start on a large list reads one
// row), and the document returned is then nil. The organisation's units
// (org, may be nil) go in with a seeding (see storage.SeedFrom).
func Load(ctx context.Context, store *storage.Store, doc []byte, org []storage.UnitSpec) (*Document, storage.SeedResult, error) {
	source := sourceOf(doc)
	if v, err := store.MetaValue(ctx, storage.MetaSeedSource); err != nil || v == source {
		return nil, storage.SeedResult{Skipped: err == nil}, err
	}
	d, err := Parse(doc)
	if err != nil {
		return nil, storage.SeedResult{}, err
	}
	if err := d.Complete(); err != nil {
		return nil, storage.SeedResult{}, err
	}
	if d.CodeList != "" {
		return nil, storage.SeedResult{}, storage.Errorf(storage.EINVALID, "此表的编号属于清单“%s”（如“%s/…”），不是默认清单的：请用 taskbot import 文件 --list %s 导入。", d.CodeList, d.CodeList, d.CodeList)
	}
	res, err := store.SeedList(ctx, d.Records(), storage.SeedOptions{Title: d.Title, Version: d.Version(), Source: source, Org: org})
	return d, res, err
}

// Import reads doc and seeds list (its short name) with it, as Load does
// the default list: a list not there yet is made, one there is updated in
// place. A document with problems is refused (see Complete). Dry says to
// work out what would change and write nothing.
func Import(ctx context.Context, store *storage.Store, doc []byte, list string, dry bool) (*Document, storage.SeedResult, error) {
	if err := storage.CheckListName(list); err != nil {
		return nil, storage.SeedResult{}, err
	}
	d, err := Parse(doc)
	if err != nil {
		return nil, storage.SeedResult{}, err
	}
	if err := d.Complete(); err != nil {
		return d, storage.SeedResult{}, err
	}
	if d.CodeList != "" && d.CodeList != list {
		return d, storage.SeedResult{}, storage.Errorf(storage.EINVALID, "此表的编号属于清单“%s”（如“%s/…”），不能导入清单“%s”：要导入该清单请用 --list %s。", d.CodeList, d.CodeList, list, d.CodeList)
	}
	res, err := store.SeedList(ctx, d.Records(), storage.SeedOptions{List: list, Title: d.Title, DryRun: dry})
	return d, res, err
}

// sourceOf names doc as read by this parser: its bytes' hash, with the
// build's revision and the version of the embedded list as this parser
// reads it, so that a release that reads documents differently parses
// them again (Version then decides whether the tasks changed).
func sourceOf(doc []byte) string {
	h := sha256.New()
	h.Write(doc)
	h.Write([]byte(parserStamp()))
	return "sha256-" + hex.EncodeToString(h.Sum(nil))
}

// parserStamp identifies this parser: the VCS revision the binary was
// built from when Go recorded it, and the embedded list's version as
// parsed now.
var parserStamp = sync.OnceValue(func() string {
	stamp := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				stamp += s.Value + ";"
			}
		}
	}
	if d, err := Parse(Xuchang()); err == nil {
		stamp += d.Version()
	}
	return stamp
})

// Complete returns an error naming the document's problems, if it has any:
// a list read in part is not seeded, since seeding it would take the
// parts not read for removed (their milestones retired).
func (d *Document) Complete() error {
	if len(d.Problems) == 0 {
		return nil
	}
	first := d.Problems[0]
	msg := fmt.Sprintf("读到 %d 项任务，但清单有 %d 处未能读取（可用 taskbot check 查看）：%s", len(d.Tasks), len(d.Problems), first.Msg)
	if first.Task != "" {
		msg = fmt.Sprintf("读到 %d 项任务，但清单有 %d 处未能读取（可用 taskbot check 查看）：%s：%s", len(d.Tasks), len(d.Problems), first.Task, first.Msg)
	}
	return &ParseError{Line: first.Line, Msg: msg + listed(d.Problems[1:])}
}
