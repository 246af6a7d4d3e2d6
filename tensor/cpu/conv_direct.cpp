// Direct convolution driver (conv_direct.h has the scheme): which shapes take it, the padded
// copies ("slabs"), weight packing, threads, and the portable kernels.
//
// Threads and determinism. Forward and input gradient: tasks are (image, block of output rows);
// each output element is one kernel accumulation over (input channel, tap) in ascending order,
// whatever task it falls in, so the row-block size may depend on the thread count. Weight
// gradient: tasks are contiguous runs of (output-channel block, input channel); every gw element
// belongs to one task, and its lane partial sums run over images, row blocks (a shape-only size),
// rows and columns in that order, then the lanes are added in double in lane order. So all three
// passes are bitwise identical for any thread count.
#include "tensor/cpu/conv_direct.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <vector>

#include "tensor/cpu/conv.h"
#include "tensor/cpu/conv_direct_kernels.h"
#include "tensor/cpu/gemm_kernels.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {

thread_local ConvAlgo t_algo = ConvAlgo::Auto;  // per calling thread, as the reference-kernel switch
std::atomic<int64_t> g_count_fwd{0}, g_count_gx{0}, g_count_gw{0};

// A forward / input-gradient task copies at most about this many slab elements (256 KiB of f32): the
// slab stays in L2 while every output-channel block sweeps it.
constexpr int64_t kSlabElems = 64 * 1024;
// Weight gradient: gy rows of one block are re-read for every input channel and tap group of a
// row block, so a row block holds at most this many gy elements (32 KiB of f32, L1-L2).
constexpr int64_t kGyBlockElems = 8 * 1024;
// Weight gradient: lane sums of the input channels processed together (256 KiB of f32, L2). More
// channels than fit are done in chunks, each re-reading gy.
constexpr int64_t kAccElems = 64 * 1024;

// ---------------------------------------------------------------- portable kernels
// Plain arrays the compiler vectorises with the baseline instruction set (SSE2): f64 everywhere and
// f32 on CPUs without AVX2. "fma" rounds twice here; results still do not depend on threads.
template <class U>
struct Portable {
  using T = U;
  struct V {
    U v[4];
  };
  static constexpr int L = 4, kRegs = 16;
  static V zero() { return set1(U(0)); }
  static V set1(U x) {
    V r;
    for (int i = 0; i < L; ++i) r.v[i] = x;
    return r;
  }
  static V loadu(const U* p) {
    V r;
    for (int i = 0; i < L; ++i) r.v[i] = p[i];
    return r;
  }
  static V load_n(const U* p, int n) {
    V r;
    for (int i = 0; i < L; ++i) r.v[i] = i < n ? p[i] : U(0);
    return r;
  }
  static void storeu(U* p, V v) {
    for (int i = 0; i < L; ++i) p[i] = v.v[i];
  }
  static void store_n(U* p, V v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v.v[i];
  }
  static V fma(V a, V b, V c) {
    V r;
    for (int i = 0; i < L; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  }
  static void pin(V&) {}
  static V add(V a, V b) {
    V r;
    for (int i = 0; i < L; ++i) r.v[i] = a.v[i] + b.v[i];
    return r;
  }
};

template <class T>
const DirectKernels<T>& kernels_for() {
  if constexpr (std::is_same_v<T, float>) {
    switch (gemm_path_resolved()) {
      case GemmPath::AVX512: return direct_kernels_avx512();
      case GemmPath::AVX2: return direct_kernels_avx2();
      default: break;
    }
  } else {
    switch (gemm_path_resolved()) {
      case GemmPath::AVX512: return direct_kernels_avx512_f64();
      case GemmPath::AVX2: return direct_kernels_avx2_f64();
      default: break;
    }
  }
  return direct_kernels_portable<T>();
}

// Scratch: the conv paths' shared per-thread slots (conv_scratch, conv.h), here slot 0 the forward
// slab (each worker's own), 1 the gw lane sums (each worker's own), 2 the padded x (the caller's,
// read by all workers).

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// One 2-D pass: input [N, Ci, H, W] -> output [N, Co, OH, OW], kernel [Co, Ci, KH, KW].
struct Pass2d {
  int64_t N, Ci, Co, H, W, KH, KW, sh, sw, dh, dw, ph, pw, OH, OW;
  int64_t taps() const { return KH * KW; }
  int64_t span_h() const { return (KH - 1) * dh + 1; }  // padded rows one output row reads
};

Pass2d forward_pass(const ConvGeom& g) {
  Pass2d p{};
  p.N = g.N, p.Ci = g.C, p.Co = g.O;
  p.H = g.in[1], p.W = g.in[2], p.KH = g.k[1], p.KW = g.k[2];
  p.sh = g.stride[1], p.sw = g.stride[2], p.dh = g.dil[1], p.dw = g.dil[2], p.ph = g.pad[1], p.pw = g.pad[2];
  p.OH = g.out[1], p.OW = g.out[2];
  return p;
}

// The input gradient of a stride-1 conv as a conv of gy: channels swapped, padding dil*(k-1) - pad,
// output = the input's size (weights are transposed and flipped when packed).
Pass2d grad_input_pass(const ConvGeom& g) {
  Pass2d p = forward_pass(g);
  std::swap(p.Ci, p.Co);
  std::swap(p.H, p.OH);
  std::swap(p.W, p.OW);
  p.ph = g.dil[1] * (g.k[1] - 1) - g.pad[1];
  p.pw = g.dil[2] * (g.k[2] - 1) - g.pad[2];
  return p;  // stride 1 (conv_direct_supported)
}

// Slab [Ci][SW][HS][WQ] (conv_direct.h). WQ covers the padded row and, for the largest tap
// offset, a whole number of vectors past the last output column, so kernels read whole vectors.
struct Slab {
  int64_t SW, HS, WQ;
  int64_t cstride() const { return SW * HS * WQ; }
};

Slab slab_layout(const Pass2d& p, int64_t rows, int lanes) {
  const int64_t Wp = p.W + 2 * p.pw, qmax = p.dw * (p.KW - 1) / p.sw;
  return Slab{p.sw, rows, std::max(ceil_div(Wp, p.sw), qmax + ceil_div(p.OW, lanes) * lanes)};
}

// Tap t = kh * KW + kw of an output row starting at slab row 0: phase (kw dw) % SW, row kh dh,
// q (kw dw) / SW.
std::vector<int64_t> tap_offsets(const Pass2d& p, const Slab& s) {
  std::vector<int64_t> off((size_t)p.taps());
  for (int64_t kh = 0; kh < p.KH; ++kh)
    for (int64_t kw = 0; kw < p.KW; ++kw) {
      const int64_t j = kw * p.dw;
      off[(size_t)(kh * p.KW + kw)] = ((j % p.sw) * s.HS + kh * p.dh) * s.WQ + j / p.sw;
    }
  return off;
}

// Padded rows [pr0, pr0 + nrows) of channels [c0, c1) of one image img [Ci, H, W] into slab
// (channel c at slab + c * cstride); zeros outside the input.
template <class T>
void fill_slab(const Pass2d& p, const Slab& s, const T* img, int64_t pr0, int64_t nrows, int64_t c0, int64_t c1,
               T* slab) {
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t ph = 0; ph < s.SW; ++ph)
      for (int64_t r = 0; r < nrows; ++r) {
        T* dst = slab + c * s.cstride() + (ph * s.HS + r) * s.WQ;
        const int64_t ih = pr0 + r - p.ph;
        if (ih < 0 || ih >= p.H) {
          std::fill(dst, dst + s.WQ, T(0));
          continue;
        }
        const T* src = img + (c * p.H + ih) * p.W;
        if (s.SW == 1) {  // [pw zeros][W values][zeros to WQ]
          std::fill(dst, dst + p.pw, T(0));
          std::memcpy(dst + p.pw, src, sizeof(T) * (size_t)p.W);
          std::fill(dst + p.pw + p.W, dst + s.WQ, T(0));
        } else {
          for (int64_t q = 0; q < s.WQ; ++q) {
            const int64_t iw = q * s.SW + ph - p.pw;
            dst[q] = iw >= 0 && iw < p.W ? src[iw] : T(0);
          }
        }
      }
}

// Output channels in blocks of at most ob_max, as even as possible (3 -> 3; 16 -> 8 + 8; 12 -> 6 + 6).
std::vector<int64_t> channel_blocks(int64_t Co, int ob_max) {
  const int64_t nb = ceil_div(Co, ob_max);
  std::vector<int64_t> start((size_t)nb + 1);
  for (int64_t b = 0; b <= nb; ++b) start[(size_t)b] = Co * b / nb;
  return start;
}

// Weights packed per block as [Ci][taps][OBb] (the broadcasts of one tap are adjacent). Forward:
// w is [Co, Ci, taps]. Input gradient (flip): w is the conv's [Ci, Co, taps] (pass channels swapped)
// and tap t reads the conv's tap taps - 1 - t.
template <class T>
std::vector<T> pack_weights(const Pass2d& p, const std::vector<int64_t>& blk, const T* w, bool flip) {
  const int64_t taps = p.taps();
  std::vector<T> wp((size_t)(p.Co * p.Ci * taps));
  for (size_t b = 0; b + 1 < blk.size(); ++b) {
    const int64_t o0 = blk[b], ob_n = blk[b + 1] - o0;
    T* d = wp.data() + o0 * p.Ci * taps;
    for (int64_t c = 0; c < p.Ci; ++c)
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t ob = 0; ob < ob_n; ++ob)
          d[(c * taps + t) * ob_n + ob] = flip ? w[(c * p.Co + o0 + ob) * taps + (taps - 1 - t)]
                                               : w[((o0 + ob) * p.Ci + c) * taps + t];
  }
  return wp;
}

// Forward-style pass (forward, or input gradient with accumulate): threads over (image, row block).
template <class T>
void run_rows(const Pass2d& p, const T* in, const T* w, bool flip, const T* bias, T* out, bool accumulate) {
  const DirectKernels<T>& K = kernels_for<T>();
  const std::vector<int64_t> blk = channel_blocks(p.Co, K.ob_max);
  const std::vector<T> wp = pack_weights(p, blk, w, flip);
  // Rows per task: the slab within kSlabElems, and at least ~2 tasks per thread when images are few.
  // When a row fits one vector the kernel tiles rows, so R is then a multiple of the tile height.
  const int64_t row_elems = p.Ci * slab_layout(p, 1, K.lanes).cstride();
  int64_t R = std::clamp<int64_t>((kSlabElems / std::max<int64_t>(row_elems, 1) - p.span_h()) / p.sh + 1, 1, p.OH);
  const int64_t want = 2 * (int64_t)num_threads();
  if (p.N * ceil_div(p.OH, R) < want) R = std::max<int64_t>(1, ceil_div(p.OH, ceil_div(want, p.N)));
  if (p.OW <= K.lanes) {
    const int64_t tile_rows = K.nv_max[blk[1] - blk[0]];
    R = std::min(p.OH, ceil_div(R, tile_rows) * tile_rows);
  }
  const Slab s = slab_layout(p, (R - 1) * p.sh + p.span_h(), K.lanes);
  const std::vector<int64_t> toff = tap_offsets(p, s);
  const int64_t nrb = ceil_div(p.OH, R), OS = p.OH * p.OW, taps = p.taps();
  parallel_for(p.N * nrb, 1, [&](int64_t tb, int64_t te) {
    T* slab = conv_scratch<T>(0, p.Ci * s.cstride());
    for (int64_t task = tb; task < te; ++task) {
      const int64_t n = task / nrb, r0 = (task % nrb) * R, r1 = std::min(p.OH, r0 + R);
      fill_slab(p, s, in + n * p.Ci * p.H * p.W, r0 * p.sh, (r1 - 1 - r0) * p.sh + p.span_h(), 0, p.Ci, slab);
      for (size_t b = 0; b + 1 < blk.size(); ++b) {
        const int64_t o0 = blk[b];
        DirectRowArgs<T> a{};
        a.in = slab;
        a.in_cstride = s.cstride();
        a.in_rstride = p.sh * s.WQ;
        a.toff = toff.data();
        a.ntaps = (int)taps;
        a.C = p.Ci;
        a.wp = wp.data() + o0 * p.Ci * taps;
        a.bias = bias ? bias + o0 : nullptr;
        a.out = out + (n * p.Co + o0) * OS + r0 * p.OW;
        a.out_cstride = OS;
        a.rows = r1 - r0;
        a.OW = p.OW;
        a.OB = (int)(blk[b + 1] - o0);
        a.accumulate = accumulate;
        K.row(a);
      }
    }
  });
}

// Weight gradient of output channels [o0, o0 + OB) x input channels [c0, c1): see the file comment
// for the summation order. The gy rows of a block (a few rows, or whole images when they are small)
// are re-read from L1/L2 for every input channel and tap group; the lane sums of a chunk of input
// channels stay in L2 while the blocks go by.
template <class T>
void gw_block(const DirectKernels<T>& K, const Pass2d& p, const Slab& s, const std::vector<int64_t>& toff,
              const T* xpad, const T* gy, int64_t o0, int OB, int64_t c0, int64_t c1, T* gw) {
  const int L = K.lanes;
  const int64_t taps = p.taps(), OS = p.OH * p.OW;
  // Taps in ng groups of at most nt_max[OB], as even as possible; group k is [tg(k), tg(k + 1)).
  const int64_t ng = ceil_div(taps, K.nt_max[OB]);
  auto tg = [&](int64_t k) { return taps * k / ng; };
  // A block is RB rows of one image, or IB whole images when an image has at most RB rows. Both
  // depend on the shape only (the summation order of a gw element follows the blocks).
  const int64_t RB = std::max<int64_t>(1, kGyBlockElems / (OB * p.OW));
  const int64_t IB = p.OH <= RB ? std::max<int64_t>(1, RB / p.OH) : 1, rows = std::min(RB, p.OH);
  // Lane sums of a chunk of CC input channels: [c][taps][OB][L], group k's [OB][nt][L] at tap tg(k).
  const int64_t per_c = taps * OB * L, CC = std::max<int64_t>(1, kAccElems / per_c);
  T* acc = conv_scratch<T>(1, std::min(CC, c1 - c0) * per_c);
  DirectGwArgs<T> a{};
  a.x_nstride = p.Ci * s.cstride();
  a.x_rstride = p.sh * s.WQ;
  a.gy_nstride = p.Co * OS;
  a.gy_cstride = OS;
  a.gy_rstride = p.OW;
  a.OW = p.OW;
  a.OB = OB;
  for (int64_t cc0 = c0; cc0 < c1; cc0 += CC) {
    const int64_t cc1 = std::min(c1, cc0 + CC);
    std::fill(acc, acc + (cc1 - cc0) * per_c, T(0));
    for (int64_t n = 0; n < p.N; n += IB)
      for (int64_t r0 = 0; r0 < p.OH; r0 += rows) {
        a.images = std::min(IB, p.N - n);
        a.rows = std::min(rows, p.OH - r0);
        a.gy = gy + (n * p.Co + o0) * OS + r0 * p.OW;
        for (int64_t c = cc0; c < cc1; ++c) {
          a.x = xpad + (n * p.Ci + c) * s.cstride() + r0 * p.sh * s.WQ;
          for (int64_t k = 0; k < ng; ++k) {
            a.toff = toff.data() + tg(k);
            a.nt = (int)(tg(k + 1) - tg(k));
            a.acc = acc + (c - cc0) * per_c + tg(k) * OB * L;
            K.gw(a);
          }
        }
      }
    for (int64_t c = cc0; c < cc1; ++c)
      for (int64_t k = 0; k < ng; ++k) {
        const int64_t nt = tg(k + 1) - tg(k);
        const T* ak = acc + (c - cc0) * per_c + tg(k) * OB * L;
        for (int64_t ob = 0; ob < OB; ++ob)
          for (int64_t t = 0; t < nt; ++t) {
            double sum = 0;
            for (int l = 0; l < L; ++l) sum += (double)ak[(ob * nt + t) * L + l];
            gw[((o0 + ob) * p.Ci + c) * taps + tg(k) + t] += (T)sum;
          }
      }
  }
}

}  // namespace

// ---------------------------------------------------------------- which shapes take the direct path
void set_conv_algo(ConvAlgo a) { t_algo = a; }
ConvAlgo conv_algo() { return t_algo; }

bool conv_direct_supported(const ConvGeom& g, ConvPass pass) {
  // 2-D (depth 1, no depth padding), one group.
  if (g.in[0] != 1 || g.k[0] != 1 || g.out[0] != 1 || g.groups != 1) return false;
  if (pass == ConvPass::GradInput)  // a strided conv's input gradient is a transposed conv: not here
    for (int d = 1; d < 3; ++d)
      if (g.stride[d] != 1 || g.pad[d] > g.dil[d] * (g.k[d] - 1)) return false;
  return true;
}

// The shape rule: direct vs vol2col + gemm per pass, from paired timings of both on the same
// operands (bench_conv algo/; bench/RESULTS.md "Direct convolution": 2-core AVX-512 machine, quiet).
// Ratios below are vol2col + gemm time / direct time: > 1 means direct is faster.
//   Forward: direct unless C * KH * KW > 4608. Each register tile re-reads its block's weights
//     (C * KH * KW * OB floats) from L2; beyond ~4.6K (C > 512 at 3x3) the GEMM, which blocks K,
//     catches up (1024 -> 256 at 28x28: 1.02, 768 -> 512 at 14x14: 0.81); below it direct wins or
//     ties (512 -> 128: 1.31, 256 -> 256 at 14x14: 1.00, 192 -> 64: 1.65-1.94, the tiny config's
//     decoder / head / root convs with O = 3..32: 2-7.5).
//   Input gradient: direct when O <= 128. vol2col + gemm computes gcol = w^T gy with K = O: at small
//     O that is memory-bound (it writes C*KH*KW x OH*OW floats, then col2vol scatters them); at
//     O >= 256 the GEMM runs at 130-150 GFLOP/s and wins (256 -> 256: 0.73, 1024 -> 256: 0.93,
//     768 -> 512: 0.63); O = 128: 1.13, O <= 64: 1.1-6.9.
//   Weight gradient: direct when a row holds at least one full vector (OW >= L) and O <= 32, or,
//     with AVX-512, O <= 64 on maps at least 2L wide. gw = gy col^T has M = O, so the GEMM's 14-row
//     tile wastes most of its work at small O: direct wins 1.5-6 at O <= 32; at O = 64 it wins on
//     wide maps (56: 1.11, 112: 1.49-1.86) but not at 16 wide (0.89-1.13); at O >= 128 the GEMM
//     wins (1.00, 0.64, 0.35). Narrow maps waste lanes (8x8: 0.64-1.11). The AVX2 kernels have half
//     the registers (blocks of 6 channels x 1 tap), so there O = 64 stays on the GEMM (0.71-0.75 at
//     16 and 56 wide) while O <= 32 still wins (1.2-4.9). A 1x1 conv has no vol2col: its gw is the
//     GEMM [O x C] over K = OH*OW, which only wastes its 32-wide tile when C is small, so direct
//     there needs C <= 16 (16 -> 16: 1.2-1.5, 16 -> 64: 1.3-1.8; 64 -> 32: 0.7-1.0).
//   The AVX2 forward and input-gradient ratios fall on the same sides of these lines (AVX2 run in
//   RESULTS.md). L is the f32 kernels' vector width (16 with AVX-512, 8 with AVX2, 4 portable), used
//   for f64 too, so both types take the same path and the f64 gradient checks cover what f32 runs.
bool conv_use_direct(const ConvGeom& g, ConvPass pass) {
  switch (t_algo) {
    case ConvAlgo::Im2col:
    case ConvAlgo::Winograd: return false;
    case ConvAlgo::Direct: return conv_direct_supported(g, pass);
    case ConvAlgo::Auto: break;
  }
  if (!conv_direct_supported(g, pass)) return false;
  const int64_t taps = g.k[1] * g.k[2], L = kernels_for<float>().lanes, OW = g.out[2];
  // Per image, vol2col + GEMM is a GEMM of M = O rows, N = output pixels, K = C * taps: it wins when
  // all three are large (ResNet's 1x1 convs on 14x14..56x56 maps, 256-channel 3x3 on small maps),
  // the direct kernels win at few output channels or few pixels (measured on 2 cores, AVX-512:
  // bench/RESULTS.md, "Direct convolution: the shape rule at R50's shapes").
  const int64_t OS = g.out[0] * g.out[1] * g.out[2];
  // Never a function of the batch size N: a sample must get the same bits alone as in a batch
  // (batched Integrated Gradients equals unbatched bit for bit).
  const bool pointwise_gemm = taps == 1 && (g.O > 64 || OS > 256);
  const bool gemm_shaped = taps == 1 ? pointwise_gemm : (g.O >= 256 && OS <= 784);
  switch (pass) {
    case ConvPass::Forward: return g.C * taps <= 4608 && !gemm_shaped;
    case ConvPass::GradInput: return g.O <= 128 && !pointwise_gemm;
    case ConvPass::GradWeight:
      if (OW < L) return false;
      if (taps == 1) return g.C <= 16 && g.O <= 64;
      return g.O <= 32 || (L >= 16 && g.O <= 64 && OW >= 2 * L);
  }
  return false;
}

ConvDirectCounts conv_direct_counts() { return {g_count_fwd.load(), g_count_gx.load(), g_count_gw.load()}; }
void reset_conv_direct_counts() {
  g_count_fwd = 0;
  g_count_gx = 0;
  g_count_gw = 0;
}

template <class T>
const DirectKernels<T>& direct_kernels_portable() {
  static const DirectKernels<T> k = conv_direct_detail::Direct<Portable<T>>::kernels("portable", 4);
  return k;
}

template <class T>
void conv_direct_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  g_count_fwd.fetch_add(1, std::memory_order_relaxed);
  run_rows(forward_pass(g), x, w, false, bias, y, false);
}

template <class T>
void conv_direct_grad_input(const ConvGeom& g, const T* w, const T* gy, T* gx) {
  g_count_gx.fetch_add(1, std::memory_order_relaxed);
  run_rows(grad_input_pass(g), gy, w, true, (const T*)nullptr, gx, true);
}

template <class T>
void conv_direct_grad_weight(const ConvGeom& g, const T* x, const T* gy, T* gw) {
  g_count_gw.fetch_add(1, std::memory_order_relaxed);
  const DirectKernels<T>& K = kernels_for<T>();
  const Pass2d p = forward_pass(g);
  // The whole padded x [N][Ci][slab], shared read-only by the tasks.
  const Slab s = slab_layout(p, (p.OH - 1) * p.sh + p.span_h(), K.lanes);
  const std::vector<int64_t> toff = tap_offsets(p, s);
  T* xpad = conv_scratch<T>(2, p.N * p.Ci * s.cstride());
  parallel_for(p.N * p.Ci, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t n = i / p.Ci, c = i % p.Ci;
      fill_slab(p, s, x + n * p.Ci * p.H * p.W, 0, s.HS, c, c + 1, xpad + n * p.Ci * s.cstride());
    }
  });
  const std::vector<int64_t> blk = channel_blocks(p.Co, K.ob_max);
  const int64_t nob = (int64_t)blk.size() - 1;
  parallel_for(nob * p.Ci, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e;) {
      // A run of input channels [c0, c1) of one output-channel block.
      const int64_t bi = i / p.Ci, c0 = i % p.Ci, c1 = std::min(p.Ci, c0 + (e - i));
      i += c1 - c0;
      gw_block(K, p, s, toff, xpad, gy, blk[(size_t)bi], (int)(blk[(size_t)bi + 1] - blk[(size_t)bi]), c0, c1, gw);
    }
  });
}

#define GB_CONV_DIRECT_INST(T)                                                                      \
  template const DirectKernels<T>& direct_kernels_portable<T>();                                    \
  template void conv_direct_forward<T>(const ConvGeom&, const T*, const T*, const T*, T*);          \
  template void conv_direct_grad_input<T>(const ConvGeom&, const T*, const T*, T*);                 \
  template void conv_direct_grad_weight<T>(const ConvGeom&, const T*, const T*, T*);
GB_CONV_DIRECT_INST(float)
GB_CONV_DIRECT_INST(double)

}  // namespace gb::cpu
