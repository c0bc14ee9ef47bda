package openapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/phalacloud/go-sdk/internal/testenv"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phalacloud/go-sdk/openapi"
)

// TestDocsPageRendersInChromium serves openapi/dist/index.html (openapi.DocsHTML) on
// loopback, opens it in Debian's headless Chromium over the DevTools protocol, and
// requires that every operation of the document shows up in the rendered page, that
// nothing reached the console as an error or uncaught exception, and that the page
// requested nothing from another host. A second page, broken on purpose, must fail
// the same checks, so the checks are known to bite.
//
// Set PHALA_DOCS_SCREENSHOT=/path/docs.png to keep the screenshot.
func TestDocsPageRendersInChromium(t *testing.T) {
	t.Parallel() // it mostly waits for Chromium: let the package's other tests run meanwhile
	chromium := findChromium(t)
	doc := mustLoad(t, "openapi/dist/phala-cloud.json", openapi.SpecJSON)
	type op struct{ id, summary string }
	var ops []op
	for _, item := range doc.Paths.Map() {
		for _, o := range item.Operations() {
			ops = append(ops, op{o.OperationID, o.Summary})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	summaries := map[string]string{}
	for _, o := range ops {
		summaries[o.id] = o.summary
	}
	if len(ops) == 0 {
		t.Fatal("the document has no operations")
	}

	// check renders page and checks the operations of list (the page's menu
	// must show links to as many operations as the document has).
	check := func(page []byte, shot string, list []op) []string {
		var listIDs []string
		for _, o := range list {
			listIDs = append(listIDs, o.id)
		}
		r := renderInChromium(t, chromium, page, shot, len(ops), listIDs, summaries)
		problems := append([]string(nil), r.errors...)
		for _, o := range list {
			// Redoc 3 links each operation as #/<tag>/<operationId in lower case>.
			if !strings.Contains(strings.ToLower(r.html), "/"+strings.ToLower(o.id)+`"`) {
				problems = append(problems, fmt.Sprintf("operation %s has no anchor in the page", o.id))
			}
			if !r.visible[o.id] {
				problems = append(problems, fmt.Sprintf("operation %s: summary %q is not visible", o.id, o.summary))
			}
		}
		if !r.hydrated {
			problems = append(problems, "the page is not interactive: clicking an operation did not route to it")
		}
		return problems
	}

	shot := filepath.Join(t.TempDir(), "docs.png")
	if p := os.Getenv("PHALA_DOCS_SCREENSHOT"); p != "" {
		shot = p
	}
	problems := check(openapi.DocsHTML, shot, ops)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) == 0 {
		t.Logf("all %d operations rendered, no console errors, no off-host requests; screenshot %s", len(ops), shot)
	}
	checkScreenshot(t, shot)

	// The same checks on a page broken on purpose: an operation removed, a
	// console.error, an uncaught exception and a request to another host.
	// Clicking through the removed operation and one intact one is enough
	// to show that the checks bite, and only where the page is broken.
	t.Run("BrokenPageFails", func(t *testing.T) {
		broken := bytes.Replace(openapi.DocsHTML, []byte(ops[0].id), []byte("renamedOp"), -1)
		broken = bytes.Replace(broken, []byte(ops[0].summary), []byte("Renamed"), -1)
		broken = bytes.Replace(broken, []byte("<body>"), []byte(`<body><script>console.error("planted");</script>`+
			`<script>notDefinedAnywhere()</script><img src="http://offhost.invalid/x.png">`), 1)
		got := strings.Join(check(broken, filepath.Join(t.TempDir(), "broken.png"), ops[:2]), "\n")
		for _, want := range []string{"operation " + ops[0].id + " has no anchor", "operation " + ops[0].id + ": summary",
			"planted", "notDefinedAnywhere", "offhost.invalid"} {
			if !strings.Contains(got, want) {
				t.Errorf("a broken page passed the check on %q; problems found:\n%s", want, got)
			}
		}
		if strings.Contains(got, "operation "+ops[1].id) {
			t.Errorf("the intact operation %s was reported on the broken page:\n%s", ops[1].id, got)
		}
	})
}

func findChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PHALA_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser"} { // Debian's name, Ubuntu's
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "chromium is not installed (apt-get install -y chromium, or set PHALA_CHROMIUM): docs page not checked in a browser")
	return ""
}

type rendered struct {
	html     string
	visible  map[string]bool // operationId -> its summary became visible after clicking its link
	hydrated bool
	errors   []string
}

// renderDeadline bounds one page's whole check: starting Chromium, loading,
// rendering and clicking through every operation. Every wait inside it is
// on a DOM condition, never a fixed pause, so a slow machine only makes
// the check slower; a page that never gets there fails at the deadline
// with what was missing.
const renderDeadline = 3 * time.Minute

// finishTime is the part of renderDeadline kept for reading the page and
// taking the screenshot after the waits.
const finishTime = 30 * time.Second

// pollEvery is how often a DOM condition is evaluated while waiting.
const pollEvery = 50 * time.Millisecond

// reclickPolls is how many polls a click gets to bring an operation up
// before it is clicked again (a click that lands before the page's script
// has hydrated the markup does nothing).
const reclickPolls = 40

// renderInChromium opens page and clicks through the operations opIDs once its
// menu shows links to menuOps operations.
func renderInChromium(t *testing.T, chromium string, page []byte, shot string, menuOps int, opIDs []string, summaries map[string]string) rendered {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), renderDeadline)
	defer cancel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/docs" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	defer srv.Close()

	// Chromium's helper processes may still write to the profile after the
	// browser process has been killed and waited for, which t.TempDir's
	// cleanup reports as a failure: the profile is removed here, retried
	// until those processes have gone.
	profile, err := os.MkdirTemp("", "phala-docs-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s left behind", profile)
	})
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage", "--user-data-dir="+profile,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--window-size=1280,2000", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	wsURL := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case wsURL <- m[1]:
				default:
				}
			}
		}
	}()
	var browserURL string
	select {
	case browserURL = <-wsURL:
	case <-ctx.Done():
		t.Fatalf("chromium did not print its DevTools address within %v", renderDeadline)
	}
	ws, err := wsDial(ctx, browserURL)
	if err != nil {
		t.Fatalf("devtools websocket: %v", err)
	}
	defer ws.conn.Close()

	var out rendered
	var mu sync.Mutex // guards out.errors, written by the CDP reader
	problem := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		out.errors = append(out.errors, msg)
	}
	c := newCDP(ws, func(ev cdpEvent) { noteEvent(ev, srv.URL, problem) })

	var target struct {
		TargetID string `json:"targetId"`
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target))
	var att struct {
		SessionID string `json:"sessionId"`
	}
	must(c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att))
	s := att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		must(c.call(ctx, s, m, nil, nil))
	}
	must(c.call(ctx, s, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": 1280, "height": 2000, "deviceScaleFactor": 1, "mobile": false}, nil))

	must(c.call(ctx, s, "Page.navigate", map[string]any{"url": srv.URL + "/docs"}, nil))

	eval := func(expr string) string {
		var r struct {
			Result struct {
				Value any `json:"value"`
			} `json:"result"`
		}
		must(c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r))
		return fmt.Sprint(r.Result.Value)
	}
	// waitFor polls cond until it holds or the waiting deadline passes; it
	// reports whether it held. The waits end finishTime before the render's
	// deadline, so that a page that never got there is still read and
	// reported with what was missing.
	waitCtx, waitCancel := context.WithTimeout(ctx, renderDeadline-finishTime)
	defer waitCancel()
	waitFor := func(cond func() bool) bool {
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			if cond() {
				return true
			}
			select {
			case <-tick.C:
			case <-waitCtx.Done():
				return false
			}
		}
	}

	// The page is ready when it has loaded and its menu shows a link to as
	// many operations as the document has (by count, not by name, so that a
	// page missing one operation is found out below instead of waited for).
	var links string
	if !waitFor(func() bool {
		links = eval(fmt.Sprintf(menuReady, menuOps))
		return strings.HasPrefix(links, "ok")
	}) {
		problem(fmt.Sprintf("the page did not finish rendering its menu within %v (%s)", renderDeadline-finishTime, links))
	}

	// Redoc 3 renders only the sections near the viewport and shows each tag's
	// operations collapsed, so each operation is checked as a reader reaches it:
	// click (a real mouse click) the operation's link in the page, then wait for
	// its summary to become visible.
	out.visible = map[string]bool{}
	for _, id := range opIDs {
		if waitCtx.Err() != nil {
			break // out of time: the operations left are reported as not visible
		}
		link := fmt.Sprintf(operationLink, strings.ToLower(id))
		shown := fmt.Sprintf(summaryShown, jsString(strings.ToLower(id)), jsString(summaries[id]))
		polls, seen := 0, false
		var last clickPos
		waitFor(func() bool {
			if polls%reclickPolls == 0 {
				// Scroll the link into view and click it once it stands still.
				pos, state := linkPos(eval(link))
				switch state {
				case "absent":
					return true // the page has no link to it: the anchor check reports that
				case "ok":
				default:
					return false // not shown (yet): look again on the next poll
				}
				if pos != last {
					last = pos
					return false // moved: read it again on the next poll
				}
				for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
					must(c.call(ctx, s, "Input.dispatchMouseEvent", map[string]any{
						"type": typ, "x": pos.X, "y": pos.Y, "button": "left", "clickCount": 1}, nil))
				}
			}
			polls++
			seen = eval(shown) == "true"
			return seen
		})
		out.visible[id] = seen
	}
	out.html = eval("document.documentElement.outerHTML")
	if p := os.Getenv("PHALA_DOCS_DOM"); p != "" {
		_ = os.WriteFile(p, []byte(out.html), 0o644)
	}
	// A page whose script did not run still shows the prerendered markup, but its
	// links do not route.
	out.hydrated = eval("location.hash") != ""

	var shotRes struct {
		Data string `json:"data"`
	}
	must(c.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shotRes))
	img, err := base64.StdEncoding.DecodeString(shotRes.Data)
	must(err)
	must(os.WriteFile(shot, img, 0o644))
	_ = c.call(ctx, "", "Browser.close", nil, nil)
	// Every event sent before the last reply has been noted (see newCDP).
	mu.Lock()
	defer mu.Unlock()
	out.errors = append([]string(nil), out.errors...)
	return out
}

// noteEvent turns a DevTools event into a problem: a console error or
// assertion, an uncaught exception, an error log entry, a request to
// another host than base, a failed load.
func noteEvent(ev cdpEvent, base string, problem func(string)) {
	switch ev.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(ev.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			var parts []string
			for _, a := range p.Args {
				parts = append(parts, fmt.Sprint(a.Value), a.Description)
			}
			problem("console." + p.Type + ": " + strings.Join(parts, " "))
		}
	case "Runtime.exceptionThrown":
		var p struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(ev.Params, &p)
		problem("uncaught exception: " + p.Details.Text + " " + p.Details.Exception.Description)
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Text, URL string
			} `json:"entry"`
		}
		_ = json.Unmarshal(ev.Params, &p)
		if p.Entry.Level == "error" {
			problem("console error: " + p.Entry.Text + " " + p.Entry.URL)
		}
	case "Network.requestWillBeSent":
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		_ = json.Unmarshal(ev.Params, &p)
		u := p.Request.URL
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") && u != "about:blank" {
			problem("request to another host: " + u)
		}
	case "Network.loadingFailed":
		var p struct {
			ErrorText string `json:"errorText"`
		}
		_ = json.Unmarshal(ev.Params, &p)
		problem("a load failed: " + p.ErrorText)
	}
}

type clickPos struct{ X, Y float64 }

// linkPos decodes operationLink's answer: the link's centre and "ok", or
// "absent" (no link to the operation in the page) or "hidden" (none shown).
func linkPos(raw string) (clickPos, string) {
	var pos struct {
		X, Y  float64
		State string
	}
	if json.Unmarshal([]byte(raw), &pos) != nil {
		return clickPos{}, "undecodable: " + raw
	}
	return clickPos{pos.X, pos.Y}, pos.State
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// summaryShown answers true when the section of operation %s (its
// operationId in lower case) is rendered and its visible text holds the
// summary %s (reading one section is much cheaper than the whole page).
const summaryShown = `(() => {
  const id = %s, want = %s;
  const sec = [...document.querySelectorAll('[data-section-id]')].find(e => e.getAttribute('data-section-id').toLowerCase().endsWith('/' + id));
  return !!sec && sec.innerText.includes(want);
})()`

// menuReady answers "ok" once the page has loaded and shows links to at
// least %d distinct operations (#/<tag>/<operation>), else what it has.
const menuReady = `(() => {
  if (document.readyState !== 'complete') return 'loading: ' + document.readyState;
  const ops = new Set([...document.querySelectorAll('a[href^="#/"]')]
    .filter(a => /^#\/[^\/#]+\/[^\/#]+$/.test(a.getAttribute('href')) && a.getBoundingClientRect().width > 0)
    .map(a => a.getAttribute('href').toLowerCase()));
  return ops.size >= %d ? 'ok' : 'links to ' + ops.size + ' operations';
})()`

// operationLink scrolls the page's shown link to an operation (#/<tag>/<operationId
// in lower case>) into view and returns, as JSON, the viewport coordinates of its
// centre; State says "absent" when the page has no such link and "hidden" when
// none is shown.
const operationLink = `(() => {
  const all = [...document.querySelectorAll('a[href]')].filter(a => a.getAttribute('href').toLowerCase().endsWith('/%s'));
  if (all.length === 0) return JSON.stringify({State: 'absent'});
  const a = all.find(a => a.getBoundingClientRect().width > 0);
  if (!a) return JSON.stringify({State: 'hidden'});
  a.scrollIntoView({block: 'center'});
  const r = a.getBoundingClientRect();
  return JSON.stringify({State: 'ok', X: r.x + r.width / 2, Y: r.y + r.height / 2});
})()`

// checkScreenshot: a 1280x2000 PNG that is not a blank page.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	colours := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colours) < 8 {
		t.Errorf("the screenshot has %d colours: the page looks blank", len(colours))
	}
	var _ image.Image = img
}
