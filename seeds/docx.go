package seeds

// A reader of Word (.docx) files: the document's paragraphs and tables, in
// order. No maintained Go library for reading .docx is available to this
// project, and the part needed is small: word/document.xml read with
// encoding/xml from the zip archive. Text in runs (w:t), tabs and breaks
// are kept; numbering Word draws itself (w:numPr) is not text and is lost,
// as it is when Word saves the document as plain text.

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// block is a paragraph (text) or a table (rows of cells) of a document.
type block struct {
	text  string
	table [][]cell
}

// cell is one grid cell of a table row. A cell merged across columns
// (w:gridSpan) fills one cell per column it spans, the first with the text
// and the rest marked spanned; a cell merged down (w:vMerge) holds the
// text of the cell it continues, marked continued.
type cell struct {
	text               string
	spanned, continued bool
}

// maxDocxPart bounds the size of word/document.xml once uncompressed: a
// list of 10,000 tasks is tens of megabytes; a zip bomb is more.
const maxDocxPart = 256 << 20

// errNotDocx says a zip archive holds no Word document.
var errNotDocx = errors.New("not a Word document")

// readDocx returns the blocks of the .docx file data.
func readDocx(data []byte) ([]block, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var part *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			part = f
		}
	}
	if part == nil {
		return nil, errNotDocx
	}
	rc, err := part.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, maxDocxPart+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxDocxPart {
		return nil, fmt.Errorf("Word 文件的正文超过 %d MB，无法读取", maxDocxPart>>20)
	}
	return docxBlocks(body)
}

// docxBlocks reads the paragraphs and tables of word/document.xml, in
// order. Tables nested in a cell are read as the cell's text.
func docxBlocks(doc []byte) ([]block, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var (
		out   []block
		depth int             // tables open
		para  strings.Builder // the paragraph being read
		inP   bool
		pDeep int  // paragraphs open: a text box's are inside another
		inT   bool // inside w:t
		rows  [][]cell
		row   []cell
		cellB strings.Builder // the cell being read (outermost table)
		span  int
		vm    string // the cell's w:vMerge: "", "restart" or "continue"
		above []cell // the previous row, for vMerge continue
	)
	endPara := func() {
		text := para.String()
		para.Reset()
		inP = false
		if depth == 0 {
			out = append(out, block{text: text})
			return
		}
		if cellB.Len() > 0 {
			cellB.WriteByte('\n')
		}
		cellB.WriteString(text)
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "tbl":
				if inP { // a table inside a paragraph is not valid; close it
					pDeep = 0
					endPara()
				}
				depth++
				if depth == 1 {
					rows, above = nil, nil
				}
			case "tr":
				if depth == 1 {
					row = nil
				}
			case "tc":
				if depth == 1 {
					cellB.Reset()
					span, vm = 1, ""
				}
			case "gridSpan":
				if depth == 1 {
					if n := atoiAttr(t, "val"); n > 1 && n <= 64 {
						span = n
					}
				}
			case "vMerge":
				if depth == 1 {
					vm = "continue" // no w:val means continue
					for _, a := range t.Attr {
						if a.Name.Local == "val" {
							vm = a.Value
						}
					}
				}
			case "p":
				if inP {
					para.WriteByte('\n') // a text box's paragraph: a line of its own
				}
				inP = true
				pDeep++
			case "gridBefore": // grid columns left empty before the row's first cell
				if depth == 1 {
					for i := atoiAttr(t, "val"); i > 0 && i <= 64; i-- {
						row = append(row, cell{})
					}
				}
			case "t":
				inT = true
			case "tab":
				if inP {
					para.WriteByte('\t')
				}
			case "br", "cr":
				if inP {
					para.WriteByte('\n')
				}
			}
		case xml.EndElement:
			if t.Name.Space != wordNS {
				continue
			}
			switch t.Name.Local {
			case "t":
				inT = false
			case "p":
				if pDeep--; pDeep > 0 {
					para.WriteByte('\n') // the text box ends; its paragraph goes on
				} else if inP {
					pDeep = 0
					endPara()
				}
			case "tc":
				if depth == 1 {
					c := cell{text: cellB.String()}
					if vm == "continue" {
						c.continued = true
						if col := len(row); col < len(above) {
							c.text = above[col].text
						}
					}
					row = append(row, c)
					for i := 1; i < span; i++ {
						row = append(row, cell{spanned: true, continued: c.continued})
					}
				}
			case "tr":
				if depth == 1 {
					rows = append(rows, row)
					above = row
				}
			case "tbl":
				depth--
				if depth == 0 {
					out = append(out, block{table: rows})
				} else if depth < 0 {
					depth = 0
				}
			}
		case xml.CharData:
			if inT && inP {
				para.Write(t)
			}
		}
	}
	if inP {
		endPara()
	}
	if depth > 0 && rows != nil { // a cut-off document: keep what was read
		out = append(out, block{table: rows})
	}
	return out, nil
}

// wordNS is the namespace of WordprocessingML's elements (w:).
const wordNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

func atoiAttr(e xml.StartElement, name string) int {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			n := 0
			for _, r := range a.Value {
				if r < '0' || r > '9' || n > 1<<20 {
					return 0
				}
				n = n*10 + int(r-'0')
			}
			return n
		}
	}
	return 0
}
