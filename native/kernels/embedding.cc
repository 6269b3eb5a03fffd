#include <cstring>

#include "kernels.h"

namespace peft {

void embedding(float* out, const float* weight, const int32_t* ids, int64_t n, int64_t dim) {
  parallel_for(n, rows_per_chunk(16384, dim), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) std::memcpy(out + i * dim, weight + static_cast<int64_t>(ids[i]) * dim, dim * sizeof(float));
  });
}

// Columns are split across threads so that repeated ids never race.
void embedding_backward(float* gw, const float* gy, const int32_t* ids, int64_t n, int64_t dim) {
  parallel_for(dim, 64, [&](int64_t b, int64_t e) {
    for (int64_t i = 0; i < n; i++) {
      float* row = gw + static_cast<int64_t>(ids[i]) * dim;
      const float* src = gy + i * dim;
      for (int64_t j = b; j < e; j++) row[j] += src[j];
    }
  });
}

void rope(float* out, const float* x, const float* cos, const float* sin, int64_t batch, int64_t heads, int64_t t, int64_t d,
          int64_t cs_batch_stride, bool inverse) {
  const int64_t half = d / 2;
  const float sign = inverse ? -1.0f : 1.0f;
  parallel_for(batch * heads * t, rows_per_chunk(8192, d), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; row++) {
      const int64_t b = row / (heads * t), p = row % t;
      const float* xr = x + row * d;
      const float* c = cos + b * cs_batch_stride + p * d;
      const float* s = sin + b * cs_batch_stride + p * d;
      float* o = out + row * d;
      for (int64_t j = 0; j < half; j++) o[j] = xr[j] * c[j] - sign * xr[j + half] * s[j];
      for (int64_t j = half; j < d; j++) o[j] = xr[j] * c[j] + sign * xr[j - half] * s[j];
    }
  });
}

}  // namespace peft
