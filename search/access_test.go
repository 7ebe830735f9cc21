package search_test

import (
	"reflect"
	"testing"

	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/search"
)

func TestFilterQuery(t *testing.T) {
	cases := []struct {
		f    access.Filter
		want search.Query
	}{
		{access.Filter{All: true}, nil},
		{access.Filter{}, search.MatchNone{}},
		{access.Filter{AnyOf: []access.Term{{Field: "owners", Values: nil}}}, search.MatchNone{}},
		{access.Filter{AnyOf: []access.Term{{Field: "public", Values: []string{"true"}}}}, search.Terms{Field: "public", Values: []string{"true"}}},
		{access.Filter{AnyOf: []access.Term{{Field: "public", Values: []string{"true"}}, {Field: "owners", Values: []string{"a"}}}},
			search.Bool{Should: []search.Query{search.Terms{Field: "public", Values: []string{"true"}}, search.Terms{Field: "owners", Values: []string{"a"}}}}},
	}
	for _, c := range cases {
		if got := search.FilterQuery(c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("FilterQuery(%+v) = %#v, want %#v", c.f, got, c.want)
		}
	}
}
