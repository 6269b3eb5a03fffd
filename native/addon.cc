// N-API surface of the native backend: unpacks typed arrays and hands them to the kernels.
// This is the boundary between JavaScript and memory: every entry point checks its
// arguments (types, sizes, strides and offsets against each buffer's length, op codes, ids
// against their table) before a kernel runs, and throws a RangeError/TypeError instead of
// reading or writing past a buffer. The TypeScript side validates too; this is the last line.
#include <napi.h>

#include <malloc.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "kernels/kernels.h"

namespace {

// Sizes and offsets travel as doubles; anything beyond 2^53 or not an integer is refused.
constexpr double kMaxExact = 9007199254740992.0;

template <typename T> struct Buf { T* data = nullptr; int64_t len = 0; };

// 0-based (inclusive) index range a strided view reaches; empty when any size is 0.
struct Extent { bool empty = true; int64_t lo = 0, hi = 0; };

// Reads the arguments of one call, remembering the first problem (as JS exceptions need a
// return right after they are thrown, kernels run only when `ok()`).
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel) : info_(info), kernel_(kernel) {}

  bool ok() const { return error_.empty(); }
  Napi::Value fail() {
    Napi::RangeError::New(info_.Env(), std::string("[native] ") + kernel_ + ": " + error_).ThrowAsJavaScriptException();
    return info_.Env().Undefined();
  }
  void check(bool cond, const std::string& what) { if (!cond && error_.empty()) error_ = what; }

  Buf<float> f32(int i, bool nullable = false) { return typed<float>(i, napi_float32_array, "Float32Array", nullable); }
  Buf<uint16_t> u16(int i) { return typed<uint16_t>(i, napi_uint16_array, "Uint16Array", false); }
  Buf<const int32_t> i32(int i) {
    auto b = typed<int32_t>(i, napi_int32_array, "Int32Array", false);
    return {b.data, b.len};
  }
  double num(int i) {
    if (i >= static_cast<int>(info_.Length()) || !info_[i].IsNumber()) { check(false, arg(i) + " must be a number"); return 0; }
    return info_[i].As<Napi::Number>().DoubleValue();
  }
  // A non-negative integer size (or one >= `min`).
  int64_t size(int i, int64_t min = 0) { return integer(num(i), arg(i), min); }
  bool flag(int i) {
    if (i >= static_cast<int>(info_.Length()) || !info_[i].IsBoolean()) { check(false, arg(i) + " must be a boolean"); return false; }
    return info_[i].As<Napi::Boolean>().Value();
  }
  // Float64Array of integers (offsets, strides, shapes); entry `real` (if any) may be any number.
  std::vector<int64_t> ints(int i, int64_t real = -1) {
    std::vector<int64_t> out;
    if (i >= static_cast<int>(info_.Length()) || !info_[i].IsTypedArray() || info_[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      check(false, arg(i) + " must be a Float64Array");
      return out;
    }
    auto a = info_[i].As<Napi::Float64Array>();
    out.resize(a.ElementLength());
    for (size_t j = 0; j < out.size(); j++) out[j] = static_cast<int64_t>(j) == real ? 0 : integer(a[j], arg(i) + "[" + std::to_string(j) + "]", INT64_MIN);
    return out;
  }
  int64_t integer(double v, const std::string& what, int64_t min) {
    if (!(std::isfinite(v) && v == std::floor(v) && std::fabs(v) <= kMaxExact)) { check(false, what + " must be an integer, got " + std::to_string(v)); return 0; }
    const auto n = static_cast<int64_t>(v);
    if (min != INT64_MIN) check(n >= min, what + " must be >= " + std::to_string(min) + ", got " + std::to_string(n));
    return n < 0 && min >= 0 ? 0 : n;
  }
  // a*b, or a value no buffer holds when it overflows.
  static int64_t mul(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
  }
  static int64_t mul(std::initializer_list<int64_t> xs) {
    int64_t r = 1;
    for (auto x : xs) r = mul(r, x);
    return r;
  }
  template <typename T> void holds(const Buf<T>& b, int64_t count, const char* name) {
    if (b.data == nullptr && b.len == 0 && count == 0) return;
    check(count <= b.len, std::string(name) + " holds " + std::to_string(b.len) + " elements, " + std::to_string(count) + " needed");
  }
  template <typename T> void optionalHolds(const Buf<T>& b, int64_t count, const char* name) { if (b.data) holds(b, count, name); }
  // The view (offset, strides over shape) stays inside b.
  template <typename T> void reaches(const Buf<T>& b, int64_t offset, const int64_t* shape, const int64_t* strides, int ndim, const char* name) {
    Extent e = extent(offset, shape, strides, ndim);
    if (e.empty) return;
    check(e.lo >= 0 && e.hi < b.len, std::string(name) + " view reaches elements [" + std::to_string(e.lo) + ", " + std::to_string(e.hi) +
                                         "] of a buffer of " + std::to_string(b.len));
  }
  static Extent extent(int64_t offset, const int64_t* shape, const int64_t* strides, int ndim) {
    Extent e;
    e.lo = e.hi = offset;
    for (int d = 0; d < ndim; d++) {
      if (shape[d] == 0) return Extent{};
      const int64_t span = mul(shape[d] - 1, strides[d] < 0 ? -strides[d] : strides[d]);
      if (span == INT64_MAX) return Extent{false, -1, INT64_MAX};
      if (strides[d] < 0) e.lo -= span; else e.hi += span;
    }
    e.empty = false;
    return e;
  }
  // ids all in [0, rows) (or equal to `except`).
  void idsWithin(const Buf<const int32_t>& ids, int64_t n, int64_t rows, const char* name, int64_t except = INT64_MIN) {
    if (!ok()) return;
    for (int64_t i = 0; i < n; i++) {
      if (ids.data[i] == except) continue;
      if (ids.data[i] < 0 || ids.data[i] >= rows) {
        check(false, std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(ids.data[i]) + " is outside [0, " + std::to_string(rows) + ")");
        return;
      }
    }
  }

 private:
  std::string arg(int i) const { return "argument " + std::to_string(i); }
  template <typename T> Buf<T> typed(int i, napi_typedarray_type type, const char* name, bool nullable) {
    if (i >= static_cast<int>(info_.Length())) { check(false, arg(i) + " is missing"); return {}; }
    const Napi::Value& v = info_[i];
    if (nullable && (v.IsNull() || v.IsUndefined())) return {};
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) { check(false, arg(i) + " must be a " + name); return {}; }
    auto a = v.As<Napi::TypedArrayOf<T>>();
    return {a.Data(), static_cast<int64_t>(a.ElementLength())};
  }
  const Napi::CallbackInfo& info_;
  const char* kernel_;
  std::string error_;
};

// meta = [ndim, shape..., then per operand: offset, strides...]
struct StridedMeta {
  int ndim = 0;
  std::vector<int64_t> values;
  const int64_t* shape() const { return values.data() + 1; }
  int64_t offset(int operand) const { return values[1 + ndim + operand * (ndim + 1)]; }
  const int64_t* strides(int operand) const { return values.data() + 2 + ndim + operand * (ndim + 1); }
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n = Args::mul(n, shape()[d]);
    return n;
  }
};
StridedMeta Meta(Args& a, int i, int operands) {
  StridedMeta m;
  m.values = a.ints(i);
  if (!a.ok()) return m;
  a.check(!m.values.empty() && m.values[0] >= 0 && m.values[0] <= 64, "meta has an invalid rank");
  if (!a.ok()) return m;
  m.ndim = static_cast<int>(m.values[0]);
  a.check(static_cast<int64_t>(m.values.size()) == 1 + m.ndim + operands * (m.ndim + 1), "meta has the wrong length for its rank");
  if (!a.ok()) return m;
  for (int d = 0; d < m.ndim; d++) a.check(m.shape()[d] >= 0, "meta has a negative size");
  for (int o = 0; o < operands; o++) a.check(m.offset(o) >= 0, "meta has a negative offset");
  return m;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads");
  const int64_t n = a.size(0, 1);
  a.check(n <= 1024, "at most 1024 threads");
  if (!a.ok()) return a.fail();
  peft::set_threads(static_cast<int>(n));
  return info.Env().Undefined();
}
Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), peft::get_threads()); }

// One operand of a GEMM: `rows` x `cols` as stored (after the transpose flag), leading dimension ld.
template <typename T>
void GemmOperand(Args& a, const Buf<T>& buf, const std::vector<int64_t>& offsets, int64_t rows, int64_t cols, int64_t ld, const char* name) {
  a.check(ld >= std::max<int64_t>(1, cols), std::string(name) + ": leading dimension " + std::to_string(ld) + " < " + std::to_string(cols));
  if (rows == 0 || cols == 0) return;
  const int64_t extent = Args::mul(rows - 1, ld) + cols;  // elements from the first to one past the last
  for (size_t i = 0; i < offsets.size() && a.ok(); i++) {
    a.check(offsets[i] >= 0 && extent <= buf.len - offsets[i], std::string(name) + " entry " + std::to_string(i) + " runs past its buffer");
  }
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, "gemm");
  auto A = a.f32(0), B = a.f32(1), C = a.f32(2);
  auto ao = a.ints(3), bo = a.ints(4), co = a.ints(5);
  const int64_t m = a.size(6), n = a.size(7), k = a.size(8);
  const bool ta = a.flag(9), tb = a.flag(10);
  const int64_t lda = a.size(11), ldb = a.size(12), ldc = a.size(13);
  const double alpha = a.num(14), beta = a.num(15);
  a.check(ao.size() == co.size() && bo.size() == co.size(), "offset lists differ in length");
  a.check(m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX && lda <= INT32_MAX && ldb <= INT32_MAX && ldc <= INT32_MAX, "sizes beyond int32");
  if (a.ok()) {
    GemmOperand(a, A, ao, ta ? k : m, ta ? m : k, lda, "A");
    GemmOperand(a, B, bo, tb ? n : k, tb ? k : n, ldb, "B");
    GemmOperand(a, C, co, m, n, ldc, "C");
  }
  if (!a.ok()) return a.fail();
  peft::gemm(C.data, A.data, B.data, ao.data(), bo.data(), co.data(), static_cast<int64_t>(co.size()), static_cast<int>(m), static_cast<int>(n),
             static_cast<int>(k), ta, tb, static_cast<int>(lda), static_cast<int>(ldb), static_cast<int>(ldc), static_cast<float>(alpha),
             static_cast<float>(beta));
  return info.Env().Undefined();
}

// C[m, n] = alpha * A[m, k] (float32, rounded to bfloat16 in the product) x B (bfloat16 weights) + beta * C.
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  Args a(info, "gemmBf16");
  auto A = a.f32(0);
  auto B = a.u16(1);
  auto C = a.f32(2);
  const int64_t ao = a.size(3), bo = a.size(4), co = a.size(5);
  const int64_t m = a.size(6), n = a.size(7), k = a.size(8);
  const bool tb = a.flag(9);
  const int64_t lda = a.size(10), ldb = a.size(11), ldc = a.size(12);
  const double alpha = a.num(13), beta = a.num(14);
  a.check(m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX && lda <= INT32_MAX && ldb <= INT32_MAX && ldc <= INT32_MAX, "sizes beyond int32");
  if (a.ok()) {
    GemmOperand(a, A, {ao}, m, k, lda, "A");
    GemmOperand(a, B, {bo}, tb ? n : k, tb ? k : n, ldb, "B");
    GemmOperand(a, C, {co}, m, n, ldc, "C");
  }
  if (!a.ok()) return a.fail();
  if (m == 0 || n == 0) return info.Env().Undefined();
  if (k == 0) {
    // An empty inner product is zero, as in PyTorch: C = beta * C.
    for (int64_t i = 0; i < m; i++) {
      float* row = C.data + co + i * ldc;
      for (int64_t j = 0; j < n; j++) row[j] = beta == 0 ? 0.0f : static_cast<float>(beta) * row[j];
    }
    return info.Env().Undefined();
  }
  peft::gemm_bf16(C.data + co, A.data + ao, B.data + bo, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), tb, static_cast<int>(lda),
                  static_cast<int>(ldb), static_cast<int>(ldc), static_cast<float>(alpha), static_cast<float>(beta));
  return info.Env().Undefined();
}
Napi::Value Bf16Kernel(const Napi::CallbackInfo& info) {
  Args a(info, "bf16Kernel");
  const int64_t choice = a.integer(a.num(0), "choice", -1);
  a.check(choice <= 2, "choice must be -1, 0, 1 or 2");
  if (!a.ok()) return a.fail();
  return Napi::Number::New(info.Env(), peft::bf16_kernel(static_cast<int>(choice)));
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Args a(info, "unary");
  const int64_t op = a.size(0);
  auto out = a.f32(1), x = a.f32(2);
  const double p0 = a.num(3), p1 = a.num(4);
  a.check(op <= peft::CLAMP, "unknown unary op");
  a.holds(out, x.len, "out");
  if (!a.ok()) return a.fail();
  peft::unary(static_cast<int>(op), out.data, x.data, x.len, static_cast<float>(p0), static_cast<float>(p1));
  return info.Env().Undefined();
}
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  Args a(info, "unaryBackward");
  const int64_t op = a.size(0);
  auto gx = a.f32(1), x = a.f32(2), y = a.f32(3), gy = a.f32(4);
  const double p0 = a.num(5), p1 = a.num(6);
  a.check(op <= peft::CLAMP, "unknown unary op");
  a.holds(gx, x.len, "gx");
  a.holds(y, x.len, "y");
  a.holds(gy, x.len, "gy");
  if (!a.ok()) return a.fail();
  peft::unary_backward(static_cast<int>(op), gx.data, x.data, y.data, gy.data, x.len, static_cast<float>(p0), static_cast<float>(p1));
  return info.Env().Undefined();
}
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary");
  const int64_t op = a.size(0);
  auto out = a.f32(1), x = a.f32(2), y = a.f32(3);
  auto m = Meta(a, 4, 2);
  a.check(op <= peft::EQ, "unknown binary op");
  if (a.ok()) {
    a.holds(out, m.numel(), "out");
    a.reaches(x, m.offset(0), m.shape(), m.strides(0), m.ndim, "a");
    a.reaches(y, m.offset(1), m.shape(), m.strides(1), m.ndim, "b");
  }
  if (!a.ok()) return a.fail();
  peft::binary(static_cast<int>(op), out.data, {x.data, m.offset(0), m.strides(0)}, {y.data, m.offset(1), m.strides(1)}, m.shape(), m.ndim);
  return info.Env().Undefined();
}
Napi::Value Where(const Napi::CallbackInfo& info) {
  Args a(info, "where");
  auto out = a.f32(0), c = a.f32(1), x = a.f32(2), y = a.f32(3);
  auto m = Meta(a, 4, 3);
  if (a.ok()) {
    a.holds(out, m.numel(), "out");
    a.reaches(c, m.offset(0), m.shape(), m.strides(0), m.ndim, "cond");
    a.reaches(x, m.offset(1), m.shape(), m.strides(1), m.ndim, "a");
    a.reaches(y, m.offset(2), m.shape(), m.strides(2), m.ndim, "b");
  }
  if (!a.ok()) return a.fail();
  peft::where(out.data, {c.data, m.offset(0), m.strides(0)}, {x.data, m.offset(1), m.strides(1)}, {y.data, m.offset(2), m.strides(2)}, m.shape(), m.ndim);
  return info.Env().Undefined();
}
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Args a(info, "copy");
  auto dst = a.f32(0), src = a.f32(1);
  auto m = Meta(a, 2, 2);
  if (a.ok()) {
    a.reaches(dst, m.offset(0), m.shape(), m.strides(0), m.ndim, "dst");
    a.reaches(src, m.offset(1), m.shape(), m.strides(1), m.ndim, "src");
  }
  if (!a.ok()) return a.fail();
  peft::copy(dst.data, m.offset(0), m.strides(0), {src.data, m.offset(1), m.strides(1)}, m.shape(), m.ndim);
  return info.Env().Undefined();
}
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Args a(info, "reduce");
  const bool max = a.flag(0);
  auto out = a.f32(1), x = a.f32(2);
  const int64_t outer = a.size(3), size = a.size(4), inner = a.size(5);
  a.holds(x, Args::mul({outer, size, inner}), "x");
  a.holds(out, Args::mul(outer, inner), "out");
  if (!a.ok()) return a.fail();
  (max ? peft::reduce_max : peft::reduce_sum)(out.data, x.data, outer, size, inner);
  return info.Env().Undefined();
}
// Row kernels over [rows, cols]: `full` buffers hold rows*cols, `perRow` buffers rows.
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Args a(info, "softmax");
  auto out = a.f32(0), x = a.f32(1);
  const int64_t rows = a.size(2), cols = a.size(3);
  const bool log = a.flag(4);
  a.holds(out, Args::mul(rows, cols), "out");
  a.holds(x, Args::mul(rows, cols), "x");
  if (!a.ok()) return a.fail();
  peft::softmax(out.data, x.data, rows, cols, log);
  return info.Env().Undefined();
}
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackward");
  auto gx = a.f32(0), y = a.f32(1), gy = a.f32(2);
  const int64_t rows = a.size(3), cols = a.size(4);
  const bool log = a.flag(5);
  for (auto* b : {&gx, &y, &gy}) a.holds(*b, Args::mul(rows, cols), "operand");
  if (!a.ok()) return a.fail();
  peft::softmax_backward(gx.data, y.data, gy.data, rows, cols, log);
  return info.Env().Undefined();
}
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Args a(info, "layerNorm");
  auto out = a.f32(0), mean = a.f32(1), rstd = a.f32(2), x = a.f32(3), w = a.f32(4, true), b = a.f32(5, true);
  const int64_t rows = a.size(6), cols = a.size(7);
  const double eps = a.num(8);
  for (auto* t : {&out, &x}) a.holds(*t, Args::mul(rows, cols), "operand");
  for (auto* t : {&mean, &rstd}) a.holds(*t, rows, "per-row operand");
  for (auto* t : {&w, &b}) a.optionalHolds(*t, cols, "per-column operand");
  if (!a.ok()) return a.fail();
  peft::layer_norm(out.data, mean.data, rstd.data, x.data, w.data, b.data, rows, cols, static_cast<float>(eps));
  return info.Env().Undefined();
}
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward");
  auto gx = a.f32(0), gw = a.f32(1, true), gb = a.f32(2, true), x = a.f32(3), w = a.f32(4, true), mean = a.f32(5), rstd = a.f32(6), gy = a.f32(7);
  const int64_t rows = a.size(8), cols = a.size(9);
  for (auto* t : {&gx, &x, &gy}) a.holds(*t, Args::mul(rows, cols), "operand");
  a.holds(mean, rows, "mean");
  a.holds(rstd, rows, "rstd");
  for (auto* t : {&gw, &gb, &w}) a.optionalHolds(*t, cols, "per-column operand");
  if (!a.ok()) return a.fail();
  peft::layer_norm_backward(gx.data, gw.data, gb.data, x.data, w.data, mean.data, rstd.data, gy.data, rows, cols);
  return info.Env().Undefined();
}
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNorm");
  auto out = a.f32(0), rstd = a.f32(1), x = a.f32(2), w = a.f32(3, true);
  const int64_t rows = a.size(4), cols = a.size(5);
  const double eps = a.num(6);
  for (auto* t : {&out, &x}) a.holds(*t, Args::mul(rows, cols), "operand");
  a.holds(rstd, rows, "rstd");
  a.optionalHolds(w, cols, "weight");
  if (!a.ok()) return a.fail();
  peft::rms_norm(out.data, rstd.data, x.data, w.data, rows, cols, static_cast<float>(eps));
  return info.Env().Undefined();
}
Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormBackward");
  auto gx = a.f32(0), gw = a.f32(1, true), x = a.f32(2), w = a.f32(3, true), rstd = a.f32(4), gy = a.f32(5);
  const int64_t rows = a.size(6), cols = a.size(7);
  for (auto* t : {&gx, &x, &gy}) a.holds(*t, Args::mul(rows, cols), "operand");
  a.holds(rstd, rows, "rstd");
  for (auto* t : {&gw, &w}) a.optionalHolds(*t, cols, "per-column operand");
  if (!a.ok()) return a.fail();
  peft::rms_norm_backward(gx.data, gw.data, x.data, w.data, rstd.data, gy.data, rows, cols);
  return info.Env().Undefined();
}
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropy");
  auto loss = a.f32(0), lse = a.f32(1), logits = a.f32(2);
  auto targets = a.i32(3);
  const int64_t rows = a.size(4), cols = a.size(5);
  const int64_t ignore = a.integer(a.num(6), "ignoreIndex", INT64_MIN);
  a.holds(loss, rows, "loss");
  a.holds(lse, rows, "lse");
  a.holds(logits, Args::mul(rows, cols), "logits");
  a.holds(targets, rows, "targets");
  a.check(ignore >= INT32_MIN && ignore <= INT32_MAX, "ignoreIndex beyond int32");
  a.idsWithin(targets, rows, cols, "targets", ignore);
  if (!a.ok()) return a.fail();
  peft::cross_entropy(loss.data, lse.data, logits.data, targets.data, rows, cols, static_cast<int>(ignore));
  return info.Env().Undefined();
}
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropyBackward");
  auto gx = a.f32(0), logits = a.f32(1), lse = a.f32(2);
  auto targets = a.i32(3);
  auto scale = a.f32(4);
  const int64_t rows = a.size(5), cols = a.size(6);
  const int64_t ignore = a.integer(a.num(7), "ignoreIndex", INT64_MIN);
  a.holds(gx, Args::mul(rows, cols), "gx");
  a.holds(logits, Args::mul(rows, cols), "logits");
  a.holds(lse, rows, "lse");
  a.holds(targets, rows, "targets");
  a.holds(scale, rows, "rowScale");
  a.check(ignore >= INT32_MIN && ignore <= INT32_MAX, "ignoreIndex beyond int32");
  a.idsWithin(targets, rows, cols, "targets", ignore);
  if (!a.ok()) return a.fail();
  peft::cross_entropy_backward(gx.data, logits.data, lse.data, targets.data, scale.data, rows, cols, static_cast<int>(ignore));
  return info.Env().Undefined();
}
// embedding(out, weight, ids, dim) and its backward (gw, gy, ids, dim): `table` has rows of width dim.
Napi::Value EmbeddingCall(const Napi::CallbackInfo& info, bool backward) {
  Args a(info, backward ? "embeddingBackward" : "embedding");
  auto first = a.f32(0), second = a.f32(1);
  auto ids = a.i32(2);
  const int64_t dim = a.size(3);
  const Buf<float>& table = backward ? first : second;
  const Buf<float>& rows = backward ? second : first;
  a.holds(rows, Args::mul(ids.len, dim), backward ? "gy" : "out");
  if (dim > 0) a.idsWithin(ids, ids.len, table.len / dim, "ids");
  if (!a.ok()) return a.fail();
  if (backward) peft::embedding_backward(first.data, second.data, ids.data, ids.len, dim);
  else peft::embedding(first.data, second.data, ids.data, ids.len, dim);
  return info.Env().Undefined();
}
Napi::Value Embedding(const Napi::CallbackInfo& info) { return EmbeddingCall(info, false); }
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) { return EmbeddingCall(info, true); }
Napi::Value Rope(const Napi::CallbackInfo& info) {
  Args a(info, "rope");
  auto out = a.f32(0), x = a.f32(1), cos = a.f32(2), sin = a.f32(3);
  const int64_t batch = a.size(4), heads = a.size(5), t = a.size(6), d = a.size(7), cs = a.size(8);
  const bool inverse = a.flag(9);
  const int64_t n = Args::mul({batch, heads, t, d});
  a.holds(out, n, "out");
  a.holds(x, n, "x");
  if (n > 0) {
    const int64_t table = Args::mul(batch - 1, cs) + Args::mul(t, d);  // last row read + 1
    a.holds(cos, table, "cos");
    a.holds(sin, table, "sin");
  }
  if (!a.ok()) return a.fail();
  peft::rope(out.data, x.data, cos.data, sin.data, batch, heads, t, d, cs, inverse);
  return info.Env().Undefined();
}
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Args a(info, "dropout");
  auto out = a.f32(0), x = a.f32(1);
  const double p = a.num(2);
  const int64_t seed = a.size(3);
  a.check(p >= 0 && p < 1, "p must be in [0, 1)");
  a.check(seed <= UINT32_MAX, "seed beyond uint32");
  a.holds(out, x.len, "out");
  if (!a.ok()) return a.fail();
  peft::dropout(out.data, x.data, x.len, p, static_cast<uint32_t>(seed));
  return info.Env().Undefined();
}

// meta = [qOff, qs*4, kOff, ks*4, vOff, vs*4, mOff, ms*4, batch, heads, kvHeads, tq, tk, d, scale, causal]
peft::AttentionShape Shape(const Napi::CallbackInfo& info, Args& a, int first, Buf<float>* q, Buf<float>* k, Buf<float>* v) {
  peft::AttentionShape s{};
  *q = a.f32(first); *k = a.f32(first + 1); *v = a.f32(first + 2);
  auto mask = a.f32(first + 3, true);
  s.q = q->data; s.k = k->data; s.v = v->data; s.mask = mask.data;
  auto m = a.ints(first + 4, 26);  // entry 26 is the scale, a real number
  if (!a.ok()) return s;
  a.check(m.size() == 28, "attention meta must hold 28 numbers");
  if (!a.ok()) return s;
  s.q_off = m[0]; s.k_off = m[5]; s.v_off = m[10]; s.m_off = m[15];
  for (int i = 0; i < 4; i++) { s.qs[i] = m[1 + i]; s.ks[i] = m[6 + i]; s.vs[i] = m[11 + i]; s.ms[i] = m[16 + i]; }
  s.batch = m[20]; s.heads = m[21]; s.kv_heads = m[22]; s.tq = m[23]; s.tk = m[24]; s.d = m[25];
  s.scale = static_cast<float>(info[first + 4].As<Napi::Float64Array>()[26]);
  s.causal = m[27] != 0;
  for (int64_t x : {s.batch, s.heads, s.kv_heads, s.tq, s.tk, s.d}) a.check(x >= 0 && x <= INT32_MAX, "attention sizes must be in [0, 2^31)");
  a.check(s.kv_heads > 0 ? s.heads % s.kv_heads == 0 : s.heads == 0, "heads must be a multiple of kv_heads");
  a.check(s.tk >= s.tq || !s.causal, "causal attention needs at least as many keys as queries");
  if (!a.ok()) return s;
  // A time dimension of size <= 1 is never stepped over (a decode step's q has stride 0 there),
  // and rows of width 0 are never read: give such strides a value BLAS accepts as a leading
  // dimension; the memory reached is the same.
  if (s.tq <= 1 || s.d == 0) s.qs[2] = std::max<int64_t>(1, s.d);
  if (s.tk <= 1 || s.d == 0) s.ks[2] = s.vs[2] = std::max<int64_t>(1, s.d);
  for (const int64_t* st : {s.qs, s.ks, s.vs}) a.check((st[3] == 1 || s.d <= 1) && st[2] >= std::max<int64_t>(1, s.d), "q, k and v rows must be contiguous");
  const int64_t qshape[4] = {s.batch, s.heads, s.tq, s.d}, kshape[4] = {s.batch, s.kv_heads, s.tk, s.d}, mshape[4] = {s.batch, s.heads, s.tq, s.tk};
  a.reaches(*q, s.q_off, qshape, s.qs, 4, "q");
  a.reaches(*k, s.k_off, kshape, s.ks, 4, "k");
  a.reaches(*v, s.v_off, kshape, s.vs, 4, "v");
  if (s.mask) a.reaches(mask, s.m_off, mshape, s.ms, 4, "mask");
  return s;
}
Napi::Value Attention(const Napi::CallbackInfo& info) {
  Args a(info, "attention");
  auto out = a.f32(0), lse = a.f32(1);
  Buf<float> q, k, v;
  auto s = Shape(info, a, 2, &q, &k, &v);
  if (a.ok()) {
    a.holds(out, Args::mul({s.batch, s.tq, s.heads, s.d}), "out");
    a.holds(lse, Args::mul({s.batch, s.heads, s.tq}), "lse");
  }
  if (!a.ok()) return a.fail();
  peft::attention(out.data, lse.data, s);
  return info.Env().Undefined();
}
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionBackward");
  auto gq = a.f32(0), gk = a.f32(1), gv = a.f32(2), gout = a.f32(3), out = a.f32(4), lse = a.f32(5);
  Buf<float> q, k, v;
  auto s = Shape(info, a, 6, &q, &k, &v);
  if (a.ok()) {
    const int64_t nq = Args::mul({s.batch, s.heads, s.tq, s.d}), nk = Args::mul({s.batch, s.kv_heads, s.tk, s.d});
    a.holds(gq, nq, "gq");
    a.holds(gk, nk, "gk");
    a.holds(gv, nk, "gv");
    a.holds(gout, nq, "gout");
    a.holds(out, nq, "out");
    a.holds(lse, Args::mul({s.batch, s.heads, s.tq}), "lse");
  }
  if (!a.ok()) return a.fail();
  peft::attention_backward(gq.data, gk.data, gv.data, gout.data, out.data, lse.data, s);
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Tensors are large, short-lived typed arrays. Left to glibc's defaults each one is a fresh
  // mmap, paying page faults and kernel zeroing on every op (~15% of a 768x768 GEMM). Kept
  // in the heap, freed buffers are reused by the next allocation of that size.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  const char* threads = std::getenv("PEFT_TS_THREADS");
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  peft::set_threads(threads && std::atoi(threads) > 0 ? std::atoi(threads) : (hw > 0 ? hw : 1));
  exports["setThreads"] = Napi::Function::New(env, SetThreads);
  exports["getThreads"] = Napi::Function::New(env, GetThreads);
  exports["gemm"] = Napi::Function::New(env, Gemm);
  exports["gemmBf16"] = Napi::Function::New(env, GemmBf16);
  exports["bf16Kernel"] = Napi::Function::New(env, Bf16Kernel);
  exports["unary"] = Napi::Function::New(env, Unary);
  exports["unaryBackward"] = Napi::Function::New(env, UnaryBackward);
  exports["binary"] = Napi::Function::New(env, Binary);
  exports["where"] = Napi::Function::New(env, Where);
  exports["copy"] = Napi::Function::New(env, Copy);
  exports["reduce"] = Napi::Function::New(env, Reduce);
  exports["softmax"] = Napi::Function::New(env, Softmax);
  exports["softmaxBackward"] = Napi::Function::New(env, SoftmaxBackward);
  exports["layerNorm"] = Napi::Function::New(env, LayerNorm);
  exports["layerNormBackward"] = Napi::Function::New(env, LayerNormBackward);
  exports["rmsNorm"] = Napi::Function::New(env, RmsNorm);
  exports["rmsNormBackward"] = Napi::Function::New(env, RmsNormBackward);
  exports["crossEntropy"] = Napi::Function::New(env, CrossEntropy);
  exports["crossEntropyBackward"] = Napi::Function::New(env, CrossEntropyBackward);
  exports["embedding"] = Napi::Function::New(env, Embedding);
  exports["embeddingBackward"] = Napi::Function::New(env, EmbeddingBackward);
  exports["rope"] = Napi::Function::New(env, Rope);
  exports["dropout"] = Napi::Function::New(env, Dropout);
  exports["attention"] = Napi::Function::New(env, Attention);
  exports["attentionBackward"] = Napi::Function::New(env, AttentionBackward);
  return exports;
}

}  // namespace

NODE_API_MODULE(peft_native, Init)
