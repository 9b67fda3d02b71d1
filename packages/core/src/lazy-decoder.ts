import { createDecoder } from '@sockchan/encodings';
import type { Decoder } from '@sockchan/encodings';
import type { StreamDecoder } from './input.js';
import type { ChannelProfile } from './options.js';

/** Creates the decoder on first use (idle channels allocate none); no closures per channel. */
export class LazyDecoder implements StreamDecoder {
  private real: Decoder | undefined = undefined;
  constructor(
    private readonly encoding: string,
    private readonly profile: ChannelProfile,
  ) {}
  private get decoder(): Decoder {
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
  mark(): StreamDecoder | number {
    // Nothing decoded yet: the initial state, at offset 0.
    return this.real === undefined ? 0 : this.real.mark();
  }
  fromMark(mark: StreamDecoder | number): StreamDecoder {
    if (typeof mark !== 'number') return mark.clone();
    return this.real === undefined ? new LazyDecoder(this.encoding, this.profile) : this.real.fromMark(mark);
  }
  reset(): void {
    this.real?.reset();
  }
}
