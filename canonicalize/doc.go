// Package canonicalize turns hashtags into training labels.
package canonicalize
