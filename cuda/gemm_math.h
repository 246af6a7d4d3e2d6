// The arithmetic of the CUDA gemm kernels (batched matrix products), plain C++ shared by the GPU
// (cuda/gemm.cu) and its CPU emulation (tests/harness/cuda_emu.h); see cuda/kernel_common.h.
//
// Our own plain kernel (no cuBLAS: the emulator must run every line): one item per C element, the K
// loop in order, accumulated in T as the CPU's reference gemm (tensor/cpu/gemm_ref.cpp) does, then
// c = acc (overwrite) or acc + c (accumulate, beta = 1). Batches are grouped by their C offset:
// when every batch writes its own C (the usual case) each group is one batch; when several batches
// write the same C (c_shared: the gradient of a broadcast operand) one item per distinct C element
// walks the group's batches in batch order, which is the CPU's order (it runs such batches serially).
// So no two items ever write the same element. Tiling / shared memory are the tuned variant's work.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

// C[oc[b] + m ldc + n] = sum_k op(A)[m, k] op(B)[k, n] (+ old value), for the batches b of one group.
// tab (device) holds, as doubles (exact integers below 2^53): oa [nb], ob [nb], oc [nb], then order [nb]
// (batch indices grouped by C offset, batch order within a group), then gstart [G + 1] (group g is
// order[gstart[g] .. gstart[g + 1])).
template <class T>
struct GemmItem {
  const T *A, *B;
  T* C;
  const double* tab;
  int64_t nb, M, N, K, lda, ldb, ldc;
  bool ta, tb, accumulate;
  GB_HD void operator()(int64_t i) const {
    const int64_t MN = M * N, g = i / MN, r = i % MN, m = r / N, n = r % N;
    const double *oa = tab, *ob = tab + nb, *oc = tab + 2 * nb, *order = tab + 3 * nb, *gstart = tab + 4 * nb;
    for (int64_t j = (int64_t)gstart[g]; j < (int64_t)gstart[g + 1]; ++j) {
      const int64_t b = (int64_t)order[j];
      const T* Ab = A + (int64_t)oa[b];
      const T* Bb = B + (int64_t)ob[b];
      T acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const T a = ta ? Ab[k * lda + m] : Ab[m * lda + k];
        const T bv = tb ? Bb[n * ldb + k] : Bb[k * ldb + n];
        acc += a * bv;
      }
      T& c = C[(int64_t)oc[b] + m * ldc + n];
      c = accumulate ? acc + c : acc;
    }
  }
};

template <class Launch>
void gemm_impl(const Launch& launch, const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) {
  const int64_t nb = (int64_t)g.oc.size();
  GB_CHECK((int64_t)g.oa.size() == nb && (int64_t)g.ob.size() == nb, "cuda gemm: ", g.oa.size(), " / ", g.ob.size(),
           " / ", nb, " batch offsets of A / B / C");
  if (nb == 0 || g.M == 0 || g.N == 0) return;
  // Group the batches by C offset (first appearance order; batch order inside a group). Without
  // c_shared the contract is that every batch has its own C, so each batch is its own group.
  std::vector<double> tab;
  tab.reserve((size_t)(5 * nb + 1));
  for (const auto* v : {&g.oa, &g.ob, &g.oc})
    for (int64_t o : *v) {
      GB_CHECK(o >= 0 && o < (int64_t(1) << 53), "cuda gemm: batch offset ", o, " out of range");
      tab.push_back((double)o);
    }
  std::vector<std::vector<int64_t>> groups;
  if (g.c_shared) {
    std::map<int64_t, size_t> group_of;
    for (int64_t i = 0; i < nb; ++i) {
      auto it = group_of.emplace(g.oc[(size_t)i], groups.size()).first;
      if (it->second == groups.size()) groups.emplace_back();
      groups[it->second].push_back(i);
    }
  } else {
    for (int64_t i = 0; i < nb; ++i) groups.push_back({i});
  }
  for (const auto& gr : groups)
    for (int64_t i : gr) tab.push_back((double)i);
  double start = 0;
  tab.push_back(start);
  for (const auto& gr : groups) tab.push_back(start += (double)gr.size());
  const Tensor dtab = Tensor::from_vector(tab, {(int64_t)tab.size()}).to(c.device());
  const int64_t G = (int64_t)groups.size();
  dispatch_float(c.dtype(), "gemm", [&](auto t) {
    using T = decltype(t);
    launch(G * g.M * g.N, GemmItem<T>{a.data<T>(), b.data<T>(), c.data<T>(), dtab.data<double>(), nb, g.M, g.N, g.K,
                                      g.lda, g.ldb, g.ldc, g.ta, g.tb, g.accumulate});
  });
}

}  // namespace gb::cuda
