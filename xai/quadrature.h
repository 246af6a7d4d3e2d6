// Quadrature rules on [0, 1] for path integrals (Integrated Gradients): nodes alpha_s and weights w_s
// with integral_0^1 f(a) da ~= sum_s w_s f(alpha_s).
//   gauss-legendre  n Gauss-Legendre nodes (exact for polynomials of degree 2n - 1), the default;
//                   Captum's default too
//   riemann-left    alpha_s = s / n,          s = 0..n-1, w = 1/n
//   riemann-right   alpha_s = (s + 1) / n,    s = 0..n-1, w = 1/n
//   riemann-middle  alpha_s = (s + 1/2) / n,  s = 0..n-1, w = 1/n
//   trapezoid       alpha_s = s / (n - 1),    s = 0..n-1, w = 1/(n-1), halved at both ends (n >= 2)
// Gauss-Kronrod G7/K15 (the adaptive rule's building block): the 15 Kronrod nodes of an interval [a, b],
// their K15 weights, and the G7 weights on the same nodes (zero on the 8 Kronrod-only ones).
#pragma once
#include <string>
#include <vector>

namespace gb::xai {

enum class Rule { GaussLegendre, RiemannLeft, RiemannRight, RiemannMiddle, Trapezoid, Adaptive };
Rule rule_from_name(const std::string& s);  // "gauss-legendre", "riemann-left", ..., "adaptive"
const char* rule_name(Rule r);

struct Nodes {
  std::vector<double> alpha, weight;
};

// A fixed rule with n nodes on [0, 1] (not Adaptive). Nodes in increasing alpha.
Nodes fixed_rule(Rule r, int64_t n);

// Gauss-Legendre on [0, 1], nodes increasing; computed by Newton's method on P_n (to ~1e-15).
Nodes gauss_legendre(int64_t n);

struct KronrodNodes {
  std::vector<double> alpha, k_weight, g_weight;  // 15 each, alpha increasing
};
KronrodNodes gauss_kronrod15(double a, double b);

}  // namespace gb::xai
