// Command phala-fake serves an in-memory Phala Cloud API (package
// phala/phalatest) for scripts and for clients written in other languages.
//
// It prints, on stdout, one line each:
//
//	PHALA_CLOUD_API_PREFIX=http://127.0.0.1:PORT/api/v1
//	PHALA_CLOUD_API_KEY=KEY
//	PHALA_FAKE_CONTROL_URL=http://127.0.0.1:PORT/_fake
//
// then serves until interrupted. The control endpoints under /_fake/ (no
// API key) let a client complete the on-chain flow and inspect the state:
//
//	POST /_fake/register-compose-hash {"cvm_id":"...","compose_hash":"..."} -> {"transaction_hash":"0x..."}
//	GET  /_fake/envs/{cvmId}      the env the VM sees, {"KEY":"value"}
//	GET  /_fake/compose/{cvmId}   {"app_compose":{...},"compose_hash":"..."}
//	GET  /_fake/applied/{cvmId}   the changes applied to the CVM
//	GET  /_fake/cvms              the CVMs and their ids
//	GET  /_fake/requests          the request log
//	GET  /_fake/violations        answers that broke the OpenAPI document
//	GET  /_fake/kms-signer        the on-chain KMS's signing key
//	PUT  /_fake/attestation/{cvmId} the attestation answer to serve (DELETE: the recorded sample)
//
// It also serves, without an API key, the OpenAPI document at
// /openapi.json and its reference page at /docs.
//
// GET /api/v1/cvms/{cvmId}/state?target=running with Accept:
// text/event-stream answers the state event stream; -max-stream-duration
// caps how long one stream lasts before its "timeout" event (0: the
// query's timeout, as the API does).
//
// Usage:
//
//	phala-fake [-addr 127.0.0.1:0] [-seed cvms.json] [-no-default-cvms] [-api-key KEY] [-update-delay 50ms] [-restart-lag 0] [-max-stream-duration 0] [-v]
//
// The seed file is a JSON array of phalatest.CVMSeed objects, e.g.
// [{"name":"my-app","chain_id":8453,"allowed_envs":["FOO"]}]; they are
// added to the two default CVMs (central-app, onchain-app) unless
// -no-default-cvms is given. A seed must be one the cloud could hold, as
// requests must: memory_mb in MB and disk_gb in GB within the bounds
// phalatest states (MinMemoryMB, MinDiskGB, ...), a docker_compose_file
// that is YAML with services; phala-fake exits with the reason otherwise.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "phala-fake:", err)
		os.Exit(2)
	}
}

// run starts the server and blocks until a signal (or stop) arrives.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) error {
	fs := flag.NewFlagSet("phala-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	seedFile := fs.String("seed", "", "JSON file with an array of CVM seeds to add")
	noDefaults := fs.Bool("no-default-cvms", false, "start without the two default CVMs")
	apiKey := fs.String("api-key", phalatest.DefaultAPIKey, "API key the server accepts")
	delay := fs.Duration("update-delay", phalatest.DefaultUpdateDelay, "how long an accepted update keeps a CVM updating (0: none)")
	lag := fs.Duration("restart-lag", 0, "how long after the 202 an accepted update begins its restart, the CVM still running meanwhile (0: at once)")
	maxStream := fs.Duration("max-stream-duration", 0, "end every state stream with a timeout event after this long (0: the query's timeout)")
	verbose := fs.Bool("v", false, "log every request on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *apiKey == "" {
		return errors.New("-api-key must not be empty")
	}
	opts := []phalatest.Option{phalatest.WithAPIKey(*apiKey), phalatest.WithUpdateDelay(*delay), phalatest.WithControlEndpoints(),
		phalatest.WithMiddleware(specPages), phalatest.WithMaxStreamDuration(*maxStream), phalatest.WithRestartLag(*lag)}
	if *noDefaults {
		opts = append(opts, phalatest.WithoutDefaultCVMs())
	}
	if *seedFile != "" {
		seeds, err := readSeeds(*seedFile)
		if err != nil {
			return err
		}
		for _, sd := range seeds {
			opts = append(opts, phalatest.WithCVM(sd))
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts = append(opts, phalatest.WithListener(ln))
	srv, err := newServer(opts)
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "PHALA_CLOUD_API_PREFIX=%s\nPHALA_CLOUD_API_KEY=%s\nPHALA_FAKE_CONTROL_URL=%s/_fake\n", srv.URL(), srv.APIKey(), srv.RootURL())
	for _, id := range srv.CVMIDs() {
		sd, _ := srv.CVM(id)
		kms := "central KMS"
		if sd.ChainID != 0 {
			kms = fmt.Sprintf("on-chain KMS %s (chain %d)", sd.KMSID, sd.ChainID)
		}
		fmt.Fprintf(stderr, "CVM %s: id %s, app_%s, instance_%s, uuid %s, %s\n", sd.Name, sd.ID, sd.AppID, sd.InstanceID, sd.VMUUID, kms)
	}
	if *verbose {
		go logRequests(srv, stderr, stop)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-stop:
	}
	return nil
}

// newServer turns NewServer's panics on bad seeds into errors.
func newServer(opts []phalatest.Option) (srv *phalatest.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return phalatest.NewServer(opts...), nil
}

func readSeeds(path string) ([]phalatest.CVMSeed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var seeds []phalatest.CVMSeed
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seeds); err != nil {
		return nil, fmt.Errorf("seed file %s: want a JSON array of CVM seeds: %w", path, err)
	}
	return seeds, nil
}

func logRequests(srv *phalatest.Server, w io.Writer, stop <-chan struct{}) {
	seen := 0
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		reqs := srv.Requests()
		for _, r := range reqs[seen:] {
			fmt.Fprintf(w, "%s %s -> %d (%s) applied=%v %s\n", r.Method, r.Path, r.Status, r.Operation, r.Applied, r.RequestID)
		}
		seen = len(reqs)
	}
}
