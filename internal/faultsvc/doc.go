// Package faultsvc starts private instances of the services Meridian
// depends on — a PostgreSQL cluster, a Redis server, a RabbitMQ node — for
// tests that kill, freeze or restart them. The shared services on 5432,
// 6379 and 5672 serve every other test at the same time, so a fault test
// never touches them: it starts its own instance here, on free ports,
// injects its fault by PID, and the instance is torn down at cleanup, also
// when the test fails.
//
// The recipes are those of /work/shared/notes/private-services.md (Debian's
// PostgreSQL 15 tools, redis-server, the rabbitmq-server scripts run as the
// rabbitmq user); they need root, as the development and CI machines give.
// Without the tools the test is skipped, except under CI, where it fails.
//
// Tally is the ledger every fault test reports: how many writes were sent,
// accepted (acknowledged to the client), stored, lost (accepted but not
// stored) and duplicated (stored more than once). `make faults` greps its
// "faults:" lines into the summary the README quotes.
package faultsvc
