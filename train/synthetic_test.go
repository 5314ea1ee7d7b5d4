package train

import (
	"weaksup/loader"
	"weaksup/train/traintest"
)

// squaresData returns Data over generated train and held-out sets: mild
// random crops and flips for training, the whole image for evaluation.
func squaresData(train, val *traintest.Squares, batch, px int, seed uint64) Data {
	openTrain, openVal := traintest.Loaders(train, val, batch, px, seed)
	return Data{
		Train: func(part Part, resume *loader.Position) (Batches, error) {
			return openTrain(part.Rank, part.World, resume)
		},
		Val: func(part Part) (Batches, error) { return openVal(part.Rank, part.World) },
	}
}
