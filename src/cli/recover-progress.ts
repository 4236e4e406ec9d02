import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RecoveryProgress } from '../recovery/recovery-types';
import { formatBytes } from './recover-format';

/**
 * The progress bars of `tidemark recover` (bytes, blocks, components), drawn on `stream` — stderr, and only
 * when it is a terminal, so piped or redirected output never carries control sequences.
 */
export class RecoverProgressBars {
  private readonly bars: MultiBar;
  private readonly bytes: SingleBar;
  private readonly blocks: SingleBar;
  private readonly components: SingleBar;

  constructor(stream: NodeJS.WritableStream) {
    this.bars = new MultiBar(
      {
        stream,
        format: ' {label} [{bar}] {percentage}% {text}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 10,
      },
      Presets.shades_classic,
    );
    this.bytes = this.bars.create(1, 0, { label: 'bytes     ', text: '' });
    this.blocks = this.bars.create(1, 0, { label: 'blocks    ', text: '' });
    this.components = this.bars.create(1, 0, { label: 'components', text: '' });
  }

  update(p: RecoveryProgress): void {
    const phase = p.phase === 'done' ? '' : ` (${p.phase})`;
    this.set(
      this.bytes,
      p.bytesDone,
      p.bytesTotal,
      `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}`,
    );
    this.set(this.blocks, p.blocksDone, p.blocksTotal, `${p.blocksDone}/${p.blocksTotal}`);
    this.set(
      this.components,
      p.componentsDone,
      p.componentsTotal,
      `${p.componentsDone}/${p.componentsTotal}${phase}`,
    );
  }

  stop(): void {
    this.bars.stop();
  }

  private set(bar: SingleBar, done: number, total: number, text: string): void {
    // An empty total (nothing to read) shows as complete rather than as 0 of 0.
    bar.setTotal(Math.max(total, 1));
    bar.update(total === 0 ? 1 : Math.min(done, total), { text });
  }
}
