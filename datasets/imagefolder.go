package datasets

import "path/filepath"

// ImageFolderDataset is the generic layout: DIR/train/<class>/<image> and
// DIR/val/<class>/<image>. The classes are the sorted train folder names
// (torchvision's ImageFolder order); a val folder that is not a train class
// is an error, a train class without val images is not.
type ImageFolderDataset struct {
	dir     string
	classes []Class
	index   map[string]int
}

// OpenImageFolder reads the class folders of dir/train.
func OpenImageFolder(dir string) (*ImageFolderDataset, error) {
	folders, err := classFolders(filepath.Join(dir, SplitTrain))
	if err != nil {
		return nil, err
	}
	if len(folders) == 0 {
		return nil, &LayoutError{Path: filepath.Join(dir, SplitTrain), Msg: "no class folders", Err: ErrNoImages}
	}
	d := &ImageFolderDataset{dir: dir, index: make(map[string]int, len(folders))}
	for i, f := range folders {
		d.classes = append(d.classes, Class{ID: f, Name: f})
		d.index[f] = i
	}
	return d, nil
}

func (d *ImageFolderDataset) Layout() string   { return ImageFolder }
func (d *ImageFolderDataset) Dir() string      { return d.dir }
func (d *ImageFolderDataset) Classes() []Class { return d.classes }

// Split lists DIR/<name>/<class>/<image>.
func (d *ImageFolderDataset) Split(name string) (Split, error) {
	if err := checkSplit(name); err != nil {
		return nil, err
	}
	items, err := folderItems(filepath.Join(d.dir, name), d.index, name == SplitTrain)
	if err != nil {
		return nil, err
	}
	return items, nil
}
