#include <cmath>
#include <vector>

#include "kernels.h"

namespace peft {

namespace {
int64_t row_grain(int64_t cols) { return rows_per_chunk(8192, cols); }

// Sums per-thread partial column sums: each thread owns whole rows, so weight gradients
// (a sum over rows) are reduced afterwards instead of racing.
struct ColumnPartials {
  std::vector<std::vector<double>> parts;
  ColumnPartials(int threads, int64_t cols) : parts(threads, std::vector<double>(cols, 0.0)) {}
  void store(float* out) const {
    if (!out) return;
    for (size_t j = 0; j < parts[0].size(); j++) {
      double s = 0;
      for (const auto& p : parts) s += p[j];
      out[j] = static_cast<float>(s);
    }
  }
};
}  // namespace

void layer_norm(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, int64_t rows, int64_t cols, float eps) {
  parallel_for(rows, row_grain(cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* xr = x + r * cols;
      double m = 0;
      for (int64_t j = 0; j < cols; j++) m += xr[j];
      m /= cols;
      double v = 0;
      for (int64_t j = 0; j < cols; j++) { const double d = xr[j] - m; v += d * d; }
      const float s = static_cast<float>(1.0 / std::sqrt(v / cols + eps));
      const float mf = static_cast<float>(m);
      mean[r] = mf;
      rstd[r] = s;
      float* yr = out + r * cols;
      for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - mf) * s * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
    }
  });
}

void layer_norm_backward(float* gx, float* gw, float* gb, const float* x, const float* w, const float* mean, const float* rstd,
                         const float* gy, int64_t rows, int64_t cols) {
  const int threads = get_threads();
  ColumnPartials pw(threads, cols), pb(threads, cols);
  const int64_t step = (rows + threads - 1) / threads;
  parallel_for(threads, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; t++) {
      auto& aw = pw.parts[t];
      auto& ab = pb.parts[t];
      for (int64_t r = t * step; r < std::min(rows, (t + 1) * step); r++) {
        const float* xr = x + r * cols;
        const float* gr = gy + r * cols;
        const float m = mean[r], s = rstd[r];
        double sum_g = 0, sum_gx = 0;
        for (int64_t j = 0; j < cols; j++) {
          const float xhat = (xr[j] - m) * s;
          const float g = gr[j] * (w ? w[j] : 1.0f);
          sum_g += g;
          sum_gx += g * xhat;
          aw[j] += gr[j] * xhat;
          ab[j] += gr[j];
        }
        const float mg = static_cast<float>(sum_g / cols), mgx = static_cast<float>(sum_gx / cols);
        float* out = gx + r * cols;
        for (int64_t j = 0; j < cols; j++) {
          const float xhat = (xr[j] - m) * s;
          out[j] = s * (gr[j] * (w ? w[j] : 1.0f) - mg - xhat * mgx);
        }
      }
    }
  });
  pw.store(gw);
  pb.store(gb);
}

void rms_norm(float* out, float* rstd, const float* x, const float* w, int64_t rows, int64_t cols, float eps) {
  parallel_for(rows, row_grain(cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* xr = x + r * cols;
      double ms = 0;
      for (int64_t j = 0; j < cols; j++) ms += static_cast<double>(xr[j]) * xr[j];
      const float s = static_cast<float>(1.0 / std::sqrt(ms / cols + eps));
      rstd[r] = s;
      float* yr = out + r * cols;
      for (int64_t j = 0; j < cols; j++) yr[j] = xr[j] * s * (w ? w[j] : 1.0f);
    }
  });
}

void rms_norm_backward(float* gx, float* gw, const float* x, const float* w, const float* rstd, const float* gy, int64_t rows, int64_t cols) {
  const int threads = get_threads();
  ColumnPartials pw(threads, cols);
  const int64_t step = (rows + threads - 1) / threads;
  parallel_for(threads, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; t++) {
      auto& aw = pw.parts[t];
      for (int64_t r = t * step; r < std::min(rows, (t + 1) * step); r++) {
        const float* xr = x + r * cols;
        const float* gr = gy + r * cols;
        const float s = rstd[r];
        double dot = 0;
        for (int64_t j = 0; j < cols; j++) {
          dot += gr[j] * (w ? w[j] : 1.0f) * xr[j];
          aw[j] += gr[j] * xr[j] * s;
        }
        const float k = static_cast<float>(dot / cols) * s * s * s;
        float* out = gx + r * cols;
        for (int64_t j = 0; j < cols; j++) out[j] = s * gr[j] * (w ? w[j] : 1.0f) - xr[j] * k;
      }
    }
  });
  pw.store(gw);
}

}  // namespace peft
