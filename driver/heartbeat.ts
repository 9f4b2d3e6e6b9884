/**
 * A driver node's heartbeat: every interval, and at once when the node goes busy or idle, it
 * tells the orchestrator it is alive and which test it runs. The last test's final metrics ride
 * along with the next few beats, so a final report lost on the way still arrives.
 */
import type { MessageBus } from "../shared/bus.ts";
import type { Logger } from "../shared/log.ts";
import type { HeartbeatMessage, MetricsInput } from "../shared/messages.ts";
import { LatestPublisher } from "./latest_publisher.ts";

/**
 * How many heartbeats after a test the driver sends its final metrics again. A duplicate changes
 * nothing (same report_id), and a final report lost on the way still reaches the orchestrator.
 */
export const FINAL_REPUBLISH_BEATS = 5;

/** What a heartbeat needs. */
export interface HeartbeatDeps {
  bus: MessageBus;
  nodeId: string;
  instanceId: string;
  intervalMs: number;
  logger: Logger;
  /** Wall-clock epoch milliseconds, the beat's timestamp. */
  now: () => number;
  /** The test the node runs now, if any: read at each beat. */
  testId: () => string | undefined;
}

/** Beats after {@link start} until {@link stop}. */
export class Heartbeat {
  #deps: HeartbeatDeps;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** One heartbeat in flight, the newest waiting: none piles up (or arrives late) in an outage. */
  #beats: LatestPublisher<HeartbeatMessage>;
  /** The last test's final metrics, sent again with the next few heartbeats. */
  #lastFinal: { message: MetricsInput; beatsLeft: number } | undefined;
  /** Between {@link start} and {@link leave}: whether the orchestrator may know this node. */
  #started = false;

  constructor(deps: HeartbeatDeps) {
    this.#deps = deps;
    this.#beats = new LatestPublisher(
      (beat) => deps.bus.publish("heartbeat", beat, deps.nodeId),
      (_beat, err) => deps.logger.warn("heartbeat not sent", { error: err }),
    );
  }

  /** Beats now and then every interval. */
  start(): void {
    this.#started = true;
    this.#send();
    this.#timer = setInterval(() => this.#send(), this.#deps.intervalMs);
  }

  /**
   * Beats now, out of turn, so the orchestrator learns at once that the node went busy or idle;
   * nothing before {@link start} or after {@link stop}.
   */
  beat(): void {
    if (this.#timer !== undefined) this.#send();
  }

  /** Sends `message`, a test's final metrics, again with the next few beats. */
  repeatFinal(message: MetricsInput): void {
    this.#lastFinal = { message, beatsLeft: FINAL_REPUBLISH_BEATS };
  }

  /** No more beats; one already on its way may still go out (see {@link abandon}). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Gives up a beat still on its way: the process is exiting. */
  abandon(): void {
    this.#beats.abandon();
  }

  /**
   * The last beat, saying the node is leaving (`leaving: true`), so the orchestrator shows it
   * `left` at once rather than `lost` after its silence; waits at most `waitMs` for it to go out
   * (Kafka may be away; a failed one is logged like any beat), then gives up whatever is still on
   * its way. Nothing is sent if the node never started beating.
   */
  async leave(waitMs: number): Promise<void> {
    const started = this.#started;
    this.stop();
    this.#started = false;
    if (started) {
      this.#beats.offer(this.#message(true));
      await this.#beats.settle(waitMs);
    }
    this.abandon();
  }

  #message(leaving: boolean): HeartbeatMessage {
    return {
      node_id: this.#deps.nodeId,
      heartbeat: "YES",
      timestamp: this.#deps.now(),
      test_id: leaving ? null : this.#deps.testId() ?? null,
      interval_ms: this.#deps.intervalMs,
      instance_id: this.#deps.instanceId,
      ...(leaving ? { leaving: true } : {}),
    };
  }

  #send(): void {
    const { bus, nodeId } = this.#deps;
    this.#beats.offer(this.#message(false));
    const last = this.#lastFinal;
    if (last !== undefined && last.beatsLeft-- > 0) {
      bus.publish("metrics", last.message, nodeId).catch((err) =>
        this.#deps.logger.warn("final metrics not sent again", { error: err })
      );
    }
  }
}
