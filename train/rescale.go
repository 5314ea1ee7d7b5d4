package train

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"weaksup/loader"
)

// What a run in several processes needs of the loop: the log line of its
// global batch, the cause of a stop another rank asked for, and the
// conversion of a checkpoint written by one world size into a position of
// another.

// announceParts logs the global batch of a data-parallel run and the
// learning rate it gives.
func (r *run) announceParts() {
	if r.part.World < 2 {
		return
	}
	r.logf("%s: %d ranks × batch %d × accumulate %d = global batch %d; peak learning rate %.4g (%g per 256 images), %d warm-up steps; %s\n",
		r.cfg.Label, r.part.World, r.cfg.Batch, r.cfg.Accumulate, r.sched.Batch, r.sched.Peak(), r.sched.BaseLR, r.sched.WarmupSteps, r.par)
}

// stopCause is the error of a run that stops because its context was
// cancelled, or because another rank's was.
func stopCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("another rank was interrupted: %w", context.Canceled)
}

// checkpointStep is the step of a checkpoint directory, -1 for none.
func checkpointStep(dir string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), checkpointPrefix))
	if dir == "" || err != nil {
		return -1
	}
	return n
}

// repartition converts a loader position saved by rank 0 of a run of
// p.World ranks into the position of part: the ranks read in lockstep, so
// p.Consumed·p.World items of the epoch's global sequence are behind them,
// and part.Rank continues at its share of that. A global position that is
// not a multiple of part.World is rounded down (those few items are read
// again); lost reports how many.
func repartition(p loader.Position, part Part) (out loader.Position, again int) {
	if p.World == part.World && p.Rank == part.Rank {
		return p, 0
	}
	w := max(1, p.World)
	global := p.Consumed * w
	out = p
	out.Rank, out.World = part.Rank, part.World
	out.Consumed = global / part.World
	return out, global - out.Consumed*part.World
}

// rescale adapts a restored state to this run's part: the loader position
// of rank 0 of the saved world becomes this rank's in this world, at the
// same global sample position; with another global batch the step count
// becomes the number of this run's steps those images make. It returns the
// loader position to continue from.
func (r *run) rescale(st CheckpointState) *loader.Position {
	part := r.part
	if st.Loader == nil {
		return nil
	}
	pos, again := repartition(*st.Loader, part)
	if pos.World != st.Loader.World {
		r.logf("%s: the checkpoint was written by %d processes, this run has %d; continuing at the same global sample position\n",
			r.cfg.Label, st.Loader.World, part.World)
	}
	if again > 0 {
		r.logf("%s: %d images of the interrupted epoch are read again (the global position is not a multiple of %d processes)\n",
			r.cfg.Label, again, part.World)
	}
	gb := r.cfg.Batch * r.cfg.Accumulate * part.World
	if st.GlobalBatch > 0 && st.GlobalBatch != gb {
		step := int(int64(st.Step) * int64(st.GlobalBatch) / int64(gb))
		r.logf("%s: the global batch changes from %d to %d images: step %d of the checkpoint is step %d of this run\n",
			r.cfg.Label, st.GlobalBatch, gb, st.Step, step)
		r.step = step
	}
	return &pos
}
