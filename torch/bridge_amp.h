// bridge_amp.h: trampolines for the mixed-precision entries of wt_api (see
// bridge.h).
#ifndef WEAKSUP_TORCH_BRIDGE_AMP_H
#define WEAKSUP_TORCH_BRIDGE_AMP_H

#include "bridge.h"

static inline int wtg_set_autocast(int dt, int on, int dtype, int *prev_on, int *prev_dtype, char **err) {
	return wtg_api->set_autocast(dt, on, dtype, prev_on, prev_dtype, err);
}
static inline int wtg_autocast_state(int dt, int *on, int *dtype, char **err) { return wtg_api->autocast_state(dt, on, dtype, err); }
static inline int wtg_amp_unscale(const wt_tensor *p, int n, double inv, int *found, char **err) {
	return wtg_api->amp_unscale(p, n, inv, found, err);
}
static inline int wtg_bf16_supported(int dt, int di, int *out, char **err) { return wtg_api->bf16_supported(dt, di, out, err); }

#endif
