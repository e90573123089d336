import type { Page } from "playwright-core";

// Page helpers for the dashboard's browser tests. Callbacks passed to evaluate() run in the page;
// this project compiles without DOM types, hence their loose typing.

/** Open the dashboard and sign in with `key`. */
export async function signIn(page: Page, baseUrl: string, key: string) {
  await page.goto(baseUrl);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#dashboard").waitFor();
}

/** Wait until the drafts table shows `jobId` with `status`. */
export async function rowStatus(page: Page, jobId: string, status: string, timeout = 30_000) {
  await page.locator(`tr[data-job-id="${jobId}"][data-status="${status}"]`).waitFor({ timeout });
}

/** The job id in a text such as "Queued job_01… · est. $0.001". */
export function jobIdIn(text: string | null): string {
  const match = /job_\w+/.exec(text ?? "");
  if (!match) throw new Error(`no job id in ${JSON.stringify(text)}`);
  return match[0];
}

/**
 * Press "Listen" on a completed draft's row and wait for its `<audio>` to load: its duration
 * (seconds, from `loadedmetadata`), source URL and media error code.
 */
export async function playDraft(page: Page, jobId: string) {
  const row = page.locator(`tr[data-job-id="${jobId}"]`);
  await row.getByRole("button", { name: /Listen/ }).click();
  const audio = row.locator("audio");
  await audio.waitFor();
  return audio.evaluate(
    (el: any) =>
      new Promise<{ duration: number; src: string; error: number | null }>((resolve) => {
        const report = () => resolve({ duration: el.duration, src: el.currentSrc, error: el.error?.code ?? null });
        if (el.readyState >= 1 /* HAVE_METADATA */) report();
        else {
          el.addEventListener("loadedmetadata", report, { once: true });
          el.addEventListener("error", report, { once: true });
        }
      }),
  );
}

/** How many pixels of a draft's waveform canvas are painted, once drawn (0 if it stays blank for 5 s). */
export async function waveformInk(page: Page, jobId: string): Promise<number> {
  return page.locator(`tr[data-job-id="${jobId}"] canvas.wave`).evaluate(async (canvas: any) => {
    for (let i = 0; i < 50; i++) {
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let p = 3; p < data.length; p += 4) if (data[p] > 0) painted++;
      // A flat line (no peaks yet) paints one row of pixels; a waveform paints far more.
      if (painted > canvas.width * 4) return painted;
      await new Promise((r) => setTimeout(r, 100));
    }
    return 0;
  });
}
