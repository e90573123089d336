import { microUsdToUsd, type Job, type JobFinishedOutput } from "@acebatch/contracts";
import type { JobRecord, StoredFinished } from "@acebatch/queue";

/** The finished renditions behind our own audio URL (`?variant=finished&format=...`). */
function toFinishedView(id: string, finished: StoredFinished, publicBaseUrl: string): JobFinishedOutput {
  const audioUrl = (format: string) => `${publicBaseUrl}/v1/jobs/${id}/audio?variant=finished&format=${format}`;
  const entries = Object.entries(finished.formats).filter(([, file]) => file !== undefined);
  return {
    url: audioUrl("wav"),
    content_type: finished.formats.wav?.content_type ?? "audio/wav",
    duration_seconds: finished.duration_seconds,
    sample_rate: finished.sample_rate,
    channels: finished.channels,
    loop_bars: finished.loop_bars,
    loop_seconds: finished.loop_seconds,
    bpm: finished.bpm,
    bpm_source: finished.bpm_source,
    loudness_lufs: finished.loudness_lufs,
    true_peak_db: finished.true_peak_db,
    formats: Object.fromEntries(entries.map(([format]) => [format, audioUrl(format)])),
    files: Object.fromEntries(
      entries.map(([format, file]) => [
        format,
        { url: audioUrl(format), content_type: file.content_type, bytes: file.bytes, sha256: file.sha256, duration_seconds: file.duration_seconds },
      ]),
    ),
    waveform_url: finished.waveform_key === null ? null : `${publicBaseUrl}/v1/jobs/${id}/waveform?variant=finished`,
    finished_at: finished.finished_at,
  };
}

/** The API representation of a job record (dollars at the edge, audio behind our own URL). */
export function toJobView(rec: JobRecord, publicBaseUrl: string): Job & { cancel_requested: boolean } {
  return {
    id: rec.id,
    model: rec.model,
    input: rec.input,
    status: rec.status,
    batch_id: rec.batch_id,
    schedule_id: rec.schedule_id,
    attempts: rec.attempts,
    provider: {
      name: "runcomfy",
      request_id: rec.request_id,
      status: rec.provider_status,
      queue_position: rec.queue_position,
    },
    estimated_cost_usd: rec.estimated_cost_micro_usd === null ? null : microUsdToUsd(rec.estimated_cost_micro_usd),
    cost_usd: rec.cost_micro_usd === null ? null : microUsdToUsd(rec.cost_micro_usd),
    output: rec.output && {
      url: `${publicBaseUrl}/v1/jobs/${rec.id}/audio`,
      content_type: rec.output.content_type,
      duration_seconds: rec.output.duration_seconds,
      bytes: rec.output.bytes,
      sha256: rec.output.sha256,
      seed: rec.output.seed,
      waveform_url: rec.waveform_key === null ? null : `${publicBaseUrl}/v1/jobs/${rec.id}/waveform`,
      finished: rec.finished && toFinishedView(rec.id, rec.finished, publicBaseUrl),
    },
    finish: rec.finish,
    // A finish block waits for the output: "pending" until a finish run picks the job up.
    finish_status: rec.finish_status ?? (rec.finish && rec.status !== "failed" && rec.status !== "cancelled" ? "pending" : null),
    finish_error: rec.finish_error,
    error: rec.error,
    metadata: rec.metadata,
    webhook_url: rec.webhook_url,
    cancel_requested: rec.cancel_requested,
    created_at: rec.created_at,
    started_at: rec.started_at,
    finished_at: rec.finished_at,
  };
}
