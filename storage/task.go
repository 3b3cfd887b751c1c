package storage

import (
	"time"
)

// Roles of a unit in a task.
const (
	RoleLead        = "lead"        // 牵头单位
	RoleResponsible = "responsible" // 责任单位
)

// Task is one rectification task. The document fields come from the task
// list and are rewritten by seeding; ClosedAt and everything hanging off the
// task that users create (progress, audit) is never touched by seeding.
type Task struct {
	ID uint `gorm:"primaryKey"`
	// ListID is the list the task belongs to (see List); codes and
	// numbers are unique within a list.
	ListID    uint   `gorm:"not null;default:1;uniqueIndex:idx_tasks_list_section_number,priority:1;uniqueIndex:idx_tasks_list_code,priority:1"`
	Section   int    `gorm:"not null;uniqueIndex:idx_tasks_list_section_number,priority:2;index:idx_tasks_urgency,priority:3"`
	Number    int    `gorm:"not null;uniqueIndex:idx_tasks_list_section_number,priority:3;index:idx_tasks_urgency,priority:4"`
	Code      string `gorm:"size:32;not null;uniqueIndex:idx_tasks_list_code,priority:2"`
	Title     string `gorm:"type:text;not null"`
	Problem   string `gorm:"type:text;not null"`
	Goal      string `gorm:"type:text;not null"`
	Persons   string `gorm:"type:text;not null"`
	Deadline  string `gorm:"type:text;not null"`
	Immediate bool   `gorm:"not null"`
	Ongoing   bool   `gorm:"not null"`
	LongTerm  bool   `gorm:"not null"`
	// DocStatus is the progress the document itself reports (its
	// 完成情况 field), as written; "" when it has none. OtherNotes are the
	// task's fields under labels taskbot does not read ("label：value"),
	// one per line. Both are the list's, rewritten by seeding.
	DocStatus  string `gorm:"type:text;not null;default:''"`
	OtherNotes string `gorm:"type:text;not null;default:''"`
	// SearchText is no longer written: new tasks have "", and the search
	// index joins title, goal, measures and problem itself (the joined
	// copy was a quarter of the table, and of a first seeding's writing).
	// The column stays, as replicas of earlier versions read it; during a
	// rolling upgrade their search misses the text of the tasks this
	// version wrote. A later version drops it.
	SearchText string `gorm:"type:text;not null"`
	// Doc is a JSON read copy of the task's measures, leaders and units
	// (see taskDoc); the normalized tables are the source of truth.
	Doc string `gorm:"type:text;not null;default:''" json:"-"`

	// NextDue is the earliest due date among the task's open milestones
	// (NULL when none is open), kept up to date by every write that changes
	// a milestone, so listings sort and page in SQL.
	NextDue Date `gorm:"type:varchar(10);index:idx_tasks_urgency,priority:2"`
	// Rank orders tasks by urgency: 0 open dated work, 1 immediate/ongoing/
	// long-term without an open date, 2 all milestones done, 3 closed.
	Rank int `gorm:"not null;default:0;index:idx_tasks_urgency,priority:1"`

	// (closed_at, created_at) counts the open tasks tracked since a day
	// on the index alone (the digest's silent tasks).
	ClosedAt  *time.Time `gorm:"index:idx_tasks_open_since,priority:1"`
	CreatedAt time.Time  `gorm:"index:idx_tasks_open_since,priority:2"`
	UpdatedAt time.Time

	// ListName is the name of the task's list when the database holds
	// several lists, "" when one (set by the Store's readers; see Ref).
	ListName string `gorm:"-" json:"-"`

	Measures   []Measure   `gorm:"constraint:OnDelete:CASCADE"`
	Milestones []Milestone `gorm:"constraint:OnDelete:CASCADE"`
	Leaders    []Leader    `gorm:"constraint:OnDelete:CASCADE"`
	Units      []TaskUnit  `gorm:"constraint:OnDelete:CASCADE"`
}

// Ref is how people name the task: its code, qualified by its list's
// name ("省督察二轮/共性6") when it is not in the default list of several
// (ListName set). Every command that takes a task takes it.
func (t *Task) Ref() string {
	return qualify(t.Code, t.ListID, map[uint]string{t.ListID: t.ListName})
}

// Label is the task's code as a card's title shows it: with its list's
// name when there are several ("省督察二轮 共性6").
func (t *Task) Label() string {
	if t.ListName == "" {
		return t.Code
	}
	return t.ListName + " " + t.Code
}

// Closed reports whether the task was closed out (销号).
func (t *Task) Closed() bool { return t.ClosedAt != nil }

// UnitsWithRole returns the names of the task's units with the given role,
// in document order.
func (t *Task) UnitsWithRole(role string) []string {
	var out []string
	for _, u := range t.Units {
		if u.Role == role {
			out = append(out, u.Unit.Name)
		}
	}
	return out
}

// LeaderPosts returns the task's leader posts in document order.
func (t *Task) LeaderPosts() []string {
	out := make([]string, len(t.Leaders))
	for i, l := range t.Leaders {
		out[i] = l.Post
	}
	return out
}

// Measure is one numbered 整改措施 of a task.
type Measure struct {
	ID     uint   `gorm:"primaryKey"`
	TaskID uint   `gorm:"not null;uniqueIndex:idx_measures_task_seq,priority:1"`
	Seq    int    `gorm:"not null;uniqueIndex:idx_measures_task_seq,priority:2"`
	Text   string `gorm:"type:text;not null"`
}

// Milestone is one dated clause of a task's deadline. Due is the date in
// force; PlannedDue is the document's date, which differs after an approved
// extension. Seeding updates PlannedDue and Text, and Due only when no
// extension was granted; DoneAt is the users' and is never reset by seeding.
type Milestone struct {
	ID         uint   `gorm:"primaryKey"`
	TaskID     uint   `gorm:"not null;uniqueIndex:idx_milestones_task_seq,priority:1;index:idx_milestones_open_due,priority:3"`
	Seq        int    `gorm:"not null;uniqueIndex:idx_milestones_task_seq,priority:2;index:idx_milestones_open_due,priority:4"`
	Due        Date   `gorm:"type:varchar(10);not null;index:idx_milestones_open_due,priority:2"`
	PlannedDue Date   `gorm:"type:varchar(10);not null"`
	Text       string `gorm:"type:text;not null"`
	// Open is false once the milestone is done or retired; it leads the
	// index that due/overdue queries use.
	Open       bool `gorm:"not null;default:true;index:idx_milestones_open_due,priority:1"`
	DoneAt     *time.Time
	ExtendedAt *time.Time
	// Retired marks a milestone that a newer document no longer has. It is
	// kept (users may have reported on it) but leaves the open lists.
	Retired bool `gorm:"not null;default:false"`

	Task *Task `gorm:"constraint:OnDelete:CASCADE"`
}

// Done reports whether the milestone was marked done.
func (m *Milestone) Done() bool { return m.DoneAt != nil }

// Leader is one responsible leader post (责任领导) of a task.
type Leader struct {
	ID     uint   `gorm:"primaryKey"`
	TaskID uint   `gorm:"not null;uniqueIndex:idx_leaders_task_seq,priority:1"`
	Seq    int    `gorm:"not null;uniqueIndex:idx_leaders_task_seq,priority:2"`
	Post   string `gorm:"size:128;not null;index"`
}

// Unit is an organisation named in the list: a city bureau, a county, or a
// collective such as 各县（市、区）.
type Unit struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"size:128;not null;uniqueIndex"`
}

// TaskUnit links a unit to a task with its role, in document order.
type TaskUnit struct {
	TaskID uint   `gorm:"primaryKey"`
	UnitID uint   `gorm:"primaryKey;index"`
	Role   string `gorm:"primaryKey;size:16"`
	Seq    int    `gorm:"not null"`
	Unit   Unit   `gorm:"constraint:OnDelete:CASCADE"`
}

// UnitAlias is another name people type for a unit (环境局 → 市生态环境局).
type UnitAlias struct {
	Alias  string `gorm:"primaryKey;size:128"`
	UnitID uint   `gorm:"not null;index"`
	Unit   Unit   `gorm:"constraint:OnDelete:CASCADE"`
}

// UnitMember says that Member belongs to the collective unit Collective
// (长葛市 belongs to 各县（市、区）).
type UnitMember struct {
	CollectiveID uint `gorm:"primaryKey"`
	MemberID     uint `gorm:"primaryKey;index"`
	Seq          int  `gorm:"not null"`
	Collective   Unit `gorm:"constraint:OnDelete:CASCADE"`
	Member       Unit `gorm:"constraint:OnDelete:CASCADE"`
}

// UnitTask is a unit's task with collectives expanded (长葛市 holds every task
// given to 各县（市、区）, ViaID naming the collective; 0 when named directly)
// and the task's sort keys copied in, so that a unit's most urgent tasks are
// one index range scan. It is derived data: rebuilt from task_units and
// unit_members, and its keys refreshed with the task's.
type UnitTask struct {
	UnitID  uint   `gorm:"primaryKey;index:idx_unit_tasks_order,priority:1"`
	Role    string `gorm:"primaryKey;size:16;index:idx_unit_tasks_order,priority:2"`
	TaskID  uint   `gorm:"primaryKey;index"`
	ViaID   uint   `gorm:"not null"`
	Rank    int    `gorm:"not null;index:idx_unit_tasks_order,priority:3"`
	NextDue Date   `gorm:"type:varchar(10);index:idx_unit_tasks_order,priority:4"`
	Section int    `gorm:"not null;index:idx_unit_tasks_order,priority:5"`
	Number  int    `gorm:"not null;index:idx_unit_tasks_order,priority:6"`
}

// Meta holds small key/value facts about the database, such as the hash of
// the document it was last seeded from.
type Meta struct {
	Name  string `gorm:"primaryKey;size:64"`
	Value string `gorm:"type:text;not null"`
}
