package main

// Storage drivers beyond the built-in file:// and mem://, linked in so that the
// same binary runs on S3 or WebDAV/XRootD by changing --storage-url only.
import (
	_ "github.com/repokit/repokit/storage/s3native" // s3://
	_ "github.com/repokit/repokit/storage/webdav"   // webdav://, webdavs:// (Apache mod_dav, XRootD XrdHttp)
)
