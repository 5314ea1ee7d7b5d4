package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"weaksup/nets"
)

// ArchCommand is `weaksup arch`: what a network is, as torchinfo shows it.
type ArchCommand struct{}

const archHelp = `Describe a network without building it (no libtorch needed): trainable
parameters (in M, and the conv and fc weights alone, which is what the papers
quote), multiply-adds of the convolutions and the classifier for one image of
--input x --input pixels, the number of weighted layers (stem conv, the convs
of every block's branch, fc; projection shortcuts not counted), and a row per
stage with its output shape, parameters and multiply-adds.

NAME is one of 'weaksup arch --list', or a CIFAR network of any depth:
resnetN and plainN (N = 6n+2: He et al.'s basic-block nets; option-A
shortcuts unless --shortcut B) and preact_resnetN (N = 9n+2: the
pre-activation bottleneck nets of "Identity Mappings"). --block builds
another design on the same table: basic, plain, preact, skipinit, nonorm,
plain-nonorm (bottleneck for the ResNeXt tables).

Examples:
  weaksup arch resnet110
  weaksup arch resnext50_32x4d --input 224
  weaksup arch resnet56 --shortcut B
  weaksup arch --list`

// Run implements Command.
func (c *ArchCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("arch", "arch NAME [--input PX] [--classes K] [--block B] [--shortcut A|B] | arch --list", archHelp)
	list := fs.Bool("list", false, "list the built-in networks with their layers and parameters")
	input := fs.Int("input", 0, "input side in pixels (0: 32 for small-stem nets, 224 for the ImageNet stem)")
	classes := fs.Int("classes", 0, "classifier outputs (0: 10 for small-stem nets, 1000 for the ImageNet stem)")
	block := fs.String("block", "", "block design (default: the network's own)")
	shortcut := fs.String("shortcut", "auto", "shortcut where a block changes shape: A (zero padding), B (projection), auto (A for basic blocks, B for bottlenecks)")
	// Accept NAME before the flags too.
	var name string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	if *list {
		return listArchs(env)
	}
	if name == "" {
		fmt.Fprintln(fs.Output(), "weaksup arch: give a network NAME or --list")
		return errUsage
	}
	a, err := nets.LookupArch(name)
	if err != nil {
		return err
	}
	o := nets.Options{Arch: a, NumClasses: *classes}
	if o.NumClasses == 0 {
		o.NumClasses = defaultClasses(a)
	}
	if *block != "" {
		if o.Block, err = nets.ParseBlock(*block); err != nil {
			return fmt.Errorf("flag --block: %w", err)
		}
	}
	if o.Shortcut, err = nets.ParseShortcut(*shortcut); err != nil {
		return fmt.Errorf("flag --shortcut: %w", err)
	}
	side := *input
	if side == 0 {
		side = defaultInput(a)
	}
	s, err := nets.Summarize(o, side)
	if err != nil {
		return err
	}
	return s.Write(env.Stdout)
}

func defaultClasses(a nets.Arch) int {
	if a.SmallStem {
		return 10
	}
	return 1000
}

func defaultInput(a nets.Arch) int {
	if a.SmallStem {
		return 32
	}
	return 224
}

func listArchs(env Env) error {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLAYERS\tBLOCKS\tDESIGN\tPARAMS\tMULT-ADDS\tINPUT\tCLASSES")
	for _, name := range nets.ArchNames() {
		a, err := nets.LookupArch(name)
		if err != nil {
			return err
		}
		side := defaultInput(a)
		s, err := nets.Summarize(nets.Options{Arch: a, NumClasses: defaultClasses(a)}, side)
		if err != nil {
			return err
		}
		design := s.Block.String()
		if a.Groups > 1 {
			design += fmt.Sprintf(" %dx%dd", a.Groups, a.WidthPerGroup)
		}
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%s\t%.2fG\t%d\t%d\n", name, s.Depth, a.Layers, design, nets.Millions(s.Params),
			float64(s.MACs)/1e9, side, s.Classes)
	}
	fmt.Fprintln(tw, "\nAliases: tiny (resnext_tiny), small (resnext29_small). Any resnetN/plainN with N = 6n+2 and preact_resnetN with N = 9n+2 work too.")
	return tw.Flush()
}
