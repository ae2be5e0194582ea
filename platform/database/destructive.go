package database

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
)

// Destructive is a statement of a pending migration file that drops data or
// structure: a table, a column, an index, a schema.
type Destructive struct {
	File string // the file's name
	Stmt string // the statement
	What string // what it drops: `table "x"`, `column "x"."y"`, …
}

func (f Destructive) String() string {
	return fmt.Sprintf("%s drops %s: %s", f.File, f.What, oneLine(f.Stmt))
}

// DestructiveError refuses pending migration files with destructive
// statements: Migrate applies none of the pending files then, unless the
// database was opened WithAllowDestructive.
type DestructiveError struct{ Found []Destructive }

func (e *DestructiveError) Error() string {
	var b strings.Builder
	b.WriteString("refusing to apply destructive migrations (")
	for i, f := range e.Found {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	b.WriteString("): apply them with `meridian migrate up --allow-destructive`, or set MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE=true, once the data they drop can go")
	return b.String()
}

// destructive finds the destructive statements of the pending files (all
// are files of the directory, in order). On PostgreSQL every destructive
// change Atlas plans is a statement of its own (DROP TABLE, ALTER TABLE …
// DROP COLUMN, DROP INDEX), so the statements are read. On SQLite Atlas
// alters or drops a column by rebuilding the table (CREATE TABLE new_x,
// copy, DROP TABLE x, rename), which only the resulting schema tells apart
// from a harmless change; so the files are replayed on an in-memory
// database and the schema before and after each pending file compared.
func (d *DB) destructive(ctx context.Context, all, pending []migrate.File) ([]Destructive, error) {
	if d.Dialect == dialect.Postgres {
		var found []Destructive
		for _, f := range pending {
			fs, err := destructiveStmts(f)
			if err != nil {
				return nil, err
			}
			found = append(found, fs...)
		}
		return found, nil
	}
	return d.destructiveReplayed(ctx, all, pending)
}

// destructiveReplayed compares the schema before and after each pending
// file on a scratch database (SQLite).
func (d *DB) destructiveReplayed(ctx context.Context, all, pending []migrate.File) ([]Destructive, error) {
	last := pending[len(pending)-1].Version()
	var files []migrate.File
	for _, f := range all {
		if f.Version() <= last {
			files = append(files, f)
		}
	}
	isPending := map[string]bool{}
	for _, f := range pending {
		isPending[f.Version()] = true
	}
	states := make([]*schema.Schema, len(files)+1)
	final, err := d.replayScratch(ctx, files, func(i int, s *schema.Schema) error {
		states[i] = s
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check pending migrations for destructive changes: %w", err)
	}
	states[len(files)] = final
	drv, err := AtlasDriver(d.Dialect, d.sql)
	if err != nil {
		return nil, err
	}
	var found []Destructive
	for i, f := range files {
		if !isPending[f.Version()] {
			continue
		}
		changes, err := drv.SchemaDiff(states[i], states[i+1])
		if err != nil {
			return nil, fmt.Errorf("check %s for destructive changes: %w", f.Name(), err)
		}
		stmts, err := f.StmtDecls()
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		for _, w := range dropped(changes) {
			found = append(found, Destructive{File: f.Name(), Stmt: bare(statementOf(stmts, w)), What: w.what})
		}
	}
	return found, nil
}

// drop is one thing a change set drops.
type drop struct {
	what         string
	table, index string // the table (and index) it names
	column       string
}

// dropped lists what the changes drop: tables, columns and indexes (an
// index dropped and added again under its name is changed, not dropped).
func dropped(changes []schema.Change) []drop {
	var out []drop
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.DropSchema:
			out = append(out, drop{what: fmt.Sprintf("schema %q", c.S.Name)})
		case *schema.DropTable:
			out = append(out, drop{what: fmt.Sprintf("table %q", c.T.Name), table: c.T.Name})
		case *schema.ModifyTable:
			added := map[string]bool{}
			for _, cc := range c.Changes {
				if a, ok := cc.(*schema.AddIndex); ok {
					added[a.I.Name] = true
				}
			}
			for _, cc := range c.Changes {
				switch cc := cc.(type) {
				case *schema.DropColumn:
					out = append(out, drop{what: fmt.Sprintf("column %q.%q", c.T.Name, cc.C.Name), table: c.T.Name, column: cc.C.Name})
				case *schema.DropIndex:
					if !added[cc.I.Name] {
						out = append(out, drop{what: fmt.Sprintf("index %q", cc.I.Name), table: c.T.Name, index: cc.I.Name})
					}
				}
			}
		}
	}
	return out
}

// statementOf finds the statement of stmts that makes the drop: the DROP
// naming it, else the DROP TABLE of its table (a rebuild), else the first
// statement naming its table.
func statementOf(stmts []*migrate.Stmt, w drop) string {
	norm := make([]string, len(stmts))
	for i, s := range stmts {
		norm[i] = normalize(s.Text)
	}
	find := func(ok func(string) bool) string {
		for i, n := range norm {
			if ok(n) {
				return stmts[i].Text
			}
		}
		return ""
	}
	names := func(n, ident string) bool { return ident != "" && strings.Contains(n, ident) }
	if s := find(func(n string) bool {
		return strings.HasPrefix(n, "drop ") && (names(n, w.index) || (w.index == "" && w.column == "" && names(n, w.table)))
	}); s != "" {
		return s
	}
	if s := find(func(n string) bool {
		return strings.HasPrefix(n, "alter table") && strings.Contains(n, " drop") && names(n, w.column)
	}); s != "" {
		return s
	}
	if s := find(func(n string) bool { return strings.HasPrefix(n, "drop table") && names(n, w.table) }); s != "" {
		return s
	}
	if s := find(func(n string) bool { return names(n, w.table) }); s != "" {
		return s
	}
	if len(stmts) > 0 {
		return stmts[0].Text
	}
	return ""
}

var (
	dropRE       = regexp.MustCompile(`^drop (table|schema|index|view|materialized view|sequence|type)( concurrently)?( if exists)? (.+?)( cascade| restrict)?$`)
	truncateRE   = regexp.MustCompile(`^truncate( table)?( only)? (.+)$`)
	alterTableRE = regexp.MustCompile(`^alter table( if exists)?( only)? ("[^"]+"|\S+) (.*)$`)
	dropColRE    = regexp.MustCompile(`^drop( column)?( if exists)? ("[^"]+"|\S+)`)
	createIdxRE  = regexp.MustCompile(`^create( unique)? index( concurrently)?( if not exists)? ("[^"]+"|\S+)`)
)

// destructiveStmts reads the file's statements (PostgreSQL): DROP TABLE,
// SCHEMA, VIEW, SEQUENCE or TYPE, TRUNCATE, ALTER TABLE … DROP [COLUMN],
// and DROP INDEX unless the file creates the index again under its name.
// Dropping a constraint, a default or NOT NULL loses no data, and is not
// counted.
func destructiveStmts(f migrate.File) ([]Destructive, error) {
	stmts, err := f.StmtDecls()
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
	}
	recreated := map[string]bool{}
	for _, s := range stmts {
		if m := createIdxRE.FindStringSubmatch(normalize(s.Text)); m != nil {
			recreated[unquote(m[4])] = true
		}
	}
	var found []Destructive
	for _, s := range stmts {
		n := normalize(s.Text)
		add := func(what string) { found = append(found, Destructive{File: f.Name(), Stmt: bare(s.Text), What: what}) }
		if m := dropRE.FindStringSubmatch(n); m != nil {
			for _, name := range splitTop(m[4]) {
				if m[1] == "index" && recreated[unquote(name)] {
					continue
				}
				add(fmt.Sprintf("%s %q", m[1], unquote(name)))
			}
			continue
		}
		if m := truncateRE.FindStringSubmatch(n); m != nil {
			add(fmt.Sprintf("the rows of %q", unquote(m[3])))
			continue
		}
		if m := alterTableRE.FindStringSubmatch(n); m != nil {
			for _, clause := range splitTop(m[4]) {
				c := dropColRE.FindStringSubmatch(clause)
				if c == nil || c[1] == "" && c[3] == "constraint" {
					continue
				}
				add(fmt.Sprintf("column %q.%q", unquote(m[3]), unquote(c[3])))
			}
		}
	}
	return found, nil
}

// normalize lowercases a statement outside its quoted identifiers (which
// it quotes with " on both dialects), blanks its string literals, drops its
// comments and collapses its whitespace, for the patterns above.
func normalize(stmt string) string {
	var b strings.Builder
	for i := 0; i < len(stmt); i++ {
		c := stmt[i]
		switch {
		case c == '\'':
			j := i + 1
			for j < len(stmt) && (stmt[j] != '\'' || j+1 < len(stmt) && stmt[j+1] == '\'') {
				if stmt[j] == '\'' {
					j++
				}
				j++
			}
			b.WriteString("''")
			i = j
		case c == '"' || c == '`':
			j := strings.IndexByte(stmt[i+1:], c)
			if j < 0 {
				j = len(stmt) - i - 1
			}
			b.WriteByte('"')
			b.WriteString(stmt[i+1 : i+1+j])
			b.WriteByte('"')
			i += j + 1
		case c == '-' && i+1 < len(stmt) && stmt[i+1] == '-':
			for i < len(stmt) && stmt[i] != '\n' {
				i++
			}
			b.WriteByte(' ')
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSuffix(strings.Join(strings.Fields(b.String()), " "), ";")
}

// splitTop splits s at the commas outside parentheses.
func splitTop(s string) []string {
	var (
		out   []string
		depth int
		start int
	)
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func unquote(name string) string { return strings.Trim(name, `"`) }

// bare is a statement without its trailing semicolon and white space.
func bare(stmt string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(stmt), ";"))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
