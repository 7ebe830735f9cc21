# OpenSearch's official OpenAPI spec and test stories (Apache-2.0), kept
# next to the checkout in ../shared/reference; the search/opensearch tests
# validate the driver's requests and run the stories against the fake with it.
SPEC_DIR="$(cd ..; pwd)/shared/reference/opensearch-api-specification"
if [ -d "$SPEC_DIR" ]; then
	export REPOKIT_TEST_OPENSEARCH_SPEC="$SPEC_DIR"
	log "OpenSearch API spec at $SPEC_DIR"
else
	log "OpenSearch API spec not found at $SPEC_DIR"
fi
