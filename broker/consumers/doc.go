// Package consumers owns the work done behind the bus: the seed's signup
// flow and everything else a mutation sets in motion after it committed.
//
//   - ingest turns tracked events and domain events (user.created,
//     order.created) into analytics events and stores them in batches,
//     acknowledging a batch only after the store committed it;
//   - signup validates and enriches a new user, writes its analytics
//     profile, queues the welcome email and announces the sign-up to live
//     subscribers on every instance;
//   - notify renders email notifications into the notifications log (there
//     is no mail server: the log is the outbox a mailer would read);
//   - refresh recomputes the profile data derived from a user's orders and
//     drops the cached fields built on it;
//   - invalidate (a queue per instance) drops the instance's in-process
//     cache entries that the other instances' writes made stale, from their
//     broadcast invalidations and from domain events; Run also broadcasts
//     this instance's invalidations (Cache.Broadcast).
//
// Delivery is at-least-once, so every consumer is idempotent, deduping by
// message id: ingest derives event ids from message ids (the event store
// skips known ids), notify keys the log by message id, signup records
// handled ids in the inbox table, and refresh recomputes from the source of
// truth, which gives the same result however often it runs.
package consumers
