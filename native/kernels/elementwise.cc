#include <cmath>
#include <cstring>

#include "fastmath.h"
#include "kernels.h"

namespace peft {

namespace {
constexpr int64_t kGrain = 1 << 15;

inline uint32_t mix32(uint32_t seed, uint32_t index) {
  uint32_t h = (index * 0x9e3779b1u) ^ seed;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

inline float unary_scalar(int op, float x, float p0, float p1) {
  switch (op) {
    case NEG: return -x;
    case EXP: return exp_approx(x);
    case LOG: return std::log(x);
    case SQRT: return std::sqrt(x);
    case RSQRT: return 1.0f / std::sqrt(x);
    case ABS: return std::fabs(x);
    case TANH: return tanh_approx(x);
    case SIGMOID: return sigmoid_approx(x);
    case RELU: return x > 0 ? x : 0.0f;
    case GELU: return 0.5f * x * (1.0f + erf_approx(x * 0.7071067811865476f));
    case GELU_TANH: return 0.5f * x * (1.0f + tanh_approx(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    case SILU: return x * sigmoid_approx(x);
    case POW: return std::pow(x, p0);
    case CLAMP: return x < p0 ? p0 : (x > p1 ? p1 : x);
  }
  return NAN;
}

inline float unary_derivative(int op, float x, float y, float p0, float p1) {
  switch (op) {
    case NEG: return -1.0f;
    case EXP: return y;
    case LOG: return 1.0f / x;
    case SQRT: return 0.5f / y;
    case RSQRT: return -0.5f * y / x;
    case ABS: return x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
    case TANH: return 1.0f - y * y;
    case SIGMOID: return y * (1.0f - y);
    case RELU: return x > 0 ? 1.0f : 0.0f;
    case GELU: return 0.5f * (1.0f + erf_approx(x * 0.7071067811865476f)) + x * exp_approx(-0.5f * x * x) * kInvSqrt2Pi;
    case GELU_TANH: {
      const float t = tanh_approx(kSqrt2OverPi * (x + 0.044715f * x * x * x));
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
    }
    case SILU: { const float s = sigmoid_approx(x); return s * (1.0f + x * (1.0f - s)); }
    case POW: return p0 == 0 ? 0.0f : p0 * std::pow(x, p0 - 1.0f);
    case CLAMP: return (x >= p0 && x <= p1) ? 1.0f : 0.0f;
  }
  return NAN;
}

inline float binary_scalar(int op, float a, float b) {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    case EQ: return a == b ? 1.0f : 0.0f;
  }
  return NAN;
}

// Visits every row (all dims but the last) of `shape`, giving each operand's row offset.
template <int N, typename F>
void for_each_row(const int64_t* shape, int ndim, const int64_t* offsets, const int64_t* const* strides, F&& row_fn) {
  int64_t rows = 1;
  for (int d = 0; d < ndim - 1; d++) rows *= shape[d];
  const int64_t cols = ndim ? shape[ndim - 1] : 1;
  parallel_for(rows, rows_per_chunk(kGrain, cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      int64_t off[N];
      for (int o = 0; o < N; o++) off[o] = offsets[o];
      int64_t rem = r;
      for (int d = ndim - 2; d >= 0; d--) {
        const int64_t i = rem % shape[d];
        rem /= shape[d];
        for (int o = 0; o < N; o++) off[o] += i * strides[o][d];
      }
      row_fn(r * cols, off, cols);
    }
  });
}
}  // namespace

namespace {
// One loop per op code, so the switch in unary_scalar folds away and the loop vectorises.
template <int OP>
void unary_loop(float* out, const float* x, int64_t b, int64_t e, float p0, float p1) {
  for (int64_t i = b; i < e; i++) out[i] = unary_scalar(OP, x[i], p0, p1);
}
template <int OP>
void backward_loop(float* gx, const float* x, const float* y, const float* gy, int64_t b, int64_t e, float p0, float p1) {
  for (int64_t i = b; i < e; i++) gx[i] = gy[i] * unary_derivative(OP, x[i], y[i], p0, p1);
}
template <template <int> class Call, typename... Args>
void dispatch(int op, Args... args) {
  switch (op) {
    case NEG: return Call<NEG>::run(args...);
    case EXP: return Call<EXP>::run(args...);
    case LOG: return Call<LOG>::run(args...);
    case SQRT: return Call<SQRT>::run(args...);
    case RSQRT: return Call<RSQRT>::run(args...);
    case ABS: return Call<ABS>::run(args...);
    case TANH: return Call<TANH>::run(args...);
    case SIGMOID: return Call<SIGMOID>::run(args...);
    case RELU: return Call<RELU>::run(args...);
    case GELU: return Call<GELU>::run(args...);
    case GELU_TANH: return Call<GELU_TANH>::run(args...);
    case SILU: return Call<SILU>::run(args...);
    case POW: return Call<POW>::run(args...);
    case CLAMP: return Call<CLAMP>::run(args...);
  }
}
template <int OP> struct UnaryCall {
  static void run(float* out, const float* x, int64_t b, int64_t e, float p0, float p1) { unary_loop<OP>(out, x, b, e, p0, p1); }
};
template <int OP> struct BackwardCall {
  static void run(float* gx, const float* x, const float* y, const float* gy, int64_t b, int64_t e, float p0, float p1) {
    backward_loop<OP>(gx, x, y, gy, b, e, p0, p1);
  }
};
}  // namespace

void unary(int op, float* out, const float* x, int64_t n, float p0, float p1) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { dispatch<UnaryCall>(op, out, x, b, e, p0, p1); });
}

void unary_backward(int op, float* gx, const float* x, const float* y, const float* gy, int64_t n, float p0, float p1) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { dispatch<BackwardCall>(op, gx, x, y, gy, b, e, p0, p1); });
}

void binary(int op, float* out, StridedView a, StridedView b, const int64_t* shape, int ndim) {
  const int64_t offsets[2] = {a.offset, b.offset};
  const int64_t* strides[2] = {a.strides, b.strides};
  const int64_t sa = ndim ? a.strides[ndim - 1] : 0, sb = ndim ? b.strides[ndim - 1] : 0;
  for_each_row<2>(shape, ndim, offsets, strides, [&](int64_t o, const int64_t* off, int64_t cols) {
    const float* pa = a.data + off[0];
    const float* pb = b.data + off[1];
    float* po = out + o;
    if (sa == 1 && sb == 1) {
      switch (op) {
        case ADD: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] + pb[j]; return;
        case SUB: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] - pb[j]; return;
        case MUL: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] * pb[j]; return;
        case DIV: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] / pb[j]; return;
      }
    } else if (sa == 1 && sb == 0) {
      const float s = pb[0];
      switch (op) {
        case ADD: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] + s; return;
        case SUB: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] - s; return;
        case MUL: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] * s; return;
        case DIV: for (int64_t j = 0; j < cols; j++) po[j] = pa[j] / s; return;
      }
    }
    for (int64_t j = 0; j < cols; j++) po[j] = binary_scalar(op, pa[j * sa], pb[j * sb]);
  });
}

void where(float* out, StridedView cond, StridedView a, StridedView b, const int64_t* shape, int ndim) {
  const int64_t offsets[3] = {cond.offset, a.offset, b.offset};
  const int64_t* strides[3] = {cond.strides, a.strides, b.strides};
  const int64_t sc = ndim ? cond.strides[ndim - 1] : 0, sa = ndim ? a.strides[ndim - 1] : 0, sb = ndim ? b.strides[ndim - 1] : 0;
  for_each_row<3>(shape, ndim, offsets, strides, [&](int64_t o, const int64_t* off, int64_t cols) {
    for (int64_t j = 0; j < cols; j++)
      out[o + j] = cond.data[off[0] + j * sc] != 0.0f ? a.data[off[1] + j * sa] : b.data[off[2] + j * sb];
  });
}

void copy(float* dst, int64_t dst_offset, const int64_t* dst_strides, StridedView src, const int64_t* shape, int ndim) {
  const int64_t offsets[2] = {dst_offset, src.offset};
  const int64_t* strides[2] = {dst_strides, src.strides};
  const int64_t sd = ndim ? dst_strides[ndim - 1] : 0, ss = ndim ? src.strides[ndim - 1] : 0;
  for_each_row<2>(shape, ndim, offsets, strides, [&](int64_t, const int64_t* off, int64_t cols) {
    float* pd = dst + off[0];
    const float* ps = src.data + off[1];
    if (sd == 1 && ss == 1) { std::memcpy(pd, ps, cols * sizeof(float)); return; }
    for (int64_t j = 0; j < cols; j++) pd[j * sd] = ps[j * ss];
  });
}

void dropout(float* out, const float* x, int64_t n, double p, uint32_t seed) {
  const double t = std::floor(p * 4294967296.0);
  const uint32_t threshold = t >= 4294967295.0 ? 4294967295u : static_cast<uint32_t>(t);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) out[i] = mix32(seed, static_cast<uint32_t>(i)) < threshold ? 0.0f : x[i] * scale;
  });
}

}  // namespace peft
