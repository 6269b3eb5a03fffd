// Scaled-dot-product attention, one (batch, kv-head) group at a time so that the heads that
// share a K/V head accumulate their K/V gradients without racing. Scores are never kept:
// forward saves only the row log-sum-exp, backward recomputes the probabilities (as
// FlashAttention does), which keeps memory at O(T) per head instead of O(T*S) per layer.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "fastmath.h"
#include "kernels.h"

namespace peft {

namespace {

// A matrix of one row may carry any row stride (a size-1 dimension's stride is arbitrary, e.g.
// when a batch decodes one token), but BLAS insists on ld >= d.
int64_t row_ld(int64_t stride, int64_t rows, int64_t d) { return rows == 1 ? std::max(stride, d) : stride; }
const float* q_ptr(const AttentionShape& s, int64_t b, int64_t h) { return s.q + s.q_off + b * s.qs[0] + h * s.qs[1]; }
const float* k_ptr(const AttentionShape& s, int64_t b, int64_t kh) { return s.k + s.k_off + b * s.ks[0] + kh * s.ks[1]; }
const float* v_ptr(const AttentionShape& s, int64_t b, int64_t kh) { return s.v + s.v_off + b * s.vs[0] + kh * s.vs[1]; }

// p [tq, tk] = scale * Q K^T + mask, -inf where causality forbids.
void scores(float* p, const AttentionShape& s, int64_t b, int64_t h, int64_t kh) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.tq, s.tk, s.d, s.scale, q_ptr(s, b, h), row_ld(s.qs[2], s.tq, s.d), k_ptr(s, b, kh), row_ld(s.ks[2], s.tk, s.d),
              0.0f, p, s.tk);
  const int64_t shift = s.tk - s.tq;
  for (int64_t t = 0; t < s.tq; t++) {
    float* row = p + t * s.tk;
    if (s.mask) {
      const float* m = s.mask + s.m_off + b * s.ms[0] + h * s.ms[1] + t * s.ms[2];
      for (int64_t j = 0; j < s.tk; j++) row[j] += m[j * s.ms[3]];
    }
    if (s.causal)
      for (int64_t j = std::max<int64_t>(0, t + shift + 1); j < s.tk; j++) row[j] = -std::numeric_limits<float>::infinity();
  }
}

void for_each_group(const AttentionShape& s, const std::function<void(int64_t b, int64_t kh, float* scratch)>& fn, int scratch_mats) {
  const int64_t groups = s.batch * s.kv_heads;
  const int64_t scratch_size = scratch_mats * s.tq * s.tk;
  auto run = [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(scratch_size);
    for (int64_t g = begin; g < end; g++) fn(g / s.kv_heads, g % s.kv_heads, scratch.data());
  };
  // Many groups: one thread per group with single-threaded sgemm. Few: let OpenBLAS thread.
  if (groups >= get_threads() && get_threads() > 1) with_serial_blas([&] { parallel_for(groups, 1, run); });
  else run(0, groups);
}

// q . k over d floats, in 16 independent lanes so the compiler vectorises it without reassociating.
inline float dot(const float* q, const float* k, int64_t d) {
  float lane[16] = {};
  int64_t e = 0;
  for (; e + 16 <= d; e += 16)
    for (int i = 0; i < 16; i++) lane[i] += q[e + i] * k[e + i];
  float sum = 0;
  for (; e < d; e++) sum += q[e] * k[e];
  for (int i = 0; i < 16; i++) sum += lane[i];
  return sum;
}

// Decoding (a few query rows against the cache): plain loops per head. Here a per-head sgemm
// call and switching OpenBLAS's thread count cost more than the arithmetic.
void attention_few_queries(float* out, float* lse, const AttentionShape& s) {
  const int64_t group = s.heads / s.kv_heads, shift = s.tk - s.tq, groups = s.batch * s.heads;
  auto run = [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(s.tk));
    for (int64_t g = begin; g < end; g++) {
      const int64_t b = g / s.heads, h = g % s.heads;
      const float* k = k_ptr(s, b, h / group);
      const float* v = v_ptr(s, b, h / group);
      for (int64_t t = 0; t < s.tq; t++) {
        const float* q = q_ptr(s, b, h) + t * s.qs[2];
        const float* mask = s.mask ? s.mask + s.m_off + b * s.ms[0] + h * s.ms[1] + t * s.ms[2] : nullptr;
        const int64_t visible = s.causal ? std::min(s.tk, t + shift + 1) : s.tk;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < visible; j++) {
          row[j] = s.scale * dot(q, k + j * s.ks[2], s.d) + (mask ? mask[j * s.ms[3]] : 0.0f);
          m = std::fmax(m, row[j]);
        }
        float* o = out + ((b * s.tq + t) * s.heads + h) * s.d;
        float* l = lse + (b * s.heads + h) * s.tq + t;
        std::fill(o, o + s.d, 0.0f);
        if (std::isinf(m) && m < 0) {  // every key masked (or none visible): the row attends to nothing
          *l = m;
          continue;
        }
        float sum = 0;
        for (int64_t j = 0; j < visible; j++) { row[j] = exp_approx(row[j] - m); sum += row[j]; }
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < visible; j++) {
          const float w = row[j] * inv;
          const float* vj = v + j * s.vs[2];
          for (int64_t e = 0; e < s.d; e++) o[e] += w * vj[e];
        }
        *l = m + std::log(sum);
      }
    }
  };
  if (get_threads() > 1 && groups > 1 && groups * s.tq * s.tk * s.d >= (int64_t{1} << 18)) parallel_for(groups, 1, run);
  else run(0, groups);
}

}  // namespace

void attention(float* out, float* lse, const AttentionShape& s) {
  if (s.kv_heads == 0) return;  // no heads at all (addon.cc checks heads is a multiple of kv_heads)
  if (s.tq <= 8) { attention_few_queries(out, lse, s); return; }
  const int64_t group = s.heads / s.kv_heads;
  for_each_group(s, [&](int64_t b, int64_t kh, float* p) {
    for (int64_t h = kh * group; h < (kh + 1) * group; h++) {
      scores(p, s, b, h, kh);
      float* l = lse + (b * s.heads + h) * s.tq;
      for (int64_t t = 0; t < s.tq; t++) {
        float* row = p + t * s.tk;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < s.tk; j++) m = std::fmax(m, row[j]);
        if (std::isinf(m) && m < 0) {  // every key masked: the row attends to nothing
          std::fill(row, row + s.tk, 0.0f);
          l[t] = m;
          continue;
        }
        float sum = 0;
        for (int64_t j = 0; j < s.tk; j++) { row[j] = exp_approx(row[j] - m); sum += row[j]; }
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < s.tk; j++) row[j] *= inv;
        l[t] = m + std::log(sum);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.tq, s.d, s.tk, 1.0f, p, s.tk, v_ptr(s, b, kh), row_ld(s.vs[2], s.tk, s.d), 0.0f,
                  out + (b * s.tq * s.heads + h) * s.d, s.heads * s.d);
    }
  }, 1);
}

void attention_backward(float* gq, float* gk, float* gv, const float* gout, const float* out, const float* lse, const AttentionShape& s) {
  if (s.kv_heads == 0) return;
  const int64_t group = s.heads / s.kv_heads;
  const int64_t ld_o = s.heads * s.d;
  for_each_group(s, [&](int64_t b, int64_t kh, float* scratch) {
    float* p = scratch;
    float* dp = scratch + s.tq * s.tk;
    float* gk_blk = gk + (b * s.kv_heads + kh) * s.tk * s.d;
    float* gv_blk = gv + (b * s.kv_heads + kh) * s.tk * s.d;
    std::fill(gk_blk, gk_blk + s.tk * s.d, 0.0f);
    std::fill(gv_blk, gv_blk + s.tk * s.d, 0.0f);
    for (int64_t h = kh * group; h < (kh + 1) * group; h++) {
      const float* go = gout + (b * s.tq * s.heads + h) * s.d;
      const float* o = out + (b * s.tq * s.heads + h) * s.d;
      const float* l = lse + (b * s.heads + h) * s.tq;
      scores(p, s, b, h, kh);
      for (int64_t t = 0; t < s.tq; t++) {
        float* row = p + t * s.tk;
        if (std::isinf(l[t]) && l[t] < 0) { std::fill(row, row + s.tk, 0.0f); continue; }
        for (int64_t j = 0; j < s.tk; j++) row[j] = exp_approx(row[j] - l[t]);
      }
      // dV += P^T dO ; dP = dO V^T
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s.tk, s.d, s.tq, 1.0f, p, s.tk, go, ld_o, 1.0f, gv_blk, s.d);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.tq, s.tk, s.d, 1.0f, go, ld_o, v_ptr(s, b, kh), row_ld(s.vs[2], s.tk, s.d), 0.0f, dp, s.tk);
      // dS = P * (dP - rowsum(dO * O))
      for (int64_t t = 0; t < s.tq; t++) {
        float di = 0;
        for (int64_t e = 0; e < s.d; e++) di += go[t * ld_o + e] * o[t * ld_o + e];
        float* prow = p + t * s.tk;
        float* drow = dp + t * s.tk;
        for (int64_t j = 0; j < s.tk; j++) drow[j] = prow[j] * (drow[j] - di);
      }
      // dQ = scale dS K ; dK += scale dS^T Q
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.tq, s.d, s.tk, s.scale, dp, s.tk, k_ptr(s, b, kh), row_ld(s.ks[2], s.tk, s.d), 0.0f,
                  gq + (b * s.heads + h) * s.tq * s.d, s.d);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s.tk, s.d, s.tq, s.scale, dp, s.tk, q_ptr(s, b, h), row_ld(s.qs[2], s.tq, s.d), 1.0f, gk_blk, s.d);
    }
  }, 2);
}

}  // namespace peft
