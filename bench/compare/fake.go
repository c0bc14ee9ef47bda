package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fake is a running cmd/phala-fake.
type fake struct {
	prefix, apiKey, control string
	addr                    string // host:port of prefix
	cmd                     *exec.Cmd
	tmp                     string
}

// startFake builds cmd/phala-fake with the go command into a temporary
// folder, starts it with -update-delay 0 and reads the lines it prints.
func startFake(ctx context.Context) (*fake, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, errors.New("the go command is not in PATH (needed to build cmd/phala-fake)")
	}
	tmp, err := os.MkdirTemp("", "phala-compare-")
	if err != nil {
		return nil, err
	}
	f := &fake{tmp: tmp}
	bin := filepath.Join(tmp, "phala-fake")
	build := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "github.com/phalacloud/go-sdk/cmd/phala-fake")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("building cmd/phala-fake: %v\n%s", err, out)
	}
	f.cmd = exec.Command(bin, "-addr", "127.0.0.1:0", "-update-delay", "0")
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	var stderr strings.Builder
	f.cmd.Stderr = &stderr
	if err := f.cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for f.prefix == "" || f.apiKey == "" || f.control == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				f.stop()
				return nil, fmt.Errorf("phala-fake exited before printing its address\n%s", stderr.String())
			}
			k, v, _ := strings.Cut(l, "=")
			switch k {
			case "PHALA_CLOUD_API_PREFIX":
				f.prefix = v
			case "PHALA_CLOUD_API_KEY":
				f.apiKey = v
			case "PHALA_FAKE_CONTROL_URL":
				f.control = v
			}
		case <-timeout:
			f.stop()
			return nil, errors.New("phala-fake printed no address within 30s")
		}
	}
	go func() { // keep draining so the fake never blocks on stdout
		for range lines {
		}
	}()
	u, err := url.Parse(f.prefix)
	if err != nil {
		f.stop()
		return nil, fmt.Errorf("phala-fake printed a bad prefix %q: %w", f.prefix, err)
	}
	f.addr = u.Host
	return f, nil
}

// stop interrupts the fake, waits for it and removes the binary.
func (f *fake) stop() {
	if f.cmd != nil && f.cmd.Process != nil {
		_ = f.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = f.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = f.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(f.tmp)
}
