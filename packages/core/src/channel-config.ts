/**
 * A channel's `configure`: reading and setting the generic options (blocking, buffering,
 * buffersize, encoding, eofchar, translation, profile) on the input/output buffers, and the hooks
 * for a subclass's driver options. Value parsing and Tcl's error texts are in options.ts.
 */
import { valueText } from '@sockchan/base';
import { createEncoder, resolveEncodingName } from '@sockchan/encodings';
import { GENERIC_OPTION_NAMES, badOptionError, parseBlocking, parseBuffering, parseBuffersize, parseEofcharValue, parseTranslationWord, splitTranslationValue } from './options.js';
import type { ChannelProfile, OutputTranslation, Translation } from './options.js';
import type { DriverOptionSpec } from './channel.js';
import { ChannelLifecycle } from './channel-lifecycle.js';

const NO_DRIVER_OPTIONS: readonly DriverOptionSpec[] = [];

/** The configuration part of a `Channel` (see the module comment). */
export abstract class ChannelConfig extends ChannelLifecycle {
  /** For subclasses: the driver options, in Tcl's order (none for a plain Channel). */
  protected driverOptions(): readonly DriverOptionSpec[] {
    return NO_DRIVER_OPTIONS;
  }

  /** For subclasses: reads a driver option (`name` is one of `driverOptions()`). */
  protected getDriverOption(name: string): unknown {
    throw badOptionError(name, this.getOptionNames());
  }

  /** For subclasses: sets a settable driver option. */
  protected setDriverOption(name: string, _value: unknown): void {
    throw badOptionError(name, this.setOptionNames());
  }

  /** For subclasses: the output translation `auto` stands for (`crlf` on sockets, as in Tcl). */
  protected set autoOutputTranslation(t: OutputTranslation) {
    this.outTranslationDefault = t;
  }

  /** @internal */
  protected getOptionNames(): string[] {
    return [...GENERIC_OPTION_NAMES, ...this.driverOptions().filter((o) => o.namedOnGet).map((o) => o.name)];
  }

  /** @internal */
  protected setOptionNames(): string[] {
    return [...GENERIC_OPTION_NAMES, ...this.driverOptions().filter((o) => o.settable).map((o) => o.name)];
  }

  /** @internal */
  protected getGeneric(name: (typeof GENERIC_OPTION_NAMES)[number]): unknown {
    switch (name) {
      case 'blocking':
        return this.blockingMode;
      case 'buffering':
        return this.output.buffering;
      case 'buffersize':
        return this.output.bufferSize;
      case 'encoding':
        return this.encodingName;
      case 'eofchar':
        return [this.input.eofChar, this.output.eofChar];
      case 'translation':
        return [this.inTranslation, this.output.translation];
    }
  }

  /** @internal */
  protected setGeneric(name: (typeof GENERIC_OPTION_NAMES)[number], value: unknown): void {
    switch (name) {
      case 'blocking':
        this.blockingMode = parseBlocking(value as string);
        if (this.readWaiters !== undefined) this.serviceReads();
        this.scheduleEvents();
        return;
      case 'buffering':
        this.output.buffering = parseBuffering(valueText(value));
        return;
      case 'buffersize':
        this.output.bufferSize = parseBuffersize(value as string);
        return;
      case 'encoding':
        this.setEncoding(valueText(value));
        return;
      case 'eofchar': {
        const [i, o] = parseEofcharValue(value as string);
        this.input.setEofChar(i);
        this.output.eofChar = o;
        return;
      }
      case 'translation': {
        const [i, o] = splitTranslationValue(value as string);
        if (i !== '') this.setInTranslation(parseTranslationWord(i));
        if (o !== '') this.setOutTranslation(parseTranslationWord(o));
        return;
      }
    }
  }

  /** @internal */
  protected setEncoding(name: string): void {
    const canonical = name === '' ? 'binary' : resolveEncodingName(name);
    if (canonical === this.encodingName) return;
    this.encodingName = canonical;
    this.input.setDecoder(this.newDecoder());
    this.input.tclUtf8Hold = canonical === 'utf-8';
    this.output.setEncoder(canonical, () => createEncoder(canonical, { profile: this.profileName }));
  }

  /** @internal */
  protected setProfile(profile: ChannelProfile): void {
    if (profile === this.profileName) return;
    this.profileName = profile;
    const enc = this.encodingName;
    this.input.setDecoder(this.newDecoder());
    this.output.setEncoder(enc, () => createEncoder(enc, { profile }));
  }

  /** @internal */
  protected setInTranslation(t: Translation): void {
    if (t === 'binary') {
      this.setEncoding('binary');
      this.input.setEofChar('', false);
      this.inTranslation = 'lf';
      this.input.setTranslation('lf');
      return;
    }
    this.inTranslation = t;
    this.input.setTranslation(t);
  }

  /** @internal */
  protected setOutTranslation(t: Translation): void {
    if (t === 'binary') {
      this.setEncoding('binary');
      this.output.eofChar = '';
      this.output.translation = 'lf';
      return;
    }
    this.output.translation = t === 'auto' ? this.outTranslationDefault : t;
  }
}
