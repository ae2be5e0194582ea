// Package engine owns the analytics engine's state: it fits the customer-base
// models of package models on the relational core's orders, scores every
// user in one pass (churn probability, P(alive), lifetime value, next
// purchase, engagement), puts each user in exactly one segment with the
// reason, trains the recommender of package recs, and writes the segment
// report. A fit produces an immutable Snapshot that requests read without
// locks; refits (on demand and periodic) replace it whole, and a failed fit
// leaves the previous one serving.
package engine
