package main

import (
	"context"
	"fmt"

	"github.com/meridian-graphql/meridian/analytics/models"
	"github.com/meridian-graphql/meridian/seed"
)

// modelsCmd evaluates the analytics engine's models offline; it needs no
// database.
func modelsCmd(ctx context.Context, c *cli, args []string) error {
	evaluate := spec{"models evaluate", "[--cdnow DIR]",
		"Fit BG/NBD and Gamma-Gamma on CDNOW's calibration period and score the holdout\n(per-frequency means, churn AUC and Brier). CDNOW_sample.txt is reference data\nbeside the checkout (../shared/data/cdnow on the team's machines), not in the repository."}
	evaluateRecs := spec{"models evaluate-recs", "[--users N] [--seed S]",
		"Leave-last-out precision, recall and NDCG@10 of the recommender on generated demo data,\nnext to a popularity baseline."}
	sub, err := c.group("models", []spec{evaluate, evaluateRecs}, args)
	if err != nil {
		return err
	}
	switch sub {
	case "evaluate":
		fs := c.flags(evaluate)
		dir := fs.String("cdnow", "../shared/data/cdnow", "directory holding CDNOW_sample.txt")
		if err := c.parse(evaluate, fs, args[1:]); err != nil {
			return err
		}
		rep, err := models.EvaluateCDNOW(ctx, *dir)
		if err != nil {
			return fmt.Errorf("models evaluate: %w", err)
		}
		return rep.Print(c.stdout)
	default:
		fs := c.flags(evaluateRecs)
		users := fs.Int("users", 2000, "demo users to generate")
		s := fs.Uint64("seed", 1, "demo data seed")
		if err := c.parse(evaluateRecs, fs, args[1:]); err != nil {
			return err
		}
		return seed.EvaluateRecs(ctx, c.stdout, *users, *s)
	}
}
