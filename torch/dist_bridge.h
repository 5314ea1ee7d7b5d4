// dist_bridge.h: cgo trampolines for the distributed section of the wt_api
// table (see bridge.h for why they exist).
#ifndef WEAKSUP_TORCH_DIST_BRIDGE_H
#define WEAKSUP_TORCH_DIST_BRIDGE_H

#include "bridge.h"

static inline int wtg_dist_backends(char **out, char **err) { return wtg_api->dist_backends(out, err); }
static inline int wtg_store_tcp(const char *host, int port, int server, int64_t timeout_ms, const char *prefix, wt_store *out, int *bound,
				char **err) {
	return wtg_api->store_tcp(host, port, server, timeout_ms, prefix, out, bound, err);
}
static inline int wtg_store_set(wt_store s, const char *key, const void *v, int64_t n, char **err) { return wtg_api->store_set(s, key, v, n, err); }
static inline int wtg_store_get(wt_store s, const char *key, char **v, int64_t *n, char **err) { return wtg_api->store_get(s, key, v, n, err); }
static inline int wtg_store_add(wt_store s, const char *key, int64_t d, int64_t *out, char **err) { return wtg_api->store_add(s, key, d, out, err); }
static inline void wtg_store_free(wt_store s) { wtg_api->store_free(s); }
static inline int wtg_group_new(wt_store s, const char *backend, int rank, int world, int64_t timeout_ms, const char *host, wt_group *out,
				char **err) {
	return wtg_api->group_new(s, backend, rank, world, timeout_ms, host, out, err);
}
static inline void wtg_group_free(wt_group g) { wtg_api->group_free(g); }
static inline int wtg_group_abort(wt_group g, const char *why, char **err) { return wtg_api->group_abort(g, why, err); }
static inline int wtg_group_broadcast(wt_group g, const wt_tensor *ts, int n, int root, int64_t bucket, char **err) {
	return wtg_api->group_broadcast(g, ts, n, root, bucket, err);
}
static inline int wtg_group_allreduce(wt_group g, const wt_tensor *ts, int n, int op, char **err) { return wtg_api->group_allreduce(g, ts, n, op, err); }
static inline int wtg_group_gather(wt_group g, wt_tensor t, int root, wt_tensor *out, char **err) { return wtg_api->group_gather(g, t, root, out, err); }
static inline int wtg_group_barrier(wt_group g, char **err) { return wtg_api->group_barrier(g, err); }
static inline int wtg_reducer_new(wt_group g, const wt_tensor *ps, int n, int64_t bucket, int64_t first, wt_reducer *out, char **err) {
	return wtg_api->reducer_new(g, ps, n, bucket, first, out, err);
}
static inline int wtg_reducer_prepare(wt_reducer r, char **err) { return wtg_api->reducer_prepare(r, err); }
static inline int wtg_reducer_stats(wt_reducer r, int64_t *out, char **err) { return wtg_api->reducer_stats(r, out, err); }
static inline void wtg_reducer_free(wt_reducer r) { wtg_api->reducer_free(r); }

#endif
