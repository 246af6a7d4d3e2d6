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
  b.why_not = "this build has no CUDA backend (nvcc was not found at configure time)";
#endif
  return b;
}

}  // namespace gb
