/**
 * Download progress on stderr: a redrawn bar per download when stderr is a
 * terminal, one plain line per finished download otherwise (logs, CI).
 */
import type { DownloadProgress } from "@backplane/host-node";

const MiB = 1024 * 1024;
const WIDTH = 30;

function mib(n: number): string {
  return (n / MiB).toFixed(1);
}

export interface ProgressReporter {
  onProgress(p: DownloadProgress): void;
  /** Prints a status line (ending any bar in progress first). */
  line(text: string): void;
  /** Ends a bar in progress, so an error message starts on its own line. */
  close(): void;
}

export function progressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const tty = stream.isTTY === true;
  let barOpen = false;
  let lastDraw = 0;
  const endBar = () => {
    if (barOpen) stream.write("\n");
    barOpen = false;
  };
  return {
    onProgress(p) {
      const name = p.url.slice(p.url.lastIndexOf("/") + 1);
      if (!tty) {
        if (p.done) stream.write(`downloaded ${p.url} (${p.received} bytes)\n`);
        return;
      }
      const now = Date.now();
      if (!p.done && now - lastDraw < 100) return;
      lastDraw = now;
      const fraction = p.total ? Math.min(1, p.received / p.total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const size = p.total ? `${mib(p.received)}/${mib(p.total)} MiB` : `${mib(p.received)} MiB`;
      const bar = `[${"#".repeat(filled)}${" ".repeat(WIDTH - filled)}]`;
      stream.write(`\r\x1b[K${name.slice(0, 40)} ${bar} ${Math.floor(fraction * 100)}% ${size}`);
      barOpen = true;
      if (p.done) endBar();
    },
    line(text) {
      endBar();
      stream.write(`${text}\n`);
    },
    close: endBar,
  };
}
