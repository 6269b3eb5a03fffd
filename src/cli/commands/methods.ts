import { describeFields, listMethods, methodByName } from '../../peft/index.js';
import { parse } from '../args.js';
import type { Output } from '../output.js';

const USAGE = 'peft-ts methods [NAME] [--json]';

/** Lists the PEFT methods with their config fields, defaults and meaning, from their declarations. */
export function methodsCommand(argv: string[], out: Output): void {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, USAGE);
  const methods = positionals.length ? positionals.map(methodByName) : listMethods();
  const table = methods.map((m) => ({
    name: m.name, peft_type: m.config.peftType, kind: m.kind, effect: m.kind === 'layer' ? m.effect : 'changes the model input', summary: m.summary,
    default_targets: m.kind === 'layer' ? m.defaultTargets : {},
    fields: describeFields(m.config.fields).map((f) => ({ name: f.name, flag: `--${f.name.replace(/_/g, '-')}`, accepts: f.accepts, default: f.default, doc: f.doc })),
  }));
  if (values.json === true) { out.json(table); return; }
  for (const m of table) {
    out.line(`${m.name} (${m.peft_type}): ${m.summary}`);
    if (!positionals.length) continue;
    if (m.kind === 'layer') out.line(`  default targets: ${Object.entries(m.default_targets as Record<string, readonly string[]>).map(([arch, t]) => `${arch}: ${t.join(', ')}`).join('; ')}`);
    for (const f of m.fields) out.line(`  ${f.flag.padEnd(26)} ${JSON.stringify(f.default).padEnd(10)} ${f.doc} (${f.accepts})`);
  }
  if (!positionals.length) out.line('\npeft-ts methods NAME lists a method\'s fields; train takes them as flags (--r 8) or from --peft-config FILE.');
}
