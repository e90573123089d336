/** A minimal PCM WAV (44-byte header + 16-bit, or 24-bit, samples of a quiet ramp) lasting `seconds`. Test-only. */
export function makeWav({ seconds, sampleRate = 8_000, channels = 1, bitsPerSample = 16 }: { seconds: number; sampleRate?: number; channels?: number; bitsPerSample?: 16 | 24 }): Buffer {
  const bytesPerSample = bitsPerSample / 8;
  const frames = Math.round(seconds * sampleRate);
  const dataBytes = frames * channels * bytesPerSample;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write("RIFF", 0, "ascii");
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write("WAVE", 8, "ascii");
  buf.write("fmt ", 12, "ascii");
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * bytesPerSample, 28);
  buf.writeUInt16LE(channels * bytesPerSample, 32);
  buf.writeUInt16LE(bytesPerSample * 8, 34);
  buf.write("data", 36, "ascii");
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames * channels; i++) buf.writeIntLE((i % 200) - 100, 44 + i * bytesPerSample, bytesPerSample);
  return buf;
}
