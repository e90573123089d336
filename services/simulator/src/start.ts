import type { FastifyInstance } from "fastify";

import { buildSimulator, type SimulatorOptions } from "./app.ts";
import type { SimulatorState } from "./simulator-state.ts";

export interface RunningSimulator {
  /** The API base to give a client, e.g. `http://127.0.0.1:8090/v1`. */
  url: string;
  /** `http://host:port`, for `/__sim/*` and `/files/*`. */
  origin: string;
  app: FastifyInstance;
  state: SimulatorState;
  close(): Promise<void>;
}

/** Build and listen (port 0 = any free port; host defaults to 127.0.0.1). */
export async function startSimulator(options: SimulatorOptions & { port?: number; host?: string } = {}): Promise<RunningSimulator> {
  const { port = 0, host = "127.0.0.1", ...rest } = options;
  const { app, state } = buildSimulator(rest);
  await app.listen({ port, host });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("simulator did not bind a TCP port");
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const origin = `http://${hostPart}:${address.port}`;
  return { url: `${origin}/v1`, origin, app, state, close: () => app.close() };
}
