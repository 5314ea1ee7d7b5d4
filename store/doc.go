// Package store is the working store of a weaksup pipeline: a Badger
// database under <workdir>/store that holds every crawled record, its
// normalized image bytes, the labels canonicalize assigns and the drop flags
// that canonicalize and dedup set.
//
// Nothing in the store is ever deleted by a stage: a stage that removes a
// record from the training set flags it (SetDrop) with a reason, so reruns and
// reports can always see what happened.
//
// Key layout (one byte table prefix, then the record id):
//
//	m/<id>  record metadata   (version byte + JSON)
//	i/<id>  image bytes       (raw JPEG, in Badger's value log)
//	h/<id>  hash index        (version byte + 8-byte pHash + 32-byte SHA-256
//	                           + thumbnail from version 2 on), ok records only
//	l/<id>  labels            (version byte + JSON)
//	d/<stage>/<id> drop flag  (version byte + reason)
//	e/<id>\x00<stage> the same flag, indexed by record id
//
// Every value starts with a format version byte; a value written by a newer
// format is refused with ErrVersion rather than misread. Hash index values
// are at version 2 (with the thumbnail dedup verifies with); version 1
// values, written before, are still read, with an empty thumbnail.
//
// A Store is safe for concurrent use by multiple goroutines. A Batch is not.
package store
