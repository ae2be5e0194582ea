package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/meridian-graphql/meridian/analytics/models"
	"github.com/meridian-graphql/meridian/seed"
)

// modelsCmd evaluates the analytics engine's models offline.
func modelsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("models: want a subcommand: evaluate or evaluate-recs")
	}
	fs := flag.NewFlagSet("models "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "evaluate":
		dir := fs.String("cdnow", "../shared/data/cdnow", "directory holding CDNOW_sample.txt")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		rep, err := models.EvaluateCDNOW(ctx, *dir)
		if err != nil {
			return fmt.Errorf("models evaluate: %w", err)
		}
		return rep.Print(stdout)
	case "evaluate-recs":
		users := fs.Int("users", 2000, "demo users to generate")
		s := fs.Uint64("seed", 1, "demo data seed")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return seed.EvaluateRecs(ctx, stdout, *users, *s)
	default:
		return fmt.Errorf("models: unknown subcommand %q (evaluate or evaluate-recs)", args[0])
	}
}
