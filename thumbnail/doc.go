// Package thumbnail makes the small copy of an image that near-duplicate
// verification compares: Side x Side luma values, then ChromaSide x
// ChromaSide Cb and Cr values (JPEG's Y'CbCr), each the area average of
// its cell of the image, rows top to bottom; Len (704) bytes in all. The
// image is stretched to a square, as the perceptual hash (package phash)
// stretches it, so a crop that keeps the aspect ratio keeps the
// thumbnail's geometry.
//
// Ingest stores one (Make) with every record, of the normalized image;
// dedup keeps a larger one of each test image (Sized) and cuts the
// thumbnail of a region of it, such as a crop, with a Cut, to compare
// with the crawled ones.
//
// Make, Sized and a Cut are safe for concurrent use. thumbnail does not
// decode files and does not compare thumbnails: deciding whether two
// images are copies is dedup's.
package thumbnail
