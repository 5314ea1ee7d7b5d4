package demo

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// familySpec names a WordNet subtree the world draws concepts from: a lemma
// and its sense number, and how many concepts to take below it.
type familySpec struct {
	lemma  string
	sense  int // 1-based
	take   int
	prefer []string // lemmas taken first, when they name a synset below the root
}

// conceptFamilies are the subtrees of the embedded concept table; concrete,
// physical things that can be drawn.
var conceptFamilies = []familySpec{
	{"dog", 1, 16, []string{"golden_retriever", "beagle", "pug", "poodle", "german_shepherd", "labrador_retriever", "siberian_husky", "dachshund", "collie", "bulldog", "corgi", "rottweiler", "great_dane", "basset", "greyhound", "pomeranian"}},
	{"bird", 1, 14, []string{"flamingo", "penguin", "swan", "pelican", "hummingbird", "owl", "duck", "pigeon", "goose", "vulture", "woodpecker", "crow", "falcon", "rooster"}},
	{"fish", 1, 10, []string{"goldfish", "anemone_fish", "shark", "salmon", "trout", "catfish", "carp", "eel"}},
	{"feline", 1, 8, []string{"tiger", "leopard", "lion", "cheetah", "jaguar", "lynx", "siamese_cat", "house_cat"}},
	{"snake", 1, 6, []string{"cobra", "viper", "anaconda", "rattlesnake", "boa_constrictor", "rock_python"}},
	{"insect", 1, 10, []string{"ladybug", "dragonfly", "cockroach", "honeybee", "ant", "grasshopper", "moth", "mosquito", "fly", "firefly"}},
	{"butterfly", 1, 4, nil},
	{"primate", 2, 7, []string{"gorilla", "chimpanzee", "orangutan", "baboon", "lemur", "gibbon", "macaque"}},
	{"ungulate", 1, 14, []string{"zebra", "giraffe", "camel", "hippopotamus", "llama", "horse", "sheep", "pig", "goat", "antelope", "rhinoceros", "deer", "bison", "moose"}},
	{"rodent", 1, 8, []string{"hamster", "squirrel", "mouse", "rat", "porcupine", "chipmunk", "capybara", "groundhog"}},
	{"bear", 1, 4, []string{"brown_bear", "american_black_bear", "ice_bear", "sloth_bear"}},
	{"edible_fruit", 1, 14, []string{"banana", "strawberry", "pineapple", "mango", "watermelon", "apple", "pear", "lemon", "orange", "grape", "avocado", "fig", "pomegranate", "lychee"}},
	{"vegetable", 1, 12, []string{"broccoli", "cucumber", "pumpkin", "onion", "tomato", "potato", "cabbage", "eggplant", "radish", "artichoke", "cauliflower", "zucchini"}},
	{"tree", 1, 10, []string{"willow", "pine", "beech", "elm", "ginkgo", "coconut_palm", "dogwood", "baobab", "sequoia", "olive_tree"}},
	{"flower", 1, 12, []string{"tulip", "sunflower", "lily", "daisy", "poppy", "orchid", "peony", "snapdragon", "lotus", "dandelion", "iris", "marigold"}},
	{"car", 1, 8, []string{"jeep", "taxi", "ambulance", "convertible", "sedan", "limousine", "racer", "minivan"}},
	{"boat", 1, 8, []string{"canoe", "sailboat", "kayak", "yacht", "gondola", "tugboat", "barge", "lifeboat"}},
	{"aircraft", 1, 6, []string{"airplane", "helicopter", "airship", "glider", "balloon", "seaplane"}},
	{"musical_instrument", 1, 14, []string{"guitar", "trumpet", "saxophone", "piano", "drum", "violin", "banjo", "harp", "flute", "accordion", "marimba", "cello", "harmonica", "tuba"}},
	{"furniture", 1, 10, []string{"bed", "chair", "desk", "sofa", "bench", "cabinet", "wardrobe", "rocking_chair", "bookcase", "dresser"}},
	{"hand_tool", 1, 10, []string{"shovel", "screwdriver", "pitchfork", "hacksaw", "corkscrew", "rake", "trowel", "pliers", "hatchet", "chisel"}},
	{"footwear", 2, 6, []string{"sandal", "boot", "slipper", "clog", "moccasin", "shoe"}},
	{"hat", 1, 8, []string{"cowboy_hat", "fedora", "sombrero", "bonnet", "beret", "top_hat", "boater", "bowler_hat"}},
	{"ball", 1, 8, []string{"tennis_ball", "golf_ball", "soccer_ball", "baseball", "basketball", "volleyball", "football", "softball"}},
	{"kitchen_utensil", 1, 8, []string{"ladle", "pot", "pan", "blender", "grater", "wok", "teapot", "colander"}},
	{"baked_goods", 1, 10, []string{"bagel", "croissant", "pretzel", "muffin", "waffle", "cookie", "pie", "toast", "baguette", "biscuit"}},
	{"building", 1, 10, []string{"lighthouse", "skyscraper", "house", "barn", "chapel", "temple", "hotel", "hospital", "mosque", "pagoda"}},
	{"vehicle", 1, 6, []string{"bicycle", "motorcycle", "tractor", "tank", "scooter", "wagon"}},
}

// avoidLemmas are synsets the fill-up by score would take that make poor
// demo concepts (obscure or not a visible thing).
var avoidLemmas = map[string]bool{
	"puppy": true, "bruin": true, "bogy": true, "shooter": true, "cloisonne": true,
	"human_being": true, "greens": true, "cling": true, "lanseh": true, "pieplant": true,
	"mincer": true, "reamer": true, "eggwhisk": true, "roulette_ball": true, "wiffle": true,
	"picture_hat": true, "busby": true, "tire_iron": true, "t-square": true, "tack_hammer": true,
	"alley_cat": true, "gig": true, "mailboat": true, "silverspot": true, "anglewing": true,
	"citron": true, "simian": true, "queen": true, "lapdog": true, "pooch": true, "cur": true,
	"hoop_snake": true, "rudapithecus": true, "leopardess": true, "tigress": true,
	"bear_cub": true, "graniteware": true, "gridiron": true, "plexor": true, "cockleshell": true,
	"bumboat": true, "car-ferry": true, "golden_glow": true, "common_valerian": true,
}

var tagSafe = regexp.MustCompile(`^[A-Za-z][A-Za-z_-]{1,24}$`)

type candidate struct {
	s      *testSynset
	lemmas []string // tag-safe lemmas: sense 1 of each is this synset
	path   []int    // family root ... parent
	score  int
}

// candidates lists the synsets below root whose lemmas name them first.
func (wn *testWordNet) candidates(root int) []candidate {
	var out []candidate
	seen := map[int]bool{}
	var walk func(off int, path []int)
	walk = func(off int, path []int) {
		if seen[off] {
			return
		}
		seen[off] = true
		s := wn.synsets[off]
		if s == nil {
			return
		}
		if off != root {
			c := candidate{s: s, path: append([]int(nil), path...)}
			lower := false
			for i, l := range s.lemmas {
				if !tagSafe.MatchString(l) {
					continue
				}
				if !wn.namesFirst(l, off) {
					continue
				}
				c.lemmas = append(c.lemmas, l)
				c.score += 10 * wn.counts[wn.senseKey(s, i)]
				if l == strings.ToLower(l) {
					lower = true
				}
			}
			if lower || (len(c.lemmas) > 0 && !strings.Contains(c.lemmas[0], "_")) || len(c.lemmas) > 0 && strings.Count(c.lemmas[0], "_") == 1 && c.lemmas[0][1:] == strings.ToLower(c.lemmas[0][1:]) {
				c.score += len(c.lemmas)
				if !strings.Contains(c.lemmas[0], "_") {
					c.score += 3
				}
				if len(s.hyponyms) == 0 {
					c.score += 5
				}
				out = append(out, c)
			}
		}
		for _, h := range s.hyponyms {
			walk(h, append(path, off))
		}
	}
	walk(root, nil)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].s.offset < out[j].s.offset
	})
	return out
}

// selectConcepts picks take concepts per family, never a synset together
// with its own ancestor or descendant.
func (wn *testWordNet) selectConcepts(fams []familySpec) (rows []conceptEntry, skipped []string, err error) {
	chosen := map[int]bool{}
	for _, f := range fams {
		sn := wn.senses[f.lemma]
		if len(sn) < f.sense {
			return nil, nil, fmt.Errorf("family %s#%d: no such sense", f.lemma, f.sense)
		}
		root := sn[f.sense-1]
		n := 0
		cands := wn.candidates(root)
		byLemma := map[string]int{}
		for i, c := range cands {
			for _, l := range c.lemmas {
				byLemma[strings.ToLower(l)] = i
			}
		}
		var order []candidate
		for _, p := range f.prefer {
			if i, ok := byLemma[p]; ok {
				order = append(order, cands[i])
			} else {
				skipped = append(skipped, f.lemma+"/"+p)
			}
		}
		order = append(order, cands...)
		for _, c := range order {
			if n == f.take {
				break
			}
			if chosen[c.s.offset] || avoidLemmas[strings.ToLower(c.lemmas[0])] {
				continue
			}
			clash := false
			for _, p := range c.path {
				if chosen[p] {
					clash = true
				}
			}
			for _, r := range rows {
				for _, p := range r.path {
					if p == wnid(c.s.offset) {
						clash = true
					}
				}
			}
			if clash {
				continue
			}
			chosen[c.s.offset] = true
			path := make([]string, len(c.path))
			for i, p := range c.path {
				path[i] = wnid(p)
			}
			rows = append(rows, conceptEntry{
				wnid:   wnid(c.s.offset),
				family: f.lemma,
				lemmas: c.lemmas,
				path:   path,
				gloss:  strings.TrimSpace(c.s.gloss),
			})
			n++
		}
		if n < f.take {
			return nil, nil, fmt.Errorf("family %s: found %d concepts, want %d", f.lemma, n, f.take)
		}
	}
	return rows, skipped, nil
}
