# goaws v0.4.5, an SQS/SNS emulator in Go, for tasks/broker/sqsbroker.
# Sourced by .ci/run (uses log, port_open, wait_port, CI_CLEANUP).
# goaws speaks only the AWS Query protocol (the broker's protocol=query),
# keeps messages in memory and listens on all interfaces (its port is not
# configurable per interface in v0.4.5).
GOAWS_PORT=4100
if ! command -v goaws >/dev/null; then
	log "installing goaws"
	GOAWS_BIN=$(mktemp -d)
	# The module's main package is app/cmd: install it, then name it goaws.
	GOBIN=$GOAWS_BIN go install github.com/Admiral-Piett/goaws/app/cmd@v0.4.5 &&
		mkdir -p "$(go env GOPATH)/bin" &&
		mv "$GOAWS_BIN/cmd" "$(go env GOPATH)/bin/goaws"
	rm -rf "$GOAWS_BIN"
fi
if port_open $GOAWS_PORT; then
	log "goaws (or something) already up on $GOAWS_PORT"
else
	GOAWS_DIR=$(mktemp -d)
	cat >"$GOAWS_DIR/goaws.yaml" <<YAML
Local:
  Host: 127.0.0.1
  Port: $GOAWS_PORT
  Region: us-east-1
  AccountId: "100010001000"
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
    MaximumMessageSize: 262144
YAML
	goaws -config "$GOAWS_DIR/goaws.yaml" Local >/tmp/repokit-goaws.log 2>&1 &
	GOAWS_PID=$!
	CI_CLEANUP+=("kill $GOAWS_PID" "rm -rf $GOAWS_DIR")
fi
wait_port goaws $GOAWS_PORT 30
export REPOKIT_TEST_SQS_URL="sqs://?endpoint=http://127.0.0.1:$GOAWS_PORT&region=us-east-1&anonymous=true&protocol=query"
