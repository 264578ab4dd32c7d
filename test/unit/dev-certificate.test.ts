import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../local/https/dev-certificate.js';

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((d) => rm(d, { recursive: true, force: true })));
});

async function freshDirectory(): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'dev-certs-'));
  directories.push(parent);
  // A path that does not exist yet, as `.local/certs` on a fresh checkout.
  return join(parent, 'certs');
}

describe('local development certificates', () => {
  it('issues a localhost server certificate from a local CA, valid now', async () => {
    const directory = await freshDirectory();
    const certs = await ensureDevCertificates({ directory });
    expect(certs.created).toBe('all');
    expect(certs.caFile).toBe(join(directory, 'ca.pem'));
    expect(await readFile(certs.caFile, 'utf8')).toBe(certs.caCertificatePem);

    const ca = new X509Certificate(certs.caCertificatePem);
    const server = new X509Certificate(certs.certificatePem);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);

    // SubjectAltName: the names the runtime is reached by.
    expect(server.subjectAltName?.split(', ')).toEqual(['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBeDefined();
    expect(server.checkHost('example.com')).toBeUndefined();
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // extKeyUsage serverAuth

    const now = Date.now();
    for (const cert of [ca, server]) {
      expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(now);
      expect(Date.parse(cert.validTo)).toBeGreaterThan(now + 30 * 86_400_000);
    }
    // Apple platforms refuse TLS server certificates valid for more than 825 days.
    expect(Date.parse(server.validTo) - Date.parse(server.validFrom)).toBeLessThanOrEqual(826 * 86_400_000);

    // Signed by the CA, and the key handed to the server is the certificate's.
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(server.checkPrivateKey(createPrivateKey(certs.keyPem))).toBe(true);
    expect(server.verify(createPublicKey(certs.keyPem))).toBe(false);
  });

  it('reuses the files on a second call, and keeps private keys owner-only', async () => {
    const directory = await freshDirectory();
    const first = await ensureDevCertificates({ directory });
    const second = await ensureDevCertificates({ directory });
    expect(second.created).toBe('none');
    expect(second.caCertificatePem).toBe(first.caCertificatePem);
    expect(second.certificatePem).toBe(first.certificatePem);
    expect(second.keyPem).toBe(first.keyPem);
    if (process.platform !== 'win32') {
      expect((await stat(join(directory, 'ca-key.pem'))).mode & 0o077).toBe(0);
      expect((await stat(join(directory, 'localhost.pem'))).mode & 0o077).toBe(0);
    }
  });

  it('renews only the server certificate when it nears expiry, keeping the trusted CA', async () => {
    const directory = await freshDirectory();
    const first = await ensureDevCertificates({ directory });
    const later = new Date(Date.now() + 820 * 86_400_000);
    const renewed = await ensureDevCertificates({ directory, now: later });
    expect(renewed.created).toBe('server');
    expect(renewed.caCertificatePem).toBe(first.caCertificatePem);
    expect(renewed.certificatePem).not.toBe(first.certificatePem);
    expect(new X509Certificate(renewed.certificatePem).verify(new X509Certificate(first.caCertificatePem).publicKey)).toBe(true);
    expect((await ensureDevCertificates({ directory, now: later })).created).toBe('none');
  });

  it('starts over when the files are damaged or do not belong together', async () => {
    const directory = await freshDirectory();
    await ensureDevCertificates({ directory });
    await writeFile(join(directory, 'ca.pem'), 'not a certificate');
    const replaced = await ensureDevCertificates({ directory });
    expect(replaced.created).toBe('all');

    // A server file signed by another CA is not reused.
    const other = await ensureDevCertificates({ directory: await freshDirectory() });
    await writeFile(join(directory, 'localhost.pem'), other.keyPem + other.certificatePem);
    const reissued = await ensureDevCertificates({ directory });
    expect(reissued.created).toBe('server');
    expect(new X509Certificate(reissued.certificatePem).checkIssued(new X509Certificate(replaced.caCertificatePem))).toBe(true);
  });

  it('gives concurrent first uses one consistent set', async () => {
    const directory = await freshDirectory();
    const results = await Promise.all([1, 2, 3].map(() => ensureDevCertificates({ directory })));
    const onDisk = await readFile(join(directory, 'ca.pem'), 'utf8');
    for (const certs of results) {
      expect(certs.caCertificatePem).toBe(onDisk);
      expect(new X509Certificate(certs.certificatePem).verify(new X509Certificate(onDisk).publicKey)).toBe(true);
    }
  });
});
