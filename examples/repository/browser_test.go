package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser drives the web UI in headless Chromium (REPOKIT_TEST_CHROMIUM
// names the binary; .ci/services/chromium.sh installs Debian's chromium and
// sets it): log in, deposit a record with a file, search for it, open it and
// download the file; screenshots of the search and record pages must render.
func TestBrowser(t *testing.T) {
	exe := serviceURL(t, "REPOKIT_TEST_CHROMIUM")
	e := startEnv(t, embeddedConfig(t))
	if _, err := e.app.users.Create(context.Background(), "carol@example.org", "carol-password", false, 4); err != nil {
		t.Fatal(err)
	}
	word := "br" + randHex(3)
	upload := filepath.Join(t.TempDir(), "measurements.csv")
	content := "a,b\n1,2\n" + word + "\n"
	if err := os.WriteFile(upload, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	get := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	checkPage := func(name string) {
		t.Helper()
		html := get("html of "+name, chromedp.OuterHTML(chromedp.CSS("html")))
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		for _, bad := range []string{"template:", "Internal server error", "<no value>"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s page contains %q", name, bad)
			}
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("%s screenshot: %v", name, err)
		}
		b := img.Bounds()
		if b.Dx() < 300 || b.Dy() < 300 {
			t.Fatalf("%s screenshot is %dx%d", name, b.Dx(), b.Dy())
		}
		// Not blank: some pixels differ from the first one.
		first := img.At(0, 0)
		varied := false
		for y := b.Min.Y; y < b.Max.Y && !varied; y += 7 {
			for x := b.Min.X; x < b.Max.X; x += 7 {
				if img.At(x, y) != first {
					varied = true
					break
				}
			}
		}
		if !varied {
			t.Errorf("%s screenshot is blank", name)
		}
		if dir := os.Getenv("REPOKIT_TEST_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644)
		}
	}

	// Log in.
	run("login",
		chromedp.Navigate(e.base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "carol@example.org"),
		chromedp.SendKeys(chromedp.CSS("#password"), "carol-password"),
		chromedp.Click(chromedp.CSS("form.login button")),
		chromedp.WaitVisible(chromedp.CSS("form.inline button")),
	)

	// Deposit a record with a file.
	run("deposit",
		chromedp.Navigate(e.base+"/deposit"),
		chromedp.WaitVisible(chromedp.CSS("#title")),
		chromedp.SendKeys(chromedp.CSS("#title"), "Browser upload "+word),
		chromedp.SendKeys(chromedp.CSS("#creators"), "Carol C."),
		chromedp.SetValue(chromedp.CSS("#resource_type"), "dataset"),
		chromedp.SendKeys(chromedp.CSS("#keywords"), "browser, "+word),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{upload}),
		chromedp.Click(chromedp.CSS("form.deposit button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("article.record h1")),
	)
	recordURL := get("record url", chromedp.Location())
	if h1 := get("title", chromedp.Text(chromedp.CSS("article.record h1"))); !strings.Contains(h1, word) {
		t.Fatalf("record page title %q", h1)
	}
	// The flash survives the progress-bar upload (the page is loaded once).
	if f := get("flash", chromedp.Text(chromedp.CSS("p.flash"))); !strings.Contains(f, "created") {
		t.Errorf("flash %q", f)
	}
	if !strings.Contains(recordURL, "/records/") {
		t.Fatalf("after deposit the browser is at %s", recordURL)
	}

	// Search for it (indexing is asynchronous: reload until it shows).
	deadline := time.Now().Add(60 * time.Second)
	for {
		run("search",
			chromedp.Navigate(e.base+"/search?q="+word),
			chromedp.WaitVisible(chromedp.CSS("p.total")),
		)
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("li.hit").length`))
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the record never showed in the search page")
		}
		time.Sleep(200 * time.Millisecond)
	}
	checkPage("search")

	// Open it from the results and download the file.
	run("open",
		chromedp.Click(chromedp.CSS("li.hit h2 a")),
		chromedp.WaitVisible(chromedp.CSS("a.download")),
	)
	checkPage("record")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector("a.download").href).then(r => r.ok ? r.text() : "HTTP " + r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got != content {
		t.Fatalf("downloaded %q, want %q", got, content)
	}
}
