package main

// The documentation's generated parts, regenerated with the code by
// `go generate ./...` (make generate) and checked by make check-generated
// and by the generators' own tests: the package diagrams of README.md and
// docs/architecture.md (internal/cmd/pkgdiagram, from go list) and
// docs/configuration.md (internal/cmd/configdoc, from config.Vars).

//go:generate go run ./internal/cmd/pkgdiagram
//go:generate go run ./internal/cmd/configdoc
