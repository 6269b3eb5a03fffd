// Branch-free float approximations shared by the kernels. Inline in a header so that loops
// calling them vectorise (a call into another translation unit would stop that).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace peft {

// Branch-free so that the loops below vectorise; within 2 ulp of std::exp on [-87, 88].
inline float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

inline float exp_approx(float x) {
  const float clamped = clampf(x, -87.3f, 88.7f);
  const float n = std::nearbyint(clamped * 1.44269504088896341f);
  const float r = std::fma(n, -0.693359375f, clamped);
  const float rr = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, rr, 1.3981999507e-3f);
  p = std::fma(p, rr, 8.3334519073e-3f);
  p = std::fma(p, rr, 4.1665795894e-2f);
  p = std::fma(p, rr, 1.6666665459e-1f);
  p = std::fma(p, rr, 5.0000001201e-1f);
  p = std::fma(p, rr * rr, rr + 1.0f);
  int32_t bits;
  std::memcpy(&bits, &p, 4);
  bits += static_cast<int32_t>(n) << 23;
  float out;
  std::memcpy(&out, &bits, 4);
  return x < -87.3f ? 0.0f : out;
}

// Rational approximations (as Eigen's fast tanh/erf): branch-free, vectorisable, within
// 3e-7 absolute of std::tanh / std::erf, where libm's scalar calls cost ~15 ns an element.
inline float tanh_approx(float x) {
  const float xc = clampf(x, -7.90531110763549805f, 7.90531110763549805f);
  const float x2 = xc * xc;
  float p = -2.76076847742355e-16f;
  p = std::fma(x2, p, 2.00018790482477e-13f);
  p = std::fma(x2, p, -8.60467152213735e-11f);
  p = std::fma(x2, p, 5.12229709037114e-08f);
  p = std::fma(x2, p, 1.48572235717979e-05f);
  p = std::fma(x2, p, 6.37261928875436e-04f);
  p = std::fma(x2, p, 4.89352455891786e-03f);
  float q = 1.19825839466702e-06f;
  q = std::fma(x2, q, 1.18534705686654e-04f);
  q = std::fma(x2, q, 2.26843463243900e-03f);
  q = std::fma(x2, q, 4.89352518554385e-03f);
  const float r = xc * p / q;
  return std::fabs(x) < 0.0004f ? x : r;
}

inline float erf_approx(float x) {
  const float xc = clampf(x, -4.0f, 4.0f);
  const float x2 = xc * xc;
  float p = -2.72614225801306e-10f;
  p = std::fma(x2, p, 2.77068142495902e-08f);
  p = std::fma(x2, p, -2.10102402082508e-06f);
  p = std::fma(x2, p, -5.69250639462346e-05f);
  p = std::fma(x2, p, -7.34990630326855e-04f);
  p = std::fma(x2, p, -2.95459980854025e-03f);
  p = std::fma(x2, p, -1.60960333262415e-02f);
  float q = -1.45660718464996e-05f;
  q = std::fma(x2, q, -2.13374055278905e-04f);
  q = std::fma(x2, q, -1.68282697438203e-03f);
  q = std::fma(x2, q, -7.37332916720468e-03f);
  q = std::fma(x2, q, -1.42647390514189e-02f);
  return xc * p / q;
}

inline float sigmoid_approx(float x) { return 1.0f / (1.0f + exp_approx(-x)); }


// Sum of exp(x[j] - shift) over a row, in 16 independent lanes so the loop vectorises
// without -ffast-math (a single accumulator is a serial dependency).
inline float sum_exp(const float* x, int64_t n, float shift) {
  float lanes[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; k++) lanes[k] += exp_approx(x[j + k] - shift);
  float s = 0;
  for (; j < n; j++) s += exp_approx(x[j] - shift);
  for (int k = 0; k < 16; k++) s += lanes[k];
  return s;
}

inline float row_max(const float* x, int64_t n) {
  float lanes[16];
  for (int k = 0; k < 16; k++) lanes[k] = -INFINITY;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; k++) lanes[k] = x[j + k] > lanes[k] ? x[j + k] : lanes[k];
  float m = -INFINITY;
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  for (int k = 0; k < 16; k++) m = lanes[k] > m ? lanes[k] : m;
  return m;
}

}  // namespace peft
