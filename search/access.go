package search

import (
	"context"

	"github.com/repokit/repokit/access"
)

// PolicyPermission returns a SearchConfig.Permission that restricts every
// search to what p's Filter lets the identity of ctx find: everything
// (Filter.All), nothing (the zero Filter), or documents matching any of the
// filter's terms.
func PolicyPermission(p access.Policy) func(ctx context.Context) (Query, error) {
	return func(ctx context.Context) (Query, error) {
		return FilterQuery(access.FilterFor(ctx, p)), nil
	}
}

// FilterQuery turns an access.Filter into a Query (nil for Filter.All).
func FilterQuery(f access.Filter) Query {
	if f.All {
		return nil
	}
	var should []Query
	for _, t := range f.AnyOf {
		if len(t.Values) > 0 {
			should = append(should, Terms{Field: t.Field, Values: t.Values})
		}
	}
	switch len(should) {
	case 0:
		return MatchNone{}
	case 1:
		return should[0]
	}
	return Bool{Should: should}
}
