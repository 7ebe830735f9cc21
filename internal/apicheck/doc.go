// Package apicheck holds a test of the module's public API: no exported
// function, method, field, variable or type of a public package refers to a
// type of an internal package, and no doc comment of a public package points
// at an internal package. It has no code of its own.
package apicheck
