#include <cmath>
#include <limits>

#include "fastmath.h"
#include "kernels.h"

namespace peft {

namespace {
// Log-sum-exp of a row with vectorised max and exp-sum (every term is <= 1, so float lanes
// over a whole vocabulary stay accurate to ~1e-6 relative).
float row_lse(const float* x, int64_t cols) {
  const float m = row_max(x, cols);
  if (std::isinf(m) && m < 0) return m;
  return m + std::log(sum_exp(x, cols, m));
}
int64_t row_grain(int64_t cols) { return rows_per_chunk(16384, cols); }
}  // namespace

void softmax(float* out, const float* x, int64_t rows, int64_t cols, bool log) {
  parallel_for(rows, row_grain(cols), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* xr = x + r * cols;
      float* yr = out + r * cols;
      const float lse = row_lse(xr, cols);
      if (log) for (int64_t j = 0; j < cols; j++) yr[j] = xr[j] - lse;
      else for (int64_t j = 0; j < cols; j++) yr[j] = exp_approx(xr[j] - lse);
    }
  });
}

void softmax_backward(float* gx, const float* y, const float* gy, int64_t rows, int64_t cols, bool log) {
  parallel_for(rows, row_grain(cols), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* yr = y + r * cols;
      const float* gr = gy + r * cols;
      float* out = gx + r * cols;
      double dot = 0;
      if (log) {
        for (int64_t j = 0; j < cols; j++) dot += gr[j];
        const float d = static_cast<float>(dot);
        for (int64_t j = 0; j < cols; j++) out[j] = gr[j] - exp_approx(yr[j]) * d;
      } else {
        for (int64_t j = 0; j < cols; j++) dot += gr[j] * yr[j];
        const float d = static_cast<float>(dot);
        for (int64_t j = 0; j < cols; j++) out[j] = yr[j] * (gr[j] - d);
      }
    }
  });
}

void cross_entropy(float* loss, float* lse, const float* logits, const int32_t* targets, int64_t rows, int64_t cols, int ignore_index) {
  parallel_for(rows, row_grain(cols), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* xr = logits + r * cols;
      lse[r] = row_lse(xr, cols);
      loss[r] = targets[r] == ignore_index ? 0.0f : lse[r] - xr[targets[r]];
    }
  });
}

void cross_entropy_backward(float* gx, const float* logits, const float* lse, const int32_t* targets, const float* row_scale,
                            int64_t rows, int64_t cols, int ignore_index) {
  parallel_for(rows, row_grain(cols), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      float* out = gx + r * cols;
      if (targets[r] == ignore_index) { std::fill(out, out + cols, 0.0f); continue; }
      const float* xr = logits + r * cols;
      const float s = row_scale[r], l = lse[r];
      for (int64_t j = 0; j < cols; j++) out[j] = s * exp_approx(xr[j] - l);
      out[targets[r]] -= s;
    }
  });
}

}  // namespace peft
