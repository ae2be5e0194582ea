package analytics

import (
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Profile is a user's analytics profile (the seed's MongoDB document).
type Profile struct {
	Username       string             `json:"username"`
	Email          string             `json:"email,omitempty"`
	Interests      []string           `json:"interests"`
	ExpertiseLevel string             `json:"expertiseLevel,omitempty"`
	Metrics        map[string]float64 `json:"metrics"`
	Subscriptions  []string           `json:"subscriptions"`
	UpdatedAt      time.Time          `json:"updatedAt"`
}

// ProfileInput creates or replaces a profile's fields; nil leaves a field
// as it is on update and empty on create.
type ProfileInput struct {
	Username       string
	Email          *string
	Interests      []string
	ExpertiseLevel *string
	Metrics        map[string]float64
	Subscriptions  []string
}

// Expertise levels.
func ExpertiseLevels() []string { return []string{"beginner", "intermediate", "advanced", "expert"} }

var (
	usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$`)
	tagRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9 _.+-]{0,39}$`)
)

const maxTags = 100

// CheckProfile validates and normalises a profile input (lower-case tags,
// deduplicated and sorted).
func CheckProfile(in *ProfileInput) error {
	in.Username = strings.TrimSpace(in.Username)
	if !usernameRE.MatchString(in.Username) {
		return &FieldError{"username", "must be 3–32 letters, digits, _ . - starting with a letter or digit"}
	}
	if in.Email != nil {
		e := strings.ToLower(strings.TrimSpace(*in.Email))
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			return &FieldError{"email", "is not a valid email address"}
		}
		in.Email = &e
	}
	if in.ExpertiseLevel != nil && !slices.Contains(ExpertiseLevels(), *in.ExpertiseLevel) {
		return &FieldError{"expertiseLevel", "must be one of " + strings.Join(ExpertiseLevels(), ", ")}
	}
	var err error
	if in.Interests, err = NormaliseTags("interests", in.Interests); err != nil {
		return err
	}
	if in.Subscriptions, err = NormaliseTags("subscriptions", in.Subscriptions); err != nil {
		return err
	}
	return CheckMetrics(in.Metrics)
}

// NormaliseTags lower-cases, deduplicates and sorts tags (interests,
// subscriptions) and checks them.
func NormaliseTags(field string, tags []string) ([]string, error) {
	if tags == nil {
		return nil, nil
	}
	if len(tags) > maxTags {
		return nil, &FieldError{field, "at most 100 entries"}
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if !tagRE.MatchString(t) {
			return nil, &FieldError{field, "entries are 1–40 lower-case letters, digits, space _ . + -"}
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CheckMetrics refuses non-finite values and bad names.
func CheckMetrics(m map[string]float64) error {
	for k, v := range m {
		if !tagRE.MatchString(k) || strings.ContainsAny(k, " .") {
			return &FieldError{"metrics", "names are lower-case letters, digits, _ + -"}
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &FieldError{"metrics." + k, "must be a finite number"}
		}
	}
	return nil
}
