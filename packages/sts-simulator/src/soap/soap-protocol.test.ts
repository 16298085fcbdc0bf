import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtomRequest, receiptEnvelope } from '../../test-support/envelopes.ts';
import { findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import { MEDICO, PATH } from '../../test-support/kit-actors.ts';
import { soapuiSample } from '../../test-support/kit-samples.ts';
import { PATH_PREFIXES, SERVICES } from '../protocol/services.ts';
import { buildSimulator } from '../simulator.ts';
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

  it('takes the address from configuration, never from the request: a spoofed Host or X-Forwarded-* is not written', async () => {
    const spoofed = {
      host: 'evil.example',
      'x-forwarded-proto': 'gopher',
      'x-forwarded-host': 'evil.example',
    };
    const answer = await h.sim.app.inject({ method: 'GET', url: `${PATH.upload}?wsdl`, headers: spoofed });
    expect(answer.statusCode).toBe(200);
    expect(answer.body).not.toContain('evil.example');
    expect(answer.body).not.toContain('gopher');
    expect(answer.body).toContain(`<soap:address location="${h.url}${PATH.upload}"/>`);
    const endpoint = await h.sim.app.inject({ method: 'GET', url: PATH.upload, headers: spoofed });
    expect(endpoint.body).toContain(`${h.url}${PATH.upload}?wsdl`);

    const configured = await startSimulator({
      publicUrl: 'https://sts-sim.internal:9443/',
      schemaValidation: false,
    });
    try {
      const wsdl = await configured.sim.app.inject({
        method: 'GET',
        url: `${PATH.upload}?wsdl`,
        headers: spoofed,
      });
      expect(wsdl.body).toContain(`<soap:address location="https://sts-sim.internal:9443${PATH.upload}"/>`);
      expect(wsdl.body).toContain(`schemaLocation="https://sts-sim.internal:9443${PATH.upload}?xsd=1"`);
    } finally {
      await configured.close();
    }
    await expect(buildSimulator({ publicUrl: 'javascript:alert(1)' })).rejects.toThrow(/http/);
    await expect(buildSimulator({ publicUrl: 'http://a.example/?x=1' })).rejects.toThrow(/query/);
  });

  it('a GET without ?wsdl is a SOAP Client fault saying it is a SOAP endpoint (issue 10: never a bare 404)', async () => {
    const response = await fetch(`${h.url}${PATH.upload}`);
    expect(response.status).toBe(500);
    expect(response.headers.get('allow')).toBe('POST');
    expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
    const body = await response.text();
    expect(body).toContain('<faultcode>env:Client</faultcode>');
    expect(body).toContain(`${h.url}${PATH.upload}?wsdl`);
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

  describe('bounded request parsing', () => {
    const esitoInvii = () =>
      receiptEnvelope('EsitoInvii', { pincode: h.pin(MEDICO.pincode), protocol: '99000000000000001' });

    it('answers a well-formed call as a control', async () => {
      expect(findText((await h.soap(PATH.outcome, esitoInvii(), auth)).body, 'esitoChiamata')).toBe('1');
    });

    it('refuses an envelope over 1 MiB before building its tree', async () => {
      // Valid otherwise: the Header takes any element, and these 1.2 MB would cost some 60 MB as a tree.
      const padded = esitoInvii().replace(
        '<soapenv:Header/>',
        `<soapenv:Header>${'<a/>'.repeat(300_000)}</soapenv:Header>`,
      );
      const answer = await h.soap(PATH.outcome, padded, auth);
      expect(answer.status).toBe(500);
      expect(answer.fault?.code).toBe('env:Client');
      expect(answer.fault?.reason).toBe('MESSAGGIO_TROPPO_GRANDE');
    });

    it('refuses a multipart body with more parts than any real message has', async () => {
      const parts = Array.from({ length: 40 }, (_, index) => ({
        contentId: `extra${index}`,
        bytes: Buffer.from('x'),
      }));
      const message = mtomRequest(esitoInvii(), parts);
      const answer = await h.soap(PATH.outcome, message.body, { ...auth, contentType: message.contentType });
      expect(answer.fault?.message).toBe('Errore nella creazione di un lettore per il messaggio MTOM');
      expect(answer.fault?.reason).toBe('the multipart body has more than 32 parts');
    });

    it('refuses a MIME part whose headers run past 16 KiB', async () => {
      const message = mtomRequest(esitoInvii(), []);
      const body = Buffer.from(
        message.body
          .toString('latin1')
          .replace('Content-Transfer-Encoding: 8bit\r\n', 'X-Filler: y\r\n'.repeat(2000)),
        'latin1',
      );
      const answer = await h.soap(PATH.outcome, body, { ...auth, contentType: message.contentType });
      expect(answer.fault?.reason).toBe('the headers of a MIME part exceed 16384 bytes');
    });
  });

  it('serves /health', async () => {
    expect((await (await fetch(`${h.url}/health`)).json()) as object).toMatchObject({ status: 'ok' });
  });

  it('publishes its certificate for clients to encrypt with', async () => {
    const response = await fetch(`${h.url}/__admin/certificate`, {
      headers: { authorization: `Bearer ${h.sim.adminToken}` },
    });
    expect(await response.text()).toBe(h.sim.certificatePem);
    expect(h.sim.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });
});
