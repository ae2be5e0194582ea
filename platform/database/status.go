package database

import (
	"context"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
)

// MigrationState is one migration file of the directory as the database
// has it.
type MigrationState struct {
	Version, Description, Name string
	// State is "applied", "baseline" (recorded as applied by an adoption),
	// "partial" (a file with `-- atlas:txmode none` that failed midway) or
	// "pending".
	State      string
	ExecutedAt time.Time     // applied, baseline, partial
	Took       time.Duration // applied
	Error      string        // partial: why it stopped
	// Destructive are the destructive statements of a pending file, which
	// need --allow-destructive.
	Destructive []Destructive
}

// MigrationStatus is what `meridian migrate status` reports.
type MigrationStatus struct {
	Dialect string
	Files   []MigrationState
	// Legacy: the database was made before versioned migrations (its
	// tables are there, no revision is); the next migration adopts it,
	// recording the first file as its baseline.
	Legacy bool
	// Unknown are revisions applied that this binary has no file for: a
	// newer release migrated the database.
	Unknown []string
}

// Pending counts the files not applied yet.
func (s *MigrationStatus) Pending() int {
	n := 0
	for _, f := range s.Files {
		if f.State == "pending" || f.State == "partial" {
			n++
		}
	}
	return n
}

// MigrationStatus reads which migration files the database has applied,
// without changing anything (it creates no revision table).
func (d *DB) MigrationStatus(ctx context.Context) (*MigrationStatus, error) {
	_, files, err := d.migrationFiles()
	if err != nil {
		return nil, err
	}
	revs, err := d.readRevisions(ctx)
	if err != nil {
		return nil, err
	}
	st := &MigrationStatus{Dialect: d.Dialect}
	if len(revs) == 0 && len(files) > 0 {
		if st.Legacy, err = d.isLegacy(ctx, files[0]); err != nil {
			return nil, err
		}
	}
	byVersion := map[string]*migrate.Revision{}
	for _, r := range revs {
		byVersion[r.Version] = r
	}
	var pending []migrate.File
	for i, f := range files {
		s := MigrationState{Version: f.Version(), Description: f.Desc(), Name: f.Name(), State: "pending"}
		r, ok := byVersion[f.Version()]
		delete(byVersion, f.Version())
		switch {
		case ok && r.Type.Has(migrate.RevisionTypeBaseline):
			s.State, s.ExecutedAt = "baseline", r.ExecutedAt
		case ok && r.Applied < r.Total:
			s.State, s.ExecutedAt, s.Error = "partial", r.ExecutedAt, r.Error
		case ok:
			s.State, s.ExecutedAt, s.Took = "applied", r.ExecutedAt, r.ExecutionTime
		case i == 0 && st.Legacy:
			s.State = "baseline"
		}
		if s.State == "pending" || s.State == "partial" {
			pending = append(pending, f)
		}
		st.Files = append(st.Files, s)
	}
	for _, r := range revs {
		if _, ok := byVersion[r.Version]; ok {
			st.Unknown = append(st.Unknown, r.Version+"_"+r.Description)
		}
	}
	// As in Migrate, a fresh database is not checked: it has nothing to
	// lose.
	if len(pending) > 0 && (len(revs) > 0 || st.Legacy) {
		found, err := d.destructive(ctx, files, pending)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			for i := range st.Files {
				if st.Files[i].Name == f.File {
					st.Files[i].Destructive = append(st.Files[i].Destructive, f)
				}
			}
		}
	}
	return st, nil
}

// String is the status as `meridian migrate status` prints it.
func (s *MigrationStatus) String() string {
	out := fmt.Sprintf("%s migrations: %d files, %d pending\n", s.Dialect, len(s.Files), s.Pending())
	if s.Legacy {
		out += "the database was made before versioned migrations: the next `migrate up` (or start) records the first file as its baseline\n"
	}
	for _, f := range s.Files {
		line := fmt.Sprintf("  %-8s  %s", f.State, f.Name)
		if !f.ExecutedAt.IsZero() {
			line += "  " + f.ExecutedAt.UTC().Format(time.RFC3339)
		}
		if f.Error != "" {
			line += "  error: " + f.Error
		}
		out += line + "\n"
		for _, d := range f.Destructive {
			out += fmt.Sprintf("            destructive: drops %s: %s\n", d.What, oneLine(d.Stmt))
		}
	}
	for _, u := range s.Unknown {
		out += fmt.Sprintf("  unknown   %s: applied by a newer release, not in this binary\n", u)
	}
	return out
}
