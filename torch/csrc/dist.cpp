// dist.cpp: torch.distributed's C++ core (c10d) behind the C ABI: the
// TCPStore rendezvous, Gloo (and, in a CUDA build, NCCL) process groups,
// coalesced broadcast, flat-bucket allreduce, gather, barrier, and DDP's
// own gradient Reducer with a timed allreduce hook. Every wait on a
// collective ends when the group is aborted (abort.h).
//
// Gloo's headers come from libgloo-dev (or a PyTorch wheel); without them
// the Makefile leaves USE_C10D_GLOO undefined and group_new reports how to
// get them. NCCL needs a shim built against a CUDA libtorch with nccl.h
// (USE_C10D_NCCL).
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <sstream>
#include <type_traits>

#include "abort.h"
#include "internal.h"

struct wt_store_s {
	c10::intrusive_ptr<c10d::Store> store;
};

struct wt_group_s {
	c10::intrusive_ptr<c10d::ProcessGroup> pg;
	std::chrono::milliseconds timeout;
	bool gloo = false;
	// Abort ends the group's waits (group_abort) and records whether any
	// collective failed: group_free then leaves the backend's threads,
	// which may still be blocked on a lost peer, to the process's exit.
	std::shared_ptr<wt::Abort> abort = std::make_shared<wt::Abort>();
};

namespace {

using Clock = std::chrono::steady_clock;

int64_t since_ns(Clock::time_point a, Clock::time_point b) {
	if (b < a) return 0;
	return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// CommStats records when the buckets of one reducing backward were launched
// and when their allreduce finished.
struct CommStats {
	std::mutex mu;
	int64_t buckets = 0;
	int64_t bytes = 0;
	Clock::time_point first, last, done;

	void reset() {
		std::lock_guard<std::mutex> lock(mu);
		buckets = bytes = 0;
		first = last = done = Clock::time_point();
	}
};

// TimedAllreduce is DDP's default reduction as a comm hook: scale the
// bucket by 1/world (as the Reducer does when it has no hook), allreduce
// it by sum. It also timestamps each bucket's launch and completion.
class TimedAllreduce : public c10d::CommHookInterface {
       public:
	// abort, when not null, makes the futures the Reducer waits on
	// relays that fail when the group is aborted (Gloo groups).
	TimedAllreduce(c10::intrusive_ptr<c10d::ProcessGroup> pg, std::shared_ptr<CommStats> st,
		       std::shared_ptr<wt::Abort> abort)
	    : pg_(std::move(pg)), st_(std::move(st)), abort_(std::move(abort)) {}

	c10::intrusive_ptr<c10::ivalue::Future> runHook(c10d::GradBucket &bucket) override {
		at::Tensor &buf = bucket.getBufferRef();
		{
			std::lock_guard<std::mutex> lock(st_->mu);
			auto now = Clock::now();
			if (st_->buckets == 0) st_->first = now;
			st_->last = now;
			st_->buckets++;
			st_->bytes += static_cast<int64_t>(buf.numel()) * static_cast<int64_t>(buf.element_size());
		}
		buf.mul_(1.0 / static_cast<double>(pg_->getSize()));
		std::vector<at::Tensor> ts{buf};
		auto fut = pg_->allreduce(ts)->getFuture();
		auto st = st_;
		fut->addCallback([st](c10::ivalue::Future &) {
			std::lock_guard<std::mutex> lock(st->mu);
			st->done = std::max(st->done, Clock::now());
		});
		return abort_ ? abort_->relay(fut) : fut;
	}

	at::Tensor parseHookResult(const c10::IValue &result) override {
		if (result.isTensor()) return result.toTensor();
		return result.toTensorVector()[0];
	}

       private:
	c10::intrusive_ptr<c10d::ProcessGroup> pg_;
	std::shared_ptr<CommStats> st_;
	std::shared_ptr<wt::Abort> abort_;
};

#ifdef USE_C10D_GLOO
bool is_loopback(const std::string &host) {
	return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::vector<std::string> split(const std::string &s, char sep) {
	std::vector<std::string> out;
	std::stringstream ss(s);
	std::string part;
	while (std::getline(ss, part, sep))
		if (!part.empty()) out.push_back(part);
	return out;
}
#endif

template <typename>
inline constexpr bool unknown_signature = false;

#if WT_TORCH_AT_LEAST(2, 0)
// Since libtorch 2.0 ProcessGroupGloo and ProcessGroupNCCL are c10d::Backends
// that a ProcessGroup dispatches to by the device type of the tensors; this
// wraps one as torch.distributed's new_group does.
template <typename PG = c10d::ProcessGroup>
c10::intrusive_ptr<c10d::ProcessGroup> as_group(const c10::intrusive_ptr<c10d::Backend> &backend,
						c10d::ProcessGroup::BackendType type,
						std::initializer_list<c10::DeviceType> devices,
						const c10::intrusive_ptr<c10d::Store> &store, int rank, int world,
						std::chrono::milliseconds timeout) {
	c10::intrusive_ptr<PG> pg;
	if constexpr (std::is_constructible_v<PG, c10::intrusive_ptr<c10d::Store>, int, int>) {
		pg = c10::make_intrusive<PG>(store, rank, world);
	} else {
		// Earlier 2.x releases took options naming the backend.
		pg = c10::make_intrusive<PG>(store, rank, world,
					     c10::make_intrusive<typename PG::Options>(backend->getBackendName(), timeout));
	}
	pg->setDefaultBackend(type);
	backend->setSequenceNumberForGroup();
	for (auto d : devices) pg->setBackend(d, type, backend);
	return pg;
}
#endif

c10::intrusive_ptr<c10d::ProcessGroup> new_gloo(const c10::intrusive_ptr<c10d::Store> &store, int rank, int world,
						 std::chrono::milliseconds timeout, const std::string &host) {
#ifdef USE_C10D_GLOO
	auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
	const char *ifname = std::getenv("GLOO_SOCKET_IFNAME");
	if (ifname != nullptr && *ifname != '\0') {
		for (const auto &i : split(ifname, ','))
			opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(i));
	} else if (!host.empty()) {
		// On one machine, bind the loopback address: the host name may
		// resolve to an address other ranks cannot reach, or to none.
		opts->devices.push_back(
		    c10d::ProcessGroupGloo::createDeviceForHostname(is_loopback(host) ? "127.0.0.1" : host));
	} else {
		opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
	}
	auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, opts);
#if WT_TORCH_AT_LEAST(2, 0)
	// As torch.distributed registers Gloo: for CPU and CUDA tensors.
	return as_group(gloo, c10d::ProcessGroup::BackendType::GLOO, {c10::DeviceType::CPU, c10::DeviceType::CUDA}, store,
			rank, world, timeout);
#else
	return gloo;
#endif
#else
	throw std::runtime_error(
	    "backend gloo: this libweaksup_torch.so was built without Gloo's headers; install libgloo-dev "
	    "(make deps) and rebuild it with `make torch`");
#endif
}

c10::intrusive_ptr<c10d::ProcessGroup> new_nccl(const c10::intrusive_ptr<c10d::Store> &store, int rank, int world,
						 std::chrono::milliseconds timeout) {
#ifdef USE_C10D_NCCL
#if !WT_TORCH_AT_LEAST(2, 0)
	// Without asynchronous error handling a failed NCCL collective hangs
	// instead of timing out; 2.x handles them so by default
	// (TORCH_NCCL_ASYNC_ERROR_HANDLING, the old name deprecated).
	setenv("NCCL_ASYNC_ERROR_HANDLING", "1", 0);
#endif
	auto opts = c10d::ProcessGroupNCCL::Options::create();
	opts->timeout = timeout;
	auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, opts);
#if WT_TORCH_AT_LEAST(2, 0)
	return as_group(nccl, c10d::ProcessGroup::BackendType::NCCL, {c10::DeviceType::CUDA}, store, rank, world, timeout);
#else
	return nccl;
#endif
#else
	throw std::runtime_error(
	    "backend nccl: this libweaksup_torch.so was built without NCCL (a libtorch without CUDA, or no "
	    "nccl.h found); build the shim against a CUDA PyTorch's libtorch with "
	    "`make torch TORCH_DIR=/path/to/site-packages/torch`, or use --dist-backend gloo");
#endif
}

// new_reducer makes DDP's Reducer as DistributedDataParallel does with
// find_unused_parameters=False and gradient_as_bucket_view=False, in the
// form of constructor this libtorch declares: 1.13 to 2.6 take the first
// buckets' size limits; later 2.x drop them and add
// skip_all_reduce_unused_params and use_python_reducer (both false here), and
// then a list of per-bucket caps (empty: bucket_bytes everywhere).
template <typename R = c10d::Reducer>
std::shared_ptr<R> new_reducer(std::vector<at::Tensor> ps, std::vector<std::vector<size_t>> buckets,
			       std::vector<size_t> limits, c10::intrusive_ptr<c10d::ProcessGroup> pg,
			       std::vector<bool> sparse, int64_t bucket_bytes, int64_t first_bucket_bytes) {
	using Tensors = std::vector<at::Tensor>;
	using Buckets = std::vector<std::vector<size_t>>;
	using Limits = std::vector<size_t>;
	using PG = c10::intrusive_ptr<c10d::ProcessGroup>;
	using Sparse = std::vector<bool>;
	using Names = std::unordered_map<size_t, std::string>;
	if constexpr (std::is_constructible_v<R, Tensors, Buckets, Limits, PG, Sparse, int64_t, bool, bool, Names, int64_t>) {
		return std::make_shared<R>(std::move(ps), std::move(buckets), limits, pg, sparse, bucket_bytes,
					   /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false, Names(),
					   first_bucket_bytes);
	} else if constexpr (std::is_constructible_v<R, Tensors, Buckets, PG, Sparse, int64_t, bool, bool, Names, int64_t,
						     bool, bool>) {
		return std::make_shared<R>(std::move(ps), std::move(buckets), pg, sparse, bucket_bytes, false, false, Names(),
					   first_bucket_bytes, /*skip_all_reduce_unused_params=*/false,
					   /*use_python_reducer=*/false);
	} else if constexpr (std::is_constructible_v<R, Tensors, Buckets, PG, Sparse, int64_t, bool, bool, Names, int64_t,
						     bool, bool, std::vector<int64_t>>) {
		return std::make_shared<R>(std::move(ps), std::move(buckets), pg, sparse, bucket_bytes, false, false, Names(),
					   first_bucket_bytes, false, false, /*bucket_bytes_cap_list=*/std::vector<int64_t>());
	} else {
		static_assert(unknown_signature<R>, "this libtorch's c10d::Reducer has a constructor the shim does not know");
		return nullptr;
	}
}

// classic_store makes a TCPStore use the implementation every libtorch
// has: since 2.4 the default is one on libuv, which 1.13 lacks and which
// libtorch builds without libuv (Debian's) refuse, server and client alike.
template <typename O>
auto classic_store(O &o, int) -> decltype(o.useLibUV = false, void()) {
	o.useLibUV = false;
}
template <typename O>
void classic_store(O &, long) {}

// wait waits for a collective of grp, bounded by the group's timeout even
// where the backend would not bound it, and ended by an abort.
void wait(wt_group_s &grp, const c10::intrusive_ptr<c10d::Work> &w) {
	grp.abort->wait(w, grp.timeout);
}

std::vector<at::Tensor> tensors(const wt_tensor *ts, int n, const char *what) {
	if (n < 0 || (n > 0 && ts == nullptr)) throw std::invalid_argument(std::string(what) + ": bad tensor list");
	std::vector<at::Tensor> out;
	out.reserve(static_cast<size_t>(n));
	for (int i = 0; i < n; i++) out.push_back(wt::ref(ts[i], what));
	return out;
}

c10d::Store &store_ref(wt_store s) {
	if (s == nullptr) throw std::invalid_argument("null store handle");
	return *s->store;
}

wt_group_s &group_ref(wt_group g) {
	if (g == nullptr) throw std::invalid_argument("null process group handle");
	return *g;
}

// broadcast_coalesced is c10d::broadcast_coalesced (the same buckets, at
// most two in flight) with the group's abortable wait.
void broadcast_coalesced(wt_group_s &grp, const std::vector<at::Tensor> &ts, size_t bucket_bytes, int root) {
	auto buckets = std::get<0>(c10d::compute_bucket_assignment_by_size(ts, {bucket_bytes}));
	struct InFlight {
		std::vector<at::Tensor> parts;
		at::Tensor flat;
		c10::intrusive_ptr<c10d::Work> work;
	};
	std::deque<InFlight> in_flight;
	auto finish = [&grp](InFlight &f) {
		wait(grp, f.work);
		int64_t off = 0;
		for (auto &t : f.parts) {
			t.copy_(f.flat.narrow(0, off, t.numel()).view(t.sizes()));
			off += t.numel();
		}
	};
	c10d::BroadcastOptions o;
	o.rootRank = root;
	o.timeout = grp.timeout;
	for (const auto &b : buckets) {
		if (in_flight.size() >= 2) {
			finish(in_flight.front());
			in_flight.pop_front();
		}
		InFlight f;
		std::vector<at::Tensor> flat;
		for (auto i : b) {
			f.parts.push_back(ts[i]);
			flat.push_back(ts[i].reshape({-1}));
		}
		f.flat = at::cat(flat, 0);
		std::vector<at::Tensor> arg{f.flat};
		f.work = grp.pg->broadcast(arg, o);
		in_flight.push_back(std::move(f));
	}
	while (!in_flight.empty()) {
		finish(in_flight.front());
		in_flight.pop_front();
	}
}

}  // namespace

struct wt_reducer_s {
	c10::intrusive_ptr<c10d::ProcessGroup> pg;
	std::shared_ptr<c10d::Reducer> reducer;
	std::shared_ptr<CommStats> stats;
	bool rebuilt = false;
};

extern "C" {

static int wt_dist_backends(char **out, char **err) {
	WT_CALL({
		std::string b;
#ifdef USE_C10D_GLOO
		b += "gloo";
#endif
#ifdef USE_C10D_NCCL
		b += b.empty() ? "nccl" : ",nccl";
#endif
		*out = strdup(b.c_str());
	})
}

static int wt_store_tcp(const char *host, int port, int is_server, int64_t timeout_ms, const char *prefix, wt_store *out,
			int *bound, char **err) {
	WT_CALL({
		if (host == nullptr || *host == '\0') throw std::invalid_argument("store: empty host");
		if (port < 0 || port > 65535) throw std::invalid_argument("store: port " + std::to_string(port) + " outside 0–65535");
		if (timeout_ms <= 0) throw std::invalid_argument("store: timeout must be positive");
		c10d::TCPStoreOptions o;
		o.port = static_cast<uint16_t>(port);
		o.isServer = is_server != 0;
		o.waitWorkers = false;
		o.timeout = std::chrono::milliseconds(timeout_ms);
		classic_store(o, 0);
		auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(host), o);
		if (bound != nullptr) *bound = tcp->getPort();
		c10::intrusive_ptr<c10d::Store> st = tcp;
		if (prefix != nullptr && *prefix != '\0') st = c10::make_intrusive<c10d::PrefixStore>(prefix, st);
		*out = new wt_store_s{st};
	})
}

static int wt_store_set(wt_store s, const char *key, const void *value, int64_t n, char **err) {
	WT_CALL({
		if (key == nullptr || n < 0 || (n > 0 && value == nullptr)) throw std::invalid_argument("store set: bad key or value");
		const auto *p = static_cast<const uint8_t *>(value);
		store_ref(s).set(key, std::vector<uint8_t>(p, p + n));
	})
}

static int wt_store_get(wt_store s, const char *key, char **value, int64_t *n, char **err) {
	WT_CALL({
		if (key == nullptr) throw std::invalid_argument("store get: null key");
		auto v = store_ref(s).get(key);
		char *buf = static_cast<char *>(malloc(v.size() + 1));
		if (buf == nullptr) throw std::bad_alloc();
		if (!v.empty()) std::memcpy(buf, v.data(), v.size());
		buf[v.size()] = '\0';
		*value = buf;
		*n = static_cast<int64_t>(v.size());
	})
}

static int wt_store_add(wt_store s, const char *key, int64_t delta, int64_t *out, char **err) {
	WT_CALL({
		if (key == nullptr) throw std::invalid_argument("store add: null key");
		*out = store_ref(s).add(key, delta);
	})
}

static void wt_store_free(wt_store s) {
	try {
		delete s;
	} catch (...) {
	}
}

static int wt_group_new(wt_store s, const char *backend, int rank, int world, int64_t timeout_ms, const char *gloo_host,
			wt_group *out, char **err) {
	WT_CALL({
		store_ref(s);  // a null handle is an error
		if (world < 1 || rank < 0 || rank >= world)
			throw std::invalid_argument("process group: rank " + std::to_string(rank) + " outside world size " +
						    std::to_string(world));
		if (timeout_ms <= 0) throw std::invalid_argument("process group: timeout must be positive");
		std::string b = backend == nullptr ? "" : backend;
		auto timeout = std::chrono::milliseconds(timeout_ms);
		c10::intrusive_ptr<c10d::ProcessGroup> pg;
		if (b == "gloo") {
			pg = new_gloo(s->store, rank, world, timeout, gloo_host == nullptr ? "" : gloo_host);
		} else if (b == "nccl") {
			pg = new_nccl(s->store, rank, world, timeout);
		} else {
			throw std::invalid_argument("process group: unknown backend \"" + b + "\" (want gloo or nccl)");
		}
		auto g = std::make_unique<wt_group_s>();
		g->pg = pg;
		g->timeout = timeout;
		g->gloo = b == "gloo";
		*out = g.release();
	})
}

static void wt_group_free(wt_group g) {
	try {
		if (g != nullptr && g->abort->troubled()) {
			// The backend's threads may be blocked on a lost peer
			// until its timeout, and destroying the group joins
			// them: leave it to the process's exit.
			new c10::intrusive_ptr<c10d::ProcessGroup>(std::move(g->pg));
		}
		delete g;
	} catch (...) {
	}
}

static int wt_group_abort(wt_group g, const char *why, char **err) {
	WT_CALL({
		auto &grp = group_ref(g);
		grp.abort->set(why == nullptr ? "" : why);
	})
}

static int wt_group_broadcast(wt_group g, const wt_tensor *ts, int n, int root, int64_t bucket_bytes, char **err) {
	WT_CALL({
		auto &grp = group_ref(g);
		at::NoGradGuard no_grad;
		auto v = tensors(ts, n, "broadcast");
		if (v.empty()) return 0;
		if (bucket_bytes <= 0) throw std::invalid_argument("broadcast: bucket size must be positive");
		broadcast_coalesced(grp, v, static_cast<size_t>(bucket_bytes), root);
	})
}

static int wt_group_allreduce(wt_group g, const wt_tensor *ts, int n, int op, char **err) {
	WT_CALL({
		auto &grp = group_ref(g);
		at::NoGradGuard no_grad;
		auto v = tensors(ts, n, "allreduce");
		if (v.empty()) return 0;
		c10d::AllreduceOptions o;
		switch (op) {
		case WT_DIST_SUM:
		case WT_DIST_AVG: o.reduceOp = c10d::ReduceOp::SUM; break;
		case WT_DIST_MAX: o.reduceOp = c10d::ReduceOp::MAX; break;
		case WT_DIST_MIN: o.reduceOp = c10d::ReduceOp::MIN; break;
		default: throw std::invalid_argument("allreduce: unknown op " + std::to_string(op));
		}
		o.timeout = grp.timeout;
		// One contiguous tensor is reduced in place; several are
		// flattened into one buffer and copied back.
		bool inplace = v.size() == 1 && v[0].is_contiguous();
		at::Tensor flat;
		if (inplace) {
			flat = v[0].view({-1});
		} else {
			std::vector<at::Tensor> parts;
			for (auto &t : v) parts.push_back(t.reshape({-1}));
			flat = at::cat(parts, 0);
		}
		if (op == WT_DIST_AVG) flat.mul_(1.0 / static_cast<double>(grp.pg->getSize()));
		std::vector<at::Tensor> bucket{flat};
		wait(grp, grp.pg->allreduce(bucket, o));
		if (inplace) return 0;
		int64_t off = 0;
		for (auto &t : v) {
			t.copy_(flat.narrow(0, off, t.numel()).view(t.sizes()));
			off += t.numel();
		}
	})
}

static int wt_group_gather(wt_group g, wt_tensor t, int root, wt_tensor *out, char **err) {
	WT_CALL({
		auto &grp = group_ref(g);
		at::NoGradGuard no_grad;
		int world = grp.pg->getSize();
		if (root < 0 || root >= world) throw std::invalid_argument("gather: root " + std::to_string(root) + " outside the group");
		std::vector<at::Tensor> in{wt::ref(t, "gather input").contiguous()};
		std::vector<std::vector<at::Tensor>> outs;
		at::Tensor all;
		if (grp.pg->getRank() == root) {
			std::vector<int64_t> shape{world};
			for (auto d : in[0].sizes()) shape.push_back(d);
			all = at::empty(shape, in[0].options());
			std::vector<at::Tensor> parts;
			for (int r = 0; r < world; r++) parts.push_back(all[r]);
			outs.push_back(parts);
		}
		c10d::GatherOptions o;
		o.rootRank = root;
		o.timeout = grp.timeout;
		wait(grp, grp.pg->gather(outs, in, o));
		*out = all.defined() ? wt::wrap(all) : nullptr;
	})
}

static int wt_group_barrier(wt_group g, char **err) {
	WT_CALL({
		auto &grp = group_ref(g);
		c10d::BarrierOptions o;
		o.timeout = grp.timeout;
		wait(grp, grp.pg->barrier(o));
	})
}

static int wt_reducer_new(wt_group g, const wt_tensor *params, int n, int64_t bucket_bytes, int64_t first_bucket_bytes,
			  wt_reducer *out, char **err) {
	WT_CALL({
		auto &grp = group_ref(g);
		auto ps = tensors(params, n, "reducer");
		if (ps.empty()) throw std::invalid_argument("reducer: no parameters");
		if (bucket_bytes <= 0 || first_bucket_bytes <= 0) throw std::invalid_argument("reducer: bucket sizes must be positive");
		for (size_t i = 0; i < ps.size(); i++)
			if (!ps[i].requires_grad())
				throw std::invalid_argument("reducer: parameter " + std::to_string(i) + " does not require grad");
		std::vector<bool> sparse(ps.size(), false);
		// As DistributedDataParallel (find_unused_parameters=False): the
		// first backward reduces one bucket of everything, in reverse
		// order; rebuild_buckets then sizes them by the order the
		// gradients arrived.
		auto assigned = c10d::compute_bucket_assignment_by_size(ps, {std::numeric_limits<size_t>::max()}, sparse);
		auto buckets = std::get<0>(assigned);
		auto limits = std::get<1>(assigned);
		std::reverse(buckets.begin(), buckets.end());
		std::reverse(limits.begin(), limits.end());
		auto r = std::make_unique<wt_reducer_s>();
		r->pg = grp.pg;
		r->stats = std::make_shared<CommStats>();
		r->reducer = new_reducer(ps, buckets, limits, grp.pg, sparse, bucket_bytes, first_bucket_bytes);
		r->reducer->register_comm_hook(
		    std::make_unique<TimedAllreduce>(grp.pg, r->stats, grp.gloo ? grp.abort : nullptr));
		*out = r.release();
	})
}

static int wt_reducer_prepare(wt_reducer r, char **err) {
	WT_CALL({
		if (r == nullptr) throw std::invalid_argument("null reducer handle");
		r->reducer->prepare_for_forward();
		if (r->reducer->rebuild_buckets()) r->rebuilt = true;
		r->stats->reset();
		r->reducer->prepare_for_backward({});
	})
}

static int wt_reducer_stats(wt_reducer r, int64_t *out, char **err) {
	WT_CALL({
		if (r == nullptr) throw std::invalid_argument("null reducer handle");
		auto now = Clock::now();
		auto &st = *r->stats;
		std::lock_guard<std::mutex> lock(st.mu);
		out[WT_RS_BUCKETS] = st.buckets;
		out[WT_RS_BYTES] = st.bytes;
		bool any = st.buckets > 0;
		out[WT_RS_COMM_NS] = any ? since_ns(st.first, st.done) : 0;
		out[WT_RS_EXPOSED_NS] = any ? since_ns(st.last, now) : 0;
		out[WT_RS_REBUILT] = r->rebuilt ? 1 : 0;
	})
}

static void wt_reducer_free(wt_reducer r) {
	try {
		delete r;
	} catch (...) {
	}
}

void wt_fill_dist(wt_api *api) {
	api->dist_backends = wt_dist_backends;
	api->store_tcp = wt_store_tcp;
	api->store_set = wt_store_set;
	api->store_get = wt_store_get;
	api->store_add = wt_store_add;
	api->store_free = wt_store_free;
	api->group_new = wt_group_new;
	api->group_free = wt_group_free;
	api->group_abort = wt_group_abort;
	api->group_broadcast = wt_group_broadcast;
	api->group_allreduce = wt_group_allreduce;
	api->group_gather = wt_group_gather;
	api->group_barrier = wt_group_barrier;
	api->reducer_new = wt_reducer_new;
	api->reducer_prepare = wt_reducer_prepare;
	api->reducer_stats = wt_reducer_stats;
	api->reducer_free = wt_reducer_free;
}

}  // extern "C"
