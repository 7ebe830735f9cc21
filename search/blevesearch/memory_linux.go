//go:build linux

package blevesearch

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

const releaseSupported = true

// fileID identifies a file as /proc/self/maps does: device and inode.
type fileID struct {
	major, minor uint64
	ino          uint64
}

// releaseFiles drops the resident pages of the shared file mappings of
// paths (found in /proc/self/maps by device and inode) with
// madvise(MADV_DONTNEED). On a shared mapping of a file this only unmaps
// the pages from the process: their contents stay in the page cache and
// are mapped again on the next access. The caller guarantees that the
// mappings stay mapped meanwhile.
func releaseFiles(paths map[string]bool) error {
	ids := map[fileID]bool{}
	for p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			continue // removed meanwhile (merged away): its mapping is not held
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		dev := uint64(st.Dev)
		ids[fileID{
			major: (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff),
			minor: dev&0xff | (dev>>12)&^uint64(0xff),
			ino:   st.Ino,
		}] = true
	}
	if len(ids) == 0 {
		return nil
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	type span struct{ start, end uint64 }
	var spans []span
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// start-end perms offset major:minor inode [path]
		fs := bytes.Fields(sc.Bytes())
		if len(fs) < 6 || len(fs[1]) < 4 || fs[1][3] != 's' {
			continue // not a shared file mapping
		}
		var id fileID
		mm := bytes.SplitN(fs[3], []byte(":"), 2)
		if len(mm) != 2 {
			continue
		}
		var e1, e2, e3 error
		id.major, e1 = strconv.ParseUint(string(mm[0]), 16, 64)
		id.minor, e2 = strconv.ParseUint(string(mm[1]), 16, 64)
		id.ino, e3 = strconv.ParseUint(string(fs[4]), 10, 64)
		if e1 != nil || e2 != nil || e3 != nil || !ids[id] {
			continue
		}
		se := bytes.SplitN(fs[0], []byte("-"), 2)
		if len(se) != 2 {
			continue
		}
		start, err1 := strconv.ParseUint(string(se[0]), 16, 64)
		end, err2 := strconv.ParseUint(string(se[1]), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		spans = append(spans, span{start, end})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, s := range spans {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(s.start), uintptr(s.end-s.start), syscall.MADV_DONTNEED); errno != 0 {
			return errno
		}
	}
	return nil
}
