package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Xuchang is the example organisation file shipped with taskbot, used when
// TASKBOT_CONFIG is not set.
//
//go:embed xuchang.yaml
var Xuchang []byte

// File is the organisation file named by TASKBOT_CONFIG.
type File struct {
	Units []UnitConfig `yaml:"units"`
}

// UnitConfig is what the file says about one unit.
type UnitConfig struct {
	Name        string   `yaml:"name"`
	Aliases     []string `yaml:"aliases"`
	MemberUnits []string `yaml:"member_units"`
}

// LoadFile reads the organisation file at path, or the embedded example when
// path is "". Unknown keys, a unit without a name, a unit listed twice and
// an alias given to two units are errors that name the file.
func LoadFile(path string) (*File, error) {
	data, name := Xuchang, "embedded xuchang.yaml"
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
	for a, owner := range aliasOf {
		if seenUnit[a] && a != owner {
			return nil, fmt.Errorf("alias %q of %q is itself a unit", a, owner)
		}
	}
	return &f, nil
}
