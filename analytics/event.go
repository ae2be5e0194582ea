package analytics

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mmcloughlin/geohash"
	"github.com/oklog/ulid/v2"
)

// Event is one tracked event as stored, with its derived fields.
type Event struct {
	ID        string         `json:"id"`
	UserID    int            `json:"userId"`
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Geo       *Geo           `json:"geo,omitempty"`

	// Derived at ingest by Prepare; never taken from clients.
	Day      time.Time `json:"-"` // UTC midnight
	Week     time.Time `json:"-"` // UTC Monday midnight
	Month    time.Time `json:"-"` // UTC first of the month
	Cell     string    `json:"-"` // geohash of Geo at CellPrecision, "" without Geo
	Revenue  float64   `json:"-"` // purchase: price × quantity
	Category string    `json:"-"` // metadata.category, "" when absent
}

// Geo is where an event happened.
type Geo struct {
	Country string  `json:"country,omitempty"` // ISO-3166 alpha-2
	City    string  `json:"city,omitempty"`
	Lon     float64 `json:"lon"`
	Lat     float64 `json:"lat"`
}

// EventInput is an event as a client sends it.
type EventInput struct {
	ID        *string
	UserID    int
	Type      string
	Timestamp *time.Time
	Metadata  map[string]any
	Geo       *Geo
}

// CellPrecision is the geohash length of Event.Cell: 5 characters, cells of
// about 4.9 km × 4.9 km at the equator — small enough to prefilter a "near"
// search, large enough that a 50 km radius needs a few hundred cells at most.
const CellPrecision = 5

// MaxBatch is the most events of one Track call. The limits of an
// event's strings are in limits.go.
const MaxBatch = 10000

// Policy is the configurable part of validation.
type Policy struct {
	// Types are the accepted event types.
	Types []string
	// AcceptUnknownTypes stores events of other types instead of refusing them.
	AcceptUnknownTypes bool
	// MaxFuture is how far past now a timestamp may lie (clock skew).
	MaxFuture time.Duration
}

// DefaultTypes are the event types accepted by default.
func DefaultTypes() []string {
	return []string{"page_view", "click", "search", "add_to_cart", "remove_from_cart", "purchase", "signup", "login", "logout"}
}

// DefaultPolicy accepts DefaultTypes, refuses others, and allows five
// minutes of clock skew.
func DefaultPolicy() Policy {
	return Policy{Types: DefaultTypes(), MaxFuture: 5 * time.Minute}
}

// FieldError is why one input was refused: the field at fault ("" when no
// single field is, as for an event the store refused) and a code (apperr's
// BAD_USER_INPUT for all of them today).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// BadUserInput lets package apperr map the error to BAD_USER_INPUT.
func (e *FieldError) BadUserInput() (field, msg string) { return e.Field, e.Msg }

var (
	idRE      = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	minTime   = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Prepare validates in against the policy and returns the event to store,
// with its id (a ULID when the client gave none) and derived fields.
func (p Policy) Prepare(in EventInput, now time.Time) (Event, error) {
	e := Event{UserID: in.UserID, Type: strings.TrimSpace(in.Type), Metadata: in.Metadata}
	if in.ID != nil {
		id := strings.TrimSpace(*in.ID)
		if id == "" || len(id) > MaxIDBytes || !idRE.MatchString(id) {
			return Event{}, &FieldError{"id", fmt.Sprintf("must be 1–%d characters of letters, digits, _ . : -", MaxIDBytes)}
		}
		e.ID = id
	} else {
		e.ID = ulid.MustNew(ulid.Timestamp(now), rand.Reader).String()
	}
	if in.UserID <= 0 {
		return Event{}, &FieldError{"userId", "must be a positive user id"}
	}
	if e.Type == "" {
		return Event{}, &FieldError{"type", "is required"}
	}
	if err := checkString("type", e.Type, MaxTypeBytes); err != nil {
		return Event{}, err
	}
	if !p.AcceptUnknownTypes && !slices.Contains(p.Types, e.Type) {
		return Event{}, &FieldError{"type", fmt.Sprintf("unknown event type %q (accepted: %s)", e.Type, strings.Join(p.Types, ", "))}
	}
	e.Timestamp = now.UTC()
	if in.Timestamp != nil {
		e.Timestamp = in.Timestamp.UTC()
	}
	if e.Timestamp.Before(minTime) {
		return Event{}, &FieldError{"timestamp", "is before 2000-01-01"}
	}
	if e.Timestamp.After(now.Add(p.MaxFuture)) {
		return Event{}, &FieldError{"timestamp", "is in the future"}
	}
	// Stores keep microseconds (PostgreSQL) or milliseconds (MongoDB).
	e.Timestamp = e.Timestamp.Truncate(time.Millisecond)
	if err := checkMetadata(&e); err != nil {
		return Event{}, err
	}
	if g := in.Geo; g != nil {
		if err := checkGeo(g); err != nil {
			return Event{}, err
		}
		c := *g
		c.Country = strings.ToUpper(strings.TrimSpace(c.Country))
		e.Geo = &c
		e.Cell = cellOf(c.Lat, c.Lon)
	}
	e.Day, e.Week, e.Month = Buckets(e.Timestamp)
	return e, nil
}

// DecodeEventInput reads an event input sent as JSON outside GraphQL (the
// bus's event.track bodies): exactly one JSON value, nothing after it.
func DecodeEventInput(b []byte) (EventInput, error) {
	var in EventInput
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&in); err != nil {
		return EventInput{}, err
	}
	if dec.More() {
		return EventInput{}, fmt.Errorf("trailing data after the JSON value")
	}
	return in, nil
}

// cellOf is the geohash cell of a point. The encoder scales coordinates to
// 32-bit integers over [−90, 90) and [−180, 180), so the pole and points
// within a hair of the top edges overflow and wrap to the opposite edge;
// they are moved just inside first (1e-6° is 11 cm, far below a 5-character
// cell). lon 180 is the same meridian as −180.
func cellOf(lat, lon float64) string {
	const eps = 1e-6
	lat = math.Min(lat, 90-eps)
	switch {
	case lon >= 180:
		lon = -180
	case lon > 180-eps:
		lon = 180 - eps
	}
	return geohash.EncodeWithPrecision(lat, lon, CellPrecision)
}

// Bounds of purchase amounts: far above any real order, low enough that
// price × quantity stays exact to the cent in a float64 (< 2^53 cents).
const (
	MaxPrice    = 1e9
	MaxQuantity = 1e6
)

func checkMetadata(e *Event) error {
	if e.Metadata == nil {
		if e.Type == "purchase" {
			return &FieldError{"metadata.price", "a purchase needs a price"}
		}
		return nil
	}
	b, err := json.Marshal(e.Metadata)
	if err != nil {
		return &FieldError{"metadata", "is not valid JSON"}
	}
	// PostgreSQL's text and jsonb cannot hold NUL; refuse it for every store.
	if bytes.Contains(b, []byte(`\u0000`)) {
		return &FieldError{"metadata", "must not contain NUL characters"}
	}
	if len(b) > MaxMetadataBytes {
		return &FieldError{"metadata", fmt.Sprintf("is %d bytes as JSON; at most %d", len(b), MaxMetadataBytes)}
	}
	// The category first: its own limit, the tighter, is the one to state.
	if c, ok := e.Metadata["category"].(string); ok {
		e.Category = strings.TrimSpace(c)
		if err := checkString("metadata.category", e.Category, MaxCategoryBytes); err != nil {
			return err
		}
	}
	if err := checkMetadataValues("metadata", e.Metadata, 0); err != nil {
		return err
	}
	price, hasPrice, err := number(e.Metadata, "price")
	if err != nil {
		return err
	}
	qty, hasQty, err := number(e.Metadata, "quantity")
	if err != nil {
		return err
	}
	if hasPrice && (price < 0 || price > MaxPrice) {
		return &FieldError{"metadata.price", fmt.Sprintf("must be between 0 and %g", MaxPrice)}
	}
	if hasQty && (qty <= 0 || qty != math.Trunc(qty) || qty > MaxQuantity) {
		return &FieldError{"metadata.quantity", fmt.Sprintf("must be a whole number from 1 to %g", MaxQuantity)}
	}
	if e.Type == "purchase" {
		if !hasPrice {
			return &FieldError{"metadata.price", "a purchase needs a price"}
		}
		if !hasQty {
			qty = 1
		}
		e.Revenue = math.Round(price*qty*100) / 100
	}
	return nil
}

// number reads a finite number from metadata.
func number(m map[string]any, key string) (float64, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	f, ok := Number(v)
	if !ok {
		return 0, false, &FieldError{"metadata." + key, "must be a number"}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, &FieldError{"metadata." + key, "must be a finite number"}
	}
	return f, true, nil
}

// Number converts a decoded JSON number (float64, an integer, json.Number)
// to float64; ok is false for anything else.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func checkGeo(g *Geo) error {
	if math.IsNaN(g.Lat) || g.Lat < -90 || g.Lat > 90 {
		return &FieldError{"geo.lat", "must be between -90 and 90"}
	}
	if math.IsNaN(g.Lon) || g.Lon < -180 || g.Lon > 180 {
		return &FieldError{"geo.lon", "must be between -180 and 180"}
	}
	if c := strings.ToUpper(strings.TrimSpace(g.Country)); c != "" && !countryRE.MatchString(c) {
		return &FieldError{"geo.country", "must be an ISO-3166 alpha-2 code"}
	}
	return checkString("geo.city", g.City, MaxCityBytes)
}

// Buckets returns the UTC day, ISO week (from Monday) and month of t.
func Buckets(t time.Time) (day, week, month time.Time) {
	t = t.UTC()
	day = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	week = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	month = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return day, week, month
}
