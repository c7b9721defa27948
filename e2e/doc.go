// Package e2e drives the karana binary as an operator would, against the
// real LXD daemon, in its own project (karana-e2e) and bridge
// (karanae2e0, 10.0.13.1/24); KARANA_TEST_NS=N moves both (pkg/testenv) so that
// runs beside each other do not meet. It runs only with KARANA_E2E=1 (make e2e).
package e2e
