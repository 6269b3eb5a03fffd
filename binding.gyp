{
  "targets": [
    {
      "target_name": "peft_native",
      "sources": [
        "native/addon.cc",
        "native/kernels/pool.cc",
        "native/kernels/gemm.cc",
        "native/kernels/gemm_bf16.cc",
        "native/kernels/elementwise.cc",
        "native/kernels/reduce.cc",
        "native/kernels/norm.cc",
        "native/kernels/softmax.cc",
        "native/kernels/attention.cc",
        "native/kernels/embedding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-Wall", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++1y"],
      "libraries": ["-lopenblas", "-lpthread"]
    }
  ]
}
