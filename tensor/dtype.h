// Element types and devices. f32/f64 are the compute types on the CPU; i32/u8 hold labels and raw
// image data (no gradients); bf16/f16 exist as storage tags for the CUDA backend.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace gb {

enum class DType : uint8_t { F32, F64, I32, U8, BF16, F16 };
enum class Device : uint8_t { CPU, CUDA };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
const char* device_name(Device d);
inline bool is_floating(DType t) { return t == DType::F32 || t == DType::F64 || t == DType::BF16 || t == DType::F16; }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::F64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::I32; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::U8; };

}  // namespace gb
