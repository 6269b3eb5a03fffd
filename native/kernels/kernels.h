// Kernel declarations. Calling convention (llm.c): outputs first, then inputs, then sizes.
// Every buffer is float32 unless named ids/targets (int32). Nothing here knows about N-API.
#pragma once
#include <cstdint>
#include <functional>

namespace peft {

// ---- threads (pool.cc) ----
void set_threads(int n);
int get_threads();
// Runs fn(begin, end) over [0, n) split into at most get_threads() chunks of at least `grain`.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
// Rows per parallel chunk so that a chunk holds about `work` elements; safe for width 0.
inline int64_t rows_per_chunk(int64_t work, int64_t width) { return width > 0 && work / width > 0 ? work / width : 1; }
// Runs fn(task) for every task in [0, tasks); idle threads take the next task, so a thread
// slowed by another process on its core does less of the work instead of holding up the rest.
void parallel_tasks(int64_t tasks, const std::function<void(int64_t)>& fn);
// Runs fn with OpenBLAS single-threaded, for regions that call sgemm from several threads.
void with_serial_blas(const std::function<void()>& fn);

// ---- gemm.cc ----
void gemm(float* c, const float* a, const float* b, const int64_t* a_offsets, const int64_t* b_offsets,
          const int64_t* c_offsets, int64_t batch, int m, int n, int k, bool trans_a, bool trans_b,
          int lda, int ldb, int ldc, float alpha, float beta);

// ---- gemm_bf16.cc ----
// C = alpha * A @ op(B) + beta * C, A float32 [m, k] (rounded to bfloat16), B bfloat16 stored [n, k]
// when trans_b else [k, n]; float32 accumulation.
void gemm_bf16(float* c, const float* a, const uint16_t* b, int m, int n, int k, bool trans_b, int lda, int ldb, int ldc, float alpha, float beta);
// Sets the bf16 kernel (-1 auto, 0 widen + sgemm, 1 AVX512-BF16) and returns the one in use (0 or 1).
int bf16_kernel(int choice);

// ---- elementwise.cc ----
enum Unary { NEG, EXP, LOG, SQRT, RSQRT, ABS, TANH, SIGMOID, RELU, GELU, GELU_TANH, SILU, POW, CLAMP };
enum Binary { ADD, SUB, MUL, DIV, EQ };
struct StridedView { const float* data; int64_t offset; const int64_t* strides; };
void unary(int op, float* out, const float* x, int64_t n, float p0, float p1);
void unary_backward(int op, float* gx, const float* x, const float* y, const float* gy, int64_t n, float p0, float p1);
void binary(int op, float* out, StridedView a, StridedView b, const int64_t* shape, int ndim);
void where(float* out, StridedView cond, StridedView a, StridedView b, const int64_t* shape, int ndim);
void copy(float* dst, int64_t dst_offset, const int64_t* dst_strides, StridedView src, const int64_t* shape, int ndim);
void dropout(float* out, const float* x, int64_t n, double p, uint32_t seed);

// ---- reduce.cc ----
void reduce_sum(float* out, const float* x, int64_t outer, int64_t size, int64_t inner);
void reduce_max(float* out, const float* x, int64_t outer, int64_t size, int64_t inner);

// ---- softmax.cc ----
void softmax(float* out, const float* x, int64_t rows, int64_t cols, bool log);
void softmax_backward(float* gx, const float* y, const float* gy, int64_t rows, int64_t cols, bool log);
void cross_entropy(float* loss, float* lse, const float* logits, const int32_t* targets, int64_t rows, int64_t cols, int ignore_index);
void cross_entropy_backward(float* gx, const float* logits, const float* lse, const int32_t* targets, const float* row_scale,
                            int64_t rows, int64_t cols, int ignore_index);

// ---- norm.cc ----
void layer_norm(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, int64_t rows, int64_t cols, float eps);
void layer_norm_backward(float* gx, float* gw, float* gb, const float* x, const float* w, const float* mean, const float* rstd,
                         const float* gy, int64_t rows, int64_t cols);
void rms_norm(float* out, float* rstd, const float* x, const float* w, int64_t rows, int64_t cols, float eps);
void rms_norm_backward(float* gx, float* gw, const float* x, const float* w, const float* rstd, const float* gy, int64_t rows, int64_t cols);

// ---- embedding.cc ----
void embedding(float* out, const float* weight, const int32_t* ids, int64_t n, int64_t dim);
void embedding_backward(float* gw, const float* gy, const int32_t* ids, int64_t n, int64_t dim);
void rope(float* out, const float* x, const float* cos, const float* sin, int64_t batch, int64_t heads, int64_t t, int64_t d,
          int64_t cs_batch_stride, bool inverse);

// ---- attention.cc ----
struct AttentionShape {
  const float* q; int64_t q_off; int64_t qs[4];
  const float* k; int64_t k_off; int64_t ks[4];
  const float* v; int64_t v_off; int64_t vs[4];
  const float* mask; int64_t m_off; int64_t ms[4];  // mask may be null
  int64_t batch, heads, kv_heads, tq, tk, d;
  float scale;
  bool causal;
};
void attention(float* out, float* lse, const AttentionShape& s);
void attention_backward(float* gq, float* gk, float* gv, const float* gout, const float* out, const float* lse, const AttentionShape& s);

}  // namespace peft
