// Package recs owns Meridian's product recommendations: an item-to-item
// collaborative filter trained on purchases and events, its popularity
// fallback per country, and the offline evaluation that checks the filter
// actually beats recommending best-sellers.
//
// The model is pure and in memory: Train turns a slice of Interactions
// (who touched which item when, with what weight) into item-item
// similarities from user co-occurrence — cosine over the user×item weight
// matrix, or Jaccard over who-touched-what — keeping only the top
// neighbours of each item so that memory grows with items×K, not items².
// Recommend sums, over the items a user has, their neighbours' similarity
// times the user's weight, drops what the user already bought, and fills a
// short list with the best-sellers of the user's country, then of everyone;
// a user without history (cold start) gets popularity alone.
//
// EvaluateLeaveLastOut measures the model on held-out last purchases next
// to the popularity baseline; seed.EvaluateRecs runs it on the demo data
// set, whose users have latent category tastes (the demo's wiring lives in
// package seed, so that recs depends on no store or generator).
package recs
