// The check mode (-check): each workload fetched once from both servers,
// both response shapes unwrapped into the same tree of values, and the
// trees compared.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// renames maps PostGraphile's field names to Meridian's.
var renames = map[string]string{
	"allCountries":       "countries",
	"allUsers":           "users",
	"userByUsername":     "user",
	"citiesByCountryId":  "cities",
	"addressByAddressId": "address",
	"cityByCityId":       "city",
	"countryByCountryId": "country",
}

// normalise unwraps connections into lists (edges[].node, nodes[]), renames
// PostGraphile's relation fields and rounds floats to 9 significant digits
// (the two servers' averages may sum in another order).
func normalise(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if edges, ok := t["edges"].([]any); ok && len(t) == 1 {
			out := make([]any, 0, len(edges))
			for _, e := range edges {
				out = append(out, normalise(e.(map[string]any)["node"]))
			}
			return out
		}
		if nodes, ok := t["nodes"].([]any); ok && len(t) == 1 {
			return normalise(nodes)
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			if r, ok := renames[k]; ok {
				k = r
			}
			out[k] = normalise(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalise(x)
		}
		return out
	case float64:
		if t == 0 || t == math.Trunc(t) {
			return t
		}
		p, _ := strconv.ParseFloat(strconv.FormatFloat(t, 'g', 9, 64), 64)
		return p
	}
	return v
}

// leaves counts the scalar values of a normalised tree.
func leaves(v any) int {
	switch t := v.(type) {
	case map[string]any:
		n := 0
		for _, x := range t {
			n += leaves(x)
		}
		return n
	case []any:
		n := 0
		for _, x := range t {
			n += leaves(x)
		}
		return n
	}
	return 1
}

func fetch(ctx context.Context, c *http.Client, url string, w workload, target string, usernames []string, i int) (any, error) {
	b, err := body(w, target, usernames, i)
	if err != nil {
		return nil, err
	}
	data, _, err := post(ctx, c, url, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	return normalise(v), nil
}

func checkAll(ctx context.Context, c *http.Client, murl, purl string, names, usernames []string) error {
	if murl == "" || purl == "" {
		return errors.New("-check needs -meridian and -postgraphile")
	}
	var errs []error
	for _, name := range names {
		w, err := lookup(name)
		if err != nil {
			return err
		}
		reps := 1
		if w.byUsername {
			reps = min(5, len(usernames))
		}
		total, same := 0, true
		for i := 0; i < reps; i++ {
			m, err := fetch(ctx, c, murl, w, "meridian", usernames, i)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			p, err := fetch(ctx, c, purl, w, "postgraphile", usernames, i)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			mj, _ := json.Marshal(m)
			pj, _ := json.Marshal(p)
			if !bytes.Equal(mj, pj) {
				errs = append(errs, fmt.Errorf("%s: the servers differ\n  meridian:     %.600s\n  postgraphile: %.600s", name, mj, pj))
				same = false
				continue
			}
			total += leaves(m)
		}
		if !same {
			continue
		}
		fmt.Printf("check %s: same rows from both servers (%d values in %d request(s))\n", name, total, reps)
	}
	return errors.Join(errs...)
}
