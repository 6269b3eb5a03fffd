import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readHeader, readShardIndex, resolveModelDir } from '../../io/index.js';
import { loadPretrained, readConfig } from '../../models/index.js';
import { defineCommand } from '../command.js';
import { JSON_FLAG, MODEL_FLAGS } from '../flags.js';

export const infoCommand = defineCommand({
  name: 'info',
  summary: 'architecture, parameter count and stored dtypes of a model',
  flags: { ...MODEL_FLAGS, ...JSON_FLAG },
  positional: { flag: 'model', deprecated: true },
  async run(values, { out }) {
    const dir = await resolveModelDir(values.model, { revision: values.revision });
    const raw = readConfig(dir);
    const { model } = loadPretrained(dir);
    const dtypes: Record<string, number> = {};
    const index = join(dir, 'model.safetensors.index.json');
    const files = existsSync(index) ? [...readShardIndex(index).keys()] : [join(dir, 'model.safetensors')];
    for (const file of files) {
      for (const [, t] of readHeader(file).tensors) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    }
    const params = model.parameters().reduce((n, t) => n + t.size, 0);
    const summary = {
      model_type: raw.model_type,
      architectures: raw.architectures ?? [],
      task: model.task,
      parameters: params,
      layers: model.config.numLayers,
      hidden_size: model.config.hiddenSize,
      vocab_size: model.config.vocabSize,
      max_positions: model.config.maxPositions,
      stored_dtypes: dtypes,
      tokenizer: existsSync(join(dir, 'tokenizer.json')),
    };
    if (values.json) {
      out.json(summary);
      return;
    }
    out.line(`${dir}: ${summary.model_type} (${(summary.architectures as string[]).join(', ') || summary.task})`);
    out.line(`  parameters      ${params.toLocaleString('en-US')} (${(params / 1e6).toFixed(2)}M)`);
    out.line(`  layers          ${summary.layers}, hidden ${summary.hidden_size}, vocab ${summary.vocab_size}, positions ${summary.max_positions}`);
    out.line(
      `  stored dtypes   ${Object.entries(dtypes)
        .map(([k, v]) => `${k} x${v}`)
        .join(', ')}`,
    );
    out.line(`  tokenizer.json  ${summary.tokenizer ? 'yes' : 'no'}`);
  },
});
