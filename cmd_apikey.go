package main

import (
	"context"
	"fmt"

	"github.com/meridian-graphql/meridian/auth"
)

// apikeyCmd creates or revokes API keys in the configured database.
func apikeyCmd(ctx context.Context, c *cli, args []string) error {
	apikeyCreate := spec{"apikey create", "--name NAME [--role viewer|analyst|admin]",
		"Create an API key and print it on stdout. It is shown only now: the database keeps its hash."}
	apikeyRevoke := spec{"apikey revoke", "--id ID", "Revoke the API key with that id; requests with it are refused from now on."}
	sub, err := c.group("apikey", []spec{apikeyCreate, apikeyRevoke}, args)
	if err != nil {
		return err
	}
	if sub == "revoke" {
		return apikeyRevokeCmd(ctx, c, apikeyRevoke, args[1:])
	}
	fs := c.flags(apikeyCreate)
	name := fs.String("name", "", "what the key is for (required)")
	role := fs.String("role", "viewer", "viewer, analyst or admin")
	if err := c.parse(apikeyCreate, fs, args[1:]); err != nil {
		return err
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("apikey create: %w", err)
	}
	return withKeys(ctx, c, func(keys *auth.Keys) error {
		k, key, err := keys.Create(ctx, *name, r)
		if err != nil {
			return fmt.Errorf("apikey create: %w", err)
		}
		fmt.Fprintf(c.stderr, "created key %s (%s, %s); it is shown only now:\n", k.ID, k.Name, k.Role)
		fmt.Fprintln(c.stdout, key)
		return nil
	})
}

func apikeyRevokeCmd(ctx context.Context, c *cli, apikeyRevoke spec, args []string) error {
	fs := c.flags(apikeyRevoke)
	id := fs.String("id", "", "the id of the key to revoke (required; the part after mrd_)")
	if err := c.parse(apikeyRevoke, fs, args); err != nil {
		return err
	}
	return withKeys(ctx, c, func(keys *auth.Keys) error {
		ok, err := keys.Revoke(ctx, *id)
		if err != nil {
			return fmt.Errorf("apikey revoke: %w", err)
		}
		if !ok {
			return fmt.Errorf("apikey revoke: no live key with id %q", *id)
		}
		fmt.Fprintf(c.stderr, "revoked %s\n", *id)
		return nil
	})
}

// withKeys opens the configured database for fn's key operations.
func withKeys(ctx context.Context, c *cli, fn func(*auth.Keys) error) error {
	_, db, err := c.database(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(auth.NewKeys(db))
}
