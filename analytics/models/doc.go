// Package models owns Meridian's customer-base models: the numerical core
// that turns a store's order history into per-customer predictions.
//
// It holds, and only holds, pure computation:
//
//   - RFM summaries in the "buy till you die" (BTYD) convention (Summarize);
//   - the BG/NBD purchase/dropout model of Fader, Hardie & Lee (2005),
//     fitted by maximum likelihood (FitBGNBD), with P(alive), conditional
//     and unconditional expected purchases, the probability of no purchase
//     in a horizon and the median wait to the next purchase;
//   - the Gamma-Gamma spend model (FitGammaGamma) and the customer lifetime
//     value built from both (CLVOptions.Value);
//   - a churn probability (Churn) with an optional calibration learned from
//     the customer base's own earlier history (FitChurnCalibration): a
//     logistic model on the BG/NBD probability, frequency and recency
//     (ChurnLogit), or for a small base only a Platt mapping;
//   - the evaluation of all of the above on the public CDNOW data
//     (EvaluateCDNOW), which is how the package proves it reproduces the
//     published results instead of asserting numbers.
//
// The package does no I/O of its own beyond reading a file path it is
// given, keeps no package-level mutable state and never returns NaN or ±Inf
// from an exported function: every prediction passes through a guard that
// clamps probabilities to [0, 1] and counts to [0, +large). Fits that may
// take long accept a context.Context and stop when it is cancelled.
//
// Units: the models are unit-agnostic; every time quantity (recency, age,
// horizon) is in the unit chosen when the RFM summaries were built (weeks
// for CDNOW, days for the API). Only CLV needs a calendar, and takes the
// unit explicitly.
package models
