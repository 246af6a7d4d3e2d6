// Every differentiable op of the engine, declared in one place (the contract). Each family is
// implemented in autograd/<family>.cpp: shape checks, then ONE kernel call per direction through the
// backend seam (tensor/kernels.h), and the graph record with the backward right beside the forward.
// Op files never name a device: kern::<kernel>(...) looks up the backend of its output's device once
// (tensor/backend.h: the CPU's in tensor/cpu/backend_*.cpp, CUDA's in cuda/*.cu), checks that it
// supports the kernel for the dtype, and runs it. The CPU reference-vs-optimised switch lives inside
// the CPU backend. Every op is registered in the op harness in tests/harness/ops_<family>.cpp.
//
// Adding an op "foo" (say a new activation with its own kernel pair):
//   1. declare it here;
//   2. write it in autograd/<family>.cpp: checks, output allocated on the input's device,
//      kern::foo_forward(...), record(...) whose closure calls kern::foo_backward(...);
//   3. add the kernels: ids in Kernel + kernel_name (tensor/backend.cpp), virtuals in Backend and
//      fronts in tensor/kernels.h, the CPU implementation in tensor/cpu/backend_<family>.cpp (plain
//      loops; an optimised variant behind use_reference_kernels() if it earns one); optionally the
//      CUDA one in cuda/<family>.cu plus its line in CudaBackend::supports;
//   4. one harness entry (tests/harness/ops_<family>.cpp): the f64 gradient check, the accumulate
//      contract, every backend against the CPU reference, and overflow sentinels come with it.
// Porting an existing op to CUDA touches only cuda/: its autograd file does not change; until then
// the harness reports it "not supported" and `--device cuda` lists it.
// An op composed of other ops (mean = sum * 1/n, attention = matmul + softmax) needs step 1, 2, 4 only.
//
// Conventions: images are NCHW, volumes NCDHW; dtypes f32 or f64 (all inputs of an op share one);
// labels are i32. Shape errors throw gb::Error starting with the op name and listing the shapes.
#pragma once
#include <array>
#include <optional>
#include <vector>

#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace gb {

// ------------------------------------------------------------------ elementwise (autograd/elementwise.cpp)
// Binary ops broadcast numpy-style; the gradient of a broadcast input is summed back to its shape.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& a, double s);
Tensor mul_scalar(const Tensor& a, double s);
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor square(const Tensor& a);
Tensor pow_scalar(const Tensor& a, double p);
Tensor relu(const Tensor& a);           // grad 0 at 0
Tensor gelu(const Tensor& a);           // exact: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);
// Inverted dropout: keeps each element with probability 1-p and scales kept ones by 1/(1-p); the
// mask comes from `gen` (Philox), so a seed reproduces it. Identity when !training or p == 0.
Tensor dropout(const Tensor& a, double p, bool training, Generator& gen);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(const Tensor& a, double s);
Tensor operator-(const Tensor& a);

// ------------------------------------------------------------------ reductions (autograd/reduce.cpp)
// dims empty = all dimensions. max: gradient goes to the first maximal element.
Tensor sum(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor max(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);  // i32, not differentiable

// ------------------------------------------------------------------ shape and views (autograd/views.cpp)
// View ops share storage with their input; their backward adds gy into the matching view of gx.
Tensor reshape(const Tensor& a, const Shape& s);  // one -1 allowed; copies when not viewable
Tensor permute(const Tensor& a, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1);
Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& a, const Shape& s);
Tensor contiguous(const Tensor& a);
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// pads: (before, after) per dimension starting from the LAST dimension, as torch.nn.functional.pad:
// {left, right, top, bottom, ...}. Negative padding crops.
Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value = 0.0);

// ------------------------------------------------------------------ matmul (autograd/matmul.cpp)
// a [..., M, K] @ b [..., K, N] -> [..., M, N]; batch dims broadcast. 2-D x 2-D is plain GEMM.
Tensor matmul(const Tensor& a, const Tensor& b);
// x [..., in] @ w[out, in]^T + bias[out] (bias may be undefined). TransUNet's and torch's layout.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);

// ------------------------------------------------------------------ convolution (autograd/conv.cpp)
struct Conv2dOpts {
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
};
struct Conv3dOpts {
  std::array<int64_t, 3> stride{1, 1, 1}, padding{0, 0, 0}, dilation{1, 1, 1};
  int64_t groups = 1;
};
// x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] or undefined -> [N, O, OH, OW]
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOpts& o = {});
// x [N, C, D, H, W], w [O, C/groups, KD, KH, KW] -> [N, O, OD, OH, OW]
Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv3dOpts& o = {});
// Weight standardisation (BiT / TransUNet StdConv2d): per output channel o over all other dims,
// (w - mean) / sqrt(var + eps) with the biased variance. w [O, ...] -> same shape.
Tensor weight_standardize(const Tensor& w, double eps = 1e-5);

// ------------------------------------------------------------------ pooling and resampling (autograd/pool.cpp, upsample.cpp)
// Padding counts as -inf. Gradient goes to the first maximal element of each window.
Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding = {0, 0});
Tensor max_pool3d(const Tensor& x, std::array<int64_t, 3> kernel, std::array<int64_t, 3> stride,
                  std::array<int64_t, 3> padding = {0, 0, 0});
// x [N, C, H, W] -> [N, C, out_h, out_w]; torch's coordinate conventions for both corner modes.
Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners);
// x [N, C, D, H, W] -> [N, C, out_d, out_h, out_w]
Tensor upsample_trilinear3d(const Tensor& x, int64_t out_d, int64_t out_h, int64_t out_w, bool align_corners);

// ------------------------------------------------------------------ normalisation (autograd/norm.cpp)
// x [N, C, *]; gamma, beta [C] (either may be undefined = no affine). Statistics per (n, group)
// over (C/groups, *) with the biased variance.
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps);
// x [N, C, *]. Training: normalise with the batch statistics over (N, *) and update running_mean /
// running_var in place (unbiased variance, torch's momentum convention:
// running = (1 - momentum) * running + momentum * batch). Eval: use the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum, double eps);
// Normalises over the last dimension; gamma, beta [D].
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);

// ------------------------------------------------------------------ softmax and losses (autograd/softmax.cpp, loss.cpp)
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// logits [N, C, *], target i32 [N, *] with values in [0, C) or == ignore_index.
// weight [C] or undefined. Mean reduction as torch: sum(w_t * nll) / sum(w_t) over non-ignored.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100);
// TransUNet's DiceLoss(softmax=True): p = softmax(logits, 1); for each class c with one-hot t_c:
//   dice_c = 1 - (2 sum(p_c t_c) + smooth) / (sum(p_c^2) + sum(t_c^2) + smooth)
//   loss = sum_c w_c dice_c / C   (w_c = 1 when weight is undefined; smooth = 1e-5)
Tensor soft_dice_loss(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                      double smooth = 1e-5);
// Non-differentiable helper: i32 labels [N, *] -> one-hot [N, C, *] of `dtype`.
Tensor one_hot(const Tensor& target, int64_t classes, DType dtype = DType::F32);

// ------------------------------------------------------------------ attention (autograd/attention.cpp)
// q, k, v [B, H, T, Dh] -> [B, H, T, Dh]; softmax(q k^T * scale) v. When probs_out is given it
// receives the attention probabilities [B, H, T, T] (a graph tensor: Grad-CAM-style explanations can
// retain_grad on it). Composed of matmul and softmax on the CPU; fused on CUDA.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                                    Tensor* probs_out = nullptr);

}  // namespace gb
