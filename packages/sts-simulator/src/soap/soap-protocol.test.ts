import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATH_PREFIXES, SERVICES } from '../protocol/services.ts';
import { receiptEnvelope } from '../test-support/envelopes.ts';
import { findText, type Harness, startSimulator } from '../test-support/harness.ts';
import { MEDICO, PATH } from '../test-support/kit-actors.ts';
import { soapuiSample } from '../test-support/kit-samples.ts';
import { parseXmlTree } from './xml-tree.ts';

let h: Harness;

beforeAll(async () => {
  h = await startSimulator();
});
afterAll(() => h.close());

const auth = { user: MEDICO.user, password: MEDICO.password };

describe('?wsdl', () => {
  it.each(SERVICES.map((service) => [service.id, service.path]))(
    'serves the official %s WSDL with the address rewritten and its XSD fetchable',
    async (_id, servicePath) => {
      for (const prefix of PATH_PREFIXES) {
        const endpoint = `${h.url}${prefix}${servicePath}`;
        const response = await fetch(`${endpoint}?wsdl`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
        const wsdl = await response.text();
        expect(wsdl).toContain(`<soap:address location="${endpoint}"/>`);
        expect(wsdl).not.toContain('localhost:9080');
        const schemaLocation = /schemaLocation="([^"]+)"/.exec(wsdl)![1]!;
        expect(schemaLocation).toBe(`${endpoint}?xsd=1`);
        const xsd = await (await fetch(schemaLocation)).text();
        expect(parseXmlTree(xsd).local).toBe('schema');
      }
    },
  );

  it('a GET without ?wsdl says it is a SOAP endpoint', async () => {
    const response = await fetch(`${h.url}${PATH.upload}`);
    expect(response.status).toBe(405);
  });
});

describe('paths and dispatch', () => {
  it.each(PATH_PREFIXES)('answers under the "%s" prefix', async (prefix) => {
    const answer = await h.soap(
      `${prefix}${PATH.outcome}`,
      receiptEnvelope('EsitoInvii', { pincode: h.pin(MEDICO.pincode), protocol: '99000000000000001' }),
      auth,
    );
    expect(answer.status).toBe(200);
    expect(findText(answer.body, 'esitoChiamata')).toBe('1');
  });

  it('an operation sent to the wrong service is a Client fault', async () => {
    const answer = await h.soap(PATH.upload, soapuiSample('Medico__EsitoInvii__Medico__0'), auth);
    expect(answer.status).toBe(500);
    expect(answer.fault?.code).toBe('env:Client');
    expect(answer.fault?.message).toBe(
      'Cannot find dispatch method for {http://esitoinvio.p730.sanita.sogei.it/}EsitoInvii',
    );
  });

  it('SOAP 1.2 gets a VersionMismatch fault', async () => {
    const envelope = soapuiSample('Medico__EsitoInvii__Medico__0').replace(
      'http://schemas.xmlsoap.org/soap/envelope/',
      'http://www.w3.org/2003/05/soap-envelope',
    );
    const answer = await h.soap(PATH.outcome, envelope, auth);
    expect(answer.fault?.code).toBe('env:VersionMismatch');
  });

  it('XML that is not well-formed, and DOCTYPEs, are Client faults', async () => {
    expect((await h.soap(PATH.outcome, '<soapenv:Envelope', auth)).fault?.code).toBe('env:Client');
    const doctype = `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${soapuiSample('Medico__EsitoInvii__Medico__0')}`;
    const answer = await h.soap(PATH.outcome, doctype, auth);
    expect(answer.fault?.message).toBe('DOCTYPE is not allowed in a SOAP message');
  });

  it('a broken MTOM message gets the fault observed in the field', async () => {
    const answer = await h.soap(PATH.upload, Buffer.from('no boundary here'), {
      ...auth,
      contentType: 'multipart/related; type="application/xop+xml"; boundary="abc"',
    });
    expect(answer.fault?.message).toBe('Errore nella creazione di un lettore per il messaggio MTOM');
  });

  it('serves /health', async () => {
    expect((await (await fetch(`${h.url}/health`)).json()) as object).toMatchObject({ status: 'ok' });
  });

  it('publishes its certificate for clients to encrypt with', async () => {
    const response = await fetch(`${h.url}/__admin/certificate`);
    expect(await response.text()).toBe(h.sim.certificatePem);
    expect(h.sim.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });
});
