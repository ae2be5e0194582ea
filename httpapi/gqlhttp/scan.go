package gqlhttp

// verdict is what the top of a response body says about its status code.
type verdict uint8

const (
	// needMore: the body so far does not tell.
	needMore verdict = iota
	// hasData: a non-null top-level data member, so a result (perhaps a
	// partial one, with field errors), which is 200 under either media type.
	hasData
	// noData: a complete object whose data is null or absent: a request
	// error, or a field error that nulled the whole result. Which of the
	// two only the errors can tell.
	noData
	// notObject: not a JSON object, so not a GraphQL response at all.
	notObject
)

type scanState uint8

const (
	stStart scanState = iota
	stKeyOrEnd
	stKey
	stColon
	stValue
	stSkip   // inside a string, object or array value
	stScalar // inside a number or literal
	stAfter  // after a member's value
	stDone
)

// topScan reads a JSON object incrementally, as the handler writes it, and
// stops at the first byte of the top-level "data" member's value. gqlgen
// writes errors first and data second, so for a result the verdict comes
// after a few bytes and the rest of the body, however large, streams
// straight through without being buffered or parsed. It does not validate
// the JSON: it only has to find the members of output gqlgen produced.
type topScan struct {
	st       scanState
	v        verdict
	depth    int  // nesting inside a skipped object or array
	inString bool // inside a string of a skipped value
	escaped  bool // after a backslash inside a string
	keyPos   int  // bytes of the key matched against "data"; -1 on mismatch
	isData   bool // the member being read is "data"
}

const dataKey = "data"

// feed scans the next bytes of the body and returns the verdict once there
// is one; after that it keeps returning it.
func (s *topScan) feed(p []byte) verdict {
	for i := 0; i < len(p) && s.st != stDone; i++ {
		c := p[i]
		switch s.st {
		case stStart:
			if isSpace(c) {
				continue
			}
			if c != '{' {
				return s.finish(notObject)
			}
			s.st = stKeyOrEnd
		case stKeyOrEnd:
			switch {
			case isSpace(c):
			case c == '"':
				s.st, s.keyPos, s.escaped = stKey, 0, false
			case c == '}':
				return s.finish(noData)
			default:
				return s.finish(notObject)
			}
		case stKey:
			switch {
			case s.escaped:
				// An escaped key is never gqlgen's plain "data".
				s.escaped, s.keyPos = false, -1
			case c == '\\':
				s.escaped = true
			case c == '"':
				s.isData, s.st = s.keyPos == len(dataKey), stColon
			case s.keyPos >= 0 && s.keyPos < len(dataKey) && c == dataKey[s.keyPos]:
				s.keyPos++
			default:
				s.keyPos = -1
			}
		case stColon:
			switch {
			case isSpace(c):
			case c == ':':
				s.st = stValue
			default:
				return s.finish(notObject)
			}
		case stValue:
			if isSpace(c) {
				continue
			}
			if s.isData && c != 'n' {
				return s.finish(hasData)
			}
			switch c {
			case '"':
				s.st, s.inString, s.escaped, s.depth = stSkip, true, false, 0
			case '{', '[':
				s.st, s.inString, s.depth = stSkip, false, 1
			default:
				s.st = stScalar
			}
		case stSkip:
			s.skip(c)
		case stScalar:
			if isSpace(c) || c == ',' || c == '}' {
				s.st = stAfter
				i-- // the delimiter belongs to stAfter
			}
		case stAfter:
			switch {
			case isSpace(c):
			case c == ',':
				s.st = stKeyOrEnd
			case c == '}':
				return s.finish(noData)
			default:
				return s.finish(notObject)
			}
		}
	}
	return s.v
}

// skip advances through a string, object or array value.
func (s *topScan) skip(c byte) {
	if s.inString {
		switch {
		case s.escaped:
			s.escaped = false
		case c == '\\':
			s.escaped = true
		case c == '"':
			s.inString = false
			if s.depth == 0 {
				s.st = stAfter
			}
		}
		return
	}
	switch c {
	case '"':
		s.inString = true
	case '{', '[':
		s.depth++
	case '}', ']':
		s.depth--
		if s.depth == 0 {
			s.st = stAfter
		}
	}
}

func (s *topScan) finish(v verdict) verdict {
	s.st, s.v = stDone, v
	return v
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
