// N-API surface of the native backend: unpacks typed arrays and hands them to the kernels.
// Shapes are validated in TypeScript (src/backend/native/binding.ts) before they get here.
#include <napi.h>

#include <malloc.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "kernels/kernels.h"

namespace {

float* F(const Napi::Value& v) { return v.IsNull() || v.IsUndefined() ? nullptr : v.As<Napi::Float32Array>().Data(); }
const int32_t* I(const Napi::Value& v) { return v.As<Napi::Int32Array>().Data(); }
int64_t N(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
double D(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
bool B(const Napi::Value& v) { return v.As<Napi::Boolean>().Value(); }
int64_t Len(const Napi::Value& v) { return static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength()); }

std::vector<int64_t> Ints(const Napi::Value& v) {
  auto a = v.As<Napi::Float64Array>();
  std::vector<int64_t> out(a.ElementLength());
  for (size_t i = 0; i < out.size(); i++) out[i] = static_cast<int64_t>(a[i]);
  return out;
}

// meta = [ndim, shape..., then per operand: offset, strides...]
struct StridedMeta {
  int ndim;
  std::vector<int64_t> values;
  const int64_t* shape() const { return values.data() + 1; }
  int64_t offset(int operand) const { return values[1 + ndim + operand * (ndim + 1)]; }
  const int64_t* strides(int operand) const { return values.data() + 2 + ndim + operand * (ndim + 1); }
};
StridedMeta Meta(const Napi::Value& v) {
  StridedMeta m;
  m.values = Ints(v);
  m.ndim = static_cast<int>(m.values[0]);
  return m;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  peft::set_threads(static_cast<int>(N(info[0])));
  return info.Env().Undefined();
}
Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), peft::get_threads()); }

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  auto ao = Ints(info[3]), bo = Ints(info[4]), co = Ints(info[5]);
  peft::gemm(F(info[2]), F(info[0]), F(info[1]), ao.data(), bo.data(), co.data(), static_cast<int64_t>(co.size()),
             static_cast<int>(N(info[6])), static_cast<int>(N(info[7])), static_cast<int>(N(info[8])), B(info[9]), B(info[10]),
             static_cast<int>(N(info[11])), static_cast<int>(N(info[12])), static_cast<int>(N(info[13])),
             static_cast<float>(D(info[14])), static_cast<float>(D(info[15])));
  return info.Env().Undefined();
}

const uint16_t* U16(const Napi::Value& v) { return v.As<Napi::Uint16Array>().Data(); }
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  peft::gemm_bf16(F(info[2]) + N(info[5]), F(info[0]) + N(info[3]), U16(info[1]) + N(info[4]), static_cast<int>(N(info[6])),
                  static_cast<int>(N(info[7])), static_cast<int>(N(info[8])), B(info[9]), static_cast<int>(N(info[10])),
                  static_cast<int>(N(info[11])), static_cast<int>(N(info[12])), static_cast<float>(D(info[13])), static_cast<float>(D(info[14])));
  return info.Env().Undefined();
}
Napi::Value Bf16Kernel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), peft::bf16_kernel(static_cast<int>(N(info[0]))));
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  peft::unary(static_cast<int>(N(info[0])), F(info[1]), F(info[2]), Len(info[2]), static_cast<float>(D(info[3])), static_cast<float>(D(info[4])));
  return info.Env().Undefined();
}
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  peft::unary_backward(static_cast<int>(N(info[0])), F(info[1]), F(info[2]), F(info[3]), F(info[4]), Len(info[2]),
                       static_cast<float>(D(info[5])), static_cast<float>(D(info[6])));
  return info.Env().Undefined();
}
Napi::Value Binary(const Napi::CallbackInfo& info) {
  auto m = Meta(info[4]);
  peft::binary(static_cast<int>(N(info[0])), F(info[1]), {F(info[2]), m.offset(0), m.strides(0)}, {F(info[3]), m.offset(1), m.strides(1)},
               m.shape(), m.ndim);
  return info.Env().Undefined();
}
Napi::Value Where(const Napi::CallbackInfo& info) {
  auto m = Meta(info[4]);
  peft::where(F(info[0]), {F(info[1]), m.offset(0), m.strides(0)}, {F(info[2]), m.offset(1), m.strides(1)},
              {F(info[3]), m.offset(2), m.strides(2)}, m.shape(), m.ndim);
  return info.Env().Undefined();
}
Napi::Value Copy(const Napi::CallbackInfo& info) {
  auto m = Meta(info[2]);
  peft::copy(F(info[0]), m.offset(0), m.strides(0), {F(info[1]), m.offset(1), m.strides(1)}, m.shape(), m.ndim);
  return info.Env().Undefined();
}
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  auto fn = B(info[0]) ? peft::reduce_max : peft::reduce_sum;
  fn(F(info[1]), F(info[2]), N(info[3]), N(info[4]), N(info[5]));
  return info.Env().Undefined();
}
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  peft::softmax(F(info[0]), F(info[1]), N(info[2]), N(info[3]), B(info[4]));
  return info.Env().Undefined();
}
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  peft::softmax_backward(F(info[0]), F(info[1]), F(info[2]), N(info[3]), N(info[4]), B(info[5]));
  return info.Env().Undefined();
}
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  peft::layer_norm(F(info[0]), F(info[1]), F(info[2]), F(info[3]), F(info[4]), F(info[5]), N(info[6]), N(info[7]), static_cast<float>(D(info[8])));
  return info.Env().Undefined();
}
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  peft::layer_norm_backward(F(info[0]), F(info[1]), F(info[2]), F(info[3]), F(info[4]), F(info[5]), F(info[6]), F(info[7]), N(info[8]), N(info[9]));
  return info.Env().Undefined();
}
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  peft::rms_norm(F(info[0]), F(info[1]), F(info[2]), F(info[3]), N(info[4]), N(info[5]), static_cast<float>(D(info[6])));
  return info.Env().Undefined();
}
Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  peft::rms_norm_backward(F(info[0]), F(info[1]), F(info[2]), F(info[3]), F(info[4]), F(info[5]), N(info[6]), N(info[7]));
  return info.Env().Undefined();
}
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  peft::cross_entropy(F(info[0]), F(info[1]), F(info[2]), I(info[3]), N(info[4]), N(info[5]), static_cast<int>(N(info[6])));
  return info.Env().Undefined();
}
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  peft::cross_entropy_backward(F(info[0]), F(info[1]), F(info[2]), I(info[3]), F(info[4]), N(info[5]), N(info[6]), static_cast<int>(N(info[7])));
  return info.Env().Undefined();
}
Napi::Value Embedding(const Napi::CallbackInfo& info) {
  peft::embedding(F(info[0]), F(info[1]), I(info[2]), Len(info[2]), N(info[3]));
  return info.Env().Undefined();
}
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  peft::embedding_backward(F(info[0]), F(info[1]), I(info[2]), Len(info[2]), N(info[3]));
  return info.Env().Undefined();
}
Napi::Value Rope(const Napi::CallbackInfo& info) {
  peft::rope(F(info[0]), F(info[1]), F(info[2]), F(info[3]), N(info[4]), N(info[5]), N(info[6]), N(info[7]), N(info[8]), B(info[9]));
  return info.Env().Undefined();
}
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  peft::dropout(F(info[0]), F(info[1]), Len(info[1]), D(info[2]), static_cast<uint32_t>(N(info[3])));
  return info.Env().Undefined();
}

// meta = [qOff, qs*4, kOff, ks*4, vOff, vs*4, mOff, ms*4, batch, heads, kvHeads, tq, tk, d, scale, causal]
peft::AttentionShape Shape(const Napi::CallbackInfo& info, int first) {
  peft::AttentionShape s{};
  s.q = F(info[first]); s.k = F(info[first + 1]); s.v = F(info[first + 2]); s.mask = F(info[first + 3]);
  auto m = info[first + 4].As<Napi::Float64Array>();
  auto get = [&](int i) { return static_cast<int64_t>(m[i]); };
  s.q_off = get(0); s.k_off = get(5); s.v_off = get(10); s.m_off = get(15);
  for (int i = 0; i < 4; i++) { s.qs[i] = get(1 + i); s.ks[i] = get(6 + i); s.vs[i] = get(11 + i); s.ms[i] = get(16 + i); }
  s.batch = get(20); s.heads = get(21); s.kv_heads = get(22); s.tq = get(23); s.tk = get(24); s.d = get(25);
  s.scale = static_cast<float>(m[26]);
  s.causal = m[27] != 0;
  return s;
}
Napi::Value Attention(const Napi::CallbackInfo& info) {
  peft::attention(F(info[0]), F(info[1]), Shape(info, 2));
  return info.Env().Undefined();
}
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  peft::attention_backward(F(info[0]), F(info[1]), F(info[2]), F(info[3]), F(info[4]), F(info[5]), Shape(info, 6));
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
