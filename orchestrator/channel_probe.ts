/**
 * Sends the orchestrator's probes on the heartbeat topic and hands those read back to its
 * {@link HeartbeatChannel}, which judges from them whether the topic delivers.
 */
import type { MessageBus } from "../shared/bus.ts";
import type { Logger } from "../shared/log.ts";
import type { ProbeMessage } from "../shared/messages.ts";
import { HeartbeatChannel } from "./heartbeat_channel.ts";

/** What the prober sends with and on. */
export interface ChannelProbeDeps {
  bus: MessageBus;
  logger: Logger;
  now: () => number;
  /** Names this process's probes. */
  id: string;
  probeMs: number;
}

/** Probes the heartbeat topic every `probeMs` while started. */
export class ChannelProbe {
  #deps: ChannelProbeDeps;
  #channel: HeartbeatChannel | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sending = false;

  constructor(deps: ChannelProbeDeps) {
    this.#deps = deps;
    this.#channel = new HeartbeatChannel(deps.id, deps.now());
  }

  start(): void {
    this.#timer ??= setInterval(() => this.send(), this.#deps.probeMs);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Publishes the next probe, unless one is still on its way (a stalled topic would otherwise
   * pile them up). A Kafka user whose ACLs do not let it write the topic (a cluster set up before
   * probes) gets a warning once and no more probes: the topic is then taken to deliver, and a
   * stall is seen as every driver falling silent, as without probes.
   */
  send(): void {
    const channel = this.#channel;
    if (!channel || this.#sending) return;
    this.#sending = true;
    this.#deps.bus.publish("heartbeat", channel.probe(this.#deps.now()))
      .catch((err) => {
        if (!/AUTHORIZATION/i.test(String((err as { type?: string }).type ?? err))) return;
        this.#channel = undefined;
        this.#deps.logger.warn(
          "cannot write probes on the heartbeat topic (grant the orchestrator WRITE on it): " +
            "a stalled topic will be taken for silent drivers",
          { error: err instanceof Error ? err.message : String(err) },
        );
      })
      .finally(() => this.#sending = false);
  }

  /** A probe read from the topic. */
  seen(message: ProbeMessage): void {
    this.#channel?.seen(message, this.#deps.now());
  }

  /** See {@link HeartbeatChannel.evidenceAt}; `now` without a channel. */
  evidenceAt(now: number): number {
    return this.#channel ? this.#channel.evidenceAt(now) : now;
  }

  /** See {@link HeartbeatChannel.since}. */
  get since(): number {
    return this.#channel?.since ?? -Infinity;
  }
}
