import { describeFields, listMethods, methodByName } from '../../peft/index.js';
import { defineCommand } from '../command.js';
import { JSON_FLAG } from '../flags.js';

/** Lists the PEFT methods with their config fields, defaults and meaning, from their declarations. */
export const methodsCommand = defineCommand({
  name: 'methods',
  summary: 'the PEFT methods peft-ts implements, with their config fields and defaults',
  flags: {
    method: { type: 'string', metavar: 'NAME', help: "one method's fields (also as the argument: peft-ts methods lora)" },
    ...JSON_FLAG,
  },
  positional: { flag: 'method' },
  run(v, { out }) {
    const methods = v.method ? [methodByName(v.method)] : listMethods();
    const table = methods.map((m) => ({
      name: m.name,
      peft_type: m.config.peftType,
      kind: m.kind,
      effect: m.kind === 'layer' ? m.effect : 'changes the model input',
      summary: m.summary,
      default_targets: m.kind === 'layer' ? m.defaultTargets : {},
      fields: describeFields(m.config.fields).map((f) => ({ name: f.name, flag: `--${f.name.replace(/_/g, '-')}`, accepts: f.accepts, default: f.default, doc: f.doc })),
    }));
    if (v.json) {
      out.json(table);
      return;
    }
    for (const m of table) {
      out.line(`${m.name} (${m.peft_type}): ${m.summary}`);
      if (!v.method) continue;
      if (m.kind === 'layer')
        out.line(
          `  default targets: ${Object.entries(m.default_targets as Record<string, readonly string[]>)
            .map(([arch, t]) => `${arch}: ${t.join(', ')}`)
            .join('; ')}`,
        );
      for (const f of m.fields) out.line(`  ${f.flag.padEnd(26)} ${JSON.stringify(f.default).padEnd(10)} ${f.doc} (${f.accepts})`);
    }
    if (!v.method) out.line("\npeft-ts methods NAME lists a method's fields; train takes them as flags (--r 8), from --peft-config FILE or a config file's peft: block.");
  },
});
