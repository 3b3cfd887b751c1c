package slackbot

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// MarshalJSON encodes a response without reflection for the blocks render
// makes (header, section, context, actions with a button): it is on every
// slash command's path. Other blocks fall back to encoding/json. The output
// decodes to the same value as encoding/json's.
func (r *response) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 512+2*len(r.Text))
	b = append(b, '{')
	if r.ResponseType != "" {
		b = append(b, `"response_type":`...)
		b = appendString(b, r.ResponseType)
		b = append(b, ',')
	}
	b = append(b, `"text":`...)
	b = appendString(b, r.Text)
	if len(r.Blocks) > 0 {
		b = append(b, `,"blocks":[`...)
		for i, blk := range r.Blocks {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendBlock(b, blk); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func appendBlock(b []byte, blk slack.Block) ([]byte, error) {
	switch v := blk.(type) {
	case *slack.HeaderBlock:
		if v.BlockID == "" && v.Level == 0 && v.Text != nil {
			b = append(b, `{"type":"header","text":`...)
			b = appendText(b, v.Text)
			return append(b, '}'), nil
		}
	case *slack.SectionBlock:
		if v.BlockID == "" && v.Accessory == nil && !v.Expand {
			b = append(b, `{"type":"section"`...)
			if v.Text != nil {
				b = append(b, `,"text":`...)
				b = appendText(b, v.Text)
			}
			if len(v.Fields) > 0 {
				b = append(b, `,"fields":[`...)
				for i, f := range v.Fields {
					if i > 0 {
						b = append(b, ',')
					}
					b = appendText(b, f)
				}
				b = append(b, ']')
			}
			return append(b, '}'), nil
		}
	case *slack.ContextBlock:
		if v.BlockID == "" && allText(v.ContextElements.Elements) {
			b = append(b, `{"type":"context","elements":[`...)
			for i, e := range v.ContextElements.Elements {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendText(b, e.(*slack.TextBlockObject))
			}
			return append(b, "]}"...), nil
		}
	}
	enc, err := json.Marshal(blk)
	return append(b, enc...), err
}

func allText(es []slack.MixedElement) bool {
	for _, e := range es {
		if t, ok := e.(*slack.TextBlockObject); !ok || t == nil {
			return false
		}
	}
	return true
}

func appendText(b []byte, t *slack.TextBlockObject) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, t.Type)
	b = append(b, `,"text":`...)
	b = appendString(b, t.Text)
	if t.Emoji != nil {
		if *t.Emoji {
			b = append(b, `,"emoji":true`...)
		} else {
			b = append(b, `,"emoji":false`...)
		}
	}
	if t.Verbatim {
		b = append(b, `,"verbatim":true`...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does
// (HTML characters included, invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
