# Headless Chromium for the browser test of examples/repository (chromedp).
# Sourced by .ci/run (bash); installs Debian's chromium when missing and
# exports REPOKIT_TEST_CHROMIUM. Chromium is started by the test itself
# (headless, --no-sandbox as root, a fresh user-data-dir), so nothing runs
# here and nothing needs cleaning up.
if ! command -v chromium >/dev/null; then
	log "installing chromium"
	if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		apt-get update -qq >/dev/null 2>&1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || log "chromium install failed"
fi
if command -v chromium >/dev/null; then
	export REPOKIT_TEST_CHROMIUM="$(command -v chromium)"
	log "chromium: $REPOKIT_TEST_CHROMIUM"
fi
