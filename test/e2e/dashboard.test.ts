import { mkdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchChromium, type Browser, type Tab } from "../browser/chromium.ts";
import { jobIdIn, playDraft as play, rowStatus as waitRow, signIn as signInAs, waveformInk } from "../browser/dashboard-page.ts";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";

const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts");
const SCREENSHOT = resolve(ARTIFACTS, "dashboard.png");

let stack: Stack;
let browser: Browser;
let tab: Tab;
let page: Page;

beforeAll(async () => {
  stack = await startStack({ label: "dashboard" });
  await stack.startWorker();
  // A daily budget, so the meter and the chart's limit line are on the page (far above this test's spend).
  expect((await stack.api("PUT", "/v1/budget", { limit_usd: 0.05, period: "day", timezone: "UTC" })).status).toBe(200);
  browser = await launchChromium();
  await mkdir(ARTIFACTS, { recursive: true });
});
// A new tab per test: its own sessionStorage (the key) and its own record of problems.
beforeEach(async () => {
  tab = await browser.newTab();
  page = tab.page;
});
afterEach(async () => {
  await tab?.close();
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/**
 * Error answers the dashboard asks for on purpose: a wrong key at the login form, and routes of
 * spec/API.md this server may not have yet (404 route_not_found), which hide a panel.
 */
const expectedHttpError = (e: { url: string; status: number; code: string | null }) =>
  (e.status === 401 && e.code === "unauthorized" && e.url.endsWith("/v1/budget")) || (e.status === 404 && e.code === "route_not_found" && new URL(e.url).pathname.startsWith("/v1/"));

const signIn = () => signInAs(page, stack.baseUrl, ADMIN_KEY);
const playDraft = (jobId: string) => play(page, jobId);
const rowStatus = (jobId: string, status: string) => waitRow(page, jobId, status);

describe("dashboard in headless Chromium", { timeout: 60_000 }, () => {
  it("serves the page without a key and signs in only with a valid one", async () => {
    await page.goto(stack.baseUrl);
    await expect(page.title()).resolves.toContain("acebatch");
    await page.getByLabel("API key").fill("not-the-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    // textContent() does not wait for text to arrive, so wait for the element to carry it.
    await page.locator("#login-error", { hasText: /not accepted/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#dashboard").isHidden()).toBe(true);

    await signIn();
    await page.locator("#budget-body dl").waitFor();
    await expect(page.locator("#budget-body").textContent()).resolves.toMatch(/Spent/);
    expect(await page.evaluate(() => sessionStorage.getItem("acebatch.key"))).toBe(ADMIN_KEY);

    // The key survives a reload (same tab) without asking again.
    await page.reload();
    await page.locator("#dashboard").waitFor();
    expect(await tab.problems(expectedHttpError)).toEqual([]);
  });

  it("submits a draft from the form, plays it, and prefills variation / extend / fix a section", async () => {
    await signIn();
    const form = page.locator("#submit-panel form");
    await form.getByLabel("Tags").fill("lo-fi, mellow, rhodes");
    // The API's field errors land beside the field they name.
    await form.getByLabel("Length (s)").fill("999");
    await form.getByRole("button", { name: "Generate draft" }).click();
    await form.locator("#submit-duration-error", { hasText: /at most 240/ }).waitFor({ timeout: 10_000 });
    expect(await form.getByLabel("Length (s)").getAttribute("aria-invalid")).toBe("true");

    await form.getByLabel("Length (s)").fill("6");
    await form.getByRole("button", { name: "Generate draft" }).click();
    const jobId = jobIdIn(await form.locator(".form-actions").getByText(/Queued job_/).textContent());

    await rowStatus(jobId, "completed");
    const played = await playDraft(jobId);
    expect(played.error).toBeNull();
    expect(played.src).toMatch(/^blob:/);
    expect(Number.isFinite(played.duration)).toBe(true);
    expect(played.duration).toBeCloseTo(6, 1);
    // The waveform was drawn (from the API, or decoded from the audio where that route is missing).
    const inked = await waveformInk(page, jobId);
    expect(inked).toBeGreaterThan(0);

    // Make a variation: same model and tags, a new random seed.
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await row.getByRole("button", { name: "Variation" }).click();
    await page.locator("#toast").getByText(/Variation: job_/).waitFor();
    const variationId = jobIdIn(await page.locator("#toast").textContent());
    const variation = await stack.waitForJob(variationId);
    expect(variation).toMatchObject({ model: "acestep-ai/ace-step/text-to-audio", input: { tags: "lo-fi, mellow, rhodes", duration: 6, seed: -1 }, metadata: { variation_of: jobId } });

    // Extend: the outpaint form is prefilled with this draft as its source.
    await row.getByRole("button", { name: "Extend" }).click();
    expect(await form.getByLabel("Model").inputValue()).toBe("acestep-ai/ace-step/audio-outpaint");
    expect(await form.getByLabel("Source draft").inputValue()).toBe(jobId);
    expect(await form.getByLabel("Tags").inputValue()).toBe("lo-fi, mellow, rhodes");
    await form.getByLabel("Add after (s)").fill("4");
    await form.getByRole("button", { name: "Generate draft" }).click();
    const extendId = jobIdIn(await form.locator(".form-actions").getByText(/Queued job_/).textContent());
    const extended = await stack.waitForJob(extendId);
    expect(extended).toMatchObject({ model: "acestep-ai/ace-step/audio-outpaint", input: { audio: jobId, extend_after_duration: 4 } });
    expect(extended.output.duration_seconds).toBe(10);

    // Fix a section: the inpaint form with a region inside the draft.
    await row.getByRole("button", { name: "Fix a section" }).click();
    expect(await form.getByLabel("Model").inputValue()).toBe("acestep-ai/ace-step/audio-inpaint");
    expect(await form.getByLabel("Source draft").inputValue()).toBe(jobId);
    const start = Number(await form.getByLabel("Start (s)").inputValue());
    const end = Number(await form.getByLabel("End (s)").inputValue());
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    expect(end).toBeLessThanOrEqual(6);

    await rowStatus(extendId, "completed");
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    // The one 400 is the bad length above, answered as the spec's invalid_input.
    expect(await tab.problems((e) => expectedHttpError(e) || (e.status === 400 && e.code === "invalid_input" && e.method === "POST"))).toEqual([]);
  });

  it("shows API data as text, never as markup", async () => {
    const hostile = `<img src=x onerror="window.__pwned=1">"><script>window.__pwned=2</script>`;
    const job = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: hostile, duration: 5 } });
    expect(job.status).toBe(202);
    await stack.waitForJob(job.body.id);
    await signIn();
    await rowStatus(job.body.id, "completed");
    const row = page.locator(`tr[data-job-id="${job.body.id}"]`);
    await expect(row.locator(".tags").textContent()).resolves.toBe(hostile);
    expect(await row.locator("img, script").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
    expect(await tab.problems(expectedHttpError)).toEqual([]);
  });

  it("uploads a CSV, shows the priced quote, confirms it and follows the batch to 100%, then plays one of its drafts", async () => {
    await signIn();
    const panel = page.locator("#batches-panel");
    const csv = ["tags,duration,mood", "lo-fi piano,5,calm", "synthwave,6,night", "bossa nova,5,sunny", "broken row,900,oops"].join("\n");
    await panel.getByLabel("CSV of tag combos").setInputFiles({ name: "combos.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });

    // The quote: every row priced, the invalid one listed with its error, nothing enqueued yet.
    const quote = panel.locator(".quote");
    await quote.getByText("Quote for combos.csv").waitFor();
    const stat = (name: string) => quote.locator(".stat", { has: page.locator("dt", { hasText: name }) }).locator("dd").textContent();
    expect(await stat("Rows")).toBe("4");
    expect(await stat("Accepted")).toBe("3");
    expect(await stat("Rejected")).toBe("1");
    expect(await stat("Estimated cost")).toMatch(/^\$0\.\d+/);
    await expect(quote.locator(".row-errors").textContent()).resolves.toMatch(/4.*duration.*240/s);
    expect((await stack.api("GET", "/v1/jobs?limit=500")).body.data.filter((j: any) => j.batch_id)).toEqual([]);

    await quote.getByRole("button", { name: /Confirm: queue 3 drafts/ }).click();
    const card = panel.locator("li.batch", { hasText: "combos.csv" });
    await card.getByRole("progressbar").waitFor();
    await card.locator('[role="progressbar"][aria-valuenow="100"]').waitFor({ timeout: 30_000 });
    await card.locator('.badge:text-is("completed")').waitFor();
    await expect(card.locator(".percent").textContent()).resolves.toBe("100%");
    const batchId = (await card.getAttribute("data-batch-id"))!;
    const batch = await stack.api("GET", `/v1/batches/${batchId}`);
    expect(batch.body).toMatchObject({ accepted: 3, rejected: 1, counts: { completed: 3 } });

    // The results file comes down with the key (a Blob saved by the page).
    const [download] = await Promise.all([page.waitForEvent("download"), card.getByRole("button", { name: "Results CSV" }).click()]);
    expect(download.suggestedFilename()).toBe(`${batchId}-results.csv`);
    const results = await readFile((await download.path())!, "utf8");
    expect(results.match(/\bcompleted\b/g)).toHaveLength(3);
    for (const tags of ["lo-fi piano", "synthwave", "bossa nova"]) expect(results).toContain(tags);

    // "Show drafts" filters the table to this batch; play one of them.
    await card.getByRole("button", { name: "Show drafts" }).click();
    await page.locator("#jobs-filters .chip", { hasText: batchId }).waitFor();
    const rows = page.locator("#jobs-panel tbody tr");
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#jobs-panel tbody tr[data-status="completed"]').length === 3);
    const firstId = (await rows.first().getAttribute("data-job-id"))!;
    const played = await playDraft(firstId);
    expect(played.error).toBeNull();
    expect(Number.isFinite(played.duration) && played.duration > 0).toBe(true);

    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(await tab.problems(expectedHttpError)).toEqual([]);
  });

  it("hides what an older server lacks (404 route_not_found) and still plays drafts with a waveform", async () => {
    const job = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "older server", duration: 5 } });
    await stack.waitForJob(job.body.id);
    // This server's batches, schedules, waveform and event routes answer as if they did not exist.
    const missing = /\/v1\/(batches|schedules)(\/|\?|$)|\/v1\/jobs\/[^/]+\/(waveform|events)/;
    await page.route(
      (url) => missing.test(url.pathname + url.search),
      (route) => route.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ error: { code: "route_not_found", message: "no route" } }) }),
    );
    await signIn();
    // Whether uploads exist is learned on the first try (the list route is an addition to the spec).
    await page.locator("#batches-panel").getByLabel("CSV of tag combos").setInputFiles({ name: "a.csv", mimeType: "text/csv", buffer: Buffer.from("tags\nx\n") });
    await page.locator("#batches-panel").getByText("does not offer batch uploads").waitFor();
    expect(await page.locator("#batches-panel form").isHidden()).toBe(true);
    await page.locator("#schedules-panel").getByText("does not offer schedules").waitFor();

    await rowStatus(job.body.id, "completed");
    const played = await playDraft(job.body.id);
    expect(played.duration).toBeCloseTo(5, 1);
    // No peaks from the server: the page decoded the audio itself.
    const inked = await waveformInk(page, job.body.id);
    expect(inked).toBeGreaterThan(0);
    expect(await tab.problems(expectedHttpError)).toEqual([]);
  });

  it("sends a 401 mid-session back to the login form with a message", async () => {
    // A tab holding a key the server no longer accepts (revoked, or the server's key changed).
    await page.goto(stack.baseUrl);
    await page.evaluate(() => sessionStorage.setItem("acebatch.key", "revoked-key"));
    await page.reload();
    await page.locator("#login-view").waitFor();
    await page.locator("#login-error", { hasText: /rejected the key/ }).waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => sessionStorage.getItem("acebatch.key"))).toBeNull();
    // Every /v1 call of the revoked key answered 401 (that is the point); nothing else went wrong.
    const problems = await tab.problems((e) => expectedHttpError(e) || (e.status === 401 && e.code === "unauthorized"));
    expect(problems).toEqual([]);
  });
});
