import { buildRecord, type EventRecord } from './events';
import { nonEmptyString, wholeNumber } from './fields';

/**
 * The frames of DingTalk's Stream mode (docs/stream.md): what the gateway sends, read strictly,
 * and the answers the relay sends back. Nothing here quotes a frame's `data` in a message.
 */

/** A frame from the gateway that can be answered: it names its type and a messageId. */
export interface StreamFrame {
  type: 'SYSTEM' | 'EVENT' | 'CALLBACK' | string;
  /** The frame's headers, string values only (others are dropped). */
  headers: Record<string, string>;
  messageId: string;
  topic?: string;
  /** The frame's `data`, verbatim, when it is a string. */
  data?: string;
}

/** Why a frame cannot be read: the text is no JSON object, or names no messageId (so nothing can answer it). */
export class BadFrameError extends Error {
  override name = 'BadFrameError';
}

/** Reads a frame's text. @throws BadFrameError when it is no JSON object or has no messageId header. */
export function readFrame(text: string): StreamFrame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadFrameError('frame is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadFrameError('frame is not a JSON object');
  const frame = parsed as Record<string, unknown>;
  const headers: Record<string, string> = {};
  if (typeof frame.headers === 'object' && frame.headers !== null && !Array.isArray(frame.headers)) {
    for (const [name, value] of Object.entries(frame.headers)) if (typeof value === 'string') headers[name] = value;
  }
  const messageId = nonEmptyString(headers.messageId);
  if (messageId === undefined) throw new BadFrameError('frame has no messageId header');
  return { type: typeof frame.type === 'string' ? frame.type : '', headers, messageId, topic: nonEmptyString(headers.topic), data: typeof frame.data === 'string' ? frame.data : undefined };
}

/** The business fields of a frame's `data`: a JSON object, or undefined when `data` is no JSON object text. */
export function dataFields(frame: StreamFrame): Record<string, unknown> | undefined {
  if (frame.data === undefined) return undefined;
  try {
    const fields: unknown = JSON.parse(frame.data);
    return typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? (fields as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An EVENT's or CALLBACK's acknowledgement status: stored (or never storable), or "push it again". */
export type AckStatus = 'SUCCESS' | 'LATER';

/** The answer to an EVENT frame. */
export function eventAck(frame: StreamFrame, status: AckStatus, message: string): string {
  return answer(frame.messageId, 200, 'OK', JSON.stringify({ status, message }));
}

/** The answer to a CALLBACK frame (a robot message): DingTalk expects a `response`, and never sends it again. */
export function callbackAnswer(frame: StreamFrame, stored: boolean): string {
  return answer(frame.messageId, stored ? 200 : 500, stored ? 'OK' : 'not stored', JSON.stringify({ response: null }));
}

/** The answer to a SYSTEM `ping`: its own headers and data, echoed. */
export function pingAnswer(frame: StreamFrame): string {
  return JSON.stringify({ code: 200, headers: frame.headers, message: 'OK', data: frame.data ?? '' });
}

/** The answer to a frame of a type the relay does not know. */
export function unknownAnswer(frame: StreamFrame): string {
  return answer(frame.messageId, 404, 'unknown frame type', '');
}

function answer(messageId: string, code: number, message: string, data: string): string {
  return JSON.stringify({ code, headers: { messageId, contentType: 'application/json' }, message, data });
}

/**
 * The record of an EVENT or CALLBACK frame whose `data` is a JSON object: source `stream`, the
 * identity of a push of the same event (`<ownerKey>:event:<eventType>:<eventId>` from the headers),
 * `corpId` and `eventTime` from the headers, `processInstanceId` from the data, the data verbatim as
 * the payload, the headers kept. A CALLBACK (a robot message) has no eventId: its type is its topic
 * and its identity the data's hash. Answers undefined for a frame no record can be made of.
 */
export function frameRecord(frame: StreamFrame, fields: Record<string, unknown>, ownerKeyFor: (corpId: string | undefined) => string, receivedAt: Date): EventRecord | undefined {
  const { headers } = frame;
  const event = frame.type === 'EVENT';
  const eventType = (event ? headers.eventType : frame.topic)?.trim();
  if (!eventType || frame.data === undefined) return undefined;
  const corpId = nonEmptyString(headers.eventCorpId) ?? nonEmptyString(fields.chatbotCorpId);
  return buildRecord({
    ownerKey: ownerKeyFor(corpId),
    eventType,
    source: 'stream',
    receivedAt,
    payload: frame.data,
    bytes: Buffer.from(frame.data, 'utf8'),
    eventId: event ? nonEmptyString(headers.eventId) : undefined,
    corpId,
    eventTime: wholeNumber(event ? headers.eventBornTime : fields.createAt),
    processInstanceId: nonEmptyString(fields.processInstanceId),
    headers,
  });
}
