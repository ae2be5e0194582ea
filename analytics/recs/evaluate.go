package recs

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"
)

// holdoutGap is how long before a held-out purchase the user's history is
// cut. The purchase's own session (a cart event minutes earlier names the
// very item) must not leak into training; a demo session lasts well under
// an hour, and an hour of lost history costs the evaluation nothing.
const holdoutGap = time.Hour

// Metrics are ranking metrics at k, averaged over the evaluated users. With
// one held-out item per user, recall@k is the hit rate and precision@k is
// recall@k / k; NDCG@k is 1/log2(1+rank) of a hit (the ideal DCG is 1).
type Metrics struct {
	Precision, Recall, NDCG float64
}

// Report is the outcome of EvaluateLeaveLastOut.
type Report struct {
	K int
	// Users is the number of users evaluated: those with ≥ 2 purchases.
	Users int
	// Repeats is how many held-out purchases were of an item the user had
	// already bought: no list may recommend those, so they are misses for
	// both rows and cap what any model could reach.
	Repeats int
	// Interactions is the number of interactions trained on.
	Interactions int
	// Model and Baseline are the collaborative filter and the popularity
	// baseline (the country's best-sellers, then everyone's, minus what the
	// user bought: Recommend without similarities).
	Model, Baseline         Metrics
	ModelName, BaselineName string
	// Global is popularity over everyone, minus what the user bought: a
	// second reference, since a small country's best-sellers rest on few
	// users and may be the weaker baseline.
	Global Metrics
}

// EvaluateLeaveLastOut holds out every user's last purchase (by time, for
// users with at least 2 purchases), trains on the rest, and scores the
// top-k lists of the model and of the popularity baseline against it.
//
// The evaluated users' interactions from holdoutGap before their held-out
// purchase onwards are left out of training, so that neither the purchase
// nor anything the user did in its session or after it leaks. One model
// serves all users — the usual leave-one-out protocol: a model per user
// would differ only in also seeing the other users' held-out purchases,
// at the cost of one training per user.
func EvaluateLeaveLastOut(ctx context.Context, interactions []Interaction, userCountry map[int]string, k int, opts Options) (*Report, error) {
	if k <= 0 {
		return nil, fmt.Errorf("recs: evaluate: k must be positive, got %d", k)
	}
	full, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("recs: evaluate: %w", err)
	}

	held, purchases := map[int]Interaction{}, map[int]int{}
	for _, x := range interactions {
		if !full.isPurchase(x.Weight) {
			continue
		}
		purchases[x.User]++
		// Later wins; equal times break by item so that the input order
		// does not matter.
		if h, ok := held[x.User]; !ok || x.At.After(h.At) || (x.At.Equal(h.At) && x.Item > h.Item) {
			held[x.User] = x
		}
	}
	var users []int
	for u, n := range purchases {
		if n >= 2 {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	if len(users) == 0 {
		return nil, fmt.Errorf("recs: evaluate: no user has 2 or more purchases")
	}

	train := make([]Interaction, 0, len(interactions))
	for _, x := range interactions {
		if h, ok := held[x.User]; ok && purchases[x.User] >= 2 && !x.At.Before(h.At.Add(-holdoutGap)) {
			continue
		}
		train = append(train, x)
	}
	model, err := Train(ctx, train, userCountry, opts)
	if err != nil {
		return nil, fmt.Errorf("leave-last-out: %w", err)
	}

	r := &Report{
		K:            k,
		Users:        len(users),
		Interactions: len(train),
		ModelName:    modelName(model.opts),
		BaselineName: "popularity in country",
	}
	s := model.getScorer()
	defer model.scratch.Put(s)
	buf := make([]Scored, 0, min(k, model.Items()))
	for n, u := range users {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("recs: evaluate: %w", err)
			}
		}
		item := held[u].Item
		if model.hasBought(u, item) {
			r.Repeats++
		}
		country := userCountry[u]
		r.Model.add(model.recommend(s, u, country, k, true, buf[:0]), item, k)
		r.Baseline.add(model.recommend(s, u, country, k, false, buf[:0]), item, k)
		r.Global.add(model.recommend(s, u, "", k, false, buf[:0]), item, k)
	}
	r.Model.divide(len(users))
	r.Baseline.divide(len(users))
	r.Global.divide(len(users))
	return r, nil
}

// hasBought reports whether the model saw user buy item.
func (m *Model) hasBought(user, item int) bool {
	u, ok := m.userIdx[user]
	i, known := m.itemIdx[item]
	if !ok || !known {
		return false
	}
	items, _ := m.hist.row(u)
	k, found := slices.BinarySearch(items, i)
	return found && m.bought[int(m.hist.start[u])+k]
}

// add accumulates one user's metrics for a list and the single relevant
// item.
func (mt *Metrics) add(list []Scored, relevant, k int) {
	for rank, s := range list {
		if s.Item == relevant {
			mt.Precision += 1 / float64(k)
			mt.Recall++
			mt.NDCG += 1 / math.Log2(float64(rank)+2)
			return
		}
	}
}

func (mt *Metrics) divide(n int) {
	mt.Precision /= float64(n)
	mt.Recall /= float64(n)
	mt.NDCG /= float64(n)
}

func modelName(o Options) string {
	name := fmt.Sprintf("item-item CF (%s, K=%d", o.Similarity, o.Neighbors)
	if o.Similarity == Cosine && o.Alpha != 0.5 {
		name += fmt.Sprintf(", α=%g", o.Alpha)
	}
	if o.HalfLife > 0 {
		name += ", half-life " + days(o.HalfLife)
	}
	if o.Shrink > 0 {
		name += fmt.Sprintf(", shrink %g", o.Shrink)
	}
	return name + ")"
}

// Print writes the report as an aligned table: the model, the baseline and
// their ratio per metric.
func (r *Report) Print(w io.Writer) error {
	// Everything goes through the tabwriter, so that Flush reports any
	// write error; lines without tabs pass through unaligned.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "leave-last-out: %d users with ≥ 2 purchases, k=%d, trained on %d interactions\n", r.Users, r.K, r.Interactions)
	fmt.Fprintf(tw, "(%d held-out purchases, %.1f%%, were repeats of an item already bought: misses for both rows)\n\n",
		r.Repeats, 100*float64(r.Repeats)/float64(max(r.Users, 1)))
	fmt.Fprintf(tw, "model\tprecision@%d\trecall@%d\tNDCG@%d\n", r.K, r.K, r.K)
	for _, row := range []struct {
		name string
		m    Metrics
	}{{r.ModelName, r.Model}, {r.BaselineName, r.Baseline}, {"popularity overall", r.Global}} {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\n", row.name, row.m.Precision, row.m.Recall, row.m.NDCG)
	}
	fmt.Fprintf(tw, "CF / %s\t%s\t%s\t%s\n",
		r.BaselineName,
		ratio(r.Model.Precision, r.Baseline.Precision),
		ratio(r.Model.Recall, r.Baseline.Recall),
		ratio(r.Model.NDCG, r.Baseline.NDCG))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("recs: print report: %w", err)
	}
	return nil
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// days formats a duration in days when it is whole days, the unit half
// lives are thought in ("90d", not "2160h0m0s").
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
