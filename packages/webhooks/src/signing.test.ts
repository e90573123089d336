import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { generateSecret, secretProblem, sign, signedHeaders } from "./signing.ts";

describe("Standard Webhooks signing", () => {
  it("produces headers the standardwebhooks verifier accepts", () => {
    const secret = generateSecret();
    const body = JSON.stringify({ type: "job.completed", id: "evt_x", created_at: "2026-01-01T00:00:00.000Z", data: { id: "job_1" } });
    const headers = signedHeaders(secret, "msg_abc", body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("matches the library's own signature for the same id, time and body", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const at = new Date("2026-03-01T12:00:00Z");
    const ours = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", Math.floor(at.getTime() / 1_000), '{"test": 2432232314}');
    expect(ours).toBe(new Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, '{"test": 2432232314}'));
  });

  it("is rejected by the verifier when the body or the secret differs", () => {
    const secret = generateSecret();
    const headers = signedHeaders(secret, "msg_abc", '{"a":1}');
    expect(() => new Webhook(secret).verify('{"a":2}', headers)).toThrow();
    expect(() => new Webhook(generateSecret()).verify('{"a":1}', headers)).toThrow();
  });

  it("validates secrets", () => {
    expect(secretProblem(generateSecret())).toBeNull();
    expect(secretProblem("not-a-secret")).toMatch(/whsec_/);
    expect(secretProblem("whsec_c2hvcnQ=")).toMatch(/bytes/);
    expect(secretProblem("whsec_%%%")).toMatch(/base64/);
  });
});
