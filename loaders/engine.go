package loaders

import (
	"context"
	"strconv"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/meridian-graphql/meridian/analytics/engine"
)

// Scorer is the analytics engine as the loaders use it: scores and
// recommendations for many users per call.
type Scorer interface {
	Profiles(ctx context.Context, ids []int) (map[int]*engine.Score, error)
	Recommendations(ctx context.Context, ids []int, limit int) (map[int][]*engine.Recommendation, error)
}

// Profile returns the user's engine profile; one engine call per level.
func (l *Loaders) Profile(ctx context.Context, userID int) (*engine.Score, error) {
	if l.cfg.Engine == nil {
		return nil, engine.ErrNotRunning
	}
	return levelAt(l, ctx, "profile|"+positionKey(ctx), userID, fromMap(l.cfg.Engine.Profiles))
}

// Recommendations returns up to limit recommendations for the user; one
// engine call per level and limit.
func (l *Loaders) Recommendations(ctx context.Context, userID, limit int) ([]*engine.Recommendation, error) {
	if l.cfg.Engine == nil {
		return nil, engine.ErrNotRunning
	}
	return levelAt(l, ctx, "recs|"+positionKey(ctx)+"|"+strconv.Itoa(limit), userID, dataloader.BatchFunc[int, []*engine.Recommendation](
		fromMap(func(ctx context.Context, ids []int) (map[int][]*engine.Recommendation, error) {
			return l.cfg.Engine.Recommendations(ctx, ids, limit)
		})))
}
