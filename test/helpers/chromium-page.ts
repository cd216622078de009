// Debian's Chromium, driven by playwright-core, as every browser test opens it: its own profile
// directory, headless, no sandbox (CI runs as root), nothing fetched from outside the machine.
// Closed and its profile removed when the test ends.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LGSP_CHROMIUM ?? '/usr/bin/chromium';

export interface ChromiumOptions {
  viewport?: { width: number; height: number };
  locale?: string;
  acceptDownloads?: boolean;
  /** Each wait of the page (playwright's default timeout), ms. */
  timeoutMs?: number;
  /**
   * Lets a test add its own script to the page (axe-core for the accessibility checks): the
   * console's Content-Security-Policy allows only its own scripts.
   */
  bypassCSP?: boolean;
}

export async function openChromiumPage(t: { teardown(fn: () => unknown): void }, opts: ChromiumOptions = {}): Promise<{ browser: BrowserContext; page: Page }> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (.ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'lgsp-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ...(opts.viewport ? { viewport: opts.viewport } : {}),
    ...(opts.locale ? { locale: opts.locale } : {}),
    ...(opts.acceptDownloads ? { acceptDownloads: true } : {}),
    ...(opts.bypassCSP ? { bypassCSP: true } : {}),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  t.teardown(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(opts.timeoutMs ?? 20_000);
  return { browser, page };
}
