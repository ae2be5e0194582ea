package models

import (
	"context"
	"errors"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// Maximum-likelihood fitting shared by BG/NBD and Gamma-Gamma.
//
// Both models have strictly positive parameters, so the optimizer works on
// θ = log(parameter): the search is unconstrained and every step lands on a
// valid model. The objective is the mean negative log-likelihood (scale
// independent of the number of customers, so one gradient tolerance fits
// all data sizes).
//
// Some data do not pin the maximum down (a single customer, nobody ever
// lapsing): the likelihood keeps rising as a parameter runs to 0 or ∞. A
// smooth quadratic wall outside |θ| <= logBound keeps the search finite
// there; a solution on the wall is reported as not converged.

const (
	// logBound: parameters live in [e^-15, e^15] ≈ [3e-7, 3.3e6], wide
	// enough for days-unit α and large b, narrow enough to stay finite.
	logBound      = 15.0
	wallStiffness = 10.0
	// gradTol is the largest |∂(mean −LL)/∂θ| accepted as a stationary point.
	gradTol       = 1e-6
	maxIterations = 1000
)

// objective returns the mean negative log-likelihood at θ and, if grad is
// non-nil, stores its gradient in grad.
type objective func(theta, grad []float64) float64

type fitResult struct {
	theta      []float64
	f          float64
	iterations int
	converged  bool
	// reason says why converged is false, for the error message.
	reason string
}

// withWall adds the box penalty to an objective.
func withWall(f objective) objective {
	return func(theta, grad []float64) float64 {
		v := f(theta, grad)
		for i, t := range theta {
			if excess := math.Abs(t) - logBound; excess > 0 {
				v += wallStiffness * excess * excess
				if grad != nil {
					grad[i] += 2 * wallStiffness * excess * math.Copysign(1, t)
				}
			}
		}
		if math.IsNaN(v) {
			// Let line searches back off instead of wandering on NaN.
			return math.Inf(1)
		}
		return v
	}
}

// ctxRecorder stops gonum's optimizer when the context is done: a Recorder
// error is the only clean way to interrupt optimize.Minimize.
type ctxRecorder struct{ ctx context.Context }

func (r ctxRecorder) Init() error { return r.ctx.Err() }
func (r ctxRecorder) Record(*optimize.Location, optimize.Operation, *optimize.Stats) error {
	return r.ctx.Err()
}

// minimizeLog runs BFGS (analytic gradient) from each start and keeps the
// best; if that best is not a stationary point it tries Nelder-Mead from
// there (robust to a bad line search) followed by BFGS again. Several
// starts guard against the flat, ridge-shaped likelihoods these models
// have when the data are thin.
func minimizeLog(ctx context.Context, f objective, starts [][]float64) (fitResult, error) {
	f = withWall(f)
	problem := optimize.Problem{
		Func: func(x []float64) float64 { return f(x, nil) },
		Grad: func(grad, x []float64) {
			for i := range grad {
				grad[i] = 0
			}
			f(x, grad)
		},
	}
	var best fitResult
	best.f = math.Inf(1)
	iterations := 0
	run := func(x0 []float64, method optimize.Method) error {
		settings := &optimize.Settings{
			GradientThreshold: gradTol / 10,
			MajorIterations:   maxIterations,
			Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 20},
			Recorder:          ctxRecorder{ctx},
		}
		res, err := optimize.Minimize(problem, x0, settings, method)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if res == nil {
			// Only a setup failure returns no result; treat it as a
			// start that went nowhere.
			return nil
		}
		iterations += res.Stats.MajorIterations
		if res.F < best.f && !math.IsInf(res.F, 0) {
			best = fitResult{theta: append([]float64(nil), res.X...), f: res.F}
		}
		// Line-search failures near the optimum are normal; whether the
		// result is usable is decided by the gradient check below.
		_ = err
		return nil
	}
	for _, x0 := range starts {
		if err := run(x0, &optimize.BFGS{}); err != nil {
			return fitResult{}, err
		}
	}
	if best.theta == nil {
		return fitResult{}, errors.New("every start failed to evaluate")
	}
	if !stationary(f, best.theta) {
		if err := run(best.theta, &optimize.NelderMead{}); err != nil {
			return fitResult{}, err
		}
		if err := run(best.theta, &optimize.BFGS{}); err != nil {
			return fitResult{}, err
		}
	}
	best.iterations = iterations
	best.converged = stationary(f, best.theta)
	if !best.converged {
		best.reason = "gradient not zero at the best point"
	}
	for _, t := range best.theta {
		if math.Abs(t) > logBound-0.5 {
			best.converged = false
			best.reason = "a parameter ran to the edge of its range (the data do not identify it)"
		}
	}
	return best, nil
}

func stationary(f objective, theta []float64) bool {
	g := make([]float64, len(theta))
	f(theta, g)
	for _, v := range g {
		if !(math.Abs(v) <= gradTol) {
			return false
		}
	}
	return true
}

func expAll(theta []float64) []float64 {
	out := make([]float64, len(theta))
	for i, t := range theta {
		out[i] = math.Exp(t)
	}
	return out
}

func logAll(p ...float64) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = math.Log(v)
	}
	return out
}
