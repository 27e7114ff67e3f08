import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describeWithout } from './services.js';

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH`, else Debian's `chromium`
 * package at `/usr/bin/chromium` (which `.ci/run` installs). Never a browser build
 * downloaded by Playwright.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The browser of a {@link describeInChromium} block, launched before its tests. */
export interface ChromiumHandle {
  readonly browser: Browser;
}

/** Why Chromium cannot run here, or `undefined` when it can. */
function missing(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'not executable';
    return `no Chromium to run at ${CHROMIUM_PATH} (${code}): install Debian's "chromium" package, or set CHROMIUM_PATH`;
  }
}

/**
 * Registers a describe block whose tests drive headless Chromium: the browser is
 * launched once before them and closed after. When there is no Chromium at
 * {@link CHROMIUM_PATH}, the block is skipped with the reason printed, or, under
 * `CI=true`, replaced by a failing test that gives the reason.
 *
 * @param name - The block's name.
 * @param body - The block; its tests use `chromium.browser`.
 */
export function describeInChromium(name: string, body: (chromium: ChromiumHandle) => void): void {
  let browser: Browser | undefined;
  const handle: ChromiumHandle = {
    get browser(): Browser {
      if (browser === undefined) {
        throw new Error('Chromium is launched in beforeAll: use chromium.browser inside hooks and tests');
      }
      return browser;
    },
  };
  const block = (): void => {
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
    });
    body(handle);
  };
  const reason = missing();
  if (reason === undefined) {
    describe(name, block);
  } else {
    describeWithout('Chromium', reason, name, block);
  }
}
