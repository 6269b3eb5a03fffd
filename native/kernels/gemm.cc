#include <cblas.h>

#include "kernels.h"

namespace peft {

// One sgemm per batch entry; OpenBLAS threads each call. Entries that share an output
// offset accumulate (beta=1 after the first), which is how broadcast gradients are summed.
void gemm(float* c, const float* a, const float* b, const int64_t* a_offsets, const int64_t* b_offsets,
          const int64_t* c_offsets, int64_t batch, int m, int n, int k, bool trans_a, bool trans_b,
          int lda, int ldb, int ldc, float alpha, float beta) {
  if (k == 0) {  // an empty sum: C = beta * C, zeros when beta is 0 (as PyTorch), whatever C held
    for (int64_t i = 0; i < batch; i++)
      for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) { float& x = c[c_offsets[i] + static_cast<int64_t>(r) * ldc + j]; x = beta == 0.0f ? 0.0f : beta * x; }
    return;
  }
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a + a_offsets[i], lda, b + b_offsets[i], ldb, beta, c + c_offsets[i], ldc);
  }
}

}  // namespace peft
