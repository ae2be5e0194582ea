package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/meridian-graphql/meridian/analytics/models"
	"github.com/meridian-graphql/meridian/analytics/recs"
)

// snapshot is the immutable result of one fit: requests read it without
// locks while the next fit builds its successor.
type snapshot struct {
	fittedAt      time.Time
	model         *fitted // nil when no customer ever ordered
	trainingUsers int
	converged     bool
	vipCut        float64
	scores        map[int]*Score
	report        []*SegmentRow
	recs          *recs.Model
	country       map[int]string
	phases        Phases
}

// Phases are the durations of a fit's steps.
type Phases struct {
	Load, Fit, Score, Recommender time.Duration
}

// fit loads the data, fits the models and scores every user.
func (e *Engine) fit(ctx context.Context) (*snapshot, error) {
	now := e.cfg.Now()
	mark := time.Now()
	lap := func() time.Duration {
		d := time.Since(mark)
		mark = time.Now()
		return d
	}
	d, err := load(ctx, e.cfg.Client, e.cfg.Events, now)
	if err != nil {
		return nil, err
	}
	s := &snapshot{fittedAt: now, country: make(map[int]string, len(d.users)), vipCut: math.Inf(1)}
	s.phases.Load = lap()
	for _, u := range d.users {
		if u.country != "" {
			s.country[u.id] = u.country
		}
	}
	txs, hist, rfm, meanSpend := histories(d, now)
	s.trainingUsers = len(rfm)
	switch m, converged, err := fitModels(ctx, txs, rfm, meanSpend, e.cfg, now); {
	case err == nil:
		s.model, s.converged = m, converged
	case errors.Is(err, models.ErrNoCustomers) || errors.Is(err, models.ErrInsufficientData):
		// Nothing to learn purchases from yet: scores follow the
		// documented no-model rules (see score).
		e.cfg.Log.WarnContext(ctx, "models not fitted: not enough purchase history", "customers", len(rfm), "err", err)
	default:
		return nil, fmt.Errorf("fit models: %w", err)
	}
	s.phases.Fit = lap()
	// Lifetime values first: the VIP cut depends on all of them.
	raw := s.rawScores(d, hist, e.cfg, now)
	ltvs := make([]float64, 0, len(raw))
	for _, r := range raw {
		ltvs = append(ltvs, r.score.LTV)
	}
	s.vipCut = vipCut(ltvs, e.cfg.Thresholds.VIPTopShare)
	s.scores = make(map[int]*Score, len(raw))
	members := make([]member, 0, len(raw))
	for _, r := range raw {
		s.finish(r, e.cfg.Thresholds)
		s.scores[r.score.UserID] = r.score
		members = append(members, member{segment: r.score.Segment, ltv: r.score.LTV, churn: r.score.ChurnProbability, spent: r.spent, daysInactive: r.daysInactive, expected90: r.expected90})
	}
	s.report = report(members, e.cfg.Thresholds, e.cfg.ChurnHorizon.Hours()/24)
	s.phases.Score = lap()
	if s.recs, err = trainRecs(ctx, d, s.country); err != nil {
		return nil, fmt.Errorf("train recommendations: %w", err)
	}
	s.phases.Recommender = lap()
	return s, nil
}

// histories summarizes every user's orders in days (BTYD convention) and
// returns the model input of the customers with orders, plus the mean order
// value (the spend of users the spend model cannot speak for).
func histories(d *dataset, now time.Time) ([]models.Transaction, map[int]history, []models.RFM, float64) {
	txs := make([]models.Transaction, 0, len(d.orders))
	orders := map[int]int{}
	total := 0.0
	for _, o := range d.orders {
		txs = append(txs, models.Transaction{Customer: strconv.Itoa(o.user), At: o.at, Amount: o.amount})
		orders[o.user]++
		total += o.amount
	}
	rfm := models.Summarize(txs, now, 24*time.Hour)
	hist := make(map[int]history, len(rfm))
	for _, r := range rfm {
		id, err := strconv.Atoi(r.Customer)
		if err != nil {
			continue // cannot happen: ids are written by us
		}
		hist[id] = history{rfm: r, orders: orders[id]}
	}
	mean := 0.0
	if len(d.orders) > 0 {
		mean = math.Max(0, total/float64(len(d.orders)))
	}
	return txs, hist, rfm, mean
}

// rawScore is a score before its segment is known.
type rawScore struct {
	score        *Score
	daysInactive float64
	spent        float64
	expected90   float64
}

// rawScores applies the models to every user of d, on every core: the
// users are independent and the models are read-only.
func (s *snapshot) rawScores(d *dataset, hist map[int]history, cfg Config, now time.Time) []rawScore {
	spent := map[int]float64{}
	for _, o := range d.orders {
		spent[o.user] += o.amount
	}
	out := make([]rawScore, len(d.users))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(d.users)/1000))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(d.users); i += workers {
				out[i] = s.rawScore(d.users[i], hist, spent, now)
			}
		}()
	}
	wg.Wait()
	return out
}

func (s *snapshot) rawScore(u userRow, hist map[int]history, spent map[int]float64, now time.Time) rawScore {
	h, bought := hist[u.id]
	if !bought {
		// Never bought: at risk since signing up, with no repeat history
		// (the models' convention for a customer who has just arrived).
		h = history{rfm: models.RFM{T: math.Max(0, now.Sub(u.createdAt).Hours()/24)}}
	}
	inactive := math.Max(0, now.Sub(u.lastActive).Hours()/24)
	sc := &Score{UserID: u.id, Confidence: confidenceOf(h.orders, h.rfm.Frequency, h.rfm.T)}
	r := rawScore{score: sc, daysInactive: inactive, spent: spent[u.id]}
	if m := s.model; m != nil {
		sc.PAlive = m.pAlive(h)
		sc.ChurnProbability = m.churnProb(h)
		sc.NextPurchaseInDays = m.nextPurchase(h)
		sc.LTV = m.ltv(h)
		sc.expected = func(days float64) float64 { return m.expected(days, h) }
		r.expected90 = m.expected(90, h)
	} else {
		// No model (no purchase history in the whole store): nothing
		// predicts a purchase, so none is expected — churn 1, value 0.
		sc.PAlive, sc.ChurnProbability, sc.Confidence = 0, 1, Low
	}
	sc.EngagementScore = engagement(inactive, u.events30, sc.ChurnProbability)
	return r
}

// finish sets the segment of a scored user.
func (s *snapshot) finish(r rawScore, th Thresholds) {
	r.score.Segment, r.score.SegmentReason = th.assign(segmentInput{daysInactive: r.daysInactive, churn: r.score.ChurnProbability, ltv: r.score.LTV}, s.vipCut)
}

// score scores users the snapshot did not see, with its models and cut.
func (s *snapshot) score(d *dataset, cfg Config) map[int]*Score {
	now := cfg.Now()
	_, hist, _, _ := histories(d, now)
	out := map[int]*Score{}
	for _, r := range s.rawScores(d, hist, cfg, now) {
		s.finish(r, cfg.Thresholds)
		out[r.score.UserID] = r.score
	}
	return out
}
