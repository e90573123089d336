import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";

export const BOARD_PATH = "/admin/queues";

/**
 * Bull Board at /admin/queues for every queue of the job catalog, behind the `admin` scope.
 * Scripts send `Authorization: Bearer <key>`; a browser opens `/admin/queues?key=<key>` once, gets
 * an HttpOnly, SameSite=Strict cookie limited to /admin/queues and is redirected to the bare URL.
 * Register it with `app.register` (its onRoute hook must stay inside its own context).
 */
export async function adminBoard(app: FastifyInstance, { queues }: { queues: readonly Queue[] }) {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: "acebatch" } },
  });
  // Every route the board (and its static assets) registers needs the admin scope.
  app.addHook("onRoute", (route) => {
    route.config = { ...route.config, scope: "admin", browserLogin: { cookiePath: BOARD_PATH } };
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
}
