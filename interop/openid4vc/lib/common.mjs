// Shared pieces of the interop harness: the crypto / fetch callbacks that the
// OpenWallet Foundation's @openid4vc packages ask their caller for (implemented
// with node:crypto and `jose`), DID -> JWK resolution for did:jwk and did:key,
// X.509 handling for `x509_san_dns:` client identifiers, a bounded HTTP server
// and the command-line conventions (JSON on stdout, exit 1 on failure).
//
// Nothing here comes from ssi-wallet: the harness is an independent party.

import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import { parseArgs } from 'node:util'
import * as jose from 'jose'
import { clientAuthenticationNone, HashAlgorithm } from '@openid4vc/oauth2'
import { setGlobalConfig } from '@openid4vc/utils'

// The tests run every party on 127.0.0.1 over plain HTTP; the packages refuse
// http:// URLs unless told otherwise. boundedFetch() below still refuses plain
// HTTP to anything but a loopback address.
setGlobalConfig({ allowInsecureUrls: true })
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

export const b64u = {
  encode: (data) => Buffer.from(data).toString('base64url'),
  decode: (text) => Buffer.from(text, 'base64url'),
}

// -- keys --------------------------------------------------------------------------

/** A fresh key pair for `alg` (ES256 on P-256, or EdDSA on Ed25519), as JWKs. */
export async function generateKey(alg = 'ES256') {
  const options = { extractable: true }
  if (alg === 'EdDSA') options.crv = 'Ed25519'
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, options)
  const privateJwk = await jose.exportJWK(privateKey)
  const publicJwk = await jose.exportJWK(publicKey)
  return { alg, privateJwk, publicJwk }
}

/** The public members of a JWK (drops every private parameter). */
export function publicJwkOf(jwk) {
  const { d, p, q, dp, dq, qi, k, ...rest } = jwk
  return rest
}

/** The JWS algorithm a public key signs with. */
export function algOfJwk(jwk) {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256'
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'ES384'
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA'
  throw new Error(`unsupported key type ${jwk.kty}/${jwk.crv}`)
}

export function thumbprint(jwk) {
  return jose.calculateJwkThumbprint(publicJwkOf(jwk), 'sha256')
}

export function jwkEquals(a, b) {
  const fields = ['kty', 'crv', 'x', 'y', 'n', 'e']
  return fields.every((f) => (a?.[f] ?? null) === (b?.[f] ?? null))
}

// -- DIDs ---------------------------------------------------------------------------

/** did:jwk for a public key: base64url of the JSON JWK, members sorted (as JCS would). */
export function didJwk(jwk) {
  const pub = publicJwkOf(jwk)
  const sorted = Object.fromEntries(Object.keys(pub).sort().map((name) => [name, pub[name]]))
  return `did:jwk:${b64u.encode(JSON.stringify(sorted))}`
}

/** Whether a DID (did:jwk / did:key) names the public key `jwk`. */
export function didNamesKey(did, jwk) {
  if (typeof did !== 'string' || !did.startsWith('did:')) return false
  try {
    return jwkEquals(resolveDidToJwk(did), jwk)
  } catch {
    return false
  }
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function base58Decode(text) {
  let value = 0n
  for (const ch of text) {
    const digit = BASE58.indexOf(ch)
    if (digit < 0) throw new Error('invalid base58 character')
    value = value * 58n + BigInt(digit)
  }
  let hex = value.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  const body = value === 0n ? Buffer.alloc(0) : Buffer.from(hex, 'hex')
  let zeros = 0
  while (zeros < text.length && text[zeros] === '1') zeros++
  return Buffer.concat([Buffer.alloc(zeros), body])
}

function readVarint(bytes) {
  let value = 0
  let shift = 0
  for (let i = 0; i < Math.min(bytes.length, 4); i++) {
    value |= (bytes[i] & 0x7f) << shift
    if ((bytes[i] & 0x80) === 0) return [value, i + 1]
    shift += 7
  }
  throw new Error('invalid multicodec varint')
}

// DIDs of methods the harness cannot resolve itself (e.g. did:ledger, which needs
// ssi-wallet's ledger) are looked up in a table given with --did-keys FILE: a JSON
// object mapping a DID or DID URL to its public JWK, as a verifier's trust list would.
const knownDidKeys = new Map()

/** Loads a --did-keys file ({"did:...": jwk}); returns the DIDs it names. */
export function loadDidKeys(file) {
  const table = JSON.parse(fs.readFileSync(file, 'utf8'))
  for (const [did, jwk] of Object.entries(table)) knownDidKeys.set(did, publicJwkOf(jwk))
  return Object.keys(table)
}

/** The public JWK a DID URL names: the --did-keys table first, then did:jwk / did:key. */
export function resolveDidToJwk(didUrl) {
  if (knownDidKeys.has(didUrl)) return knownDidKeys.get(didUrl)
  const did = didUrl.split('#')[0]
  if (knownDidKeys.has(did)) return knownDidKeys.get(did)
  if (did.length > 4096) throw new Error('DID too long')
  if (did.startsWith('did:jwk:')) {
    const jwk = JSON.parse(b64u.decode(did.slice('did:jwk:'.length)).toString('utf8'))
    return publicJwkOf(jwk)
  }
  if (did.startsWith('did:key:z')) {
    const bytes = base58Decode(did.slice('did:key:z'.length))
    const [codec, used] = readVarint(bytes)
    const key = bytes.subarray(used)
    if (codec === 0xed && key.length === 32) {
      return { kty: 'OKP', crv: 'Ed25519', x: b64u.encode(key) }
    }
    if (codec === 0x1200 && key.length === 33) {
      const point = crypto.ECDH.convertKey(key, 'prime256v1', undefined, undefined, 'uncompressed')
      return { kty: 'EC', crv: 'P-256', x: b64u.encode(point.subarray(1, 33)), y: b64u.encode(point.subarray(33, 65)) }
    }
    throw new Error(`did:key codec 0x${codec.toString(16)} is not supported by the harness`)
  }
  throw new Error(`DID method of ${did.slice(0, 40)} is not supported by the harness (did:jwk, did:key, or a --did-keys entry)`)
}

// -- X.509 --------------------------------------------------------------------------

export function certificateFromBase64(der) {
  return new crypto.X509Certificate(Buffer.from(der, 'base64'))
}

/** SAN dNSName and URI entries of a certificate, as the openid4vp package asks for them. */
export function x509Metadata(certificate) {
  const cert = certificateFromBase64(certificate)
  const sanDnsNames = []
  const sanUriNames = []
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) sanDnsNames.push(entry.slice(4))
    else if (entry.startsWith('URI:')) sanUriNames.push(entry.slice(4))
  }
  return { sanDnsNames, sanUriNames }
}

/**
 * Checks an x5c chain (base64 DER, leaf first): each certificate is signed by the
 * next, each is valid now, and the last is one of `anchors` or is signed by one.
 * Returns the leaf's public JWK; throws on any failure.
 */
export function verifyX5cChain(x5c, anchors, now = new Date()) {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > 10) throw new Error('x5c must hold 1 to 10 certificates')
  const chain = x5c.map(certificateFromBase64)
  for (const cert of chain) {
    if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) throw new Error('certificate outside its validity period')
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].verify(chain[i + 1].publicKey)) throw new Error(`x5c[${i}] is not signed by x5c[${i + 1}]`)
  }
  const top = chain[chain.length - 1]
  const anchored = anchors.some((anchor) => anchor.raw.equals(top.raw) || (top.checkIssued(anchor) && top.verify(anchor.publicKey)))
  if (!anchored) throw new Error('x5c chain does not lead to a trusted certificate')
  return chain[0].publicKey.export({ format: 'jwk' })
}

// -- the callbacks the @openid4vc packages need --------------------------------------

export function hash(data, alg) {
  const name = { [HashAlgorithm.Sha256]: 'sha256', [HashAlgorithm.Sha384]: 'sha384', [HashAlgorithm.Sha512]: 'sha512' }[alg]
  if (!name) throw new Error(`unsupported hash ${alg}`)
  return new Uint8Array(crypto.createHash(name).update(data).digest())
}

const MAX_FETCH_BYTES = 2_000_000

/** fetch with a time limit and a body limit, so a hostile server cannot hang the harness. */
export function boundedFetch(timeoutMs = 10_000) {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
      throw new Error(`refusing ${url.protocol} to ${url.hostname}: plain HTTP only on loopback`)
    }
    const response = await fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' })
    // read the body here, bounded (a chunked answer names no length), and hand the
    // packages a Response over the bytes read
    const chunks = []
    let size = 0
    if (response.body) {
      for await (const chunk of response.body) {
        size += chunk.length
        if (size > MAX_FETCH_BYTES) throw new Error(`response from ${url.origin} over ${MAX_FETCH_BYTES} bytes`)
        chunks.push(chunk)
      }
    }
    const body = [204, 205, 304].includes(response.status) ? null : Buffer.concat(chunks)
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }
}

/**
 * The CallbackContext: `keys` is the list of private JWKs this party may sign and
 * decrypt with; `trustedCertificates` the X.509 anchors for x5c-signed JWTs.
 */
export function makeCallbacks({ keys = [], trustedCertificates = [], clientId = 'ssi-wallet-interop-harness' } = {}) {
  const anchors = trustedCertificates.map((pem) => new crypto.X509Certificate(pem))
  const observed = { verifiedJwts: [] }

  async function findPrivate(publicJwk) {
    const wanted = await thumbprint(publicJwk)
    for (const key of keys) {
      if ((await thumbprint(key)) === wanted) return key
    }
    throw new Error('no private key for the requested signer')
  }

  function signerPublicJwk(signer, header) {
    if (signer.method === 'jwk') return signer.publicJwk
    if (signer.method === 'did') return resolveDidToJwk(signer.didUrl)
    if (signer.method === 'x5c') return verifyX5cChain(signer.x5c ?? header?.x5c, anchors)
    throw new Error(`signer method ${signer.method} not supported by the harness`)
  }

  return {
    observed,
    callbacks: {
      fetch: boundedFetch(),
      hash,
      generateRandom: (length) => new Uint8Array(crypto.randomBytes(length)),
      clientAuthentication: clientAuthenticationNone({ clientId }),
      getX509CertificateMetadata: x509Metadata,
      signJwt: async (signer, { header, payload }) => {
        // signing with our own certificate needs no trust decision: take the leaf's key
        const publicJwk = signer.method === 'x5c'
          ? certificateFromBase64(signer.x5c[0]).publicKey.export({ format: 'jwk' })
          : signerPublicJwk(signer, header)
        const privateJwk = await findPrivate(publicJwk)
        const key = await jose.importJWK(privateJwk, signer.alg)
        const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(key)
        return { jwt, signerJwk: publicJwk }
      },
      verifyJwt: async (signer, { compact, header }) => {
        let publicJwk
        try {
          publicJwk = signerPublicJwk(signer, header)
        } catch (error) {
          observed.verifiedJwts.push({ method: signer.method, verified: false, reason: String(error.message) })
          return { verified: false }
        }
        try {
          const key = await jose.importJWK(publicJwk, signer.alg)
          await jose.compactVerify(compact, key, { algorithms: [signer.alg] })
          observed.verifiedJwts.push({ method: signer.method, verified: true, typ: header?.typ ?? null })
          return { verified: true, signerJwk: publicJwk }
        } catch (error) {
          observed.verifiedJwts.push({ method: signer.method, verified: false, reason: String(error.message) })
          return { verified: false, signerJwk: publicJwk }
        }
      },
      encryptJwe: async (encryptor, data) => {
        if (encryptor.method !== 'jwk') throw new Error('only jwk encryptors are supported')
        const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg)
        const header = { alg: encryptor.alg, enc: encryptor.enc }
        if (encryptor.kid ?? encryptor.publicJwk.kid) header.kid = encryptor.kid ?? encryptor.publicJwk.kid
        const builder = new jose.CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader(header)
        if (encryptor.apu || encryptor.apv) {
          builder.setKeyManagementParameters({
            apu: encryptor.apu ? b64u.decode(encryptor.apu) : undefined,
            apv: encryptor.apv ? b64u.decode(encryptor.apv) : undefined,
          })
        }
        return { jwe: await builder.encrypt(key), encryptionJwk: encryptor.publicJwk }
      },
      decryptJwe: async (jwe, options) => {
        const header = jose.decodeProtectedHeader(jwe)
        const candidates = options?.jwk ? [await findPrivate(options.jwk)] : keys.filter((k) => !header.kid || k.kid === header.kid)
        for (const privateJwk of candidates) {
          try {
            const key = await jose.importJWK(privateJwk, header.alg)
            const { plaintext } = await jose.compactDecrypt(jwe, key)
            return { decrypted: true, decryptionJwk: publicJwkOf(privateJwk), payload: new TextDecoder().decode(plaintext) }
          } catch {
            // try the next key
          }
        }
        return { decrypted: false }
      },
    },
  }
}

// -- JWT helpers for the credential formats ------------------------------------------

export function decodeJwtUnverified(compact) {
  const [h, p] = compact.split('.')
  return { header: JSON.parse(b64u.decode(h)), payload: JSON.parse(b64u.decode(p)) }
}

/** The issuer key of a credential: header kid (a DID URL), else iss when a DID. */
export function issuerKeyOfJwt(header, payload) {
  if (typeof header.kid === 'string' && header.kid.startsWith('did:')) return resolveDidToJwk(header.kid)
  if (typeof payload.iss === 'string' && payload.iss.startsWith('did:')) return resolveDidToJwk(payload.iss)
  if (header.jwk) return header.jwk
  throw new Error('cannot find the issuer key (no DID kid or iss)')
}

// -- HTTP server ---------------------------------------------------------------------

const MAX_BODY = 1_000_000

/**
 * A tiny router on node:http. `routes` maps "METHOD /path" to
 * async (req, body, url) => ({ status, json?, text?, headers? }).
 */
export function serve({ host = '127.0.0.1', port = 0, routes, log }) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, `http://${req.headers.host}`)
    const chunks = []
    let size = 0
    try {
      for await (const chunk of req) {
        size += chunk.length
        if (size > MAX_BODY) throw Object.assign(new Error('body too large'), { status: 413 })
        chunks.push(chunk)
      }
      const body = Buffer.concat(chunks).toString('utf8')
      const handler = routes[`${req.method} ${url.pathname}`]
      const result = handler ? await handler(req, body, url) : { status: 404, json: { error: 'not_found' } }
      const headers = { 'cache-control': 'no-store', ...(result.headers ?? {}) }
      if (result.json !== undefined) {
        res.writeHead(result.status ?? 200, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(result.json))
      } else {
        res.writeHead(result.status ?? 200, { 'content-type': result.contentType ?? 'text/plain', ...headers })
        res.end(result.text ?? '')
      }
    } catch (error) {
      log?.({ event: 'http_error', path: url.pathname, error: String(error?.message ?? error) })
      // the packages' Oauth2ServerErrorResponseError carries the OAuth error to send
      const errorResponse = error?.errorResponse ?? { error: 'invalid_request', error_description: String(error?.message ?? error) }
      res.writeHead(error?.status ?? 400, { 'content-type': 'application/json' })
      res.end(JSON.stringify(errorResponse))
    }
  })
  return new Promise((resolve) => {
    server.listen(port, host, () => resolve(server))
  })
}

/** Keeps a service up until SIGTERM / SIGINT, or exits 2 after `timeoutSeconds`. */
export function runUntilStopped(server, timeoutSeconds) {
  const stop = () => {
    server.close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  setTimeout(() => {
    emit({ event: 'timeout' })
    process.exit(2)
  }, timeoutSeconds * 1000)
  return new Promise(() => {})
}

export function headersOf(req) {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value)
  }
  return headers
}

export function formOf(body) {
  return Object.fromEntries(new URLSearchParams(body).entries())
}

// -- command line --------------------------------------------------------------------

export function args(options, { allowPositionals = true } = {}) {
  return parseArgs({ options, allowPositionals, strict: true })
}

/** One JSON document per line on stdout (the caller's machine-readable channel). */
export function emit(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`)
}

/** Runs `main`; a thrown error prints {"ok": false, ...} and exits 1. */
export function run(main) {
  main().then(
    (result) => {
      if (result !== undefined) emit(result)
    },
    (error) => {
      emit({ ok: false, error: String(error?.message ?? error), name: error?.constructor?.name ?? 'Error', details: errorDetails(error) })
      process.exit(1)
    },
  )
}

function errorDetails(error) {
  const details = {}
  if (error?.errorResponse) details.errorResponse = error.errorResponse
  if (error?.response?.status) details.status = error.response.status
  if (error?.zodError) details.zod = String(error.zodError)
  if (error?.result) details.result = error.result
  if (error?.cause) details.cause = String(error.cause?.message ?? error.cause)
  return details
}
