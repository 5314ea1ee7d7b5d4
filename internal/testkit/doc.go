// Package testkit holds what the tests and benchmarks of several packages
// share: CPU-time rates for benchmarks on a shared machine, JPEG fixtures,
// a chi-square statistic, and a file read that fails the test.
//
// It is imported only by _test.go files. Helpers report failures through
// the testing.TB they are given and never panic.
package testkit
