/** Where commands write: the only place that touches stdout and stderr. */
export interface Output {
  line(text: string): void;
  json(value: unknown): void;
  /** Progress and notices: stderr, so --json output stays clean. */
  note(text: string): void;
}

export const consoleOutput: Output = {
  line: (text) => process.stdout.write(`${text}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
};
