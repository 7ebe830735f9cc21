package storage

// Blob drivers built in: file:// and mem://. Cloud drivers are opt-in by
// import, as with gocloud.dev, so that programs that do not use them do not
// link their SDKs:
//
//	import _ "github.com/repokit/repokit/storage/s3native" // s3:// (with native multipart, large copies)
//	import _ "gocloud.dev/blob/gcsblob"                     // gs://
//	import _ "gocloud.dev/blob/azureblob"                   // azblob://
//
// Any other gocloud blob driver registered with blob.DefaultURLMux works
// too; a driver package that does some operations natively registers a
// Native with RegisterNative.
import (
	_ "gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/memblob"  // mem://
)
