// Package templates embeds the HAProxy templates karana renders. Each one
// receives a view-model built for it by pkg/render, never inventory types.
package templates

import "embed"

// FS holds every *.tmpl file of this folder.
//
//go:embed *.tmpl
var FS embed.FS
