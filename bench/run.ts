/**
 * `npm run bench`: speed figures, each beside a baseline measured in the same run.
 * Never asserted in tests; read them, and put the interesting ones in the notes.
 */
import { benchAttention, benchGemm, kernelBackends } from './kernels.js';
import { benchLlamaCpp } from './llama-cpp.js';
import { benchLoraTraining, benchModels } from './models.js';
import { machineLine } from './util.js';

const backends = kernelBackends();
console.log(machineLine(backends[0].threads));
console.log('\n== GEMM: Tensor.matmul against the raw backend GEMM (cblas_sgemm for native) on the same shapes ==');
console.log(benchGemm(backends));
console.log('\n== Fused attention ==');
console.log(benchAttention(backends));
console.log('\n== Models ==');
console.log(benchModels(backends[0].threads));
console.log('\n== LoRA fine-tuning ==');
console.log(benchLoraTraining(backends[0].threads));
console.log('\n== llama.cpp on the exported GGUF ==');
console.log(await benchLlamaCpp(backends[0].threads));
