package storage

// Blob drivers this package opens by URL scheme. Importing them here registers
// them with gocloud's default URL mux; Locations uses its own mux built from
// the same openers (see open.go) so file:// can carry a URL signer.
import (
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/fileblob"  // file://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/memblob"   // mem://
	_ "gocloud.dev/blob/s3blob"    // s3://
)
