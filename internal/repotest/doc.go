// Package repotest checks the repository as a whole rather than one
// package's behaviour: today, that every package of the module has tests
// beside it or says where its tests live (see packages_test.go).
package repotest
