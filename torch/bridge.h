// bridge.h: cgo cannot call C function pointers, so each entry of the
// wt_api table gets a small static inline trampoline here. wtg_api is set by
// wtg_use (bridge.c) once the library is loaded and checked.
#ifndef WEAKSUP_TORCH_BRIDGE_H
#define WEAKSUP_TORCH_BRIDGE_H

#include <stdlib.h>
#include "weaksup_torch.h"

extern const wt_api *wtg_api;
// Opens the library at path and returns its table for this program's ABI
// version (and its weaksup_torch_api, as get) without putting it in use.
int wtg_open(const char *path, const wt_api **api, void **get, char **err);
// Calls the version entry of a table that is not in use yet; *out is the
// caller's to free().
int wtg_version_of(const wt_api *api, char **out, char **err);
// Makes a table the one every wtg_ call goes through.
void wtg_use(const wt_api *api, void *get);
// Whether the loaded library answers a request for ABI version v.
int wtg_accepts_abi(int version);

static inline void wtg_string_free(char *s) { wtg_api->string_free(s); }
static inline int wtg_version(char **out, char **err) { return wtg_api->version(out, err); }
static inline int wtg_cuda_device_count(int *n, char **err) { return wtg_api->cuda_device_count(n, err); }
static inline int wtg_set_num_threads(int n, char **err) { return wtg_api->set_num_threads(n, err); }
static inline int wtg_num_threads(int *n, char **err) { return wtg_api->num_threads(n, err); }
static inline int wtg_set_grad_enabled(int on, int *prev, char **err) { return wtg_api->set_grad_enabled(on, prev, err); }
static inline int wtg_manual_seed(uint64_t seed, char **err) { return wtg_api->manual_seed(seed, err); }
static inline int wtg_rng_state(int dt, int di, wt_tensor *out, char **err) { return wtg_api->rng_state(dt, di, out, err); }
static inline int wtg_set_rng_state(int dt, int di, wt_tensor s, char **err) { return wtg_api->set_rng_state(dt, di, s, err); }
static inline void wtg_live(int64_t *t, int64_t *b) { wtg_api->live(t, b); }
static inline int wtg_synchronize(int dt, int di, char **err) { return wtg_api->synchronize(dt, di, err); }

static inline int wtg_from_data(const void *data, int dtype, const int64_t *shape, int ndim, wt_tensor *out, char **err) {
	return wtg_api->from_data(data, dtype, shape, ndim, out, err);
}
static inline int wtg_create(int kind, int dtype, const int64_t *shape, int ndim, int dt, int di, wt_tensor *out, char **err) {
	return wtg_api->create(kind, dtype, shape, ndim, dt, di, out, err);
}
static inline int wtg_copy_out(wt_tensor t, void *data, int64_t nbytes, char **err) { return wtg_api->copy_out(t, data, nbytes, err); }
static inline void wtg_tensor_free(wt_tensor t) { wtg_api->tensor_free(t); }
static inline int wtg_shape(wt_tensor t, int64_t *dims, int max, int *ndim, char **err) { return wtg_api->shape(t, dims, max, ndim, err); }
static inline int wtg_dtype(wt_tensor t, int *dtype, char **err) { return wtg_api->dtype(t, dtype, err); }
static inline int wtg_device(wt_tensor t, int *dt, int *di, char **err) { return wtg_api->device(t, dt, di, err); }
static inline int wtg_is_channels_last(wt_tensor t, int *out, char **err) { return wtg_api->is_channels_last(t, out, err); }
static inline int wtg_to(wt_tensor t, int dt, int di, int dtype, int mf, wt_tensor *out, char **err) {
	return wtg_api->to(t, dt, di, dtype, mf, out, err);
}
static inline int wtg_item(wt_tensor t, double *out, char **err) { return wtg_api->item(t, out, err); }

static inline int wtg_requires_grad(wt_tensor t, int *out, char **err) { return wtg_api->requires_grad(t, out, err); }
static inline int wtg_set_requires_grad(wt_tensor t, int on, char **err) { return wtg_api->set_requires_grad(t, on, err); }
static inline int wtg_grad(wt_tensor t, wt_tensor *out, char **err) { return wtg_api->grad(t, out, err); }
static inline int wtg_zero_grad(const wt_tensor *ts, int n, char **err) { return wtg_api->zero_grad(ts, n, err); }
static inline int wtg_backward(wt_tensor loss, wt_tensor grad, char **err) { return wtg_api->backward(loss, grad, err); }
static inline int wtg_detach(wt_tensor t, wt_tensor *out, char **err) { return wtg_api->detach(t, out, err); }

static inline int wtg_reshape(wt_tensor t, const int64_t *s, int n, wt_tensor *out, char **err) { return wtg_api->reshape(t, s, n, out, err); }
static inline int wtg_permute(wt_tensor t, const int64_t *d, int n, wt_tensor *out, char **err) { return wtg_api->permute(t, d, n, out, err); }
static inline int wtg_flatten(wt_tensor t, int64_t s, int64_t e, wt_tensor *out, char **err) { return wtg_api->flatten(t, s, e, out, err); }
static inline int wtg_narrow(wt_tensor t, int64_t dim, int64_t start, int64_t len, wt_tensor *out, char **err) {
	return wtg_api->narrow(t, dim, start, len, out, err);
}
static inline int wtg_cat(const wt_tensor *ts, int n, int64_t dim, wt_tensor *out, char **err) { return wtg_api->cat(ts, n, dim, out, err); }
static inline int wtg_index_select(wt_tensor t, int64_t dim, wt_tensor idx, wt_tensor *out, char **err) {
	return wtg_api->index_select(t, dim, idx, out, err);
}
static inline int wtg_clone(wt_tensor t, wt_tensor *out, char **err) { return wtg_api->clone(t, out, err); }

static inline int wtg_unary(int op, wt_tensor t, wt_tensor *out, char **err) { return wtg_api->unary(op, t, out, err); }
static inline int wtg_binary(int op, wt_tensor a, wt_tensor b, wt_tensor *out, char **err) { return wtg_api->binary(op, a, b, out, err); }
static inline int wtg_scalar(int op, wt_tensor a, double s, wt_tensor *out, char **err) { return wtg_api->scalar(op, a, s, out, err); }
static inline int wtg_reduce(int op, wt_tensor t, const int64_t *d, int n, int keep, wt_tensor *out, char **err) {
	return wtg_api->reduce(op, t, d, n, keep, out, err);
}
static inline int wtg_softmax(wt_tensor t, int64_t dim, int log, wt_tensor *out, char **err) { return wtg_api->softmax(t, dim, log, out, err); }
static inline int wtg_topk(wt_tensor t, int64_t k, int64_t dim, int largest, wt_tensor *v, wt_tensor *i, char **err) {
	return wtg_api->topk(t, k, dim, largest, v, i, err);
}
static inline int wtg_inplace(int op, wt_tensor t, wt_tensor o, double s, char **err) { return wtg_api->inplace(op, t, o, s, err); }

static inline int wtg_conv2d(wt_tensor x, wt_tensor w, wt_tensor b, const int64_t *stride, const int64_t *padding,
			     const int64_t *dilation, int64_t groups, wt_tensor *out, char **err) {
	return wtg_api->conv2d(x, w, b, stride, padding, dilation, groups, out, err);
}
static inline int wtg_batch_norm(wt_tensor x, wt_tensor w, wt_tensor b, wt_tensor rm, wt_tensor rv, wt_tensor nbt, int training,
				 double momentum, double eps, wt_tensor *out, char **err) {
	return wtg_api->batch_norm(x, w, b, rm, rv, nbt, training, momentum, eps, out, err);
}
static inline int wtg_max_pool2d(wt_tensor x, const int64_t *k, const int64_t *s, const int64_t *p, int ceil, wt_tensor *out, char **err) {
	return wtg_api->max_pool2d(x, k, s, p, ceil, out, err);
}
static inline int wtg_avg_pool2d(wt_tensor x, const int64_t *k, const int64_t *s, const int64_t *p, int ceil, int cip, wt_tensor *out,
				 char **err) {
	return wtg_api->avg_pool2d(x, k, s, p, ceil, cip, out, err);
}
static inline int wtg_adaptive_avg_pool2d(wt_tensor x, const int64_t *size, wt_tensor *out, char **err) {
	return wtg_api->adaptive_avg_pool2d(x, size, out, err);
}
static inline int wtg_linear(wt_tensor x, wt_tensor w, wt_tensor b, wt_tensor *out, char **err) { return wtg_api->linear(x, w, b, out, err); }
static inline int wtg_bce_with_logits(wt_tensor l, wt_tensor t, wt_tensor w, wt_tensor pw, int red, wt_tensor *out, char **err) {
	return wtg_api->bce_with_logits(l, t, w, pw, red, out, err);
}
static inline int wtg_soft_cross_entropy(wt_tensor l, wt_tensor t, wt_tensor *out, char **err) {
	return wtg_api->soft_cross_entropy(l, t, out, err);
}
static inline int wtg_sgd_step(const wt_tensor *p, wt_tensor *bufs, int n, double lr, double momentum, double dampening, double wd,
			       int nesterov, char **err) {
	return wtg_api->sgd_step(p, bufs, n, lr, momentum, dampening, wd, nesterov, err);
}

#endif
