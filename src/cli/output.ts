/** Where commands write: the only place that touches stdout and stderr. */
export interface Output {
  line(text: string): void;
  json(value: unknown): void;
  /** Notices: stderr, so --json output stays clean. */
  note(text: string): void;
  /** Raw progress-bar text for stderr (carries its own \r and newlines). */
  progress(text: string): void;
}

export const consoleOutput: Output = {
  line: (text) => process.stdout.write(`${text}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
  progress: (text) => process.stderr.write(text),
};
