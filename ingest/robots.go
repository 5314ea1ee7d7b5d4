package ingest

import "strings"

// userAgentToken is the name robots directives address this crawler by.
const userAgentToken = "weaksup"

// optOutDirectives are the X-Robots-Tag directives that keep an image out
// of a training set.
var optOutDirectives = map[string]bool{"noai": true, "noimageai": true, "noindex": true, "none": true}

// OptedOut reports whether X-Robots-Tag header values forbid using the
// image: a noai, noimageai, noindex or none directive for every crawler,
// or one preceded by "ua:" where ua is our token (case-insensitive).
// Directives for other crawlers are ignored. Values follow Google's
// syntax: "noindex, nofollow", "otherbot: noindex", "weaksup: noai".
func OptedOut(values []string, ua string) bool {
	for _, v := range values {
		target := "" // the crawler the current directives are for, "" = all
		for _, d := range strings.Split(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			if name, rest, ok := strings.Cut(d, ":"); ok && !knownValueDirective(name) {
				target = strings.TrimSpace(name)
				d = strings.TrimSpace(rest)
			}
			if optOutDirectives[d] && (target == "" || target == ua || target == "*") {
				return true
			}
		}
	}
	return false
}

// knownValueDirective reports directives that carry a value after a
// colon, so "max-snippet: 20" is not read as a crawler name.
func knownValueDirective(name string) bool {
	switch strings.TrimSpace(name) {
	case "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview":
		return true
	}
	return false
}
