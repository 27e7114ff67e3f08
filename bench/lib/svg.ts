// A small horizontal bar chart in plain SVG, for bench/results/: no chart library, and
// a diff of the file shows what changed.

/** One bar. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Highlight (kit-session's own bars). */
  readonly mine?: boolean;
}

/** One panel of bars with a shared axis. */
export interface Panel {
  readonly title: string;
  /** How the values read, under the axis. */
  readonly axis: string;
  readonly bars: readonly Bar[];
  /** Logarithmic axis, for values spread over orders of magnitude. */
  readonly log?: boolean;
  /** Vertical reference lines (1 = the baseline, targets). */
  readonly marks?: readonly { readonly value: number; readonly label: string }[];
}

const WIDTH = 860;
const LABEL_W = 330;
const PLOT_W = WIDTH - LABEL_W - 90;
const BAR_H = 18;
const GAP = 6;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function format(value: number): string {
  if (!Number.isFinite(value)) {
    return 'n/a';
  }
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function panel(p: Panel, top: number): { svg: string; height: number } {
  const values = [...p.bars.map((b) => b.value), ...(p.marks ?? []).map((m) => m.value)].filter(
    (v) => Number.isFinite(v) && v > 0,
  );
  const max = Math.max(...values, 1) * (p.log ? 1.5 : 1.1);
  const min = p.log ? Math.min(...values, 1) / 1.5 : 0;
  const x = (v: number) =>
    LABEL_W +
    (p.log ? ((Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * PLOT_W : (v / max) * PLOT_W);
  const parts: string[] = [];
  parts.push(`<text x="10" y="${top + 16}" class="title">${escape(p.title)}</text>`);
  let y = top + 30;
  for (const bar of p.bars) {
    const w = Number.isFinite(bar.value) && bar.value > 0 ? Math.max(1, x(bar.value) - LABEL_W) : 0;
    parts.push(`<text x="${LABEL_W - 8}" y="${y + 13}" class="label">${escape(bar.label)}</text>`);
    parts.push(`<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" class="${bar.mine ? 'mine' : 'peer'}"/>`);
    parts.push(`<text x="${(LABEL_W + w + 5).toFixed(1)}" y="${y + 13}" class="value">${format(bar.value)}</text>`);
    y += BAR_H + GAP;
  }
  for (const mark of p.marks ?? []) {
    const mx = x(mark.value).toFixed(1);
    parts.push(`<line x1="${mx}" y1="${top + 26}" x2="${mx}" y2="${y}" class="mark"/>`);
    parts.push(`<text x="${mx}" y="${y + 12}" class="marklabel">${escape(mark.label)}</text>`);
  }
  parts.push(`<text x="${LABEL_W}" y="${y + 28}" class="axis">${escape(p.axis)}</text>`);
  return { svg: parts.join('\n'), height: y + 40 - top };
}

/**
 * Draws panels of horizontal bars, one under the other.
 *
 * @param title - The chart's title.
 * @param panels - The panels.
 * @param note - A line under the title (command, machine).
 * @returns The SVG document.
 */
export function barChart(title: string, panels: readonly Panel[], note: string): string {
  const body: string[] = [];
  let top = 56;
  for (const p of panels) {
    const drawn = panel(p, top);
    body.push(drawn.svg);
    top += drawn.height + 10;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top}" viewBox="0 0 ${WIDTH} ${top}" font-family="system-ui, sans-serif">`,
    '<style>',
    '.title{font-size:14px;font-weight:600}.label{font-size:12px;text-anchor:end}.value{font-size:11px}',
    '.axis{font-size:11px;fill:#555}.mine{fill:#2563eb}.peer{fill:#9ca3af}',
    '.mark{stroke:#dc2626;stroke-dasharray:4 3}.marklabel{font-size:10px;fill:#dc2626;text-anchor:middle}',
    '.heading{font-size:17px;font-weight:700}.note{font-size:11px;fill:#555}',
    '</style>',
    `<rect width="${WIDTH}" height="${top}" fill="#fff"/>`,
    `<text x="10" y="22" class="heading">${escape(title)}</text>`,
    `<text x="10" y="40" class="note">${escape(note)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
