// CUDA runtime glue: error checks, device discovery and the device allocator that tensor/'s
// Storage uses for Device::CUDA. Only compiled when nvcc is present (GLASSBOX_WITH_CUDA).
#pragma once
#include <string>

#include "tensor/caching_allocator.h"

namespace gb::cuda {

// Registers the CUDA allocator when a usable device exists. Returns false (and leaves the CPU as the
// only backend) when the driver or device is missing; `why` says which.
bool init(std::string* why = nullptr);
std::string device_description();  // "NVIDIA H200 (sm_90, 139 GiB)"

// The device allocator's figures (tensor/caching_allocator.h): bytes in use and reserved, their
// peaks, raw cudaMalloc calls and cache hits. reset_memory_peaks starts a new measurement;
// empty_cache gives cached blocks back to the driver.
DeviceMemoryStats memory_stats();
void reset_memory_peaks();
void empty_cache();

}  // namespace gb::cuda
