#include "xai/quadrature.h"

#include <cmath>

#include "tensor/error.h"

namespace gb::xai {

Rule rule_from_name(const std::string& s) {
  if (s == "gauss-legendre" || s == "gl") return Rule::GaussLegendre;
  if (s == "riemann-left") return Rule::RiemannLeft;
  if (s == "riemann-right") return Rule::RiemannRight;
  if (s == "riemann-middle") return Rule::RiemannMiddle;
  if (s == "trapezoid" || s == "riemann-trapezoid") return Rule::Trapezoid;
  if (s == "adaptive" || s == "gauss-kronrod") return Rule::Adaptive;
  fail("integrated gradients: unknown rule '", s,
       "' (gauss-legendre, riemann-left, riemann-right, riemann-middle, trapezoid, adaptive)");
}

const char* rule_name(Rule r) {
  switch (r) {
    case Rule::GaussLegendre: return "gauss-legendre";
    case Rule::RiemannLeft: return "riemann-left";
    case Rule::RiemannRight: return "riemann-right";
    case Rule::RiemannMiddle: return "riemann-middle";
    case Rule::Trapezoid: return "trapezoid";
    case Rule::Adaptive: return "adaptive";
  }
  return "?";
}

Nodes gauss_legendre(int64_t n) {
  GB_CHECK(n >= 1, "gauss_legendre: need at least 1 node, got ", n);
  Nodes r;
  r.alpha.resize(n);
  r.weight.resize(n);
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < (n + 1) / 2; ++i) {
    // Root i of P_n on [-1, 1], from the cosine guess, by Newton on the three-term recurrence.
    double x = std::cos(pi * ((double)i + 0.75) / ((double)n + 0.5)), dp = 0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = x;
      for (int64_t k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1) * x * p1 - (k - 1.0) * p0) / (double)k;
        p0 = p1;
        p1 = p2;
      }
      dp = (double)n * (x * p1 - p0) / (x * x - 1);
      const double dx = p1 / dp;
      x -= dx;
      if (std::fabs(dx) < 1e-16) break;
    }
    {
      // Derivative at the converged root for the weight 2 / ((1 - x^2) P_n'(x)^2).
      double p0 = 1, p1 = x;
      for (int64_t k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1) * x * p1 - (k - 1.0) * p0) / (double)k;
        p0 = p1;
        p1 = p2;
      }
      dp = (double)n * (x * p1 - p0) / (x * x - 1);
    }
    const double w = 2.0 / ((1 - x * x) * dp * dp);
    // x > 0 for small i: on [0, 1] that is the upper node n-1-i; its mirror is node i.
    r.alpha[n - 1 - i] = 0.5 * (1 + x);
    r.alpha[i] = 0.5 * (1 - x);
    r.weight[n - 1 - i] = r.weight[i] = 0.5 * w;
  }
  return r;
}

Nodes fixed_rule(Rule rule, int64_t n) {
  GB_CHECK(n >= 1, "integrated gradients: steps must be >= 1, got ", n);
  Nodes r;
  switch (rule) {
    case Rule::GaussLegendre: return gauss_legendre(n);
    case Rule::RiemannLeft:
    case Rule::RiemannRight:
    case Rule::RiemannMiddle: {
      const double shift = rule == Rule::RiemannLeft ? 0.0 : rule == Rule::RiemannRight ? 1.0 : 0.5;
      for (int64_t s = 0; s < n; ++s) r.alpha.push_back(((double)s + shift) / (double)n), r.weight.push_back(1.0 / n);
      return r;
    }
    case Rule::Trapezoid: {
      GB_CHECK(n >= 2, "integrated gradients: the trapezoid rule needs at least 2 steps, got ", n);
      for (int64_t s = 0; s < n; ++s) {
        r.alpha.push_back((double)s / (double)(n - 1));
        r.weight.push_back((s == 0 || s == n - 1 ? 0.5 : 1.0) / (double)(n - 1));
      }
      return r;
    }
    case Rule::Adaptive: break;
  }
  fail("integrated gradients: the adaptive rule has no fixed nodes");
}

KronrodNodes gauss_kronrod15(double a, double b) {
  // Nodes x_k on [0, 1) of the symmetric rule (QUADPACK qk15), x_0 = 0 is the centre.
  static const double xk[8] = {0.0,
                               0.207784955007898467600689403773245,
                               0.405845151377397166906606412076961,
                               0.586087235467691130294144845693013,
                               0.741531185599394439863864773280788,
                               0.864864423359769072789712788640926,
                               0.949107912342758524526189684047851,
                               0.991455371120812639206854697526329};
  static const double wk[8] = {0.209482141084727828012999174891714, 0.204432940075298892414161999234649,
                               0.190350578064785409913256402421014, 0.169004726639267902826583426598550,
                               0.140653259715525918745189590510238, 0.104790010322250183839876322541518,
                               0.063092092629978553290700663189204, 0.022935322010529224963732008058970};
  // G7 weights on the Gauss nodes x_0, x_2, x_4, x_6.
  static const double wg[8] = {0.417959183673469387755102040816327, 0, 0.381830050505118944950369775488975, 0,
                               0.279705391489276667901467771423780, 0, 0.129484966168869693270611432679082, 0};
  KronrodNodes r;
  const double c = 0.5 * (a + b), h = 0.5 * (b - a);
  for (int k = 7; k >= 1; --k) r.alpha.push_back(c - h * xk[k]), r.k_weight.push_back(h * wk[k]), r.g_weight.push_back(h * wg[k]);
  for (int k = 0; k <= 7; ++k) r.alpha.push_back(c + h * xk[k]), r.k_weight.push_back(h * wk[k]), r.g_weight.push_back(h * wg[k]);
  return r;
}

}  // namespace gb::xai
