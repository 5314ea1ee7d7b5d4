// internal.h: helpers shared by the shim's translation units. Nothing here
// is part of the C ABI.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/api/include/torch/version.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "weaksup_torch.h"

// One source builds against libtorch 1.13 and 2.x. Where the API differs
// the code asks WT_TORCH_AT_LEAST(major, minor), or, where a signature
// changed between 2.x releases, which form the headers declare.
#define WT_TORCH_AT_LEAST(major, minor) \
	(TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// A handle owns one at::Tensor (a reference to its storage).
struct wt_tensor_s {
	at::Tensor t;
	int64_t bytes;
};

namespace wt {

extern std::atomic<int64_t> live_tensors;
extern std::atomic<int64_t> live_bytes;
extern std::atomic<int> grad_enabled;
extern std::atomic<int> num_threads;

// Wrap moves a tensor into a new handle. An undefined tensor becomes NULL.
wt_tensor wrap(at::Tensor t);

// Ref returns the tensor of a handle; a NULL handle is an error.
inline const at::Tensor &ref(wt_tensor h, const char *what) {
	if (h == nullptr) throw std::invalid_argument(std::string(what) + " is a null tensor handle");
	return h->t;
}

// Optional is the optional type ATen's signatures take: its own
// c10::optional up to 2.3, std::optional (which c10::optional became an
// alias of) since 2.4.
#if WT_TORCH_AT_LEAST(2, 4)
template <typename T>
using optional = std::optional<T>;
inline constexpr std::nullopt_t nullopt = std::nullopt;
#else
using c10::nullopt;
using c10::optional;
#endif

// Opt returns the tensor of a handle, or an undefined tensor for NULL.
inline optional<at::Tensor> opt(wt_tensor h) {
	if (h == nullptr) return nullopt;
	return h->t;
}

at::ScalarType scalar_type(int dtype);
int dtype_code(at::ScalarType st);
at::Device device(int type, int index);
at::IntArrayRef dims(const int64_t *p, int n);

// SyncThreads applies the process-wide thread count on the calling OS thread.
void sync_threads();

// AutocastGuard applies the process-wide autocast state (amp.cpp) to the
// calling thread for one ABI call and restores the thread's own afterwards.
class AutocastGuard {
       public:
	AutocastGuard();
	~AutocastGuard();
	AutocastGuard(const AutocastGuard &) = delete;
	AutocastGuard &operator=(const AutocastGuard &) = delete;

       private:
	bool prev_cpu_, prev_cuda_;
	at::ScalarType prev_cpu_dtype_, prev_cuda_dtype_;
};

// Enter sets up the calling thread for one ABI call: the process-wide grad
// mode and autocast state (restored when the call ends) and thread count.
struct Enter {
	c10::AutoGradMode grad;
	AutocastGuard autocast;
	Enter() : grad(grad_enabled.load() != 0) { sync_threads(); }
};

inline void set_err(char **err, const char *msg) {
	if (err != nullptr) *err = strdup(msg);
}

}  // namespace wt

// WT_CALL runs body inside one ABI call: no exception leaves it, and the
// error message is stored in *err.
#define WT_CALL(...)                                            \
	try {                                                   \
		wt::Enter wt_enter_;                            \
		__VA_ARGS__;                                         \
		return 0;                                       \
	} catch (const c10::Error &e) {                         \
		wt::set_err(err, e.what_without_backtrace());   \
		return -1;                                      \
	} catch (const std::exception &e) {                     \
		wt::set_err(err, e.what());                     \
		return -1;                                      \
	} catch (...) {                                         \
		wt::set_err(err, "unknown C++ exception");      \
		return -1;                                      \
	}
