package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// List is a task list the deployment runs: the central inspection's, the
// province's, a 回头看 list. Every task belongs to one (Task.ListID). The
// default list (DefaultList) is the one the start seeds from TASKBOT_SEED
// and the one short codes such as "6" name; others are added by
// `taskbot import FILE --list NAME`.
type List struct {
	ID uint `gorm:"primaryKey"`
	// Name is the short name people type and read (中央督察, 省督察二轮).
	Name string `gorm:"size:64;not null;uniqueIndex"`
	// Title is the document's own title ("" when it has none).
	Title     string `gorm:"type:text;not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DefaultList is the ID of the default list: the one a database upgraded
// from a single list holds its tasks in, and the one TASKBOT_SEED seeds.
const DefaultList uint = 1

// MaxListName bounds a list's name, in characters.
const MaxListName = 32

// CheckListName returns EINVALID, in Chinese, when name cannot name a
// list: empty, too long, with spaces or slashes (a qualified code is the
// name, a space or a slash, the code), invisible characters, or reading as
// a task code itself.
func CheckListName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Errorf(EINVALID, "清单名称不能为空；请用简短名称，例如“省督察二轮”。")
	case utf8.RuneCountInString(name) > MaxListName:
		return Errorf(EINVALID, "清单名称“%s”过长：最多 %d 个字。", name, MaxListName)
	case strings.ContainsAny(name, " \t\r\n\u3000"):
		return Errorf(EINVALID, "清单名称“%s”含有空格：名称之后以空格接任务编号（如“%s 共性6”），名称本身不能有空格。", name, strings.Fields(name)[0])
	case strings.ContainsAny(name, "/／"):
		return Errorf(EINVALID, "清单名称“%s”含有“/”：任务写作“清单名/编号”，名称本身不能有“/”。", name)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return Errorf(EINVALID, "清单名称含有不可见字符；请用简短的中文名称，例如“省督察二轮”。")
	case codeLikeName.MatchString(name):
		return Errorf(EINVALID, "清单名称“%s”像任务编号：“%s 共性6”会被读作别的意思；请用不以数字结尾的名称，例如“省督察二轮”。", name, name)
	}
	return nil
}

// codeLikeName matches names that read as a task code or number (6, 共性1,
// c3, 第6项): a list so named could not be told from its tasks.
var codeLikeName = regexp.MustCompile(`^[#＃]?[\p{Han}A-Za-z]{0,6}[0-9０-９]+[项条号]?$`)

// Lists returns every list, by ID (the default list first).
func (s *Store) Lists(ctx context.Context) ([]List, error) {
	var out []List
	if err := s.db.WithContext(ctx).Order("id").Find(&out).Error; err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// notUnitName returns EINVALID when name would be a new list's and a unit
// is called so (by name or alias): `stats NAME` could not tell them apart.
// A list that has the name already keeps it.
func notUnitName(tx *gorm.DB, name string) error {
	var listed, units int64
	if err := tx.Model(&List{}).Where("name = ?", name).Count(&listed).Error; err != nil || listed > 0 {
		return err
	}
	err := tx.Raw(`SELECT (SELECT COUNT(*) FROM units WHERE name = ?) + (SELECT COUNT(*) FROM unit_aliases WHERE alias = ?)`,
		name, name).Scan(&units).Error
	if err != nil {
		return err
	}
	if units > 0 {
		return Errorf(EINVALID, "清单名称“%s”与一个单位的名称（或简称）相同，/stats %s 将无法区分二者，请换一个名称，如“%s清单”。", name, name, name)
	}
	return nil
}

// listNamed returns the list called name, creating it (titled title) when
// there is none. An empty name is the default list, created as title
// names it when there is none yet, and named so when an upgrade left it
// unnamed (see migrateLists).
func listNamed(tx *gorm.DB, name, title string) (List, error) {
	var l List
	q := tx.Where("name = ?", name)
	if name == "" {
		q = tx.Where("id = ?", DefaultList)
	}
	err := q.Take(&l).Error
	if err == nil && name == "" && l.Name == unnamedList {
		if l.Name, err = freeName(tx, defaultListName(title)); err != nil {
			return l, err
		}
		l.Title = title
		return l, tx.Model(&l).Updates(map[string]any{"name": l.Name, "title": l.Title}).Error
	}
	if err == nil || !errors.Is(err, gorm.ErrRecordNotFound) {
		return l, err
	}
	l = List{Name: name, Title: title}
	if name == "" {
		l.ID = DefaultList
		if l.Name, err = freeName(tx, defaultListName(title)); err != nil {
			return l, err
		}
	} else {
		// Past the default list's ID, even before the start made it.
		var last uint
		if err := tx.Model(&List{}).Select("COALESCE(MAX(id), 0)").Scan(&last).Error; err != nil {
			return l, err
		}
		l.ID = max(last, DefaultList) + 1
	}
	if err := tx.Create(&l).Error; err != nil {
		return l, err
	}
	return l, fixListSequence(tx)
}

// defaultListName is the name the default list takes from its document's
// title: the title itself when short enough, "任务清单" otherwise.
func defaultListName(title string) string {
	title = strings.Join(strings.Fields(title), "")
	if title == "" || CheckListName(title) != nil {
		return "任务清单"
	}
	return title
}

// fixListSequence moves PostgreSQL's ID sequence of lists past the default
// list, whose ID was given explicitly.
func fixListSequence(tx *gorm.DB) error {
	if tx.Dialector.Name() != Postgres {
		return nil
	}
	return tx.Exec(`SELECT setval(pg_get_serial_sequence('lists', 'id'), (SELECT MAX(id) FROM lists))`).Error
}

// freeName is name, or name marked as the default list's when an imported
// list already has it (names are unique), numbered if need be.
func freeName(tx *gorm.DB, name string) (string, error) {
	stem := string([]rune(name)[:min(utf8.RuneCountInString(name), MaxListName-6)])
	for i := 0; ; i++ {
		try := name
		switch {
		case i == 1:
			try = stem + "（默认）"
		case i > 1:
			try = fmt.Sprintf("%s（默认%d）", stem, i)
		}
		var n int64
		if err := tx.Model(&List{}).Where("name = ?", try).Count(&n).Error; err != nil || n == 0 {
			return try, err
		}
	}
}

// unnamedList is the default list's name between the upgrade that made it
// and the start that seeds it from its document (listNamed).
const unnamedList = "~"

// migrateLists puts the tasks of a database written before several lists
// into the default list, named "~" until the next start names it after its
// document's title (listNamed): the migration does not know which document
// that is. A database without tasks gets no list. The seed's recorded
// source and version are forgotten, so that the next start reads the
// document again, names the list and writes what the tasks did not keep
// before (their 完成情况 and other fields: doc_status, other_notes); its
// tasks found unchanged are left alone.
func migrateLists(tx *gorm.DB) error {
	if err := tx.Where("name IN ?", []string{MetaSeedSource, metaSeedVersion}).Delete(&Meta{}).Error; err != nil {
		return err
	}
	var n int64
	if err := tx.Model(&Task{}).Count(&n).Error; err != nil || n == 0 {
		return err
	}
	if err := tx.Exec("UPDATE tasks SET list_id = ? WHERE list_id <> ?", DefaultList, DefaultList).Error; err != nil {
		return err
	}
	var have int64
	if err := tx.Model(&List{}).Where("id = ?", DefaultList).Count(&have).Error; err != nil || have > 0 {
		return err
	}
	if err := tx.Create(&List{ID: DefaultList, Name: unnamedList}).Error; err != nil {
		return err
	}
	return fixListSequence(tx)
}

// migrateShareLists is the data migration copying each task's list into
// its shares (shares.list_id, which AutoMigrate adds as the default list's).
func migrateShareLists(tx *gorm.DB) error {
	err := tx.Exec(`UPDATE shares SET list_id = t.list_id FROM tasks t WHERE t.id = shares.task_id AND shares.list_id <> t.list_id`).Error
	if err != nil {
		return err
	}
	return shareListsChecked(tx)
}

// shareListsChecked records every share there is as having its task's
// list (see SettleShareLists).
func shareListsChecked(tx *gorm.DB) error {
	var top int64
	if err := tx.Raw(`SELECT COALESCE(MAX(id), 0) FROM shares`).Scan(&top).Error; err != nil {
		return err
	}
	return setMeta(tx, metaShareListsChecked, strconv.FormatInt(top, 10))
}

// metaShareListsChecked is the meta row holding the last share ID whose
// list SettleShareLists checked.
const metaShareListsChecked = "share_lists_checked"

// shareListsMargin is how far below the last share checked the next check
// starts again: a share whose ID was taken before the check but committed
// after it (PostgreSQL) is still looked at.
const shareListsMargin = 10000

// SettleShareLists gives the shares written since the last check their
// task's list, where a process of a version before shares.list_id wrote
// them (its rows take the default list's ID): while such a process still
// runs beside this one, as in a rolling upgrade, its shares would
// otherwise be counted in the default list. The triggers move their
// counts. A range of the primary key: a few rows each pass. It returns
// EINTERNAL when the database fails.
func (s *Store) SettleShareLists(ctx context.Context) error {
	// Read first: nearly always there is no new share, and no write.
	var v struct{ Last string }
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE((SELECT value FROM meta WHERE name = ?), '') AS last`, metaShareListsChecked).Scan(&v).Error
	if err != nil {
		return Internal(err)
	}
	last, _ := strconv.ParseInt(v.Last, 10, 64)
	var top int64
	if err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(id), 0) FROM shares`).Scan(&top).Error; err != nil {
		return Internal(err)
	}
	if top <= last {
		return nil
	}
	err = s.write(ctx, func(tx *gorm.DB) error {
		err := tx.Exec(`UPDATE shares SET list_id = t.list_id FROM tasks t
			WHERE shares.id > ? AND t.id = shares.task_id AND shares.list_id <> t.list_id`, max(last-shareListsMargin, 0)).Error
		if err != nil {
			return err
		}
		return shareListsChecked(tx)
	})
	if err != nil {
		return Internal(err)
	}
	return nil
}

// ListNames returns the lists' names by ID when there are several, and
// nil when there is one list or none: names are shown only to tell lists
// apart.
//
// Every card and listing reads it: with database/sql, not gorm's
// reflection (a card from the store: 185–217 µs through gorm, 159–198 µs
// so; 790 and 772 allocations).
func (s *Store) ListNames(ctx context.Context) (map[uint]string, error) {
	names, err := listNamesOf(s.db.WithContext(ctx))
	if err != nil {
		return nil, Internal(err)
	}
	return names, nil
}

// listNamesOf is ListNames read through db (a transaction's).
func listNamesOf(db *gorm.DB) (map[uint]string, error) {
	var out map[uint]string
	err := scanIn(db, "SELECT id, name FROM lists", nil, func(rows *sql.Rows) error {
		var id uint
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		if out == nil {
			out = map[uint]string{}
		}
		out[id] = name
		return nil
	})
	if err != nil || len(out) < 2 {
		return nil, err
	}
	return out, nil
}

// ListByName returns the list called name. It returns ENOTFOUND, naming
// the lists there are, when there is none.
func (s *Store) ListByName(ctx context.Context, name string) (List, error) {
	lists, err := s.Lists(ctx)
	if err != nil {
		return List{}, err
	}
	var names []string
	for _, l := range lists {
		if l.Name == name {
			return l, nil
		}
		names = append(names, "“"+l.Name+"”")
	}
	if len(names) == 0 {
		return List{}, Errorf(ENOTFOUND, "没有名为“%s”的清单：尚未导入任何清单。", name)
	}
	return List{}, Errorf(ENOTFOUND, "没有名为“%s”的清单；现有清单：%s。", name, strings.Join(names, "、"))
}

// qualify is code as people type it: qualified by its list's name when the
// list is not the default one of several (names, from ListNames).
func qualify(code string, list uint, names map[uint]string) string {
	if names == nil || list == DefaultList || names[list] == "" {
		return code
	}
	return names[list] + "/" + code
}

// qualifyCodes qualifies the code of each of items (code gives it, and the
// item's list) by its list's name, as qualify does.
func qualifyCodes[T any](ctx context.Context, s *Store, items []T, code func(*T) (*string, uint)) error {
	names, err := s.ListNames(ctx)
	if err != nil || names == nil {
		return err
	}
	for i := range items {
		c, list := code(&items[i])
		*c = qualify(*c, list, names)
	}
	return nil
}

func itemCode(it *MilestoneItem) (*string, uint) { return &it.Code, it.ListID }
func entryCode(p *ProgressItem) (*string, uint)  { return &p.Code, p.ListID }
func shareCode(v *ShareView) (*string, uint)     { return &v.Code, v.ListID }
