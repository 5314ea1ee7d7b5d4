package main

import (
	"context"
	"fmt"
	"os"

	"weaksup/ddp"
	"weaksup/torch"
)

// launchRanks runs `weaksup <command> args...` as n local data-parallel
// ranks (the --nproc-per-node flag of pretrain and finetune). The ranks
// write to the command's writers, rank r > 0 with a "[rank r] " prefix.
func launchRanks(ctx context.Context, env Env, command string, n int, args []string) error {
	if _, ok, _ := torch.RendezvousFromEnv(os.Getenv); ok {
		return fmt.Errorf("check flag --nproc-per-node %d: this process is already a rank of a launcher (RANK/WORLD_SIZE or srun are set)", n)
	}
	return ddp.LaunchLocal(ctx, ddp.LaunchOptions{N: n, Args: append([]string{command}, ddp.WithoutFlag(args, "nproc-per-node")...),
		Stdout: env.Stdout, Stderr: env.Stderr})
}
