import { createDecoder } from '@sockchan/encodings';
import type { StreamDecoder } from './input.js';
import type { ChannelProfile } from './options.js';

/** Creates the decoder on first use (idle channels allocate none); no closures per channel. */
export class LazyDecoder implements StreamDecoder {
  private real: StreamDecoder | undefined = undefined;
  constructor(
    private readonly encoding: string,
    private readonly profile: ChannelProfile,
  ) {}
  private get decoder(): StreamDecoder {
    return (this.real ??= createDecoder(this.encoding, { profile: this.profile }));
  }
  decode(chunk: Uint8Array): string {
    return this.decoder.decode(chunk);
  }
  end(): string {
    return this.decoder.end();
  }
  get pending(): number {
    return this.real === undefined ? 0 : this.real.pending;
  }
  get error(): Error | undefined {
    return this.real === undefined ? undefined : this.real.error;
  }
  clone(): StreamDecoder {
    return this.real === undefined ? new LazyDecoder(this.encoding, this.profile) : this.real.clone();
  }
  reset(): void {
    this.real?.reset();
  }
}
