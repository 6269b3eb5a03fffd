// C = alpha * A @ op(B) + beta * C with A float32 and B bfloat16 (frozen weights kept at half
// the memory). A is rounded to bfloat16 (round to nearest even) and products accumulate in
// float32, as PyTorch's bfloat16 autocast does, so every path below computes the same sums.
//
// Paths, chosen at run time: on CPUs with AVX512-BF16, vdpbf16ps kernels (a packed 12x32
// micro-kernel for M > 8, streaming dot products for the decoding shapes M <= 8); elsewhere
// each block of B is widened to float32 and handed to sgemm.
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"

// GCC 12 flags its own _mm512_undefined_* helpers inside the intrinsics (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

namespace peft {
namespace {

inline uint16_t round_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu)) return static_cast<uint16_t>((u >> 16) | 0x40);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline float widen(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

int g_kernel = -1;  // -1 auto, 0 widen + sgemm (any CPU), 1 AVX512-BF16 when the CPU has it
bool cpu_has_bf16() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
  return has;
}
bool use_avx512() { return g_kernel != 0 && cpu_has_bf16(); }

// ---------------------------------------------------------------- fallback: widen + sgemm
void gemm_bf16_widen(float* c, const float* a, const uint16_t* b, int m, int n, int k, bool trans_b, int lda, int ldb, int ldc,
                     float alpha, float beta) {
  std::vector<float> ar(static_cast<size_t>(m) * k);
  parallel_for(m, 8, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++)
      for (int j = 0; j < k; j++) ar[r * k + j] = widen(round_bf16(a[r * lda + j]));
  });
  const int nb = 256;
  std::vector<float> bf(static_cast<size_t>(nb) * k);
  for (int n0 = 0; n0 < n; n0 += nb) {
    const int nv = std::min(nb, n - n0);
    if (trans_b) {
      for (int j = 0; j < nv; j++)
        for (int p = 0; p < k; p++) bf[static_cast<size_t>(j) * k + p] = widen(b[static_cast<size_t>(n0 + j) * ldb + p]);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nv, k, alpha, ar.data(), k, bf.data(), k, beta, c + n0, ldc);
    } else {
      for (int p = 0; p < k; p++)
        for (int j = 0; j < nv; j++) bf[static_cast<size_t>(p) * nv + j] = widen(b[static_cast<size_t>(p) * ldb + n0 + j]);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, nv, k, alpha, ar.data(), k, bf.data(), nv, beta, c + n0, ldc);
    }
  }
}

// ---------------------------------------------------------------- AVX512-BF16
// A row as bfloat16 pairs: dst[p] = bf16(src[2p]) | bf16(src[2p+1]) << 16, zero past k.
BF16_TARGET void pack_row(uint32_t* dst, const float* src, int k) {
  int i = 0;
  for (; i + 32 <= k; i += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
    _mm512_storeu_si512(dst + i / 2, (__m512i)v);
  }
  for (; i < k; i += 2) {
    const uint32_t lo = round_bf16(src[i]), hi = i + 1 < k ? round_bf16(src[i + 1]) : 0;
    dst[i / 2] = lo | (hi << 16);
  }
}

inline __mmask16 lane_mask(int valid) { return valid >= 16 ? 0xffff : valid <= 0 ? 0 : static_cast<__mmask16>((1u << valid) - 1); }

constexpr int NR = 32;  // columns of a packed panel: two zmm of float32 accumulators
constexpr int MR = 12;  // rows of the micro-kernel: 24 accumulators, 2 B registers, 1 broadcast

// Packs columns [n0, n0+nv) of op(B) over all k into pairs: dst[p*32 + j] = (B(2p, j), B(2p+1, j)).
BF16_TARGET void pack_panel(uint32_t* dst, const uint16_t* b, bool trans_b, int ldb, int k, int n0, int nv) {
  const int kp = (k + 1) / 2;
  if (trans_b) {
    // Row n of the stored [n, k] matrix is a run of pairs already: gather pair p of 16 rows at a time.
    const int full = k / 2;  // pairs with both halves inside the row
    for (int h = 0; h < 2; h++) {
      const __mmask16 rows = lane_mask(nv - 16 * h);
      const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(2 * ldb));
      const char* base = reinterpret_cast<const char*>(b + static_cast<size_t>(n0 + 16 * h) * ldb);
      for (int p = 0; p < full; p++)
        _mm512_storeu_si512(dst + p * NR + 16 * h, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, idx, base + 4 * static_cast<size_t>(p), 1));
      if (full < kp)  // odd k: the last pair's high half is zero
        for (int j = 0; j < 16; j++) dst[full * NR + 16 * h + j] = 16 * h + j < nv ? b[static_cast<size_t>(n0 + 16 * h + j) * ldb + 2 * full] : 0;
    }
    return;
  }
  // Rows 2p and 2p+1 of the stored [k, n] matrix interleave 16-bit-wise into pairs.
  const __mmask32 mask = nv >= 32 ? 0xffffffffu : ((1u << nv) - 1);
  const __m512i lo_idx = _mm512_set_epi32(23, 22, 21, 20, 7, 6, 5, 4, 19, 18, 17, 16, 3, 2, 1, 0);
  const __m512i hi_idx = _mm512_set_epi32(31, 30, 29, 28, 15, 14, 13, 12, 27, 26, 25, 24, 11, 10, 9, 8);
  for (int p = 0; p < kp; p++) {
    const __m512i r0 = _mm512_maskz_loadu_epi16(mask, b + static_cast<size_t>(2 * p) * ldb + n0);
    const __m512i r1 = 2 * p + 1 < k ? _mm512_maskz_loadu_epi16(mask, b + static_cast<size_t>(2 * p + 1) * ldb + n0) : _mm512_setzero_si512();
    // unpack works within 128-bit lanes: lo holds columns {0-3, 8-11, 16-19, 24-27}, hi the rest.
    const __m512i lo = _mm512_unpacklo_epi16(r0, r1), hi = _mm512_unpackhi_epi16(r0, r1);
    _mm512_storeu_si512(dst + p * NR, _mm512_permutex2var_epi32(lo, lo_idx, hi));
    _mm512_storeu_si512(dst + p * NR + 16, _mm512_permutex2var_epi32(lo, hi_idx, hi));
  }
}

BF16_TARGET inline void store_tile(float* c, __m512 acc, __mmask16 mask, float alpha, float beta) {
  __m512 v = _mm512_mul_ps(acc, _mm512_set1_ps(alpha));
  if (beta != 0) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, c), _mm512_set1_ps(beta), v);
  _mm512_mask_storeu_ps(c, mask, v);
}

template <int R>
BF16_TARGET void micro(const uint32_t* a, int64_t lda2, const uint32_t* bp, int kp, float* c, int64_t ldc, int nv, float alpha, float beta) {
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int p = 0; p < kp; p++) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + p * NR), b1 = (__m512bh)_mm512_loadu_si512(bp + p * NR + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[r * lda2 + p]));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
  }
  const __mmask16 m0 = lane_mask(nv), m1 = lane_mask(nv - 16);
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    store_tile(c + r * ldc, acc[r][0], m0, alpha, beta);
    if (m1) store_tile(c + r * ldc + 16, acc[r][1], m1, alpha, beta);
  }
}

using MicroFn = void (*)(const uint32_t*, int64_t, const uint32_t*, int, float*, int64_t, int, float, float);
const MicroFn kMicro[MR + 1] = {nullptr, micro<1>, micro<2>, micro<3>, micro<4>, micro<5>, micro<6>,
                                micro<7>, micro<8>, micro<9>, micro<10>, micro<11>, micro<12>};

// Decoding shapes (M <= 8): B streams once from memory, no packing.
// Stored [n, k]: each output is a dot product along k of an A row and a B row.
template <int R>
BF16_TARGET void rows_dot(float* c, int ldc, const uint32_t* a2, int kp, const uint16_t* b, int ldb, int k, int n_lo, int n_hi, float alpha, float beta) {
  for (int j = n_lo; j < n_hi; j++) {
    const uint16_t* row = b + static_cast<size_t>(j) * ldb;
    __m512 acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int p = 0; p < kp; p += 16) {
      const int left = k - 2 * p;
      const __mmask32 mask = left >= 32 ? 0xffffffffu : ((1u << left) - 1);
      const __m512bh bv = (__m512bh)_mm512_maskz_loadu_epi16(mask, row + 2 * p);
      const __mmask16 pm = lane_mask(kp - p);
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_maskz_loadu_epi32(pm, a2 + r * kp + p), bv);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const float s = alpha * _mm512_reduce_add_ps(acc[r]);
      float* out = c + static_cast<size_t>(r) * ldc + j;
      *out = beta != 0 ? s + beta * *out : s;
    }
  }
}

// Stored [k, n]: a task owns a range of whole rows of B, read front to back as stored (a column
// block would jump a row's length, past the page, at every step: the prefetcher loses it), and
// sums its rows into its own partial C; the partials are added at the end.
template <int R>
BF16_TARGET void rows_axpy(float* part, const float* ar, int k, const uint16_t* b, int ldb, int n, int p_lo, int p_hi) {
  int p = p_lo;
  for (; p + 4 <= p_hi; p += 4) {
    const uint16_t* row = b + static_cast<size_t>(p) * ldb;
    for (int n0 = 0; n0 < n; n0 += 16) {
      const __mmask16 m = lane_mask(n - n0);
      __m512 bv[4];
#pragma GCC unroll 4
      for (int q = 0; q < 4; q++)
        bv[q] = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, row + static_cast<size_t>(q) * ldb + n0)), 16));
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) {
        float* out = part + static_cast<size_t>(r) * n + n0;
        __m512 acc = _mm512_maskz_loadu_ps(m, out);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) acc = _mm512_fmadd_ps(_mm512_set1_ps(ar[r * k + p + q]), bv[q], acc);
        _mm512_mask_storeu_ps(out, m, acc);
      }
    }
  }
  for (; p < p_hi; p++) {
    const uint16_t* row = b + static_cast<size_t>(p) * ldb;
    for (int n0 = 0; n0 < n; n0 += 16) {
      const __mmask16 m = lane_mask(n - n0);
      const __m512 bv = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, row + n0)), 16));
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) {
        float* out = part + static_cast<size_t>(r) * n + n0;
        _mm512_mask_storeu_ps(out, m, _mm512_fmadd_ps(_mm512_set1_ps(ar[r * k + p]), bv, _mm512_maskz_loadu_ps(m, out)));
      }
    }
  }
}

template <int R>
void small_m(float* c, const float* a, const uint32_t* a2, int kp, const uint16_t* b, int n, int k, bool trans_b, int lda, int ldb, int ldc,
             float alpha, float beta) {
  if (trans_b) {
    parallel_tasks((n + 63) / 64, [&](int64_t t) {
      rows_dot<R>(c, ldc, a2, kp, b, ldb, k, static_cast<int>(t * 64), std::min(n, static_cast<int>(t * 64 + 64)), alpha, beta);
    });
    return;
  }
  std::vector<float> ar(static_cast<size_t>(R) * k);
  for (int r = 0; r < R; r++)
    for (int p = 0; p < k; p++) ar[r * k + p] = widen(round_bf16(a[static_cast<size_t>(r) * lda + p]));
  // Two tasks per thread (a thread slowed by another process takes fewer), rows in multiples of 4.
  const int tasks = std::max(1, std::min(2 * get_threads(), k / 16));
  const int step = ((k + tasks - 1) / tasks + 3) / 4 * 4;
  // Kept per calling thread: decoding calls this ~50 times a token with the same sizes.
  // Pool threads reach it through `part` (a thread_local named inside the lambdas would be theirs).
  thread_local std::vector<float> parts;
  parts.assign(static_cast<size_t>(tasks) * R * n, 0.0f);
  float* const part = parts.data();
  parallel_tasks(tasks, [&](int64_t t) {
    const int lo = static_cast<int>(t) * step, hi = std::min(k, lo + step);
    if (lo < hi) rows_axpy<R>(part + static_cast<size_t>(t) * R * n, ar.data(), k, b, ldb, n, lo, hi);
  });
  parallel_for(static_cast<int64_t>(R) * n, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i++) {
      float s = 0;
      for (int t = 0; t < tasks; t++) s += part[static_cast<size_t>(t) * R * n + i];
      float* out = c + (i / n) * ldc + i % n;
      *out = beta != 0 ? alpha * s + beta * *out : alpha * s;
    }
  });
}
using SmallFn = void (*)(float*, const float*, const uint32_t*, int, const uint16_t*, int, int, bool, int, int, int, float, float);
const SmallFn kSmall[9] = {nullptr, small_m<1>, small_m<2>, small_m<3>, small_m<4>, small_m<5>, small_m<6>, small_m<7>, small_m<8>};

void gemm_bf16_avx512(float* c, const float* a, const uint16_t* b, int m, int n, int k, bool trans_b, int lda, int ldb, int ldc,
                      float alpha, float beta) {
  const int kp = (k + 1) / 2;
  std::vector<uint32_t> a2(static_cast<size_t>(m) * kp);
  parallel_for(m, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) pack_row(a2.data() + r * kp, a + r * lda, k);
  });
  if (m <= 8) { kSmall[m](c, a, a2.data(), kp, b, n, k, trans_b, lda, ldb, ldc, alpha, beta); return; }
  // Each task owns 4 panels (128 columns) of C and walks k in blocks of 512 pairs, so its packed
  // panels (256 KB) stay in L2; later blocks add to C (beta 1).
  constexpr int kPanels = 4, kBlock = 512;
  const int panels = (n + NR - 1) / NR;
  parallel_tasks((panels + kPanels - 1) / kPanels, [&](int64_t t) {
    thread_local std::vector<uint32_t> bp;
    bp.resize(static_cast<size_t>(kPanels) * kBlock * NR);
    const int p0 = static_cast<int>(t) * kPanels, p1 = std::min(panels, p0 + kPanels);
    for (int q0 = 0; q0 < kp; q0 += kBlock) {
      const int qn = std::min(kBlock, kp - q0), kv = std::min(k - 2 * q0, 2 * qn);
      const uint16_t* bq = trans_b ? b + 2 * static_cast<size_t>(q0) : b + 2 * static_cast<size_t>(q0) * ldb;
      for (int p = p0; p < p1; p++) pack_panel(bp.data() + static_cast<size_t>(p - p0) * qn * NR, bq, trans_b, ldb, kv, p * NR, std::min(NR, n - p * NR));
      const float beta_q = q0 == 0 ? beta : 1.0f;
      for (int m0 = 0; m0 < m; m0 += MR) {
        const int rows = std::min(MR, m - m0);
        for (int p = p0; p < p1; p++) {
          kMicro[rows](a2.data() + static_cast<size_t>(m0) * kp + q0, kp, bp.data() + static_cast<size_t>(p - p0) * qn * NR, qn,
                       c + static_cast<size_t>(m0) * ldc + p * NR, ldc, std::min(NR, n - p * NR), alpha, beta_q);
        }
      }
    }
  });
}

}  // namespace

int bf16_kernel(int choice) {
  if (choice >= -1 && choice <= 1) g_kernel = choice;
  return use_avx512() ? 1 : 0;
}

void gemm_bf16(float* c, const float* a, const uint16_t* b, int m, int n, int k, bool trans_b, int lda, int ldb, int ldc, float alpha, float beta) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int r = 0; r < m; r++)
      for (int j = 0; j < n; j++) c[static_cast<size_t>(r) * ldc + j] = beta == 0 ? 0 : beta * c[static_cast<size_t>(r) * ldc + j];
    return;
  }
  if (use_avx512()) gemm_bf16_avx512(c, a, b, m, n, k, trans_b, lda, ldb, ldc, alpha, beta);
  else gemm_bf16_widen(c, a, b, m, n, k, trans_b, lda, ldb, ldc, alpha, beta);
}

}  // namespace peft
