package engine

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/meridian-graphql/meridian/platform/apperr"
)

// Confidence says how much of a user's score comes from their own history.
type Confidence string

// The confidence levels.
const (
	Low    Confidence = "LOW"
	Medium Confidence = "MEDIUM"
	High   Confidence = "HIGH"
)

// MarshalGQL writes the level as a GraphQL enum value.
func (c Confidence) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

// UnmarshalGQL reads a GraphQL enum value.
func (c *Confidence) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !slices.Contains([]Confidence{Low, Medium, High}, Confidence(s)) {
		return fmt.Errorf("%v is not a confidence level", v)
	}
	*c = Confidence(s)
	return nil
}

// confidenceOf grades the evidence behind a score: repeat purchases and
// time observed (days).
func confidenceOf(orders int, repeat, ageDays float64) Confidence {
	switch {
	case repeat >= 3 && ageDays >= 90:
		return High
	case repeat >= 1 || (orders > 0 && ageDays >= 90):
		return Medium
	default:
		return Low
	}
}

// Score is one user's profile as the engine computed it (the GraphQL
// CustomerProfile). Every number is finite; probabilities are in [0, 1].
type Score struct {
	UserID             int
	Segment            Segment
	SegmentReason      string
	EngagementScore    float64
	ChurnProbability   float64
	PAlive             float64
	NextPurchaseInDays *float64
	LTV                float64
	Confidence         Confidence

	// expected returns the expected purchases in the next days days.
	expected func(days float64) float64
}

// MaxExpectedDays bounds CustomerProfile.expectedPurchases(days).
const MaxExpectedDays = 3650

// ExpectedPurchases is the expected number of purchases in the next days
// days (1–MaxExpectedDays).
func (s *Score) ExpectedPurchases(days int) (float64, error) {
	if days < 1 || days > MaxExpectedDays {
		return 0, apperr.BadInput("days", "must be between 1 and %d", MaxExpectedDays)
	}
	if s.expected == nil {
		return 0, nil
	}
	return finite(s.expected(float64(days))), nil
}

// Recommendation is a product for a user, with why.
type Recommendation struct {
	ProductID int
	Score     float64
	Reason    string
}

// SegmentRow is one line of the segment report.
type SegmentRow struct {
	Segment Segment
	Users   int
	Share   float64
	AvgLtv  float64
	Insight string
}

// Parameters are the fitted model parameters (GraphQL ModelParameters).
type Parameters struct {
	R, Alpha, A, B float64
	P, Q, V        *float64
}

// Status describes the fit that serves (GraphQL ModelStatus).
type Status struct {
	FittedAt      *time.Time
	Parameters    *Parameters
	LogLikelihood *float64
	TrainingUsers int
	ScoredUsers   int
	Converged     bool
	Error         *string
}

// finite replaces NaN and ±Inf, which must never reach a response, with 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
