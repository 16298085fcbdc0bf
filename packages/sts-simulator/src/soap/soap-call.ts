import type { OperationDefinition, PathPrefix, ServiceDefinition } from '../protocol/services.ts';
import type { SimulatorUser } from '../users/simulator-user.ts';
import type { ExtractedDocument } from './soap-request.ts';
import { childElement, childText, type XmlElement } from './xml-tree.ts';
import { type ElementWriter, elementWriter } from './xml-writer.ts';

/** An authenticated, schema-valid call, ready for its operation's handler. */
export interface SoapCall {
  service: ServiceDefinition;
  operation: OperationDefinition;
  prefix: PathPrefix;
  user: SimulatorUser;
  /** The operation element (first child of the Body). */
  payload: XmlElement;
  document: ExtractedDocument | undefined;
  receivedAt: Date;
}

/** Returns the response element (the Body's content). Throws `SoapFault` to answer a fault. */
export type OperationHandler = (call: SoapCall) => Promise<string> | string;

const RESPONSE_PREFIX = 'ns2';

/** The response wrapper, namespaced as JAX-WS writes it. */
export function responseElement(call: Pick<SoapCall, 'service' | 'operation'>, content: string): string {
  const name = `${RESPONSE_PREFIX}:${call.operation.responseElement}`;
  return `<${name} xmlns:${RESPONSE_PREFIX}="${call.service.namespace}">${content}</${name}>`;
}

/** Children of the response: unqualified in the upload/receipt services, qualified in the others (§1.3). */
export function responseWriter(call: Pick<SoapCall, 'service'>): ElementWriter {
  return elementWriter(call.service.qualified ? RESPONSE_PREFIX : undefined);
}

/** The namespace of request children: the service's when qualified, none otherwise. */
export const requestNamespace = (call: Pick<SoapCall, 'service'>): string =>
  call.service.qualified ? call.service.namespace : '';

export function requestChild(call: SoapCall, parent: XmlElement, local: string): XmlElement | undefined {
  return childElement(parent, local, requestNamespace(call));
}

export function requestText(call: SoapCall, parent: XmlElement, local: string): string | undefined {
  return childText(parent, local, requestNamespace(call));
}
