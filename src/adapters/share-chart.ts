/**
 * The progress report's chart: each service's Kubernetes share over time as a PNG, drawn by
 * Chart.js on @napi-rs/canvas (Skia, prebuilt for the platform from npm; no system libraries).
 * Imported lazily, only when a report is made: both are large and a bot that never reports
 * should not load them.
 */
import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { Chart, type ChartConfiguration, registerables } from 'chart.js';
import type { ShareSeries } from '../core/share-history.js';

Chart.register(...registerables);

/** Debian's fonts-dejavu-core (in the image and installed by scripts/test-setup.sh). */
const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'];
const FONT = 'DejaVu Sans';
const MIN_SPAN_MS = 7 * 86_400_000;
let fontsLoaded = false;

function loadFonts(): void {
  if (fontsLoaded) return;
  fontsLoaded = true;
  for (const f of FONT_FILES) if (existsSync(f)) GlobalFonts.registerFromPath(f, FONT);
}

// Distinct on white, colour-blind friendlier (Okabe–Ito), repeated with dashes past eight.
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

export interface ChartOptions {
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export async function renderShareChart(series: readonly ShareSeries[], opts: ChartOptions = {}): Promise<{ png: Buffer; width: number; height: number }> {
  loadFonts();
  const width = opts.width ?? 1000;
  const height = opts.height ?? 560;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  const drawn = series.filter((s) => s.points.length > 0);
  const xs = drawn.flatMap((s) => s.points.map((p) => p.at));
  const max = xs.length ? Math.max(...xs) : Date.now();
  // At least a week, so a young history still reads as a time line with dated ticks.
  const min = Math.min(xs.length ? Math.min(...xs) : max, max - MIN_SPAN_MS);
  // A service never changed in the history held its share all along: a flat line, not a dot.
  const pointsOf = (s: ShareSeries) => (s.changes === 0 ? [{ at: min, percent: s.points[0]!.percent }, ...s.points] : s.points);
  Chart.defaults.font.family = FONT;
  const config: ChartConfiguration<'line', Array<{ x: number; y: number }>> = {
    type: 'line',
    data: {
      datasets: drawn.map((s, i) => ({
        label: s.service,
        data: pointsOf(s).map((p) => ({ x: p.at, y: p.percent })),
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length],
        borderDash: i >= COLOURS.length ? [6, 4] : [],
        // A share holds until the next change: steps, not slopes.
        stepped: 'before',
        pointRadius: 3,
        borderWidth: 2,
      })),
    },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: opts.title ?? 'Kubernetes share of traffic per service', font: { size: 18, weight: 'bold' } },
        legend: { display: drawn.length <= 30, position: 'right' },
      },
      scales: {
        x: {
          type: 'linear',
          min,
          max,
          ticks: { callback: (v) => day(Number(v)), maxTicksLimit: 8 },
          title: { display: true, text: 'date (UTC)' },
        },
        y: { min: 0, max: 100, ticks: { callback: (v) => `${String(v)}%` }, title: { display: true, text: 'Kubernetes share' } },
      },
    },
  };
  // Chart.js takes any object shaped like a canvas context; @napi-rs/canvas's is one.
  const chart = new Chart(ctx as unknown as ConstructorParameters<typeof Chart>[0], config);
  try {
    chart.draw();
    return { png: await canvas.encode('png'), width, height };
  } finally {
    chart.destroy();
  }
}
