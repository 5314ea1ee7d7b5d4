// Package datasets reads the image datasets people keep on disk, in the
// layouts they are distributed in: ImageNet (ILSVRC-2012), CUB-200-2011,
// Places365-standard, image folders, and CIFAR-10 and CIFAR-100 in their
// binary versions. Fine-tuning trains and evaluates on
// them; de-duplication lists their test images. Every layout is parsed
// here and only here.
//
// # Labelled datasets
//
// Open(layout, dir) returns a Dataset; its Classes are fixed at open and
// Split("train"|"val") returns the split's images with their class
// indexes, after checking that every listed image exists. See the
// ImageNetDataset, CUBDataset, Places365Dataset, ImageFolderDataset and
// CIFARDataset types for the exact files each reads; the test split of CUB
// and CIFAR is the val split.
// A Split hands out images by index: the file layouts return Files (image
// paths and classes); a layout that stores raw pixels, such as CIFAR's
// binary batches, returns decoded images from Split.Read instead (a
// *PlanarRGB over the record's bytes), so the training loader
// (loader.SplitSource) takes either. WriteCIFAR10 writes the CIFAR-10
// binary layout, for generated stand-ins and tests.
//
// # Unlabelled listings
//
// A Lister lists the image files of a folder without reading labels, for
// folders that are only a test split: an ImageNet val folder, flat or in
// class folders (ImageNetVal); the test images of CUB-200-2011, from
// images.txt and train_test_split.txt alone (CUBImages); a Places365 val
// folder or file list (Places365Val); or any folder, recursively (Folder).
// ListerFor picks one by layout name (the names Open takes), and
// DetectLayout guesses the layout from the path. The listings share the parsers of the labelled layouts.
//
// # Files and errors
//
// An image file is one whose extension is in ImageExts; the package
// registers a decoder with package image for each of those formats. Hidden
// files and folders (a leading dot) are skipped; links to image files and
// to class folders are followed. A missing or inconsistent file is a
// *LayoutError naming the file and, for listings, the line (for CIFAR
// batches, the record); paths a
// listing gives must stay inside the dataset folder.
//
// Datasets, Files and Listers are read-only after Open and safe for
// concurrent use. The package does not decode images (the loader and the
// perceptual hash do) and downloads nothing.
package datasets
