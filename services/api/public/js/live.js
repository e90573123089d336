// Server-Sent Events over fetch: EventSource cannot send an Authorization header, so the stream is
// read by hand. The events only say "something changed"; callers re-read the resource, so any
// event shape the server sends works.

/** Parse an SSE byte stream, calling onEvent({ event, data, id }) per dispatched event. */
export async function readEventStream(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { event: "message", data: "", id: null };
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(val);
        else if (field === "event") event.event = val;
        else if (field === "id") event.id = val;
      }
      if (data.length === 0) continue;
      event.data = data.join("\n");
      onEvent(event);
    }
  }
}

/** The data of an event as JSON, or null. */
export function eventJson(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}
