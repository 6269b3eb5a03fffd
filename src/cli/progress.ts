/** A one-line progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
export class ProgressBar {
  private lastPrint = -Infinity;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly write: (text: string) => void = (t) => process.stderr.write(t),
  ) {}

  update(done: number, total: number, fields: Record<string, string>, elapsedSeconds: number): void {
    const now = performance.now();
    const last = done >= total;
    if (!last && now - this.lastPrint < (this.tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(total, 1));
    const eta = done > 0 ? (elapsedSeconds / done) * (total - done) : NaN;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ');
    const line = `${this.label} ${String(done).padStart(String(total).length)}/${total} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${extra}  ${formatDuration(elapsedSeconds)}<${formatDuration(eta)}`;
    this.write(this.tty ? `\r${line}\x1b[K${last ? '\n' : ''}` : `${line}\n`);
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
