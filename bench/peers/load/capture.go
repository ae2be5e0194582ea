package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The capture mode (-capture) records the SQL one Meridian request sends, for
// the pgbench floor. The database must log every statement
// (log_statement = 'all' for its sessions) to logPath, with a
// log_line_prefix of the form "%m [%p] %q%u@%d " (Debian's default).
//
// Meridian runs background work on the same database (the outbox relay
// polls every second, pool pings), so the capture keeps the statements of
// the request's database logged between sending the request and receiving
// the answer, and accepts them only when their number equals the
// sqlStatements Meridian reports for the request; otherwise a background
// statement fell into the window, and it tries again.

// logEntry is one statement of the log.
type logEntry struct {
	at    time.Time
	pid   string
	sql   string
	named bool // extended protocol (execute …): parameters follow in a DETAIL
}

var logLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+) \[(\d+)\] \S*@(\S+) (LOG|DETAIL|ERROR|STATEMENT|HINT|WARNING|FATAL|CONTEXT):  (.*)$`)

var execRe = regexp.MustCompile(`^execute [^:]*: (.*)$`)

func capture(ctx context.Context, c *http.Client, url string, w workload, usernames []string, logPath, db, out string) error {
	b, err := body(w, "meridian", usernames, 0)
	if err != nil {
		return err
	}
	var last error
	for attempt := 0; attempt < 30; attempt++ {
		if attempt > 0 {
			time.Sleep(150 * time.Millisecond)
		}
		off, err := fileSize(logPath)
		if err != nil {
			return err
		}
		start := time.Now().Add(-2 * time.Millisecond)
		_, want, err := post(ctx, c, url, b)
		if err != nil {
			return err
		}
		end := time.Now().Add(2 * time.Millisecond)
		time.Sleep(200 * time.Millisecond) // the server writes its log asynchronously
		entries, err := readLog(logPath, off, db)
		if err != nil {
			return err
		}
		var got []string
		for _, e := range entries {
			if e.at.Before(start.Truncate(time.Millisecond)) || e.at.After(end) || strings.TrimSpace(e.sql) == "-- ping" {
				continue
			}
			got = append(got, e.sql)
		}
		if want <= 0 {
			return errors.New("the response reports no sqlStatements extension")
		}
		if len(got) != want {
			last = fmt.Errorf("%d statements in the window, the request reports %d", len(got), want)
			continue
		}
		var sb strings.Builder
		for _, s := range got {
			sb.WriteString(strings.TrimRight(strings.TrimSpace(s), ";"))
			sb.WriteString(";\n")
		}
		if err := os.WriteFile(out, []byte(sb.String()), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		fmt.Printf("captured %d statements per request into %s\n", len(got), out)
		return nil
	}
	return fmt.Errorf("no clean capture in 30 attempts: %w", last)
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("postgresql log: %w", err)
	}
	return st.Size(), nil
}

// readLog parses the log from off: the statements of database db, with the
// parameters of their DETAIL lines inlined as literals.
func readLog(path string, off int64, db string) ([]logEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("postgresql log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []logEntry
	// cur is the entry being read (continuation lines start with a tab);
	// kind is what it is: "stmt", "detail" or "" (something else).
	var cur *logEntry
	kind := ""
	var detail strings.Builder
	lastByPid := map[string]int{}
	flush := func() {
		if kind == "detail" && cur != nil {
			if i, ok := lastByPid[cur.pid]; ok && out[i].named {
				out[i].sql = inline(out[i].sql, parseParams(detail.String()))
				out[i].named = false
			}
		}
		cur, kind = nil, ""
		detail.Reset()
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "\t") {
			switch kind {
			case "stmt":
				out[len(out)-1].sql += "\n" + line[1:]
			case "detail":
				detail.WriteString("\n" + line[1:])
			}
			continue
		}
		flush()
		m := logLine.FindStringSubmatch(line)
		if m == nil || m[3] != db {
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05.000 MST", m[1])
		if err != nil {
			continue
		}
		msg := m[5]
		switch {
		case m[4] == "LOG" && strings.HasPrefix(msg, "statement: "):
			out = append(out, logEntry{at: at, pid: m[2], sql: strings.TrimPrefix(msg, "statement: ")})
			lastByPid[m[2]] = len(out) - 1
			cur, kind = &out[len(out)-1], "stmt"
		case m[4] == "LOG" && execRe.MatchString(msg):
			out = append(out, logEntry{at: at, pid: m[2], sql: execRe.FindStringSubmatch(msg)[1], named: true})
			lastByPid[m[2]] = len(out) - 1
			cur, kind = &out[len(out)-1], "stmt"
		case m[4] == "DETAIL" && strings.HasPrefix(msg, "parameters: "):
			cur, kind = &logEntry{pid: m[2]}, "detail"
			detail.WriteString(strings.TrimPrefix(msg, "parameters: "))
		}
	}
	flush()
	return out, sc.Err()
}

// parseParams reads "$1 = 'a', $2 = NULL, …" into 1-based values, each a
// SQL literal as PostgreSQL printed it (quoted, quotes doubled) or NULL.
func parseParams(s string) map[int]string {
	out := map[int]string{}
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\n') {
			i++
		}
		if i >= len(s) || s[i] != '$' {
			break
		}
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(s[i+1 : j])
		i = j
		if !strings.HasPrefix(s[i:], " = ") {
			break
		}
		i += 3
		if strings.HasPrefix(s[i:], "NULL") {
			out[n] = "NULL"
			i += 4
			continue
		}
		if i >= len(s) || s[i] != '\'' {
			break
		}
		j = i + 1
		for j < len(s) {
			if s[j] == '\'' {
				if j+1 < len(s) && s[j+1] == '\'' {
					j += 2
					continue
				}
				break
			}
			j++
		}
		out[n] = s[i : j+1]
		i = j + 1
	}
	return out
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// inline replaces $n outside string literals by its value.
func inline(sql string, params map[int]string) string {
	var sb strings.Builder
	inStr := false
	last := 0
	for i := 0; i < len(sql); i++ {
		switch {
		case sql[i] == '\'':
			inStr = !inStr
		case !inStr && sql[i] == '$':
			loc := placeholder.FindStringSubmatchIndex(sql[i:])
			if loc == nil || loc[0] != 0 {
				continue
			}
			n, _ := strconv.Atoi(sql[i+loc[2] : i+loc[3]])
			v, ok := params[n]
			if !ok {
				continue
			}
			sb.WriteString(sql[last:i])
			sb.WriteString(v)
			i += loc[1] - 1
			last = i + 1
		}
	}
	sb.WriteString(sql[last:])
	return sb.String()
}

// settle waits until the process pid has been idle (under 5 % of a core)
// for two seconds in a row, or for at most max: a server's start-up work
// (Meridian's first analytics refit) must not run during a pass.
func settle(pid int, max time.Duration) error {
	deadline := time.Now().Add(max)
	quiet := 0
	prev, err := cpuSeconds(pid)
	if err != nil {
		return err
	}
	for quiet < 2 {
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "load: process %d still busy after %s; going on\n", pid, max)
			return nil
		}
		time.Sleep(time.Second)
		now, err := cpuSeconds(pid)
		if err != nil {
			return err
		}
		if now-prev < 0.05 {
			quiet++
		} else {
			quiet = 0
		}
		prev = now
	}
	return nil
}
