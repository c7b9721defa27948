// Package e2e drives the karana binary as an operator would, against the
// real LXD daemon, in its own project (karana-e2e) and bridge
// (karanae2e0, 10.0.13.1/24); KARANA_TEST_NS=N moves both (pkg/testenv) so that
// runs beside each other do not meet. It runs only with KARANA_E2E=1 (make e2e).
//
// When the suite ends it deletes what it made: its containers, profile,
// project and bridge, and the balancers' sockets in /run/karana (the
// images and the storage pool stay for the next run). KARANA_E2E_KEEP=1
// keeps them to look at after a failure; the next run starts by deleting
// the project's containers anyway.
package e2e
