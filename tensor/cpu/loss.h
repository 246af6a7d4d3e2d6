// Loss kernels (CPU reference): cross-entropy and TransUNet's soft Dice over logits [N, C, S]
// (S = product of the spatial dims, 1 when none) with i32 labels [N, S]. Labels are validated by
// the caller (autograd/loss.cpp) before these run. Sums over positions are formed per (n, c) or per
// position by one thread each and then reduced in a fixed order, so results do not depend on the
// thread count. Backward passes ADD into gx.
#pragma once
#include <cstdint>

namespace gb::cpu {

struct CrossEntropySums {
  double loss_sum = 0;    // sum over non-ignored positions of w_t * nll
  double weight_sum = 0;  // sum over non-ignored positions of w_t
};

// p [N, C, S] receives softmax(logits) along C (saved for backward). weight [C] or nullptr (all 1).
template <class T>
CrossEntropySums cross_entropy_forward(const T* logits, const int32_t* target, const T* weight, int64_t N, int64_t C,
                                       int64_t S, int64_t ignore_index, T* p);
// gx += g * w_t / weight_sum * (p - onehot(t)) at non-ignored positions.
template <class T>
void cross_entropy_backward(double g, const T* p, const int32_t* target, const T* weight, double weight_sum,
                            int64_t N, int64_t C, int64_t S, int64_t ignore_index, T* gx);

// Per-class sums for the soft Dice, each [C]: I = sum p*t, Z = sum p^2, Y = sum t^2 (= count of t == c).
struct DiceSums {
  double* I;
  double* Z;
  double* Y;
};
// p [N, C, S] softmax probabilities.
template <class T>
void soft_dice_sums(const T* p, const int32_t* target, int64_t N, int64_t C, int64_t S, DiceSums sums);
// loss = sum_c w_c (1 - (2 I_c + smooth) / (Z_c + Y_c + smooth)) / C
double soft_dice_value(const double* I, const double* Z, const double* Y, const double* w, int64_t C, double smooth);
// gx += softmax-backward of dloss/dp, with
//   dloss/dp_c = -(g w_c / C) (2 t_c (Z_c + Y_c + smooth) - 2 p_c (2 I_c + smooth)) / (Z_c + Y_c + smooth)^2
template <class T>
void soft_dice_backward(double g, const T* p, const int32_t* target, const double* w, int64_t N, int64_t C,
                        int64_t S, double smooth, DiceSums sums, T* gx);

// out [N, C, S] = (target[n, s] == c)
template <class T>
void one_hot(const int32_t* target, T* out, int64_t N, int64_t C, int64_t S);

}  // namespace gb::cpu
