package storage

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Sources of a binding: the organisation file, or a supervisor in chat.
// Re-applying the file replaces only the bindings it made.
const (
	SourceConfig = "config"
	SourceChat   = "chat"
)

// Person is someone taskbot knows: a Slack user, by ID when known and by
// email until then (emails are resolved once, by the Slack adapter).
type Person struct {
	ID        uint   `gorm:"primaryKey"`
	SlackID   string `gorm:"size:32;not null;default:'';uniqueIndex:idx_people_slack_id,where:slack_id <> ''"`
	Email     string `gorm:"size:255;not null;default:'';uniqueIndex:idx_people_email,where:email <> ''"`
	Name      string `gorm:"size:128;not null;default:'';index"`
	CreatedAt time.Time
}

// Label is how the person is shown: name, then Slack ID, then email.
func (p *Person) Label() string {
	switch {
	case p == nil:
		return ""
	case p.Name != "":
		return p.Name
	case p.SlackID != "":
		return p.SlackID
	}
	return p.Email
}

// Key is the person's stable identifier for records: the Slack ID when
// known, else the email.
func (p *Person) Key() string {
	if p.SlackID != "" {
		return p.SlackID
	}
	return p.Email
}

// Membership says that a person belongs to a unit and may report for it.
type Membership struct {
	UnitID    uint   `gorm:"primaryKey"`
	PersonID  uint   `gorm:"primaryKey;index"`
	Source    string `gorm:"size:8;not null"`
	CreatedAt time.Time
	Unit      Unit   `gorm:"constraint:OnDelete:CASCADE"`
	Person    Person `gorm:"constraint:OnDelete:CASCADE"`
}

// UnitChannel is the Slack channel of a unit, from the organisation file.
type UnitChannel struct {
	UnitID  uint   `gorm:"primaryKey"`
	Channel string `gorm:"size:64;not null"`
	Unit    Unit   `gorm:"constraint:OnDelete:CASCADE"`
}

// LeaderHolder says that a person holds a leader post (责任领导) such as
// 市政府分管城建副市长.
type LeaderHolder struct {
	Post     string `gorm:"primaryKey;size:128"`
	PersonID uint   `gorm:"primaryKey;index"`
	Source   string `gorm:"size:8;not null"`
	Person   Person `gorm:"constraint:OnDelete:CASCADE"`
}

// Supervisor is a member of the inspection office (督查室): they decide
// close-outs and extensions and manage unit members.
type Supervisor struct {
	PersonID uint   `gorm:"primaryKey"`
	Source   string `gorm:"size:8;not null"`
	Person   Person `gorm:"constraint:OnDelete:CASCADE"`
}

// PersonRef names a person as the organisation file or a chat command
// does: by Slack ID, email, or both, with an optional display name.
type PersonRef struct {
	SlackID string
	Email   string
	Name    string
}

// UnitPeople is what the organisation file says about a unit's people.
type UnitPeople struct {
	Unit    string
	Channel string
	Members []PersonRef
}

// PeopleSpec is the directory part of the organisation file.
type PeopleSpec struct {
	Units       []UnitPeople
	Leaders     map[string][]PersonRef // post → holders
	Supervisors []PersonRef
}

// ApplyPeople makes the directory match spec in one transaction: people are
// created or updated, and the memberships, leader posts and supervisors
// that came from the file are replaced; those bound in chat are kept. A
// unit's channel is set when spec gives one. Unknown units are created.
func (s *Store) ApplyPeople(ctx context.Context, spec PeopleSpec) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		for _, m := range []any{&Membership{}, &LeaderHolder{}, &Supervisor{}} {
			if err := tx.Where("source = ?", SourceConfig).Delete(m).Error; err != nil {
				return err
			}
		}
		units := map[string]uint{}
		for _, u := range spec.Units {
			uid, err := unitID(tx, u.Unit, units)
			if err != nil {
				return err
			}
			if u.Channel != "" {
				err := tx.Clauses(clause.OnConflict{
					Columns:   []clause.Column{{Name: "unit_id"}},
					DoUpdates: clause.AssignmentColumns([]string{"channel"}),
				}).Omit("Unit").Create(&UnitChannel{UnitID: uid, Channel: u.Channel}).Error
				if err != nil {
					return err
				}
			}
			for _, ref := range u.Members {
				p, err := upsertPerson(tx, ref)
				if err != nil {
					return err
				}
				err = tx.Clauses(clause.OnConflict{DoNothing: true}).Omit("Unit", "Person").
					Create(&Membership{UnitID: uid, PersonID: p.ID, Source: SourceConfig, CreatedAt: s.now()}).Error
				if err != nil {
					return err
				}
			}
		}
		for post, refs := range spec.Leaders {
			for _, ref := range refs {
				p, err := upsertPerson(tx, ref)
				if err != nil {
					return err
				}
				err = tx.Clauses(clause.OnConflict{DoNothing: true}).Omit("Person").
					Create(&LeaderHolder{Post: NormalizeName(post), PersonID: p.ID, Source: SourceConfig}).Error
				if err != nil {
					return err
				}
			}
		}
		for _, ref := range spec.Supervisors {
			p, err := upsertPerson(tx, ref)
			if err != nil {
				return err
			}
			err = tx.Clauses(clause.OnConflict{DoNothing: true}).Omit("Person").
				Create(&Supervisor{PersonID: p.ID, Source: SourceConfig}).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Internal(err)
	}
	return nil
}

// upsertPerson finds the person by Slack ID, then email, and fills in what
// ref adds; or creates them.
func upsertPerson(tx *gorm.DB, ref PersonRef) (*Person, error) {
	var p Person
	found := false
	for _, q := range []struct{ col, val string }{{"slack_id", ref.SlackID}, {"email", strings.ToLower(ref.Email)}} {
		if q.val == "" {
			continue
		}
		err := tx.Where(q.col+" = ?", q.val).Take(&p).Error
		if err == nil {
			found = true
			break
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
	}
	if !found {
		p = Person{SlackID: ref.SlackID, Email: strings.ToLower(ref.Email), Name: ref.Name}
		if err := tx.Create(&p).Error; err != nil {
			return nil, err
		}
		return &p, nil
	}
	upd := map[string]any{}
	if ref.SlackID != "" && p.SlackID == "" {
		upd["slack_id"], p.SlackID = ref.SlackID, ref.SlackID
	}
	if ref.Email != "" && p.Email == "" {
		upd["email"], p.Email = strings.ToLower(ref.Email), strings.ToLower(ref.Email)
	}
	if ref.Name != "" && p.Name != ref.Name {
		upd["name"], p.Name = ref.Name, ref.Name
	}
	if len(upd) > 0 {
		if err := tx.Model(&p).Updates(upd).Error; err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// FindPerson returns the person known by key: a Slack ID, an email or a
// name (exact). It returns ENOTFOUND when nobody matches and EINVALID when
// a name is shared by several people.
func (s *Store) FindPerson(ctx context.Context, key string) (*Person, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, Errorf(ENOTFOUND, "没有指定用户")
	}
	db := s.db.WithContext(ctx)
	var p Person
	for _, q := range []struct{ col, val string }{{"slack_id", key}, {"email", strings.ToLower(key)}} {
		err := db.Where(q.col+" = ?", q.val).Take(&p).Error
		if err == nil {
			return &p, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, Internal(err)
		}
	}
	var ps []Person
	if err := db.Where("name = ?", key).Limit(2).Find(&ps).Error; err != nil {
		return nil, Internal(err)
	}
	switch len(ps) {
	case 0:
		return nil, Errorf(ENOTFOUND, "没有找到用户“%s”", key)
	case 1:
		return &ps[0], nil
	}
	return nil, Errorf(EINVALID, "有多人名为“%s”，请用 Slack ID 或邮箱指定", key)
}

// UnresolvedEmails returns the people known only by email, for the Slack
// adapter to look up once.
func (s *Store) UnresolvedEmails(ctx context.Context) ([]Person, error) {
	var ps []Person
	if err := s.db.WithContext(ctx).Where("slack_id = '' AND email <> ''").Order("id").Find(&ps).Error; err != nil {
		return nil, Internal(err)
	}
	return ps, nil
}

// reassign moves a person's rows of T to another person (move sets the new
// person on a row), keeping the rows the other person already has.
func reassign[T any](tx *gorm.DB, from uint, move func(*T)) error {
	var rows []T
	if err := tx.Where("person_id = ?", from).Find(&rows).Error; err != nil {
		return err
	}
	for i := range rows {
		move(&rows[i])
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Omit(clause.Associations).Create(&rows[i]).Error; err != nil {
			return err
		}
	}
	return tx.Where("person_id = ?", from).Delete(new(T)).Error
}

// SetSlackID records the Slack user ID found for a person known by email.
// When another person already has that ID (bound in chat by ID, listed in
// the file by email), the two are one: the email-only record is merged
// into the other — memberships, leader posts and the supervisor role move
// over, the email is kept — in one transaction.
func (s *Store) SetSlackID(ctx context.Context, personID uint, slackID string) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var other Person
		err := tx.Where("slack_id = ? AND id <> ?", slackID, personID).Take(&other).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return tx.Model(&Person{}).Where("id = ?", personID).Update("slack_id", slackID).Error
		}
		if err != nil {
			return err
		}
		var p Person
		if err := tx.Take(&p, personID).Error; err != nil {
			return err
		}
		if err := reassign(tx, p.ID, func(m *Membership) { m.PersonID = other.ID }); err != nil {
			return err
		}
		if err := reassign(tx, p.ID, func(l *LeaderHolder) { l.PersonID = other.ID }); err != nil {
			return err
		}
		if err := reassign(tx, p.ID, func(v *Supervisor) { v.PersonID = other.ID }); err != nil {
			return err
		}
		if err := tx.Delete(&Person{}, p.ID).Error; err != nil {
			return err
		}
		updates := map[string]any{}
		if other.Email == "" {
			updates["email"] = p.Email
		}
		if other.Name == "" {
			updates["name"] = p.Name
		}
		if len(updates) == 0 {
			return nil
		}
		return tx.Model(&other).Updates(updates).Error
	})
	if err != nil {
		return Internal(err)
	}
	return nil
}

// Roles is what a person may do: the units they belong to (unit ID →
// name), the leader posts they hold, and whether they are a supervisor.
type Roles struct {
	Units      map[uint]string
	Posts      map[string]bool
	Supervisor bool
}

// PersonRoles returns p's roles; a nil p has none.
func (s *Store) PersonRoles(ctx context.Context, p *Person) (Roles, error) {
	r := Roles{Units: map[uint]string{}, Posts: map[string]bool{}}
	if p == nil || p.ID == 0 {
		return r, nil
	}
	db := s.db.WithContext(ctx)
	var units []struct {
		ID   uint
		Name string
	}
	if err := db.Raw(`SELECT u.id, u.name FROM memberships m JOIN units u ON u.id = m.unit_id WHERE m.person_id = ?`, p.ID).Scan(&units).Error; err != nil {
		return r, Internal(err)
	}
	for _, u := range units {
		r.Units[u.ID] = u.Name
	}
	var posts []string
	if err := db.Model(&LeaderHolder{}).Where("person_id = ?", p.ID).Pluck("post", &posts).Error; err != nil {
		return r, Internal(err)
	}
	for _, post := range posts {
		r.Posts[post] = true
	}
	var n int64
	if err := db.Model(&Supervisor{}).Where("person_id = ?", p.ID).Count(&n).Error; err != nil {
		return r, Internal(err)
	}
	r.Supervisor = n > 0
	return r, nil
}

// Supervisors returns the supervisors, by name.
func (s *Store) Supervisors(ctx context.Context) ([]Person, error) {
	var ps []Person
	err := s.db.WithContext(ctx).Raw(`SELECT p.* FROM supervisors s JOIN people p ON p.id = s.person_id ORDER BY p.name, p.id`).Scan(&ps).Error
	if err != nil {
		return nil, Internal(err)
	}
	return ps, nil
}

// Member is a person bound to a unit, with where the binding came from.
type Member struct {
	Person
	Source string
}

// UnitMembers returns the people bound to a unit, by name.
func (s *Store) UnitMembers(ctx context.Context, unitID uint) ([]Member, error) {
	var ms []Member
	err := s.db.WithContext(ctx).Raw(`SELECT p.*, m.source FROM memberships m JOIN people p ON p.id = m.person_id
		WHERE m.unit_id = ? ORDER BY p.name, p.id`, unitID).Scan(&ms).Error
	if err != nil {
		return nil, Internal(err)
	}
	return ms, nil
}

// UnitChannels returns the configured channel of each unit, by unit ID.
func (s *Store) UnitChannels(ctx context.Context) (map[uint]string, error) {
	var rows []UnitChannel
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, Internal(err)
	}
	out := map[uint]string{}
	for _, r := range rows {
		out[r.UnitID] = r.Channel
	}
	return out, nil
}

// LeaderHolders returns who holds each post, by post.
func (s *Store) LeaderHolders(ctx context.Context) (map[string][]Person, error) {
	var rows []struct {
		Person
		Post string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT p.*, l.post FROM leader_holders l JOIN people p ON p.id = l.person_id ORDER BY l.post, p.name`).Scan(&rows).Error
	if err != nil {
		return nil, Internal(err)
	}
	out := map[string][]Person{}
	for _, r := range rows {
		out[r.Post] = append(out[r.Post], r.Person)
	}
	return out, nil
}

// Bind makes p a member of the unit, as a chat binding, and records the
// audit entry in the same transaction. It returns ECONFLICT when p is
// already a member.
func (s *Store) Bind(ctx context.Context, unitID uint, ref PersonRef, actor Actor) (*Person, error) {
	var p *Person
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		if p, err = upsertPerson(tx, ref); err != nil {
			return err
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Omit("Unit", "Person").
			Create(&Membership{UnitID: unitID, PersonID: p.ID, Source: SourceChat, CreatedAt: s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "%s 已是该单位成员", p.Label())
		}
		return s.audit(tx, Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionBind, UnitID: &unitID,
			Details: "绑定 " + p.Label()})
	})
	if err != nil {
		return nil, txError(err)
	}
	return p, nil
}

// Unbind removes p from the unit, whatever bound them, and records the
// audit entry. It returns ENOTFOUND when p is not a member. A binding from
// the organisation file returns at the next start unless the file changes.
func (s *Store) Unbind(ctx context.Context, unitID uint, p *Person, actor Actor) (source string, err error) {
	err = s.write(ctx, func(tx *gorm.DB) error {
		var m Membership
		err := tx.Where("unit_id = ? AND person_id = ?", unitID, p.ID).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Errorf(ENOTFOUND, "%s 不是该单位成员", p.Label())
		}
		if err != nil {
			return err
		}
		source = m.Source
		if err := tx.Where("unit_id = ? AND person_id = ?", unitID, p.ID).Delete(&Membership{}).Error; err != nil {
			return err
		}
		return s.audit(tx, Audit{Actor: actor.ID, ActorName: actor.Name, Action: ActionUnbind, UnitID: &unitID,
			Details: "解除 " + p.Label()})
	})
	if err != nil {
		return "", txError(err)
	}
	return source, nil
}

// txError passes nil and an *Error returned inside a transaction through and
// wraps anything else as internal.
func txError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
