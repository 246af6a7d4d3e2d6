#include "autograd/backends.h"

#ifdef GLASSBOX_WITH_CUDA
#include "cuda/runtime.h"
#endif

namespace gb {

BackendInfo init_backends() {
  BackendInfo b;
#ifdef GLASSBOX_WITH_CUDA
  b.cuda_built = true;
  b.cuda_available = cuda::init(&b.why_not);
  if (b.cuda_available) b.cuda_device = cuda::device_description();
#else
  b.why_not = "this build has no CUDA backend (configured without it: no nvcc, or GLASSBOX_CUDA=OFF)";
#endif
  return b;
}

}  // namespace gb
