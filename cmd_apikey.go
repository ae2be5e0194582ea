package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/platform/config"
)

// apikeyCmd creates or revokes API keys in the configured database.
func apikeyCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		return errors.New("apikey: want a subcommand: create or revoke")
	}
	fs := flag.NewFlagSet("apikey "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "what the key is for (create)")
	role := fs.String("role", "viewer", "viewer, analyst or admin (create)")
	id := fs.String("id", "", "the key id to revoke (revoke)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	keys := auth.NewKeys(db)
	if args[0] == "revoke" {
		ok, err := keys.Revoke(ctx, *id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("apikey revoke: no live key with id %q", *id)
		}
		fmt.Fprintf(stderr, "revoked %s\n", *id)
		return nil
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("apikey create: %w", err)
	}
	k, key, err := keys.Create(ctx, *name, r)
	if err != nil {
		return fmt.Errorf("apikey create: %w", err)
	}
	fmt.Fprintf(stderr, "created key %s (%s, %s); it is shown only now:\n", k.ID, k.Name, k.Role)
	fmt.Fprintln(stdout, key)
	return nil
}
