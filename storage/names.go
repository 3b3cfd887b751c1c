package storage

import (
	"strings"
	"unicode"
)

// NormalizeName canonicalises a unit or post name as the document writes
// it: half-width brackets become full-width and spaces go, so that
// "各县(市、区)" and "各县（市、区）" are the same unit.
func NormalizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '(':
			return '（'
		case r == ')':
			return '）'
		case unicode.IsSpace(r) || r == '\ufeff':
			return -1
		}
		return r
	}, s)
}
