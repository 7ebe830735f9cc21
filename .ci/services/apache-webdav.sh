# Apache httpd with mod_dav + mod_dav_fs as a WebDAV server for storage/webdav
# (sourced by .ci/run with bash; uses log, port_open, wait_port, CI_CLEANUP).
# A private httpd with its own minimal config on a free 127.0.0.1 port, its
# document root in a temp dir; the system apache2 service is never used.
# Exports REPOKIT_TEST_WEBDAV_URL.

if ! command -v apache2 >/dev/null || [ ! -e /usr/lib/apache2/modules/mod_dav_fs.so ]; then
	log "installing apache2"
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2) >/dev/null 2>&1 || log "apache2 install failed"
fi
if command -v apache2 >/dev/null; then
	APACHE_DAV_PORT=18480
	while port_open $APACHE_DAV_PORT; do APACHE_DAV_PORT=$((APACHE_DAV_PORT + 1)); done
	APACHE_DAV_DIR=$(mktemp -d /tmp/repokit-apache-dav.XXXXXX)
	chmod 755 "$APACHE_DAV_DIR" # mktemp's 0700 would keep the server's user out
	mkdir -p "$APACHE_DAV_DIR/www/dav" "$APACHE_DAV_DIR/lock" "$APACHE_DAV_DIR/run"
	APACHE_DAV_USER=root
	if [ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1; then
		APACHE_DAV_USER=www-data
		chown -R www-data:www-data "$APACHE_DAV_DIR/www" "$APACHE_DAV_DIR/lock"
	fi
	M=/usr/lib/apache2/modules
	cat >"$APACHE_DAV_DIR/httpd.conf" <<CONF
ServerRoot "$APACHE_DAV_DIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_DAV_PORT
PidFile "$APACHE_DAV_DIR/run/httpd.pid"
DefaultRuntimeDir "$APACHE_DAV_DIR/run"
Mutex file:$APACHE_DAV_DIR/run
ErrorLog "$APACHE_DAV_DIR/error.log"
LogLevel warn
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule dav_module $M/mod_dav.so
LoadModule dav_fs_module $M/mod_dav_fs.so
$( [ "$(id -u)" = 0 ] && printf 'User %s\nGroup %s\n' "$APACHE_DAV_USER" "$APACHE_DAV_USER" )
DocumentRoot "$APACHE_DAV_DIR/www"
DavLockDB "$APACHE_DAV_DIR/lock/DavLock"
LimitRequestBody 0
Timeout 120
KeepAlive On
MaxKeepAliveRequests 0
<Directory "$APACHE_DAV_DIR/www">
	AllowOverride None
	Require all granted
</Directory>
<Directory "$APACHE_DAV_DIR/www/dav">
	Dav On
	DavDepthInfinity Off
</Directory>
CONF
	apache2 -f "$APACHE_DAV_DIR/httpd.conf" -DFOREGROUND >"$APACHE_DAV_DIR/stdout.log" 2>&1 &
	APACHE_DAV_PID=$!
	CI_CLEANUP+=("kill $APACHE_DAV_PID" "rm -rf $APACHE_DAV_DIR")
	if wait_port "apache2 (WebDAV)" $APACHE_DAV_PORT 30; then
		export REPOKIT_TEST_WEBDAV_URL="webdav://127.0.0.1:$APACHE_DAV_PORT/dav/"
		log "apache2 WebDAV on $REPOKIT_TEST_WEBDAV_URL"
	else
		cat "$APACHE_DAV_DIR/stdout.log" "$APACHE_DAV_DIR/error.log" 2>/dev/null | tail -20
	fi
fi
