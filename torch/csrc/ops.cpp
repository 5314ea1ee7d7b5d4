// ops.cpp: shape ops, element-wise ops, reductions, network ops, losses and
// the SGD step.
#include "internal.h"

using wt::opt;
using wt::ref;
using wt::wrap;

namespace {

at::IntArrayRef pair(const int64_t *p, const char *what) {
	if (p == nullptr) throw std::invalid_argument(std::string(what) + " is null");
	return at::IntArrayRef(p, 2);
}

}  // namespace

extern "C" {

static int wt_reshape(wt_tensor h, const int64_t *shape, int ndim, wt_tensor *out, char **err) {
	WT_CALL({ *out = wrap(ref(h, "tensor").reshape(wt::dims(shape, ndim))); })
}

static int wt_permute(wt_tensor h, const int64_t *d, int ndim, wt_tensor *out, char **err) {
	WT_CALL({ *out = wrap(ref(h, "tensor").permute(wt::dims(d, ndim))); })
}

static int wt_flatten(wt_tensor h, int64_t start, int64_t end, wt_tensor *out, char **err) {
	WT_CALL({ *out = wrap(ref(h, "tensor").flatten(start, end)); })
}

static int wt_narrow(wt_tensor h, int64_t dim, int64_t start, int64_t length, wt_tensor *out, char **err) {
	WT_CALL({ *out = wrap(ref(h, "tensor").narrow(dim, start, length)); })
}

static int wt_cat(const wt_tensor *ts, int n, int64_t dim, wt_tensor *out, char **err) {
	WT_CALL({
		std::vector<at::Tensor> v;
		v.reserve(static_cast<size_t>(n));
		for (int i = 0; i < n; i++) v.push_back(ref(ts[i], "cat input"));
		*out = wrap(at::cat(v, dim));
	})
}

static int wt_index_select(wt_tensor h, int64_t dim, wt_tensor index, wt_tensor *out, char **err) {
	WT_CALL({ *out = wrap(at::index_select(ref(h, "tensor"), dim, ref(index, "index"))); })
}

static int wt_clone(wt_tensor h, wt_tensor *out, char **err) { WT_CALL({ *out = wrap(ref(h, "tensor").clone()); }) }

static int wt_unary(int op, wt_tensor h, wt_tensor *out, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		at::Tensor r;
		switch (op) {
		case WT_RELU: r = at::relu(t); break;
		case WT_NEG: r = at::neg(t); break;
		case WT_EXP: r = at::exp(t); break;
		case WT_LOG: r = at::log(t); break;
		case WT_SIGMOID: r = at::sigmoid(t); break;
		case WT_TANH: r = at::tanh(t); break;
		case WT_SQRT: r = at::sqrt(t); break;
		case WT_ABS: r = at::abs(t); break;
		case WT_SQUARE: r = at::square(t); break;
		case WT_LOG_SIGMOID: r = at::log_sigmoid(t); break;
		case WT_ISFINITE: r = at::isfinite(t); break;
		default: throw std::invalid_argument("unknown unary op " + std::to_string(op));
		}
		*out = wrap(std::move(r));
	})
}

static int wt_binary(int op, wt_tensor ha, wt_tensor hb, wt_tensor *out, char **err) {
	WT_CALL({
		const at::Tensor &a = ref(ha, "left operand");
		const at::Tensor &b = ref(hb, "right operand");
		at::Tensor r;
		switch (op) {
		case WT_ADD: r = at::add(a, b); break;
		case WT_SUB: r = at::sub(a, b); break;
		case WT_MUL: r = at::mul(a, b); break;
		case WT_DIV: r = at::div(a, b); break;
		case WT_MATMUL: r = at::matmul(a, b); break;
		case WT_EQ: r = at::eq(a, b); break;
		case WT_GT: r = at::gt(a, b); break;
		case WT_LT: r = at::lt(a, b); break;
		case WT_MAXIMUM: r = at::maximum(a, b); break;
		case WT_MINIMUM: r = at::minimum(a, b); break;
		default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
		}
		*out = wrap(std::move(r));
	})
}

static int wt_scalar(int op, wt_tensor h, double s, wt_tensor *out, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		at::Tensor r;
		switch (op) {
		case WT_S_ADD: r = at::add(t, s); break;
		case WT_S_MUL: r = at::mul(t, s); break;
		case WT_S_POW: r = at::pow(t, s); break;
		case WT_S_CLAMP_MIN: r = at::clamp_min(t, s); break;
		case WT_S_CLAMP_MAX: r = at::clamp_max(t, s); break;
		case WT_S_RSUB: r = at::rsub(t, s); break;
		default: throw std::invalid_argument("unknown scalar op " + std::to_string(op));
		}
		*out = wrap(std::move(r));
	})
}

static int wt_reduce(int op, wt_tensor h, const int64_t *d, int ndims, int keepdim, wt_tensor *out, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		auto ds = wt::dims(d, ndims);
		bool all = ndims == 0;
		bool kd = keepdim != 0;
		at::Tensor r;
		switch (op) {
		case WT_SUM: r = all ? t.sum() : t.sum(ds, kd); break;
		case WT_MEAN: r = all ? t.mean() : t.mean(ds, kd); break;
		case WT_AMAX: r = all ? t.amax(at::IntArrayRef{}) : t.amax(ds, kd); break;
		case WT_AMIN: r = all ? t.amin(at::IntArrayRef{}) : t.amin(ds, kd); break;
		case WT_ARGMAX:
			if (ndims > 1) throw std::invalid_argument("argmax takes one dim");
			r = all ? t.argmax() : t.argmax(ds[0], kd);
			break;
		case WT_LOGSUMEXP: r = all ? at::logsumexp(t.flatten(), {0}) : at::logsumexp(t, ds, kd); break;
		default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
		}
		*out = wrap(std::move(r));
	})
}

static int wt_softmax(wt_tensor h, int64_t dim, int log, wt_tensor *out, char **err) {
	WT_CALL({
		const at::Tensor &t = ref(h, "tensor");
		*out = wrap(log ? at::log_softmax(t, dim) : at::softmax(t, dim));
	})
}

static int wt_topk(wt_tensor h, int64_t k, int64_t dim, int largest, wt_tensor *values, wt_tensor *indices, char **err) {
	WT_CALL({
		auto r = at::topk(ref(h, "tensor"), k, dim, largest != 0, /*sorted=*/true);
		*values = wrap(std::get<0>(r));
		*indices = wrap(std::get<1>(r));
	})
}

static int wt_inplace(int op, wt_tensor h, wt_tensor other, double s, char **err) {
	WT_CALL({
		at::Tensor t = ref(h, "tensor");
		switch (op) {
		case WT_I_COPY: t.copy_(ref(other, "source")); break;
		case WT_I_ADD: t.add_(ref(other, "addend"), s); break;
		case WT_I_MUL: t.mul_(ref(other, "factor")); break;
		case WT_I_MUL_SCALAR: t.mul_(s); break;
		case WT_I_FILL: t.fill_(s); break;
		case WT_I_ZERO: t.zero_(); break;
		case WT_I_NORMAL: t.normal_(0.0, s); break;
		case WT_I_UNIFORM: t.uniform_(-s, s); break;
		case WT_I_RELU: t.relu_(); break;
		default: throw std::invalid_argument("unknown in-place op " + std::to_string(op));
		}
	})
}

static int wt_conv2d(wt_tensor x, wt_tensor w, wt_tensor bias, const int64_t *stride, const int64_t *padding,
		     const int64_t *dilation, int64_t groups, wt_tensor *out, char **err) {
	WT_CALL({
		*out = wrap(at::conv2d(ref(x, "input"), ref(w, "weight"), opt(bias), pair(stride, "stride"),
				       pair(padding, "padding"), pair(dilation, "dilation"), groups));
	})
}

static int wt_batch_norm(wt_tensor x, wt_tensor weight, wt_tensor bias, wt_tensor running_mean, wt_tensor running_var,
			 wt_tensor num_batches_tracked, int training, double momentum, double eps, wt_tensor *out,
			 char **err) {
	WT_CALL({
		*out = wrap(at::batch_norm(ref(x, "input"), opt(weight), opt(bias), opt(running_mean), opt(running_var),
					   training != 0, momentum, eps, /*cudnn_enabled=*/true));
		if (training != 0 && num_batches_tracked != nullptr) {
			at::NoGradGuard no_grad;
			num_batches_tracked->t.add_(1);
		}
	})
}

static int wt_max_pool2d(wt_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding, int ceil_mode,
			 wt_tensor *out, char **err) {
	WT_CALL({
		const int64_t one[2] = {1, 1};
		*out = wrap(at::max_pool2d(ref(x, "input"), pair(kernel, "kernel"), pair(stride, "stride"),
					   pair(padding, "padding"), at::IntArrayRef(one, 2), ceil_mode != 0));
	})
}

static int wt_avg_pool2d(wt_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding, int ceil_mode,
			 int count_include_pad, wt_tensor *out, char **err) {
	WT_CALL({
		*out = wrap(at::avg_pool2d(ref(x, "input"), pair(kernel, "kernel"), pair(stride, "stride"),
					   pair(padding, "padding"), ceil_mode != 0, count_include_pad != 0));
	})
}

static int wt_adaptive_avg_pool2d(wt_tensor x, const int64_t *size, wt_tensor *out, char **err) {
	WT_CALL({ *out = wrap(at::adaptive_avg_pool2d(ref(x, "input"), pair(size, "output size"))); })
}

static int wt_linear(wt_tensor x, wt_tensor w, wt_tensor bias, wt_tensor *out, char **err) {
	WT_CALL({ *out = wrap(at::linear(ref(x, "input"), ref(w, "weight"), opt(bias))); })
}

static int wt_bce_with_logits(wt_tensor logits, wt_tensor target, wt_tensor weight, wt_tensor pos_weight, int reduction,
			      wt_tensor *out, char **err) {
	WT_CALL({
		if (reduction < 0 || reduction > 2) throw std::invalid_argument("unknown reduction " + std::to_string(reduction));
		*out = wrap(at::binary_cross_entropy_with_logits(ref(logits, "logits"), ref(target, "target"), opt(weight),
								 opt(pos_weight), reduction));
	})
}

static int wt_soft_cross_entropy(wt_tensor logits, wt_tensor target, wt_tensor *out, char **err) {
	WT_CALL({
		const at::Tensor &l = ref(logits, "logits");
		const at::Tensor &t = ref(target, "target");
		if (l.dim() != 2 || !l.sizes().equals(t.sizes()))
			throw std::invalid_argument("soft cross-entropy wants [N, K] logits and target of the same shape");
		*out = wrap(-(t * at::log_softmax(l, 1)).sum(1).mean());
	})
}

static int wt_sgd_step(const wt_tensor *params, wt_tensor *bufs, int n, double lr, double momentum, double dampening,
		       double weight_decay, int nesterov, char **err) {
	WT_CALL({
		at::NoGradGuard no_grad;
		if (nesterov && (momentum <= 0 || dampening != 0))
			throw std::invalid_argument("nesterov momentum requires a momentum and zero dampening");
		for (int i = 0; i < n; i++) {
			at::Tensor p = ref(params[i], "parameter");
			at::Tensor g = p.grad();
			if (!g.defined()) continue;
			if (weight_decay != 0) g = g.add(p, weight_decay);
			if (momentum != 0) {
				if (bufs[i] == nullptr) {
					bufs[i] = wrap(g.clone().detach());
				} else {
					bufs[i]->t.mul_(momentum).add_(g, 1 - dampening);
				}
				const at::Tensor &buf = bufs[i]->t;
				g = nesterov ? g.add(buf, momentum) : buf;
			}
			p.add_(g, -lr);
		}
	})
}

void wt_fill_ops(wt_api *api) {
	api->reshape = wt_reshape;
	api->permute = wt_permute;
	api->flatten = wt_flatten;
	api->narrow = wt_narrow;
	api->cat = wt_cat;
	api->index_select = wt_index_select;
	api->clone = wt_clone;
	api->unary = wt_unary;
	api->binary = wt_binary;
	api->scalar = wt_scalar;
	api->reduce = wt_reduce;
	api->softmax = wt_softmax;
	api->topk = wt_topk;
	api->inplace = wt_inplace;
	api->conv2d = wt_conv2d;
	api->batch_norm = wt_batch_norm;
	api->max_pool2d = wt_max_pool2d;
	api->avg_pool2d = wt_avg_pool2d;
	api->adaptive_avg_pool2d = wt_adaptive_avg_pool2d;
	api->linear = wt_linear;
	api->bce_with_logits = wt_bce_with_logits;
	api->soft_cross_entropy = wt_soft_cross_entropy;
	api->sgd_step = wt_sgd_step;
}

}  // extern "C"
