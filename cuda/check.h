// Every CUDA/cuBLAS call and every launch is checked; failures throw gb::Error naming the call site.
#pragma once
#include <cuda_runtime.h>

#include "tensor/error.h"

#define GB_CUDA_CHECK(call)                                                                       \
  do {                                                                                            \
    cudaError_t err_ = (call);                                                                    \
    if (err_ != cudaSuccess) ::gb::fail("cuda: ", #call, " failed at ", __FILE__, ":", __LINE__, ": ", \
                                        cudaGetErrorString(err_));                                \
  } while (0)

#define GB_CUDA_CHECK_LAUNCH() GB_CUDA_CHECK(cudaGetLastError())
