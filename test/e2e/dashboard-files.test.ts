import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

// The dashboard's files as the API serves them, without a browser (dashboard.test.ts drives one).

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ label: "dashboard-files" });
});
afterAll(async () => {
  await stack?.close();
});

/** GET a path exactly as written (fetch would normalise the dots away); resolves the status. */
function rawGetStatus(baseUrl: string, path: string) {
  return new Promise<number>((resolveStatus, reject) => {
    const req = request(`${baseUrl}/`, { path, method: "GET" }, (res) => {
      res.resume();
      resolveStatus(res.statusCode!);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("dashboard files", () => {
  it("serves / and every asset it references without a key, under a strict CSP; unknown paths stay route_not_found", async () => {
    const index = await fetch(`${stack.baseUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(index.headers.get("content-security-policy")).toMatch(/script-src 'self'(;|$)/);
    const html = await index.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(expect.arrayContaining(["/styles.css", "/js/app.js", "/favicon.svg"]));
    const modules = new Set<string>(["/js/app.js"]);
    for (const path of modules) {
      const source = await (await fetch(`${stack.baseUrl}${path}`)).text();
      for (const m of source.matchAll(/from "\.\/([\w-]+\.js)"/g)) modules.add(`/js/${m[1]}`);
    }
    for (const path of [...assets, ...modules]) {
      const res = await fetch(`${stack.baseUrl}${path}`);
      expect(res.status, path).toBe(200);
      const source = await res.text();
      // API data reaches the page as text nodes only.
      if (path.endsWith(".js")) expect(source, path).not.toMatch(/\.(innerHTML|outerHTML)\b|insertAdjacentHTML\(|document\.write\(|createContextualFragment\(/);
    }
    expect(modules.size).toBeGreaterThan(8);
    const unknown = await fetch(`${stack.baseUrl}/v1/no-such-route`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe("route_not_found");
    // Only the files of public/ are routed: no way out of it, not even with a raw "..".
    for (const path of ["/../package.json", "/js/../../package.json", "/%2e%2e/package.json", "/js/%2e%2e/%2e%2e/src/app.ts"]) {
      expect(await rawGetStatus(stack.baseUrl, path), path).toBe(404);
    }
  });
});
