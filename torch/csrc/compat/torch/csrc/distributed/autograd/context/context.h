// compat: Debian's libtorch-dev 1.13 ships c10d/reducer.hpp but not the
// distributed-autograd header it includes, which it needs for two names
// only: DistAutogradContext::GradCallback (checked against its own
// GradCallback by a static_assert) and ContextPtr (a shared_ptr member of
// the Reducer). Both are declared here with the same types, so the
// Reducer's layout matches libtorch_cpu's. The Makefile puts this
// directory after libtorch's own include path (-idirafter), so a libtorch
// that has the real header (a PyTorch wheel) uses that one.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor &)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
