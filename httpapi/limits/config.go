package limits

import (
	"fmt"
	"strings"
)

// Config holds the limits. A limit that is zero or negative is not enforced,
// so that a deployment can switch one check off without a sentinel value;
// DefaultConfig gives the values meant for production.
type Config struct {
	// MaxDepth bounds field nesting: `{ a { b } }` has depth 2. Fragments and
	// inline fragments add no level of their own.
	MaxDepth int
	// MaxCost bounds the estimated number of fields resolved; see Measure.
	MaxCost int
	// MaxAliases bounds the fields selected under an alias that differs from
	// their name, counted over the operation with fragments expanded: aliases
	// are how one request asks for the same expensive field many times.
	MaxAliases int
	// MaxTokens bounds the lexical tokens of the raw query text. It is
	// checked before parsing.
	MaxTokens int
	// MaxFirst bounds every page-size argument (see PageArgs) the client
	// passes, literally or through a variable.
	MaxFirst int
	// DefaultListSize is the page size assumed, for the cost, on a list or
	// connection field that has no page-size argument and no schema default
	// for one. Values below 1 count as 1.
	DefaultListSize int
	// ListSizes overrides DefaultListSize per field, keyed "Type.field", for
	// lists known to be small (or large).
	ListSizes map[string]int
	// PageArgs names the arguments that set a field's page size. Nil means
	// first, last and limit: the page sizes of entgql connections and of the
	// hand-written list fields.
	PageArgs []string
	// Introspection allows __schema and __type. When false they are refused
	// with INTROSPECTION_DISABLED; __typename is always allowed.
	Introspection bool
}

// DefaultConfig returns the production limits. Introspection is off: it is a
// map of the whole API, to be switched on where it is wanted.
func DefaultConfig() Config {
	return Config{
		MaxDepth:        12,
		MaxCost:         50_000,
		MaxAliases:      30,
		MaxTokens:       5_000,
		MaxFirst:        1_000,
		DefaultListSize: 100,
	}
}

// Describe returns a one-line summary of cfg for start-up logs.
func Describe(cfg Config) string {
	lim := func(v int) string {
		if v <= 0 {
			return "off"
		}
		return fmt.Sprint(v)
	}
	intro := "off"
	if cfg.Introspection {
		intro = "on"
	}
	return fmt.Sprintf("depth=%s cost=%s aliases=%s tokens=%s first=%s defaultList=%d pageArgs=%s introspection=%s",
		lim(cfg.MaxDepth), lim(cfg.MaxCost), lim(cfg.MaxAliases), lim(cfg.MaxTokens), lim(cfg.MaxFirst),
		cfg.listSize(""), strings.Join(cfg.pageArgs(), ","), intro)
}

// pageArgs returns the configured page-size arguments. The default is built
// here rather than kept in a package variable, which callers could modify.
func (c *Config) pageArgs() []string {
	if c.PageArgs == nil {
		return []string{"first", "last", "limit"}
	}
	return c.PageArgs
}

// listSize returns the page size assumed for the field key ("Type.field")
// when the request does not give one.
func (c *Config) listSize(key string) int {
	if n, ok := c.ListSizes[key]; ok && key != "" {
		return max(n, 1)
	}
	return max(c.DefaultListSize, 1)
}
