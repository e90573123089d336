import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page, type Response } from "playwright-core";

/** Debian's Chromium; never a browser downloaded by a test tool. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this
// machine's closed network refuses; a fresh user-data-dir keeps runs independent.
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
  "--autoplay-policy=no-user-gesture-required",
];

/** An error answer the page received. */
export interface HttpError {
  method: string;
  url: string;
  status: number;
  /** `error.code` of the JSON error body, when there is one. */
  code: string | null;
}

export interface Tab {
  page: Page;
  /**
   * Everything that went wrong in this tab: console errors, uncaught errors, failed requests and
   * error answers, less the answers `expected` accepts.
   */
  problems(expected?: (error: HttpError) => boolean): Promise<string[]>;
  close(): Promise<void>;
}

export interface Browser {
  context: BrowserContext;
  /** A new tab (its own sessionStorage) that records its problems. */
  newTab(): Promise<Tab>;
  close(): Promise<void>;
}

async function watch(page: Page): Promise<Tab> {
  const consoleErrors: { text: string; url: string }[] = [];
  const other: string[] = [];
  const httpErrors: Promise<HttpError>[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push({ text: msg.text(), url: msg.location().url });
  });
  page.on("pageerror", (err) => other.push(`page error: ${err.stack ?? err.message}`));
  page.on("requestfailed", (req) => {
    const failure = req.failure()?.errorText ?? "failed";
    // Aborted on purpose: an event stream the page closed, or a request cut short by navigation.
    if (failure !== "net::ERR_ABORTED") other.push(`request failed: ${req.method()} ${req.url()} ${failure}`);
  });
  page.on("response", (res: Response) => {
    if (res.status() < 400) return;
    httpErrors.push(
      res
        .json()
        .then((body: any) => (typeof body?.error?.code === "string" ? body.error.code : null))
        .catch(() => null)
        .then((code) => ({ method: res.request().method(), url: res.url(), status: res.status(), code })),
    );
  });
  return {
    page,
    async problems(expected = () => false) {
      const errors = await Promise.all(httpErrors);
      const lines = errors.filter((e) => !expected(e)).map((e) => `HTTP ${e.status} ${e.code ?? "-"} ${e.method} ${e.url}`);
      for (const { text, url } of consoleErrors) {
        // Chromium logs every 4xx/5xx answer as "Failed to load resource": each was judged above
        // (accepted, or listed as an HTTP problem).
        if (text.startsWith("Failed to load resource") && errors.some((e) => e.url === url)) continue;
        lines.push(`console.error: ${text}${url ? ` (${url})` : ""}`);
      }
      return [...lines, ...other];
    },
    close: () => page.close(),
  };
}

/**
 * Headless Debian Chromium driven by playwright-core. Fails (never skips) when Chromium is
 * missing, so a machine without it cannot pass the browser tests by accident.
 */
export async function launchChromium(options: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}; the browser tests need Debian's Chromium. Install it with: apt-get install -y chromium`);
  }
  const userDataDir = await mkdtemp(join(tmpdir(), "acebatch-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: options.viewport ?? { width: 1440, height: 1000 },
    timeout: 30_000,
  });
  const blank = context.pages()[0];
  return {
    context,
    async newTab() {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await blank?.close().catch(() => undefined);
      return watch(page);
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
