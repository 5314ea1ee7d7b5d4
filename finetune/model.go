package finetune

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"weaksup/nets"
	"weaksup/torch"
	"weaksup/train"
)

// FromNone is the --from value that trains from scratch.
const FromNone = "none"

// ResolveFrom turns a --from value into a safetensors state_dict file:
// a .safetensors file itself; a checkpoint directory (step-NNNNNNNNN) or a
// finetune output directory holding model.safetensors; a run directory
// (its newest checkpoint under checkpoints/); or a checkpoints directory
// (its newest). FromNone gives "".
func ResolveFrom(from string) (string, error) {
	if from == FromNone {
		return "", nil
	}
	if from == "" {
		return "", errors.New("resolve weights: empty --from (give a checkpoint, a .safetensors file or none)")
	}
	st, err := os.Stat(from)
	if err != nil {
		return "", fmt.Errorf("resolve weights --from %s: %w", from, err)
	}
	if !st.IsDir() {
		if !strings.HasSuffix(from, ".safetensors") {
			return "", fmt.Errorf("resolve weights --from %s: not a .safetensors file or a checkpoint directory", from)
		}
		return from, nil
	}
	if p := filepath.Join(from, train.ModelFile); exists(p) {
		return p, nil
	}
	for _, root := range []string{train.CheckpointsDir(from), from} {
		dir, err := train.LatestCheckpoint(root)
		if err == nil {
			return filepath.Join(dir, train.ModelFile), nil
		}
		if !errors.Is(err, train.ErrNoCheckpoint) && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("resolve weights --from %s: %w", from, err)
		}
	}
	return "", fmt.Errorf("resolve weights --from %s: no %s and no checkpoints in it", from, train.ModelFile)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Spec is the architecture a state_dict file was saved from, read off its
// tensor names and shapes: the network's table, the block design, the
// shortcut option and the width of its classifier (0 without one).
type Spec struct {
	Arch     nets.Arch
	Block    nets.Block
	Shortcut nets.Shortcut
	Classes  int
}

var blockName = regexp.MustCompile(`^layer(\d+)\.(\d+)\.`)

// InferSpec reads the header of a safetensors file in torchvision naming
// and recognizes the architecture: bottleneck or basic blocks, the table,
// the design (SkipInit from its alphas, pre-activation from bn_final, no
// batch norm, or He et al.'s post-activation block) and the shortcut (B
// when there are projections, else A). A table matching one of
// train.ArchNames keeps that name; any other consistent network is named
// "custom". What the tensors cannot tell — plain-n from ResNet-n with
// option-A shortcuts — comes from the arch and block recorded beside the
// weights (finetune.json, or a checkpoint's config.json); without a
// record the residual network is assumed.
func InferSpec(path string) (Spec, error) {
	f, err := nets.OpenSafetensors(path)
	if err != nil {
		return Spec{}, fmt.Errorf("infer architecture: %w", err)
	}
	defer f.Close()
	shape := func(name string) ([]int64, error) {
		info, ok := f.Tensors[name]
		if !ok {
			return nil, fmt.Errorf("infer architecture of %s: no tensor %q (not a ResNet/ResNeXt state_dict in torchvision naming?)", path, name)
		}
		return info.Shape, nil
	}
	var s Spec
	conv1, err := shape("conv1.weight")
	if err != nil {
		return s, err
	}
	if len(conv1) != 4 {
		return s, fmt.Errorf("infer architecture of %s: conv1.weight has shape %v", path, conv1)
	}
	a := nets.Arch{Name: "custom", StemWidth: int(conv1[0]), SmallStem: conv1[2] == 3, Basic: !hasTensor(f, "layer1.0.conv3.weight")}
	for name := range f.Tensors {
		m := blockName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		st, _ := strconv.Atoi(m[1])
		bl, _ := strconv.Atoi(m[2])
		if st < 1 || st > 16 || bl > 1000 {
			return s, fmt.Errorf("infer architecture of %s: unexpected tensor %q", path, name)
		}
		for len(a.Layers) < st {
			a.Layers = append(a.Layers, 0)
		}
		a.Layers[st-1] = max(a.Layers[st-1], bl+1)
	}
	if len(a.Layers) == 0 || slices.Contains(a.Layers, 0) {
		return s, fmt.Errorf("infer architecture of %s: residual stages %v are not layer1..layerN", path, a.Layers)
	}
	for st := range a.Layers {
		c2, err := shape(fmt.Sprintf("layer%d.0.conv2.weight", st+1))
		if err != nil {
			return s, err
		}
		if a.Basic {
			if len(c2) != 4 || c2[0] == 0 || c2[0] != c2[1] {
				return s, fmt.Errorf("infer architecture of %s: stage %d conv2 has shape %v", path, st+1, c2)
			}
			a.Planes = append(a.Planes, int(c2[0]))
			a.Groups, a.WidthPerGroup = 1, 64
			continue
		}
		c3, err := shape(fmt.Sprintf("layer%d.0.conv3.weight", st+1))
		if err != nil {
			return s, err
		}
		if len(c2) != 4 || len(c3) != 4 || c2[1] == 0 || c3[0]%4 != 0 {
			return s, fmt.Errorf("infer architecture of %s: stage %d convs have shapes %v and %v", path, st+1, c2, c3)
		}
		planes := int(c3[0] / 4)
		a.Planes = append(a.Planes, planes)
		if st == 0 {
			width := int(c2[0])
			a.Groups = int(c2[0] / c2[1])
			if a.Groups == 0 || planes*a.Groups == 0 {
				return s, fmt.Errorf("infer architecture of %s: layer1.0.conv2.weight has shape %v", path, c2)
			}
			a.WidthPerGroup = width * 64 / (planes * a.Groups)
		}
	}
	rec := recordedSpec(path)
	s.Arch = knownArch(a, rec.Arch)
	switch {
	case hasTensor(f, "layer1.0.alpha"):
		s.Block = nets.SkipInit
	case hasTensor(f, "bn_final.weight"):
		s.Block = nets.PreAct
	case !hasTensor(f, "layer1.0.bn1.weight"):
		s.Block = nets.NoNorm
		if rec.Block == nets.PlainNoNorm.String() {
			s.Block = nets.PlainNoNorm
		}
	case rec.Block == nets.Plain.String():
		s.Block = nets.Plain
	case a.Basic:
		s.Block = nets.Basic
	default:
		s.Block = nets.Bottleneck
	}
	s.Shortcut = nets.ShortcutA
	for _, name := range f.Names() {
		if strings.Contains(name, ".downsample.0.weight") {
			s.Shortcut = nets.ShortcutB
			break
		}
	}
	if fc, ok := f.Tensors["fc.weight"]; ok && len(fc.Shape) == 2 {
		s.Classes = int(fc.Shape[0])
	}
	return s, nil
}

// knownArch returns the built-in architecture with a's table: the one
// recorded beside the weights when it matches, else the first of
// train.ArchNames that is not a plain net, else a itself.
func knownArch(a nets.Arch, recorded string) nets.Arch {
	if recorded != "" {
		if known, err := nets.LookupArch(recorded); err == nil && sameTable(known, a) {
			return known
		}
	}
	var plain *nets.Arch
	for _, name := range nets.ArchNames() {
		known, err := nets.LookupArch(name)
		if err != nil || !sameTable(known, a) {
			continue
		}
		if known.Block != nets.Plain {
			return known
		}
		if plain == nil {
			plain = &known
		}
	}
	if a.Basic && len(a.Layers) == 3 && a.Layers[0] == a.Layers[1] && a.Layers[1] == a.Layers[2] {
		if known, err := nets.CIFARResNet(6*a.Layers[0] + 2); err == nil && sameTable(known, a) {
			return known
		}
	}
	if plain != nil {
		return *plain
	}
	return a
}

// recorded is the arch and block a training run wrote beside its
// weights.
type recorded struct{ Arch, Block string }

// recordedSpec reads the arch and block from finetune.json beside the
// weights, or from a checkpoint's config.json ("extra": {"arch", "block"}).
func recordedSpec(weights string) recorded {
	if ri, err := readRunInfo(weights); err == nil && ri != nil {
		return recorded{Arch: ri.Arch, Block: ri.Block}
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(weights), train.ConfigFile))
	if err != nil {
		return recorded{}
	}
	var c struct {
		Extra recorded `json:"extra"`
	}
	if json.Unmarshal(b, &c) != nil {
		return recorded{}
	}
	return c.Extra
}

func hasTensor(f *nets.SafetensorsFile, name string) bool {
	_, ok := f.Tensors[name]
	return ok
}

func sameTable(a, b nets.Arch) bool {
	return slices.Equal(a.Layers, b.Layers) && slices.Equal(a.Planes, b.Planes) && a.Groups == b.Groups &&
		a.WidthPerGroup == b.WidthPerGroup && a.SmallStem == b.SmallStem && a.StemWidth == b.StemWidth && a.Basic == b.Basic
}

// ModelConfig says which network to build for a target task.
type ModelConfig struct {
	From  string // --from: weights (see ResolveFrom) or FromNone
	Arch  string // architecture (nets.LookupArch); required with FromNone, else checked against the weights
	Block string // block design with FromNone (default: the arch's own)
	// Shortcut is option "A" or "B" (or "auto", the default) with FromNone.
	Shortcut string
	Classes  int // classes of the target task: the width of the new head
	// KeepHead loads the classifier too (evaluation of a fine-tuned
	// network), which must then have Classes outputs; otherwise the head
	// is new (fine-tuning).
	KeepHead bool
	Seed     uint64 // seeds the initialization of new weights
	Device   torch.Device
}

// NewModel builds the network of c: a ResNeXt with the weights of c.From
// (every tensor but the head, or all with KeepHead) and a Classes-wide head.
// It returns the weights file it loaded ("" for FromNone).
func NewModel(c ModelConfig) (*nets.ResNeXt, string, error) {
	path, err := ResolveFrom(c.From)
	if err != nil {
		return nil, "", err
	}
	var spec Spec
	if path == "" {
		if c.KeepHead {
			return nil, "", errors.New("build model: --from none has no trained classifier to evaluate")
		}
		if c.Arch == "" {
			return nil, "", errors.New("build model: --from none needs --arch")
		}
		if spec.Arch, err = nets.LookupArch(c.Arch); err != nil {
			return nil, "", fmt.Errorf("build model: %w", err)
		}
		if c.Block != "" {
			if spec.Block, err = nets.ParseBlock(c.Block); err != nil {
				return nil, "", fmt.Errorf("build model: --block: %w", err)
			}
		}
		if c.Shortcut != "" {
			if spec.Shortcut, err = nets.ParseShortcut(c.Shortcut); err != nil {
				return nil, "", fmt.Errorf("build model: --shortcut: %w", err)
			}
		}
	} else {
		if spec, err = InferSpec(path); err != nil {
			return nil, "", err
		}
		if c.Arch != "" {
			want, err := nets.LookupArch(c.Arch)
			if err != nil {
				return nil, "", fmt.Errorf("build model: %w", err)
			}
			if want.Name != spec.Arch.Name {
				return nil, "", fmt.Errorf("build model: --arch %s, but %s holds a %s", c.Arch, path, spec.Arch.Name)
			}
		}
		if c.KeepHead && spec.Classes != c.Classes {
			return nil, "", fmt.Errorf("build model: %s classifies %d classes, the task has %d (fine-tune it first)", path, spec.Classes, c.Classes)
		}
	}
	if err := torch.ManualSeed(c.Seed); err != nil {
		return nil, "", fmt.Errorf("build model: %w", err)
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: spec.Arch, NumClasses: c.Classes, Block: spec.Block, Shortcut: spec.Shortcut,
		ChannelsLast: c.Device.Type == torch.DeviceCPU, Device: c.Device})
	if err != nil {
		return nil, "", fmt.Errorf("build model: %w", err)
	}
	if path != "" {
		if err := m.Load(path, nets.LoadOptions{IgnoreHead: !c.KeepHead}); err != nil {
			m.Close()
			return nil, "", fmt.Errorf("build model: %w", err)
		}
	}
	return m, path, nil
}
