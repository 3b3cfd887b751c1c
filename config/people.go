package config

import (
	"fmt"
	"strings"

	"taskbot/bot"
	"taskbot/storage"
)

// validatePeople checks the people the file lists: none empty, none given
// twice to the same unit, post or office.
func (f *File) validatePeople() error {
	check := func(where string, people []string) error {
		seen := map[string]bool{}
		for i, p := range people {
			p = strings.TrimSpace(p)
			if p == "" {
				return fmt.Errorf("%s[%d]: person is empty", where, i)
			}
			if seen[p] {
				return fmt.Errorf("%s: %q is listed twice", where, p)
			}
			seen[p] = true
		}
		return nil
	}
	for _, u := range f.Units {
		if err := check(fmt.Sprintf("unit %q members", u.Name), u.Members); err != nil {
			return err
		}
	}
	for post, people := range f.Leaders {
		if strings.TrimSpace(post) == "" {
			return fmt.Errorf("leaders: post is empty")
		}
		if err := check(fmt.Sprintf("leaders %q", post), people); err != nil {
			return err
		}
	}
	return check("supervisors", f.Supervisors)
}

// PeopleSpec turns the file's people into the storage directory spec.
func (f *File) PeopleSpec() storage.PeopleSpec {
	var sp storage.PeopleSpec
	refs := func(people []string) []storage.PersonRef {
		out := make([]storage.PersonRef, 0, len(people))
		for _, p := range people {
			out = append(out, bot.ParsePerson(p))
		}
		return out
	}
	for _, u := range f.Units {
		if u.Channel == "" && len(u.Members) == 0 {
			continue
		}
		sp.Units = append(sp.Units, storage.UnitPeople{Unit: storage.NormalizeName(u.Name), Channel: u.Channel, Members: refs(u.Members)})
	}
	if len(f.Leaders) > 0 {
		sp.Leaders = map[string][]storage.PersonRef{}
		for post, people := range f.Leaders {
			sp.Leaders[storage.NormalizeName(post)] = refs(people)
		}
	}
	sp.Supervisors = refs(f.Supervisors)
	return sp
}
