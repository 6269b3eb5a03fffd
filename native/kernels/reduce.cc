#include <cmath>
#include <limits>
#include <vector>

#include "kernels.h"

namespace peft {

// Sums accumulate in double: these reductions feed losses and broadcast gradients, where
// float32 accumulation over thousands of rows drifts visibly from the reference.
void reduce_sum(float* out, const float* x, int64_t outer, int64_t size, int64_t inner) {
  if (inner == 1) {
    parallel_for(outer, 64, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        double acc = 0;
        const float* row = x + o * size;
        for (int64_t r = 0; r < size; r++) acc += row[r];
        out[o] = static_cast<float>(acc);
      }
    });
    return;
  }
  // Split the inner (column) range across threads, keeping each column's sum in one thread.
  parallel_for(inner, 256, [&](int64_t b, int64_t e) {
    std::vector<double> acc(e - b);
    for (int64_t o = 0; o < outer; o++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t r = 0; r < size; r++) {
        const float* row = x + (o * size + r) * inner;
        for (int64_t i = b; i < e; i++) acc[i - b] += row[i];
      }
      for (int64_t i = b; i < e; i++) out[o * inner + i] = static_cast<float>(acc[i - b]);
    }
  });
}

void reduce_max(float* out, const float* x, int64_t outer, int64_t size, int64_t inner) {
  parallel_for(outer * inner, 256, [&](int64_t b, int64_t e) {
    for (int64_t idx = b; idx < e; idx++) {
      const int64_t o = idx / inner, i = idx % inner;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t r = 0; r < size; r++) {
        const float v = x[(o * size + r) * inner + i];
        if (v > m || std::isnan(v)) m = v;
      }
      out[idx] = m;
    }
  });
}

}  // namespace peft
