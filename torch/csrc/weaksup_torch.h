/*
 * weaksup_torch.h: the C ABI of libweaksup_torch.so, a narrow shim over
 * libtorch used by the Go package weaksup/torch.
 *
 * The library exports one symbol, weaksup_torch_api, which returns a table
 * of function pointers. Every entry that can fail returns 0 on success and -1
 * on failure, and then stores a malloc'd message in *err that the caller
 * releases with string_free. No entry throws a C++ exception through the ABI
 * or aborts the process. Tensors are opaque handles; each handle returned by
 * the library is owned by the caller and released with tensor_free. The
 * library keeps no pointer to caller memory after a call returns: data passed
 * in is copied, data passed out is copied into the caller's buffer.
 *
 * Grad mode, autocast and the thread count are process-wide settings of the
 * shim (not libtorch's thread-local ones), because the Go runtime may run
 * consecutive calls of one goroutine on different OS threads.
 */
#ifndef WEAKSUP_TORCH_H
#define WEAKSUP_TORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever the table changes; the Go side (bridge.c) asks for the
 * version it was compiled with and refuses a library built for another.
 * 2: the distributed section; 3: the mixed-precision section after it;
 * 4: group_abort at the end. */
#define WT_ABI_VERSION 4

typedef struct wt_tensor_s *wt_tensor;

/* Element types; the numbers are part of the ABI. */
enum {
	WT_FLOAT32 = 0,
	WT_FLOAT64 = 1,
	WT_INT64 = 2,
	WT_INT32 = 3,
	WT_UINT8 = 4,
	WT_BOOL = 5,
	WT_FLOAT16 = 6,
	WT_BFLOAT16 = 7,
	WT_INT8 = 8,
	WT_INT16 = 9
};

/* Device types. */
enum { WT_CPU = 0, WT_CUDA = 1 };

/* Memory formats for to(). */
enum { WT_FORMAT_KEEP = -1, WT_FORMAT_CONTIGUOUS = 0, WT_FORMAT_CHANNELS_LAST = 1 };

/* Element-wise unary ops. */
enum {
	WT_RELU = 0,
	WT_NEG,
	WT_EXP,
	WT_LOG,
	WT_SIGMOID,
	WT_TANH,
	WT_SQRT,
	WT_ABS,
	WT_SQUARE,
	WT_LOG_SIGMOID,
	WT_ISFINITE
};

/* Binary ops (with broadcasting). */
enum { WT_ADD = 0, WT_SUB, WT_MUL, WT_DIV, WT_MATMUL, WT_EQ, WT_GT, WT_LT, WT_MAXIMUM, WT_MINIMUM };

/* Ops with a scalar right-hand side. */
enum { WT_S_ADD = 0, WT_S_MUL, WT_S_POW, WT_S_CLAMP_MIN, WT_S_CLAMP_MAX, WT_S_RSUB };

/* Reductions over dims (ndims == 0: all elements). */
enum { WT_SUM = 0, WT_MEAN, WT_AMAX, WT_AMIN, WT_ARGMAX, WT_LOGSUMEXP };

/* In-place ops on a tensor (run under the current grad mode). */
enum {
	WT_I_COPY = 0,  /* t.copy_(other) */
	WT_I_ADD,       /* t.add_(other, alpha=scalar) */
	WT_I_MUL,       /* t.mul_(other) */
	WT_I_MUL_SCALAR,/* t.mul_(scalar) */
	WT_I_FILL,      /* t.fill_(scalar) */
	WT_I_ZERO,      /* t.zero_() */
	WT_I_NORMAL,    /* t.normal_(0, scalar) from the default generator */
	WT_I_UNIFORM,   /* t.uniform_(-scalar, scalar) from the default generator */
	WT_I_RELU       /* t.relu_() */
};

/* Loss reductions. */
enum { WT_REDUCE_NONE = 0, WT_REDUCE_MEAN = 1, WT_REDUCE_SUM = 2 };

/* Distributed handles (see the distributed section of wt_api): a c10d key-value
 * store, a process group, and DDP's gradient reducer. */
typedef struct wt_store_s *wt_store;
typedef struct wt_group_s *wt_group;
typedef struct wt_reducer_s *wt_reducer;

/* Reductions of group_allreduce. WT_DIST_AVG multiplies by 1/world before
 * summing, as DistributedDataParallel does. */
enum { WT_DIST_SUM = 0, WT_DIST_AVG = 1, WT_DIST_MAX = 2, WT_DIST_MIN = 3 };

/* Fields of reducer_stats' output, for the backward just finished. */
enum {
	WT_RS_BUCKETS = 0,  /* buckets allreduced */
	WT_RS_BYTES,        /* bytes allreduced */
	WT_RS_COMM_NS,      /* first bucket launched → last bucket reduced */
	WT_RS_EXPOSED_NS,   /* last bucket launched → now: backward waiting on communication */
	WT_RS_REBUILT,      /* 1 once the buckets follow the order gradients arrive in */
	WT_RS_COUNT
};

typedef struct wt_api {
	int abi_version;
	void (*string_free)(char *s);

	/* ---- library and process settings ---- */
	/* "libtorch=2.6.0 runtime=2.6.0 cuda=12.4 lib=/path/libtorch_cpu.so": the
	 * libtorch the library was built against, the one it runs on, the CUDA
	 * runtime of a CUDA libtorch (empty for a CPU one) and the file libtorch
	 * was loaded from (last: it may hold spaces); free with string_free. The
	 * build's libtorch= and abi= are also in the file's .weaksup_torch section. */
	int (*version)(char **out, char **err);
	int (*cuda_device_count)(int *n, char **err);
	int (*set_num_threads)(int n, char **err);
	int (*num_threads)(int *n, char **err);
	int (*set_grad_enabled)(int enabled, int *previous, char **err);
	int (*manual_seed)(uint64_t seed, char **err);
	/* RNG state of the default generator of a device, as a uint8 tensor. */
	int (*rng_state)(int device_type, int device_index, wt_tensor *out, char **err);
	int (*set_rng_state)(int device_type, int device_index, wt_tensor state, char **err);
	/* Handles alive and the bytes of their data (views count their own size). */
	void (*live)(int64_t *tensors, int64_t *bytes);
	int (*synchronize)(int device_type, int device_index, char **err);

	/* ---- creation, conversion, metadata ---- */
	/* Copies numel elements of dtype from data into a new CPU tensor. */
	int (*from_data)(const void *data, int dtype, const int64_t *shape, int ndim, wt_tensor *out, char **err);
	/* kind: 0 zeros, 1 ones, 2 randn, 3 rand, 4 empty; on the given device. */
	int (*create)(int kind, int dtype, const int64_t *shape, int ndim, int device_type, int device_index, wt_tensor *out, char **err);
	/* Copies the tensor's elements, in logical row-major order, into data (nbytes must match). */
	int (*copy_out)(wt_tensor t, void *data, int64_t nbytes, char **err);
	void (*tensor_free)(wt_tensor t);
	int (*shape)(wt_tensor t, int64_t *dims, int max_dims, int *ndim, char **err);
	int (*dtype)(wt_tensor t, int *dtype, char **err);
	int (*device)(wt_tensor t, int *device_type, int *device_index, char **err);
	int (*is_channels_last)(wt_tensor t, int *out, char **err);
	/* dtype < 0 keeps the dtype; device_type < 0 keeps the device; see WT_FORMAT_*. */
	int (*to)(wt_tensor t, int device_type, int device_index, int dtype, int memory_format, wt_tensor *out, char **err);
	int (*item)(wt_tensor t, double *out, char **err);

	/* ---- autograd ---- */
	int (*requires_grad)(wt_tensor t, int *out, char **err);
	int (*set_requires_grad)(wt_tensor t, int on, char **err);
	/* *out is NULL when the tensor has no gradient. */
	int (*grad)(wt_tensor t, wt_tensor *out, char **err);
	/* Sets .grad of each tensor to undefined (PyTorch's set_to_none). */
	int (*zero_grad)(const wt_tensor *ts, int n, char **err);
	/* grad may be NULL for a scalar loss. */
	int (*backward)(wt_tensor loss, wt_tensor grad, char **err);
	int (*detach)(wt_tensor t, wt_tensor *out, char **err);

	/* ---- shape ops ---- */
	int (*reshape)(wt_tensor t, const int64_t *shape, int ndim, wt_tensor *out, char **err);
	int (*permute)(wt_tensor t, const int64_t *dims, int ndim, wt_tensor *out, char **err);
	int (*flatten)(wt_tensor t, int64_t start_dim, int64_t end_dim, wt_tensor *out, char **err);
	int (*narrow)(wt_tensor t, int64_t dim, int64_t start, int64_t length, wt_tensor *out, char **err);
	int (*cat)(const wt_tensor *ts, int n, int64_t dim, wt_tensor *out, char **err);
	int (*index_select)(wt_tensor t, int64_t dim, wt_tensor index, wt_tensor *out, char **err);
	int (*clone)(wt_tensor t, wt_tensor *out, char **err);

	/* ---- element-wise and reductions ---- */
	int (*unary)(int op, wt_tensor t, wt_tensor *out, char **err);
	int (*binary)(int op, wt_tensor a, wt_tensor b, wt_tensor *out, char **err);
	int (*scalar)(int op, wt_tensor a, double s, wt_tensor *out, char **err);
	int (*reduce)(int op, wt_tensor t, const int64_t *dims, int ndims, int keepdim, wt_tensor *out, char **err);
	int (*softmax)(wt_tensor t, int64_t dim, int log, wt_tensor *out, char **err);
	int (*topk)(wt_tensor t, int64_t k, int64_t dim, int largest, wt_tensor *values, wt_tensor *indices, char **err);
	int (*inplace)(int op, wt_tensor t, wt_tensor other, double scalar, char **err);

	/* ---- neural-network ops ---- */
	/* bias may be NULL; stride, padding, dilation are [h, w]. */
	int (*conv2d)(wt_tensor x, wt_tensor w, wt_tensor bias, const int64_t *stride, const int64_t *padding,
		      const int64_t *dilation, int64_t groups, wt_tensor *out, char **err);
	/* weight, bias, running stats may be NULL. In training mode the running
	 * stats are updated in place and num_batches_tracked (may be NULL) is
	 * incremented, as torch.nn.BatchNorm2d does. */
	int (*batch_norm)(wt_tensor x, wt_tensor weight, wt_tensor bias, wt_tensor running_mean, wt_tensor running_var,
			  wt_tensor num_batches_tracked, int training, double momentum, double eps, wt_tensor *out, char **err);
	int (*max_pool2d)(wt_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding, int ceil_mode,
			  wt_tensor *out, char **err);
	int (*avg_pool2d)(wt_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding, int ceil_mode,
			  int count_include_pad, wt_tensor *out, char **err);
	int (*adaptive_avg_pool2d)(wt_tensor x, const int64_t *output_size, wt_tensor *out, char **err);
	/* bias may be NULL. */
	int (*linear)(wt_tensor x, wt_tensor w, wt_tensor bias, wt_tensor *out, char **err);
	/* weight and pos_weight may be NULL. */
	int (*bce_with_logits)(wt_tensor logits, wt_tensor target, wt_tensor weight, wt_tensor pos_weight, int reduction,
			       wt_tensor *out, char **err);
	/* Mean over rows of -sum_j target_ij * log_softmax(logits)_ij (soft-target cross-entropy). */
	int (*soft_cross_entropy)(wt_tensor logits, wt_tensor target, wt_tensor *out, char **err);

	/* ---- optimizer ---- */
	/* One torch.optim.SGD step over n parameters, in place and without
	 * grad. bufs[i] holds the momentum buffer; a NULL entry is filled
	 * with a new handle on the first step (owned by the caller).
	 * Parameters without a gradient are skipped. */
	int (*sgd_step)(const wt_tensor *params, wt_tensor *bufs, int n, double lr, double momentum, double dampening,
			double weight_decay, int nesterov, char **err);

	/* ---- distributed: c10d stores, process groups, DDP's reducer ----
	 * Every collective runs under the group's timeout: a peer that died or
	 * stopped is an error after at most that long, never a hang. */
	/* Backends this build has, comma-separated: "gloo", "gloo,nccl" or "". */
	int (*dist_backends)(char **out, char **err);
	/* A c10d::TCPStore at host:port. is_server hosts it in this process
	 * (port 0 binds a free port); *bound receives the port. timeout_ms
	 * bounds every store operation; prefix, when not empty, namespaces the
	 * keys (c10d::PrefixStore). */
	int (*store_tcp)(const char *host, int port, int is_server, int64_t timeout_ms, const char *prefix, wt_store *out,
			 int *bound, char **err);
	int (*store_set)(wt_store s, const char *key, const void *value, int64_t n, char **err);
	/* Waits (up to the store timeout) for key; *value is malloc'd, release it with string_free. */
	int (*store_get)(wt_store s, const char *key, char **value, int64_t *n, char **err);
	/* Adds delta to the integer at key (created at 0) and returns the sum. */
	int (*store_add)(wt_store s, const char *key, int64_t delta, int64_t *out, char **err);
	void (*store_free)(wt_store s);
	/* A process group of world ranks over store. backend: "gloo" or "nccl".
	 * gloo_host, when not empty, is the address Gloo binds (else
	 * $GLOO_SOCKET_IFNAME's interfaces, else the host name's address). */
	int (*group_new)(wt_store s, const char *backend, int rank, int world, int64_t timeout_ms, const char *gloo_host,
			 wt_group *out, char **err);
	/* Frees the group. After a failed or aborted collective the backend's
	 * threads may still be blocked on a lost peer (until the timeout), and
	 * destroying the group would wait for them: then the process group
	 * itself is left to the process's exit. */
	void (*group_free)(wt_group g);
	/* Broadcasts ts in place from root, coalesced into flat buffers of at
	 * most bucket_bytes (c10d::broadcast_coalesced). */
	int (*group_broadcast)(wt_group g, const wt_tensor *ts, int n, int root, int64_t bucket_bytes, char **err);
	/* Allreduces ts as one flat bucket: copied into one buffer, reduced with
	 * op (WT_DIST_*), copied back. All must share dtype and device. */
	int (*group_allreduce)(wt_group g, const wt_tensor *ts, int n, int op, char **err);
	/* Gathers t from every rank to root: there *out is [world, ...t's shape],
	 * elsewhere NULL. Every rank's t must have the same shape. */
	int (*group_gather)(wt_group g, wt_tensor t, int root, wt_tensor *out, char **err);
	int (*group_barrier)(wt_group g, char **err);
	/* c10d::Reducer, DistributedDataParallel's gradient reducer, over params
	 * (leaves that require grad, every one used by each backward): autograd
	 * hooks allreduce the averaged gradients in buckets of at most
	 * bucket_bytes (first_bucket_bytes for the first) while backward still
	 * runs; the buckets are rebuilt once, after the first reducing
	 * backward, in the order the gradients arrived. */
	int (*reducer_new)(wt_group g, const wt_tensor *params, int n, int64_t bucket_bytes, int64_t first_bucket_bytes,
			   wt_reducer *out, char **err);
	/* Before the forward pass whose backward reduces (the last micro-batch
	 * of a step); a backward without it accumulates locally. */
	int (*reducer_prepare)(wt_reducer r, char **err);
	/* WT_RS_COUNT values about the last reducing backward (see WT_RS_*). */
	int (*reducer_stats)(wt_reducer r, int64_t *out, char **err);
	void (*reducer_free)(wt_reducer r);

	/* ---- mixed precision ---- */
	/* Turns libtorch's autocast for a device type on (dtype WT_BFLOAT16 or
	 * WT_FLOAT16) or off for every later call from any thread, and returns
	 * the previous setting (*prev_dtype is WT_FLOAT32 when it was off; either
	 * pointer may be NULL). Each change drops the cache of weight casts, as
	 * leaving torch.autocast does: call it at the end of every forward. */
	int (*set_autocast)(int device_type, int enabled, int dtype, int *prev_enabled, int *prev_dtype, char **err);
	/* libtorch's autocast state as the calling thread sees it inside a call. */
	int (*autocast_state)(int device_type, int *enabled, int *dtype, char **err);
	/* GradScaler.unscale_: multiplies each parameter's gradient (where there
	 * is one) by inv_scale; *found_inf says whether any held an inf or NaN. */
	int (*amp_unscale)(const wt_tensor *params, int n, double inv_scale, int *found_inf, char **err);
	/* Whether the device computes in bfloat16 natively (CPU: AVX512_BF16 or
	 * AMX-BF16; CUDA: compute capability 8.0 or later). */
	int (*bf16_supported)(int device_type, int device_index, int *out, char **err);

	/* ---- distributed: ending blocked work ---- */
	/* Aborts the group, from any thread: every wait on one of its
	 * collectives, running or later (and, on Gloo, the end of a reducing
	 * backward pass) fails with "aborted: why". */
	int (*group_abort)(wt_group g, const char *why, char **err);
} wt_api;

/* Returns the table, or NULL when abi_version differs from WT_ABI_VERSION. */
const wt_api *weaksup_torch_api(int abi_version);

#ifdef __cplusplus
}
#endif

#endif
