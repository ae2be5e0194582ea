package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck asks the server on MERIDIAN_ADDR for /readyz; distroless
// images have no curl.
func healthcheck(ctx context.Context, c *cli, args []string) error {
	s := spec{"healthcheck", "", "Exit 0 when the server on this machine's MERIDIAN_ADDR port answers /readyz with 200\n(a container's HEALTHCHECK; distroless images have no curl)."}
	if err := c.parse(s, c.flags(s), args); err != nil {
		return err
	}
	cfg, _, err := c.config()
	if err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("healthcheck: MERIDIAN_ADDR %q: %w", cfg.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /readyz answered %s", res.Status)
	}
	return nil
}
