#include "tensor/cpu/pool.h"

#include <algorithm>
#include <cmath>

#include "tensor/cpu/parallel.h"

namespace gb::cpu {

template <class T>
void max_pool_forward(const PoolGeom& g, const T* x, T* y, int32_t* idx) {
  const int64_t IS = g.in_size(), OS = g.out_size();
  parallel_for(g.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(IS, 1)), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const T* xp = x + p * IS;  // [D, H, W]
      T* yp = y + p * OS;        // [OD, OH, OW]
      int32_t* ip = idx + p * OS;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const int64_t d0 = od * g.stride[0] - g.pad[0];
        const int64_t dlo = std::max<int64_t>(d0, 0), dhi = std::min(d0 + g.k[0], g.in[0]);
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          const int64_t h0 = oh * g.stride[1] - g.pad[1];
          const int64_t hlo = std::max<int64_t>(h0, 0), hhi = std::min(h0 + g.k[1], g.in[1]);
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            const int64_t w0 = ow * g.stride[2] - g.pad[2];
            const int64_t wlo = std::max<int64_t>(w0, 0), whi = std::min(w0 + g.k[2], g.in[2]);
            // Windows always hold at least one real element (padding <= kernel / 2 is checked).
            int64_t best = (dlo * g.in[1] + hlo) * g.in[2] + wlo;
            T bv = xp[best];
            for (int64_t d = dlo; d < dhi; ++d)
              for (int64_t h = hlo; h < hhi; ++h)
                for (int64_t w = wlo; w < whi; ++w) {
                  const int64_t i = (d * g.in[1] + h) * g.in[2] + w;
                  const T v = xp[i];
                  if (v > bv || (std::isnan(v) && !std::isnan(bv))) {
                    bv = v;
                    best = i;
                  }
                }
            const int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
            yp[o] = bv;
            ip[o] = (int32_t)best;
          }
        }
      }
    }
  });
}

template <class T>
void max_pool_backward(const PoolGeom& g, const T* gy, const int32_t* idx, T* gx) {
  const int64_t IS = g.in_size(), OS = g.out_size();
  parallel_for(g.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(OS, 1)), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      T* gp = gx + p * IS;
      const T* gyp = gy + p * OS;
      const int32_t* ip = idx + p * OS;
      for (int64_t o = 0; o < OS; ++o) gp[ip[o]] += gyp[o];
    }
  });
}

template void max_pool_forward<float>(const PoolGeom&, const float*, float*, int32_t*);
template void max_pool_forward<double>(const PoolGeom&, const double*, double*, int32_t*);
template void max_pool_backward<float>(const PoolGeom&, const float*, const int32_t*, float*);
template void max_pool_backward<double>(const PoolGeom&, const double*, const int32_t*, double*);

}  // namespace gb::cpu
