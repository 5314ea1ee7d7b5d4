// amp.cpp: mixed precision. libtorch keeps its autocast state (enabled
// flags, the low-precision dtype per device type, the cache of weight
// casts) per thread; the shim keeps a process-wide copy and applies it at
// the start of every ABI call (AutocastGuard, part of wt::Enter), as it does
// for grad mode, because the Go runtime may run consecutive calls of one
// goroutine on different OS threads.
//
// The cast cache needs care: within one autocast region libtorch casts each
// fp32 weight once and reuses the cast, which is only right until the
// optimizer changes the weight. torch.autocast clears the cache when its
// outermost region ends; here every change of the process-wide state
// advances an epoch, and a thread whose cache belongs to an older epoch
// clears it when it next enters the shim, before it runs anything.
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include "internal.h"

namespace wt {

namespace {

// The low-precision dtype code per device type, or -1 when autocast is off.
std::atomic<int> autocast_cpu{-1};
std::atomic<int> autocast_cuda{-1};
// Advanced on every change of the state above.
std::atomic<uint64_t> autocast_epoch{1};

std::atomic<int> &autocast_slot(int device_type) {
	switch (device_type) {
	case WT_CPU: return autocast_cpu;
	case WT_CUDA: return autocast_cuda;
	}
	throw std::invalid_argument("unknown device type " + std::to_string(device_type));
}

at::ScalarType low_precision(int dtype) {
	at::ScalarType st = scalar_type(dtype);
	if (st != at::kBFloat16 && st != at::kHalf)
		throw std::invalid_argument(std::string("autocast dtype must be bfloat16 or float16, got ") + c10::toString(st));
	return st;
}

// libtorch's thread-local autocast state of one device type. 2.4 made these
// calls take the device type and deprecated the per-device ones
// (is_cpu_enabled, set_autocast_gpu_dtype, ...).
#if WT_TORCH_AT_LEAST(2, 4)
bool enabled(at::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void set_enabled(at::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
at::ScalarType dtype(at::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void set_dtype(at::DeviceType d, at::ScalarType st) { at::autocast::set_autocast_dtype(d, st); }
#else
bool enabled(at::DeviceType d) { return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled(); }
void set_enabled(at::DeviceType d, bool on) {
	if (d == at::kCPU)
		at::autocast::set_cpu_enabled(on);
	else
		at::autocast::set_enabled(on);
}
at::ScalarType dtype(at::DeviceType d) {
	return d == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
void set_dtype(at::DeviceType d, at::ScalarType st) {
	if (d == at::kCPU)
		at::autocast::set_autocast_cpu_dtype(st);
	else
		at::autocast::set_autocast_gpu_dtype(st);
}
#endif

}  // namespace

AutocastGuard::AutocastGuard()
    : prev_cpu_(enabled(at::kCPU)),
      prev_cuda_(enabled(at::kCUDA)),
      prev_cpu_dtype_(dtype(at::kCPU)),
      prev_cuda_dtype_(dtype(at::kCUDA)) {
	thread_local uint64_t seen_epoch = 0;
	uint64_t epoch = autocast_epoch.load(std::memory_order_acquire);
	if (epoch != seen_epoch) {
		at::autocast::clear_cache();
		seen_epoch = epoch;
	}
	int cpu = autocast_cpu.load(std::memory_order_acquire);
	int cuda = autocast_cuda.load(std::memory_order_acquire);
	if (cpu >= 0) set_dtype(at::kCPU, scalar_type(cpu));
	if (cuda >= 0) set_dtype(at::kCUDA, scalar_type(cuda));
	set_enabled(at::kCPU, cpu >= 0);
	set_enabled(at::kCUDA, cuda >= 0);
}

AutocastGuard::~AutocastGuard() {
	set_enabled(at::kCPU, prev_cpu_);
	set_enabled(at::kCUDA, prev_cuda_);
	set_dtype(at::kCPU, prev_cpu_dtype_);
	set_dtype(at::kCUDA, prev_cuda_dtype_);
}

}  // namespace wt

using wt::ref;

extern "C" {

static int wt_set_autocast(int device_type, int enabled, int dtype, int *prev_enabled, int *prev_dtype, char **err) {
	WT_CALL({
		std::atomic<int> &slot = wt::autocast_slot(device_type);
		int want = -1;
		if (enabled) {
			wt::low_precision(dtype);
			want = dtype;
		}
		int prev = slot.exchange(want);
		if (prev != want) wt::autocast_epoch.fetch_add(1, std::memory_order_acq_rel);
		if (prev_enabled != nullptr) *prev_enabled = prev >= 0 ? 1 : 0;
		if (prev_dtype != nullptr) *prev_dtype = prev >= 0 ? prev : WT_FLOAT32;
	})
}

// What libtorch's thread-local state says inside a call on the calling
// thread: the shim's process-wide setting, applied.
static int wt_autocast_state(int device_type, int *enabled, int *dtype, char **err) {
	WT_CALL({
		at::DeviceType d = wt::device(device_type, 0).type();
		bool on = wt::enabled(d);
		at::ScalarType st = wt::dtype(d);
		*enabled = on ? 1 : 0;
		*dtype = on ? wt::dtype_code(st) : WT_FLOAT32;
	})
}

// Multiplies every existing gradient of params by inv_scale and reports
// whether any of them held an inf or NaN before (GradScaler.unscale_). On
// CUDA it uses libtorch's fused kernel, one per device; elsewhere plain ops,
// with one host synchronization at the end.
static int wt_amp_unscale(const wt_tensor *params, int n, double inv_scale, int *found_inf, char **err) {
	WT_CALL({
		at::NoGradGuard no_grad;
		if (n < 0) throw std::invalid_argument("negative parameter count");
		std::vector<at::Tensor> cpu, flags;
		std::vector<std::vector<at::Tensor>> cuda;  // by device index
		for (int i = 0; i < n; i++) {
			at::Tensor g = ref(params[i], "parameter").grad();
			if (!g.defined()) continue;
			if (!at::isFloatingType(g.scalar_type()))
				throw std::invalid_argument("gradient of parameter " + std::to_string(i) + " is not floating point");
			if (g.is_cuda()) {
				size_t d = static_cast<size_t>(g.get_device());
				if (cuda.size() <= d) cuda.resize(d + 1);
				cuda[d].push_back(g);
			} else {
				cpu.push_back(g);
			}
		}
		for (auto &gs : cuda) {
			if (gs.empty()) continue;
			auto opts = at::TensorOptions().dtype(at::kFloat).device(gs[0].device());
			at::Tensor found = at::zeros({1}, opts);
			at::Tensor inv = at::full({1}, inv_scale, opts);
			at::_amp_foreach_non_finite_check_and_unscale_(gs, found, inv);
			flags.push_back(found.to(at::kCPU));
		}
		if (!cpu.empty()) {
			at::Tensor bad = at::zeros({}, at::kBool);
			for (auto &g : cpu) {
				bad.logical_or_(at::isfinite(g).logical_not().any());
				g.mul_(inv_scale);
			}
			flags.push_back(bad.to(at::kFloat).reshape({1}));
		}
		bool any = false;
		for (auto &f : flags) any = any || f.item<float>() != 0;
		*found_inf = any ? 1 : 0;
	})
}

// Whether a device computes in bfloat16 natively: on the CPU, AVX512_BF16
// or AMX-BF16 (which oneDNN uses for convolutions and matmuls); on CUDA,
// cuDNN 8 bf16 convolutions (compute capability 8.0 and later).
static int wt_bf16_supported(int device_type, int device_index, int *out, char **err) {
	WT_CALL({
		switch (device_type) {
		case WT_CPU:
#if defined(__x86_64__) || defined(__i386__)
			__builtin_cpu_init();
			*out = (__builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16")) ? 1 : 0;
#else
			*out = 0;
#endif
			break;
		case WT_CUDA: {
			auto &hooks = at::detail::getCUDAHooks();
			if (!hooks.hasCUDA()) throw std::invalid_argument("this libtorch has no CUDA device");
			wt::device(device_type, device_index);  // validates the index
			*out = hooks.supportsBFloat16ConvolutionWithCuDNNv8() ? 1 : 0;
			break;
		}
		default: throw std::invalid_argument("unknown device type " + std::to_string(device_type));
		}
	})
}

void wt_fill_amp(wt_api *api) {
	api->set_autocast = wt_set_autocast;
	api->autocast_state = wt_autocast_state;
	api->amp_unscale = wt_amp_unscale;
	api->bf16_supported = wt_bf16_supported;
}

}  // extern "C"
