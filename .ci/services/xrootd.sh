# xrootd (CERN's XRootD server, Debian xrootd-server 5.5) with the XrdHttp
# plugin, serving its namespace over HTTP/WebDAV for storage/webdav (sourced
# by .ci/run with bash; uses log, port_open, wait_port, CI_CLEANUP).
# xrootd refuses to run as root: it is started with -R <user> over a
# directory that user owns. md5 checksums answer Want-Digest.
# Exports REPOKIT_TEST_XROOTD_URL (a webdav:// URL: the driver speaks HTTP).

if ! command -v xrootd >/dev/null; then
	log "installing xrootd-server"
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xrootd-server) >/dev/null 2>&1 || log "xrootd-server install failed"
fi
if command -v xrootd >/dev/null; then
	XRD_ROOT_PORT=11094
	while port_open $XRD_ROOT_PORT; do XRD_ROOT_PORT=$((XRD_ROOT_PORT + 1)); done
	XRD_HTTP_PORT=$((XRD_ROOT_PORT + 1))
	while port_open $XRD_HTTP_PORT; do XRD_HTTP_PORT=$((XRD_HTTP_PORT + 1)); done
	XRD_DIR=$(mktemp -d /tmp/repokit-xrootd.XXXXXX)
	chmod 755 "$XRD_DIR"
	mkdir -p "$XRD_DIR/data/repokit" "$XRD_DIR/admin" "$XRD_DIR/run"
	XRD_USER=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		XRD_USER=xrootd
		id xrootd >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin xrootd
	fi
	cat >"$XRD_DIR/xrootd.cfg" <<CONF
all.role server
oss.localroot $XRD_DIR/data
all.export /repokit
all.adminpath $XRD_DIR/admin
all.pidpath $XRD_DIR/run
xrd.port $XRD_ROOT_PORT
xrd.network nodnr
xrd.protocol XrdHttp:$XRD_HTTP_PORT libXrdHttp.so
xrootd.chksum md5
http.listingdeny no
CONF
	[ "$(id -u)" = 0 ] && chown -R "$XRD_USER": "$XRD_DIR"
	XRD_ARGS=(-c "$XRD_DIR/xrootd.cfg" -l "$XRD_DIR/xrootd.log" -n repokit)
	[ "$(id -u)" = 0 ] && XRD_ARGS+=(-R "$XRD_USER")
	xrootd "${XRD_ARGS[@]}" >"$XRD_DIR/stdout.log" 2>&1 &
	XRD_PID=$!
	CI_CLEANUP+=("kill $XRD_PID" "rm -rf $XRD_DIR")
	if wait_port "xrootd (XrdHttp)" $XRD_HTTP_PORT 30; then
		export REPOKIT_TEST_XROOTD_URL="webdav://127.0.0.1:$XRD_HTTP_PORT/repokit/"
		log "xrootd XrdHttp on $REPOKIT_TEST_XROOTD_URL"
	else
		tail -20 "$XRD_DIR/stdout.log" "$XRD_DIR"/repokit/xrootd.log 2>/dev/null
	fi
fi
