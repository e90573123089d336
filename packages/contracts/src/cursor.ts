import { z } from "zod";
import { idPattern, type IdKind } from "./ids.ts";

/**
 * The `cursor` query parameter of a list whose pages are cut by id (jobs, batches, schedules): the
 * `next_cursor` of an earlier page, which is the id of that page's last item. Anything else is a
 * 400 rather than an empty page, which a client could not tell from the end of the list.
 */
export const idCursorSchema = (kind: IdKind) =>
  z.string().regex(idPattern(kind), "cursor must be a next_cursor value from an earlier page of this list").optional();
