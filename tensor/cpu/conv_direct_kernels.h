// Kernel templates of the direct convolution (conv_direct.h has the scheme and the argument
// contracts). Include only from a file compiled for one instruction set, with an Isa type local to
// that file (anonymous namespace), so every instantiation stays private to that file and carries
// its instructions (as gemm_driver.h).
//
// Isa provides: T (element), V (vector of L elements), L, kRegs (vector registers), and
//   zero(), set1(T), loadu(p), load_n(p, n) (lanes >= n read as 0, nothing past p + n touched),
//   storeu(p, v), store_n(p, v, n) (lanes < n only), fma(a, b, c) = a * b + c, add(a, b), and
//   pin(v): keeps v in a register (an empty asm), so a value used by several FMAs is loaded once
//   rather than folded into each FMA as a memory operand (GCC's choice, which made the weight
//   gradient load-bound: 27 loads per 24 FMAs instead of 11).
//
// Register blocking. Forward / input gradient: OB x NV accumulators (OB output channels, NV vectors
// along one output row, or NV rows of a narrow map), NV input vectors, one broadcast weight:
// OB * NV + NV + 1 <= kRegs - 1 (AVX-512, OB = 8: 8 x 3; OB = 3: 3 x 7). Weight gradient: OB x NT
// accumulators (OB output channels, NT taps), NT input vectors, one gy vector:
// OB * NT + NT + 1 <= kRegs - 2 (AVX-512, OB = 8: 8 x 3; OB = 2: 2 x 9). The spare registers are
// for the compiler (a temporary, the masked tail).
#pragma once
#include <cstdint>

#include "tensor/cpu/conv_direct.h"

namespace gb::cpu::conv_direct_detail {

constexpr int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
// Vectors per output-row tile for a block of OB channels (at most 8: 128 columns in AVX-512).
constexpr int nv_max(int regs, int ob) { return clamp_int((regs - 2) / (ob + 1), 1, 8); }
// Taps per weight-gradient group (at most 9: a whole 3x3 kernel when OB is small).
constexpr int nt_max(int regs, int ob) { return clamp_int((regs - 3) / (ob + 1), 1, 9); }

template <class Isa>
struct Direct {
  using T = typename Isa::T;
  using V = typename Isa::V;
  static constexpr int L = Isa::L;

  // ------------------------------------------------------------ forward / input gradient
  // One register tile: NV vectors, vector v at in + v * vin / out + v * vout with n[v] valid lanes
  // (nmid for all but the last, nlast for the last). Along a row: vin = vout = L; down the rows
  // (OW <= L): vin = in_rstride, vout = OW, every vector OW lanes.
  template <int OB, int NV>
  static void tile(const DirectRowArgs<T>& a, const T* in, T* out, int64_t vin, int64_t vout, int nmid, int nlast) {
    V acc[OB][NV];
#pragma GCC unroll 8
    for (int ob = 0; ob < OB; ++ob) {
      const V b = a.bias ? Isa::set1(a.bias[ob]) : Isa::zero();
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[ob][v] = b;
    }
    const T* wp = a.wp;
    const int nt = a.ntaps;
    for (int64_t c = 0; c < a.C; ++c, in += a.in_cstride)
      for (int t = 0; t < nt; ++t, wp += OB) {
        const T* p = in + a.toff[t];
        V xv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) xv[v] = Isa::loadu(p + v * vin);
#pragma GCC unroll 8
        for (int ob = 0; ob < OB; ++ob) {
          const V wv = Isa::set1(wp[ob]);
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[ob][v] = Isa::fma(wv, xv[v], acc[ob][v]);
        }
      }
#pragma GCC unroll 8
    for (int ob = 0; ob < OB; ++ob) {
      T* o = out + ob * a.out_cstride;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        const int n = v == NV - 1 ? nlast : nmid;
        V r = acc[ob][v];
        if (a.accumulate)  // out + sum, as the reference's +=
          r = Isa::add(n == L ? Isa::loadu(o + v * vout) : Isa::load_n(o + v * vout, n), r);
        if (n == L)
          Isa::storeu(o + v * vout, r);
        else
          Isa::store_n(o + v * vout, r, n);
      }
    }
  }

  // A tile of nv <= NV vectors (the remainder of a row or of the rows).
  template <int OB, int NV>
  static void tail(const DirectRowArgs<T>& a, const T* in, T* out, int64_t vin, int64_t vout, int nv, int nmid,
                   int nlast) {
    if constexpr (NV > 1) {
      if (nv < NV) return tail<OB, NV - 1>(a, in, out, vin, vout, nv, nmid, nlast);
    }
    tile<OB, NV>(a, in, out, vin, vout, nmid, nlast);
  }

  // n vectors in ceil(n / NVM) tiles as even as possible (8 vectors at NVM = 7: 4 + 4, not 7 + 1):
  // calls f(first vector, vectors in this tile).
  template <int NVM, class F>
  static void even_tiles(int64_t n, F&& f) {
    const int64_t tiles = (n + NVM - 1) / NVM, base = n / tiles, extra = n % tiles;
    for (int64_t k = 0, v0 = 0; k < tiles; ++k) {
      const int64_t nv = base + (k < extra ? 1 : 0);
      f(v0, (int)nv);
      v0 += nv;
    }
  }

  template <int OB>
  static void row_ob(const DirectRowArgs<T>& a) {
    constexpr int NVM = nv_max(Isa::kRegs, OB);
    if (a.OW <= L) {  // a row fits one vector: tiles of up to NVM rows
      const int n = (int)a.OW;
      even_tiles<NVM>(a.rows, [&](int64_t r, int nv) {
        tail<OB, NVM>(a, a.in + r * a.in_rstride, a.out + r * a.OW, a.in_rstride, a.OW, nv, n, n);
      });
      return;
    }
    // Each row: tiles of up to NVM vectors; the row's last vector holds nlast columns.
    const int64_t nvec = (a.OW + L - 1) / L;
    const int nlast = (int)(a.OW - (nvec - 1) * L);
    for (int64_t r = 0; r < a.rows; ++r) {
      const T* in = a.in + r * a.in_rstride;
      T* out = a.out + r * a.OW;
      even_tiles<NVM>(nvec, [&](int64_t v0, int nv) {
        tail<OB, NVM>(a, in + v0 * L, out + v0 * L, L, L, nv, L, v0 + nv == nvec ? nlast : L);
      });
    }
  }

  static void row(const DirectRowArgs<T>& a) {
    switch (a.OB) {
      case 1: return row_ob<1>(a);
      case 2: return row_ob<2>(a);
      case 3: return row_ob<3>(a);
      case 4: return row_ob<4>(a);
      case 5: return row_ob<5>(a);
      case 6: return row_ob<6>(a);
      case 7: return row_ob<7>(a);
      case 8: return row_ob<8>(a);
      default: return;
    }
  }

  // ------------------------------------------------------------ weight gradient
  template <int OB, int NT>
  static void gw_tile(const DirectGwArgs<T>& a) {
    V s[OB][NT];
#pragma GCC unroll 8
    for (int ob = 0; ob < OB; ++ob)
#pragma GCC unroll 9
      for (int t = 0; t < NT; ++t) s[ob][t] = Isa::loadu(a.acc + (ob * NT + t) * L);
    int64_t toff[NT];
#pragma GCC unroll 9
    for (int t = 0; t < NT; ++t) toff[t] = a.toff[t];
    const int64_t OW = a.OW, full = OW - OW % L;
    for (int64_t i = 0; i < a.images; ++i) {
      for (int64_t r = 0; r < a.rows; ++r) {
        const T* xr = a.x + i * a.x_nstride + r * a.x_rstride;
        const T* gr = a.gy + i * a.gy_nstride + r * a.gy_rstride;
        for (int64_t ow = 0; ow < full; ow += L) {
          V xv[NT];
#pragma GCC unroll 9
          for (int t = 0; t < NT; ++t) xv[t] = Isa::loadu(xr + toff[t] + ow);
#pragma GCC unroll 8
          for (int ob = 0; ob < OB; ++ob) {
            V g = Isa::loadu(gr + ob * a.gy_cstride + ow);
          Isa::pin(g);
#pragma GCC unroll 9
            for (int t = 0; t < NT; ++t) s[ob][t] = Isa::fma(g, xv[t], s[ob][t]);
          }
        }
        if (full < OW) {  // the row's last partial vector: both operands masked (no 0 * inf = NaN)
          const int n = (int)(OW - full);
          V xv[NT];
#pragma GCC unroll 9
          for (int t = 0; t < NT; ++t) xv[t] = Isa::load_n(xr + toff[t] + full, n);
#pragma GCC unroll 8
          for (int ob = 0; ob < OB; ++ob) {
            V g = Isa::load_n(gr + ob * a.gy_cstride + full, n);
            Isa::pin(g);
#pragma GCC unroll 9
            for (int t = 0; t < NT; ++t) s[ob][t] = Isa::fma(g, xv[t], s[ob][t]);
          }
        }
      }
    }
#pragma GCC unroll 8
    for (int ob = 0; ob < OB; ++ob)
#pragma GCC unroll 9
      for (int t = 0; t < NT; ++t) Isa::storeu(a.acc + (ob * NT + t) * L, s[ob][t]);
  }

  template <int OB, int NT>
  static void gw_nt(const DirectGwArgs<T>& a) {
    if constexpr (NT > 1) {
      if (a.nt < NT) return gw_nt<OB, NT - 1>(a);
    }
    gw_tile<OB, NT>(a);
  }

  static void gw(const DirectGwArgs<T>& a) {
    switch (a.OB) {
      case 1: return gw_nt<1, nt_max(Isa::kRegs, 1)>(a);
      case 2: return gw_nt<2, nt_max(Isa::kRegs, 2)>(a);
      case 3: return gw_nt<3, nt_max(Isa::kRegs, 3)>(a);
      case 4: return gw_nt<4, nt_max(Isa::kRegs, 4)>(a);
      case 5: return gw_nt<5, nt_max(Isa::kRegs, 5)>(a);
      case 6: return gw_nt<6, nt_max(Isa::kRegs, 6)>(a);
      case 7: return gw_nt<7, nt_max(Isa::kRegs, 7)>(a);
      case 8: return gw_nt<8, nt_max(Isa::kRegs, 8)>(a);
      default: return;
    }
  }

  static DirectKernels<T> kernels(const char* name, int ob_max) {
    DirectKernels<T> k{};
    k.name = name;
    k.lanes = L;
    k.ob_max = ob_max;
    k.nv_max[0] = k.nt_max[0] = 1;
    for (int ob = 1; ob <= 8; ++ob) {
      k.nv_max[ob] = nv_max(Isa::kRegs, ob);
      k.nt_max[ob] = nt_max(Isa::kRegs, ob);
    }
    k.row = &row;
    k.gw = &gw;
    return k;
  }
};

}  // namespace gb::cpu::conv_direct_detail
