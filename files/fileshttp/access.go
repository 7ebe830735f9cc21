package fileshttp

import (
	"net/http"

	"github.com/repokit/repokit/access"
)

// AccessAction maps a handler action to the access model's: reads of
// buckets and objects are access.ReadFiles, everything else
// access.UpdateFiles.
func AccessAction(a Action) access.Action {
	switch a {
	case ActionBucketRead, ActionBucketVersions, ActionBucketUploads, ActionObjectRead, ActionVersionRead:
		return access.ReadFiles
	}
	return access.UpdateFiles
}

// WithAccessPolicy makes the handler ask p, for the identity of the
// request's context (access.WithIdentity), whether it may read or update
// the files of the resource that owns the bucket. resource returns that
// resource (for a record's bucket: recordfiles.Store.AccessResource); an
// error from it is rendered as is (404 for files.ErrNotFound). A refusal is
// a 403 (401 if the identity is anonymous) whose error matches
// access.ErrForbidden. It replaces
// WithPermission.
func WithAccessPolicy(p access.Policy, resource func(r *http.Request, res Resource) (access.Resource, error)) Option {
	return WithPermission(func(r *http.Request, a Action, res Resource) error {
		ar, err := resource(r, res)
		if err != nil {
			return err
		}
		return access.Check(r.Context(), p, AccessAction(a), ar)
	})
}
