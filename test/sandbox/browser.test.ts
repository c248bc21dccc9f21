/**
 * The sandbox as a person uses it: the real bot in a child process, the console in Debian's
 * Chromium. Alice asks for more Kubernetes traffic, Bob approves, the weights move; Bob asks to
 * roll back, Carol approves, the weights are back.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = fileURLToPath(new URL('./output/', import.meta.url));
const WAIT = { timeout: 15_000 };

function weights(page: Page, service: string): Promise<string[]> {
  return page.locator(`#weights [data-service="${service}"] .weights span`).allTextContents();
}

async function actAs(page: Page, name: string): Promise<void> {
  await page.getByRole('radio', { name: new RegExp(name) }).click();
  await expect.poll(() => page.getByRole('radio', { name: new RegExp(name) }).getAttribute('aria-checked'), WAIT).toBe('true');
}

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this test drives Debian's Chromium. Install it with: apt-get install -y --no-install-recommends chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page at the console's size that collects its errors (each test ends expecting none). */
async function openPage(browser: Browser): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(WAIT.timeout);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  return { page, pageErrors };
}

describe('sandbox console in a browser', () => {
  it('requests, approves, applies and rolls back a traffic shift through the console; a change outside the bot is alerted', { timeout: 90_000 }, async () => {
    let sandbox: Sandbox | undefined;
    let browser: Browser | undefined;
    try {
      sandbox = await startSandbox({ port: 0 });
      browser = await launch();
      const { page, pageErrors } = await openPage(browser);

      await page.goto(sandbox.url);
      await expect.poll(() => weights(page, 'api'), WAIT).toEqual(['Kubernetes 10%', 'EC2 90%']);

      await actAs(page, 'Alice');
      const input = page.getByLabel('Command');
      await input.fill('/strangle api 30 canary <b>looks</b> good & steady');
      await input.press('Enter');

      const request1 = page.locator('li.msg', { hasText: 'Request #1 (traffic shift)' });
      await request1.getByRole('button', { name: 'Approve' }).waitFor();
      await expect(request1.textContent()).resolves.toContain('from @Alice');
      // The bot escaped the reason; the console shows it as typed and never as markup.
      await expect(request1.textContent()).resolves.toContain('canary <b>looks</b> good & steady');
      expect(await page.locator('#messages b').count()).toBe(0);
      const privateAnswer = page.locator('li.msg-private', { hasText: 'Request #1 is waiting for approval in #strangler-approvals' });
      await expect(privateAnswer.textContent()).resolves.toContain('Only visible to you');

      await actAs(page, 'Bob');
      await expect.poll(() => privateAnswer.count(), WAIT).toBe(0);
      await request1.getByRole('button', { name: 'Approve' }).click();
      await request1.filter({ hasText: 'Applied and verified' }).waitFor();
      await expect(request1.textContent()).resolves.toContain('Approved by @Bob');
      await expect.poll(() => weights(page, 'api'), WAIT).toEqual(['Kubernetes 30%', 'EC2 70%']);

      await request1.getByRole('button', { name: 'Roll back' }).click();
      const request2 = page.locator('li.msg', { hasText: 'Request #2 (rollback of #1)' });
      await request2.getByRole('button', { name: 'Approve' }).waitFor();

      await actAs(page, 'Carol');
      await request2.getByRole('button', { name: 'Approve' }).click();
      await request2.filter({ hasText: 'Applied and verified' }).waitFor();
      await expect.poll(() => weights(page, 'api'), WAIT).toEqual(['Kubernetes 10%', 'EC2 90%']);

      // Bob's Roll back click was answered privately, to him alone.
      await actAs(page, 'Bob');
      await page.locator('li.msg-private', { hasText: 'Request #2 is waiting for approval' }).waitFor();

      // Someone sets the weights in the Route 53 console: the bot's out-of-band check alerts once,
      // in #strangler-alerts, and Bob (an approver) accepts the new split.
      await page.locator('#weights [data-service="api"]').getByRole('button', { name: 'Set 50/50 outside the bot' }).click();
      await expect.poll(() => weights(page, 'api'), WAIT).toEqual(['Kubernetes 50%', 'EC2 50%']);
      await page.getByRole('button', { name: /strangler-alerts/ }).click();
      const outside = page.locator('li.msg', { hasText: 'api: weights changed outside strangler, 10/90 → 50/50' });
      await outside.getByRole('button', { name: 'Restore 10/90' }).waitFor();
      await outside.getByRole('button', { name: 'Accept' }).click();
      await outside.filter({ hasText: 'Accepted by @Bob' }).waitFor();
      expect(await outside.getByRole('button').count()).toBe(0);
      await page.locator('li.msg-private', { hasText: 'Accepted: 50/50' }).waitFor();
      expect(await page.locator('li.msg', { hasText: 'weights changed outside strangler' }).count()).toBe(1);

      mkdirSync(OUTPUT_DIR, { recursive: true });
      const screenshot = join(OUTPUT_DIR, 'sandbox-console.png');
      await page.screenshot({ path: screenshot });
      console.log(`sandbox console screenshot: ${screenshot}`);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser?.close();
      await sandbox?.stop();
    }
  });

  it('shows the progress report’s chart and the App Home tab, whose Refresh re-publishes it', { timeout: 60_000 }, async () => {
    let sandbox: Sandbox | undefined;
    let browser: Browser | undefined;
    try {
      sandbox = await startSandbox({ port: 0 });
      browser = await launch();
      const { page, pageErrors } = await openPage(browser);
      await page.goto(sandbox.url);
      await expect.poll(() => weights(page, 'api'), WAIT).toEqual(['Kubernetes 10%', 'EC2 90%']);
      await actAs(page, 'Alice');

      const input = page.getByLabel('Command');
      await input.fill('/strangle report');
      await input.press('Enter');
      const chart = page.locator('li.msg img.msg-file');
      await chart.waitFor();
      // The image is what the bot uploaded, decoded by the browser: a real PNG of the chart's size.
      type Img = { complete: boolean; naturalWidth: number; naturalHeight: number };
      await expect.poll(() => chart.evaluate((img) => ((img as unknown as Img).complete ? (img as unknown as Img).naturalWidth : 0)), WAIT).toBe(1000);
      expect(await chart.evaluate((img) => (img as unknown as Img).naturalHeight)).toBe(560);
      await expect(page.locator('li.msg', { has: page.locator('img.msg-file') }).textContent()).resolves.toMatch(/Migration progress, \d{4}-\d{2}-\d{2}.*0 of 3 services fully on Kubernetes/s);

      mkdirSync(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUTPUT_DIR, 'sandbox-report.png') });

      await page.getByRole('button', { name: /strangler · Home/ }).click();
      const home = page.locator('#home-view');
      await home.getByText('Migration progress').waitFor();
      await expect(home.textContent()).resolves.toContain('0 of 3 services fully on Kubernetes');
      await expect(home.textContent()).resolves.toContain('▓░░░░░░░░░ 10% Kubernetes');
      await expect(home.textContent()).resolves.toMatch(/nightly-report.*runs on Kubernetes/s);
      const published = async () => Number(await page.locator('#home-published').getAttribute('data-at'));
      const first = await published();
      await home.getByRole('button', { name: 'Refresh' }).click();
      await expect.poll(published, WAIT).toBeGreaterThan(first);
      await expect(home.textContent()).resolves.toContain('Migration progress');
      await page.screenshot({ path: join(OUTPUT_DIR, 'sandbox-home.png') });
      console.log(`sandbox screenshots: ${join(OUTPUT_DIR, 'sandbox-report.png')}, ${join(OUTPUT_DIR, 'sandbox-home.png')}`);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser?.close();
      await sandbox?.stop();
    }
  });

  it('"Make Kubernetes fail" reaches the exporter Prometheus scrapes, and a ramp in progress rolls itself back', { timeout: 150_000 }, async () => {
    let sandbox: Sandbox | undefined;
    let browser: Browser | undefined;
    const exported = async (): Promise<string | undefined> => {
      const text = await (await fetch(sandbox!.exporterUrl)).text();
      return /^exporter_error_ratio\{service="api"\} (\S+)$/m.exec(text)?.[1];
    };
    const prometheusRatio = async (): Promise<number> => {
      const res = await fetch(`${sandbox!.prometheusUrl}/api/v1/query?query=${encodeURIComponent('max(exporter_error_ratio{service="api"})')}`);
      const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
      return Number(body.data?.result?.[0]?.value[1] ?? NaN);
    };
    try {
      sandbox = await startSandbox({ port: 0 });
      browser = await launch();
      const { page, pageErrors } = await openPage(browser);
      await page.goto(sandbox.url);
      await expect.poll(() => weights(page, 'api'), WAIT).toEqual(['Kubernetes 10%', 'EC2 90%']);
      const errorsCard = page.locator('#kubernetes-errors [data-service="api"]');
      await expect.poll(() => errorsCard.locator('.error-ratio').textContent(), WAIT).toBe('0.2%');
      expect(await exported()).toBe('0.002');
      // The real Prometheus scrapes the exporter: the ramp's gate has data before anyone ramps.
      await expect.poll(prometheusRatio, { timeout: 45_000, interval: 500 }).toBe(0.002);

      await actAs(page, 'Alice');
      const input = page.getByLabel('Command');
      await input.fill('/strangle api ramp');
      await input.press('Enter');
      const ramp = page.locator('li.msg', { hasText: 'Request #1 (traffic ramp)' });
      await ramp.getByRole('button', { name: 'Approve' }).waitFor();
      await actAs(page, 'Bob');
      await ramp.getByRole('button', { name: 'Approve' }).click();
      await expect.poll(() => weights(page, 'api'), { timeout: 30_000 }).toEqual(['Kubernetes 25%', 'EC2 75%']);

      await errorsCard.getByRole('button', { name: 'Make Kubernetes fail' }).click();
      await expect.poll(() => errorsCard.locator('.error-ratio').textContent(), WAIT).toBe('25.0%');
      expect(await exported()).toBe('0.25');
      await expect.poll(prometheusRatio, { timeout: 30_000, interval: 500 }).toBe(0.25);

      // The gate (≤ 5%) is breached during the 30 s bake: back to the split before the ramp.
      await expect.poll(() => weights(page, 'api'), { timeout: 60_000, interval: 500 }).toEqual(['Kubernetes 10%', 'EC2 90%']);
      await expect.poll(async () => (await ramp.textContent()) ?? '', { timeout: 30_000 }).toContain('Rolled back to Kubernetes 10%');
      expect(await ramp.textContent()).toContain('k8s 5xx ratio');

      await errorsCard.getByRole('button', { name: 'Heal Kubernetes' }).click();
      await expect.poll(() => errorsCard.locator('.error-ratio').textContent(), WAIT).toBe('0.2%');
      expect(await exported()).toBe('0.002');

      mkdirSync(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: join(OUTPUT_DIR, 'sandbox-ramp-rolled-back.png') });
      expect(pageErrors).toEqual([]);
    } finally {
      await browser?.close();
      await sandbox?.stop();
    }
  });
});
