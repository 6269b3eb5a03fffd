import { copyFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../../errors.js';
import { COMPANION_FILES, resolveModelDir } from '../../io/index.js';
import { savePretrained } from '../../models/index.js';
import { defineCommand } from '../command.js';
import { MODEL_FLAGS } from '../flags.js';
import { checkOutputFolder } from '../output-folder.js';
import { loadModel } from './model-io.js';

/** Folds adapters into the base weights and writes a plain Hugging Face checkpoint with the base's tokenizer and generation files. */
export const mergeCommand = defineCommand({
  name: 'merge',
  summary: 'fold adapters into the base weights and write a full checkpoint',
  flags: {
    ...MODEL_FLAGS,
    adapter: { type: 'repeat', required: true, metavar: 'DIR', help: 'adapter folder to fold in; repeat for several (their sum is merged)' },
    out: { type: 'string', required: true, metavar: 'DIR', help: 'an empty folder for the merged model' },
    overwrite: { type: 'boolean', default: false, help: 'write into --out even when it is not empty' },
  },
  async run(v, { out }) {
    if (v.model.toLowerCase().endsWith('.gguf'))
      throw new ArgumentError(
        `[merge] ${v.model} is a GGUF file; merge writes a Hugging Face folder from a model folder.`,
        'To merge into a GGUF, run `peft-ts export gguf --model FILE.gguf --adapter DIR --merge --out merged.gguf`.',
      );
    checkOutputFolder(v.out, '--out', v.overwrite);
    const dir = await resolveModelDir(v.model, { revision: v.revision });
    const { peft } = loadModel(dir, v.adapter, { out });
    savePretrained(peft!.mergeAndUnload(), v.out);
    // Regular files only: a FIFO or folder named like a companion would block or fail the copy.
    for (const file of readdirSync(dir).filter((f) => COMPANION_FILES.test(f) && statSync(join(dir, f)).isFile())) copyFileSync(join(dir, file), join(v.out, file));
    out.note(`merged ${v.adapter.length} adapter(s) into ${v.out}`);
  },
});
