package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"taskbot/storage"
)

// xuchang is the embedded example; a string, so nothing can change it.
//
//go:embed xuchang.yaml
var xuchang string

// Xuchang returns the example organisation file shipped with taskbot, used
// when TASKBOT_CONFIG is not set. Each call returns a fresh copy, which the
// caller may change freely.
func Xuchang() []byte { return []byte(xuchang) }

// File is the organisation file named by TASKBOT_CONFIG.
type File struct {
	Units []UnitConfig `yaml:"units"`
	// Leaders maps a leader post (as the list writes it) to the people
	// holding it; Supervisors are the inspection office (督查室). People are
	// Slack user IDs (U0123ABC) or emails, optionally after a name:
	// "张三 U0123ABC".
	Leaders     map[string][]string `yaml:"leaders"`
	Supervisors []string            `yaml:"supervisors"`
}

// UnitConfig is what the file says about one unit.
type UnitConfig struct {
	Name        string   `yaml:"name"`
	Aliases     []string `yaml:"aliases"`
	MemberUnits []string `yaml:"member_units"`
	Channel     string   `yaml:"channel"` // Slack channel ID of the unit
	Members     []string `yaml:"members"` // people who report for the unit
}

// LoadFile reads the organisation file at path, or the embedded example when
// path is "". Unknown keys, a unit without a name, a unit listed twice and
// an alias given to two units are errors that name the file.
func LoadFile(path string) (*File, error) {
	data, name := Xuchang(), "embedded xuchang.yaml"
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("TASKBOT_CONFIG: %w", err)
		}
		data, name = b, path
	}
	f, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// ParseFile parses and validates an organisation file.
func ParseFile(data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	seenUnit := map[string]bool{}
	aliasOf := map[string]string{}
	for i, u := range f.Units {
		if u.Name == "" {
			return nil, fmt.Errorf("units[%d]: name is empty", i)
		}
		if seenUnit[u.Name] {
			return nil, fmt.Errorf("unit %q is listed twice", u.Name)
		}
		seenUnit[u.Name] = true
		for _, a := range u.Aliases {
			if other, ok := aliasOf[a]; ok && other != u.Name {
				return nil, fmt.Errorf("alias %q is given to both %q and %q", a, other, u.Name)
			}
			aliasOf[a] = u.Name
		}
	}
	if err := f.validatePeople(); err != nil {
		return nil, err
	}
	for a, owner := range aliasOf {
		if seenUnit[a] && a != owner {
			return nil, fmt.Errorf("alias %q of %q is itself a unit", a, owner)
		}
	}
	return &f, nil
}

// UnitSpecs turns the file into storage specs, with names normalised as the
// task list writes them.
func (f *File) UnitSpecs() []storage.UnitSpec {
	specs := make([]storage.UnitSpec, len(f.Units))
	for i, u := range f.Units {
		sp := storage.UnitSpec{Name: storage.NormalizeName(u.Name)}
		for _, a := range u.Aliases {
			sp.Aliases = append(sp.Aliases, storage.NormalizeName(a))
		}
		for _, m := range u.MemberUnits {
			sp.Members = append(sp.Members, storage.NormalizeName(m))
		}
		specs[i] = sp
	}
	return specs
}
