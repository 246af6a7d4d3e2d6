// Runs a templated body with `T` bound to the C++ type of a floating dtype.
//   GB_DISPATCH_FLOAT(x.dtype(), "conv2d", { cpu::conv2d_forward<T>(...); });
#pragma once
#include "tensor/dtype.h"
#include "tensor/error.h"

#define GB_DISPATCH_FLOAT(dtype, op, ...)                                                  \
  do {                                                                                     \
    switch (dtype) {                                                                       \
      case ::gb::DType::F32: { using T = float; __VA_ARGS__; break; }                      \
      case ::gb::DType::F64: { using T = double; __VA_ARGS__; break; }                     \
      default: ::gb::fail(op, ": unsupported dtype ", ::gb::dtype_name(dtype), " (f32 or f64 only)"); \
    }                                                                                      \
  } while (0)

#define GB_DISPATCH_ALL(dtype, op, ...)                                                    \
  do {                                                                                     \
    switch (dtype) {                                                                       \
      case ::gb::DType::F32: { using T = float; __VA_ARGS__; break; }                      \
      case ::gb::DType::F64: { using T = double; __VA_ARGS__; break; }                     \
      case ::gb::DType::I32: { using T = int32_t; __VA_ARGS__; break; }                    \
      case ::gb::DType::U8: { using T = uint8_t; __VA_ARGS__; break; }                     \
      default: ::gb::fail(op, ": unsupported dtype ", ::gb::dtype_name(dtype));            \
    }                                                                                      \
  } while (0)
