import { ProviderError, type RunComfyClient } from "@acebatch/provider";

const PROBE_REQUEST_ID = "acebatch-auth-probe";

/**
 * Whether the provider accepts our token: a status call for a request id that cannot exist. An
 * answer of any kind other than 401/403 (404 included) means the token is accepted; throttles and
 * outages prove nothing, so they count as "not yet".
 */
export async function probeProviderToken(client: RunComfyClient): Promise<boolean> {
  try {
    await client.status(PROBE_REQUEST_ID);
    return true;
  } catch (err) {
    if (!(err instanceof ProviderError)) return false;
    // 403001 ("that request is another account's") also means the provider knows our token.
    return err.exitClass === 65 || err.exitClass === 1 || err.code === "provider_request_forbidden";
  }
}
