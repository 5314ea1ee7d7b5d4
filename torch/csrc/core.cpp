// core.cpp: process settings, tensor creation and conversion, autograd.
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/autograd/autograd.h>

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "internal.h"

#define WT_STR2(x) #x
#define WT_STR(x) WT_STR2(x)

// What the library was built against, in an ELF section of its own, so that
// a program can read it from the file without loading it (loading fails
// when the libtorch it was built for is missing).
extern "C" __attribute__((used, section(".weaksup_torch"))) const char
    weaksup_torch_build[] = "libtorch=" TORCH_VERSION " abi=" WT_STR(WT_ABI_VERSION);

namespace wt {

std::atomic<int64_t> live_tensors{0};
std::atomic<int64_t> live_bytes{0};
std::atomic<int> grad_enabled{1};
std::atomic<int> num_threads{0};

wt_tensor wrap(at::Tensor t) {
	if (!t.defined()) return nullptr;
	int64_t bytes = static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
	auto *h = new wt_tensor_s{std::move(t), bytes};
	live_tensors.fetch_add(1);
	live_bytes.fetch_add(bytes);
	return h;
}

at::ScalarType scalar_type(int dtype) {
	switch (dtype) {
	case WT_FLOAT32: return at::kFloat;
	case WT_FLOAT64: return at::kDouble;
	case WT_INT64: return at::kLong;
	case WT_INT32: return at::kInt;
	case WT_UINT8: return at::kByte;
	case WT_BOOL: return at::kBool;
	case WT_FLOAT16: return at::kHalf;
	case WT_BFLOAT16: return at::kBFloat16;
	case WT_INT8: return at::kChar;
	case WT_INT16: return at::kShort;
	}
	throw std::invalid_argument("unknown dtype code " + std::to_string(dtype));
}

int dtype_code(at::ScalarType st) {
	switch (st) {
	case at::kFloat: return WT_FLOAT32;
	case at::kDouble: return WT_FLOAT64;
	case at::kLong: return WT_INT64;
	case at::kInt: return WT_INT32;
	case at::kByte: return WT_UINT8;
	case at::kBool: return WT_BOOL;
	case at::kHalf: return WT_FLOAT16;
	case at::kBFloat16: return WT_BFLOAT16;
	case at::kChar: return WT_INT8;
	case at::kShort: return WT_INT16;
	default: break;
	}
	throw std::invalid_argument(std::string("unsupported dtype ") + c10::toString(st));
}

at::Device device(int type, int index) {
	switch (type) {
	case WT_CPU: return at::Device(at::kCPU);
	case WT_CUDA: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
	}
	throw std::invalid_argument("unknown device type " + std::to_string(type));
}

at::IntArrayRef dims(const int64_t *p, int n) {
	if (n < 0) throw std::invalid_argument("negative dimension count");
	if (n > 0 && p == nullptr) throw std::invalid_argument("null dimension array");
	return at::IntArrayRef(p, static_cast<size_t>(n));
}

void sync_threads() {
	thread_local int applied = 0;
	int want = num_threads.load();
	if (want > 0 && applied != want) {
		at::set_num_threads(want);
		applied = want;
	}
}

}  // namespace wt

using wt::ref;
using wt::wrap;

extern "C" {

static void wt_string_free(char *s) { free(s); }

// The version of the libtorch the library runs on, from libtorch's own
// build settings ("TORCH_VERSION=2.6.0, "), which 1.13 and 2.x both list.
static std::string runtime_version() {
	std::string cfg = at::show_config();
	const std::string key = "TORCH_VERSION=";
	auto i = cfg.find(key);
	if (i == std::string::npos) return "";
	i += key.size();
	auto j = cfg.find_first_of(", \n", i);
	return cfg.substr(i, j == std::string::npos ? std::string::npos : j - i);
}

// The CUDA runtime version a CUDA libtorch was built with ("12.4"), whether
// or not a device is visible; empty for a CPU-only libtorch.
static std::string cuda_runtime() {
	try {
		long v = at::detail::getCUDAHooks().versionCUDART();
		return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
	} catch (const std::exception &) {
		return "";
	}
}

// The file libtorch_cpu was loaded from.
static std::string libtorch_path() {
	Dl_info info;
	if (dladdr(reinterpret_cast<void *>(&at::show_config), &info) == 0 || info.dli_fname == nullptr) return "";
	return info.dli_fname;
}

static int wt_version(char **out, char **err) {
	WT_CALL({
		std::string v = std::string("libtorch=") + TORCH_VERSION + " runtime=" + runtime_version() +
				" cuda=" + cuda_runtime() + " lib=" + libtorch_path();
		*out = strdup(v.c_str());
	})
}

static int wt_cuda_device_count(int *n, char **err) {
	WT_CALL({
		auto &hooks = at::detail::getCUDAHooks();
		*n = hooks.hasCUDA() ? hooks.getNumGPUs() : 0;
	})
}

static int wt_set_num_threads(int n, char **err) {
	WT_CALL({
		if (n < 1) throw std::invalid_argument("thread count must be at least 1, got " + std::to_string(n));
		wt::num_threads.store(n);
		wt::sync_threads();
	})
}

static int wt_num_threads(int *n, char **err) { WT_CALL({ *n = at::get_num_threads(); }) }

static int wt_set_grad_enabled(int enabled, int *previous, char **err) {
	WT_CALL({
		int prev = wt::grad_enabled.exchange(enabled ? 1 : 0);
		if (previous != nullptr) *previous = prev;
	})
}

static int wt_manual_seed(uint64_t seed, char **err) { WT_CALL({ at::manual_seed(seed); }) }

static int wt_rng_state(int device_type, int device_index, wt_tensor *out, char **err) {
	WT_CALL({
		auto gen = at::globalContext().defaultGenerator(wt::device(device_type, device_index));
		std::lock_guard<std::mutex> lock(gen.mutex());
		*out = wrap(gen.get_state());
	})
}

static int wt_set_rng_state(int device_type, int device_index, wt_tensor state, char **err) {
	WT_CALL({
		const at::Tensor &s = ref(state, "state");
		auto gen = at::globalContext().defaultGenerator(wt::device(device_type, device_index));
		std::lock_guard<std::mutex> lock(gen.mutex());
		gen.set_state(s);
	})
}

static void wt_live(int64_t *tensors, int64_t *bytes) {
	if (tensors != nullptr) *tensors = wt::live_tensors.load();
	if (bytes != nullptr) *bytes = wt::live_bytes.load();
}

static int wt_synchronize(int device_type, int device_index, char **err) {
	WT_CALL({
		if (device_type == WT_CUDA) {
			// A copy to the host waits for the device's current stream.
			auto t = at::zeros({1}, at::TensorOptions().device(wt::device(device_type, device_index)));
			(void)t.item<float>();
		}
	})
}

static int wt_from_data(const void *data, int dtype, const int64_t *shape, int ndim, wt_tensor *out, char **err) {
	WT_CALL({
		auto sizes = wt::dims(shape, ndim);
		auto opts = at::TensorOptions().dtype(wt::scalar_type(dtype));
		int64_t n = c10::multiply_integers(sizes);
		if (n > 0 && data == nullptr) throw std::invalid_argument("null data for a non-empty tensor");
		at::Tensor t = at::empty(sizes, opts);
		if (n > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(n) * t.element_size());
		*out = wrap(std::move(t));
	})
}

static int wt_create(int kind, int dtype, const int64_t *shape, int ndim, int device_type, int device_index, wt_tensor *out,
		     char **err) {
	WT_CALL({
		auto sizes = wt::dims(shape, ndim);
		auto opts = at::TensorOptions().dtype(wt::scalar_type(dtype)).device(wt::device(device_type, device_index));
		at::Tensor t;
		switch (kind) {
		case 0: t = at::zeros(sizes, opts); break;
		case 1: t = at::ones(sizes, opts); break;
		case 2: t = at::randn(sizes, opts); break;
		case 3: t = at::rand(sizes, opts); break;
		case 4: t = at::empty(sizes, opts); break;
		default: throw std::invalid_argument("unknown creation kind " + std::to_string(kind));
		}
		*out = wrap(std::move(t));
	})
}

static int wt_copy_out(wt_tensor h, void *data, int64_t nbytes, char **err) {
	WT_CALL({
		at::NoGradGuard no_grad;
		at::Tensor t = ref(h, "tensor").detach().to(at::kCPU).contiguous();
		int64_t want = static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
		if (want != nbytes)
			throw std::invalid_argument("copy out: tensor has " + std::to_string(want) + " bytes, buffer " +
						    std::to_string(nbytes));
		if (want > 0) std::memcpy(data, t.data_ptr(), static_cast<size_t>(want));
	})
}

static void wt_tensor_free(wt_tensor h) {
	if (h == nullptr) return;
	wt::live_tensors.fetch_sub(1);
	wt::live_bytes.fetch_sub(h->bytes);
	try {
		delete h;
	} catch (...) {
	}
}

static int wt_shape(wt_tensor h, int64_t *out, int max_dims, int *ndim, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		*ndim = static_cast<int>(t.dim());
		for (int i = 0; i < *ndim && i < max_dims; i++) out[i] = t.size(i);
	})
}

static int wt_dtype(wt_tensor h, int *dtype, char **err) {
	WT_CALL({ *dtype = wt::dtype_code(ref(h, "tensor").scalar_type()); })
}

static int wt_device(wt_tensor h, int *type, int *index, char **err) {
	WT_CALL({
		auto d = ref(h, "tensor").device();
		if (d.is_cpu()) {
			*type = WT_CPU;
			*index = 0;
		} else if (d.is_cuda()) {
			*type = WT_CUDA;
			*index = d.index();
		} else {
			throw std::invalid_argument("unsupported device " + d.str());
		}
	})
}

static int wt_is_channels_last(wt_tensor h, int *out, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		*out = (t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast)) ? 1 : 0;
	})
}

static int wt_to(wt_tensor h, int device_type, int device_index, int dtype, int memory_format, wt_tensor *out, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		at::Device dev = device_type < 0 ? t.device() : wt::device(device_type, device_index);
		at::ScalarType st = dtype < 0 ? t.scalar_type() : wt::scalar_type(dtype);
		at::MemoryFormat mf;
		switch (memory_format) {
		case WT_FORMAT_KEEP: mf = at::MemoryFormat::Preserve; break;
		case WT_FORMAT_CONTIGUOUS: mf = at::MemoryFormat::Contiguous; break;
		case WT_FORMAT_CHANNELS_LAST: mf = at::MemoryFormat::ChannelsLast; break;
		default: throw std::invalid_argument("unknown memory format " + std::to_string(memory_format));
		}
		*out = wrap(t.to(dev, st, /*non_blocking=*/false, /*copy=*/false, mf));
	})
}

static int wt_item(wt_tensor h, double *out, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		if (t.numel() != 1)
			throw std::invalid_argument("item of a tensor with " + std::to_string(t.numel()) + " elements");
		*out = t.item<double>();
	})
}

static int wt_requires_grad(wt_tensor h, int *out, char **err) { WT_CALL({ *out = ref(h, "tensor").requires_grad() ? 1 : 0; }) }

static int wt_set_requires_grad(wt_tensor h, int on, char **err) {
	WT_CALL({
		at::Tensor t = ref(h, "tensor");
		t.set_requires_grad(on != 0);
	})
}

static int wt_grad(wt_tensor h, wt_tensor *out, char **err) { WT_CALL({ *out = wrap(ref(h, "tensor").grad()); }) }

static int wt_zero_grad(const wt_tensor *ts, int n, char **err) {
	WT_CALL({
		for (int i = 0; i < n; i++) {
			at::Tensor t = ref(ts[i], "parameter");
			t.mutable_grad() = at::Tensor();
		}
	})
}

static int wt_backward(wt_tensor loss, wt_tensor grad, char **err) {
	WT_CALL({
		const at::Tensor &l = ref(loss, "loss");
		std::vector<at::Tensor> grads;
		if (grad != nullptr) grads.push_back(grad->t);
		torch::autograd::backward({l}, grads);
	})
}

static int wt_detach(wt_tensor h, wt_tensor *out, char **err) { WT_CALL({ *out = wrap(ref(h, "tensor").detach()); }) }

// Defined in ops.cpp, dist.cpp and amp.cpp.
void wt_fill_ops(wt_api *api);
void wt_fill_dist(wt_api *api);
void wt_fill_amp(wt_api *api);

const wt_api *weaksup_torch_api(int abi_version) {
	static wt_api api;
	static std::once_flag once;
	if (abi_version != WT_ABI_VERSION) return nullptr;
	std::call_once(once, [] {
		api.abi_version = WT_ABI_VERSION;
		api.string_free = wt_string_free;
		api.version = wt_version;
		api.cuda_device_count = wt_cuda_device_count;
		api.set_num_threads = wt_set_num_threads;
		api.num_threads = wt_num_threads;
		api.set_grad_enabled = wt_set_grad_enabled;
		api.manual_seed = wt_manual_seed;
		api.rng_state = wt_rng_state;
		api.set_rng_state = wt_set_rng_state;
		api.live = wt_live;
		api.synchronize = wt_synchronize;
		api.from_data = wt_from_data;
		api.create = wt_create;
		api.copy_out = wt_copy_out;
		api.tensor_free = wt_tensor_free;
		api.shape = wt_shape;
		api.dtype = wt_dtype;
		api.device = wt_device;
		api.is_channels_last = wt_is_channels_last;
		api.to = wt_to;
		api.item = wt_item;
		api.requires_grad = wt_requires_grad;
		api.set_requires_grad = wt_set_requires_grad;
		api.grad = wt_grad;
		api.zero_grad = wt_zero_grad;
		api.backward = wt_backward;
		api.detach = wt_detach;
		wt_fill_ops(&api);
		wt_fill_dist(&api);
		wt_fill_amp(&api);
	});
	return &api;
}

}  // extern "C"
