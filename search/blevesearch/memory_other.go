//go:build !linux

package blevesearch

const releaseSupported = false

func releaseFiles(map[string]bool) error { return nil }
