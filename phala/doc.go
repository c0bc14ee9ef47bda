// Package phala is a Go client for the Phala Cloud API: it deploys and
// reconfigures confidential VMs (CVMs) that run Docker Compose apps inside
// Intel TDX on the dstack stack.
package phala
