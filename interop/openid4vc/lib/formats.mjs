// Credential formats as the harness makes and checks them:
// - dc+sd-jwt (IETF SD-JWT VC) through the OpenWallet Foundation's @sd-jwt/sd-jwt-vc,
// - jwt_vc_json (W3C VC Data Model 1.1 secured as a JWT; OpenID4VCI 1.0 Appendix A.1.1,
//   OpenID4VP 1.0 Appendix B.1.3.1), made and checked with `jose`.

import crypto from 'node:crypto'
import * as jose from 'jose'
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'
import { algOfJwk, b64u, decodeJwtUnverified, didJwk, didNamesKey, issuerKeyOfJwt, jwkEquals, publicJwkOf } from './common.mjs'

const hasher = (data, alg) => {
  if (alg !== 'sha-256') throw new Error(`unsupported _sd_alg ${alg}`)
  return new Uint8Array(crypto.createHash('sha256').update(data).digest())
}
const saltGenerator = (length) => b64u.encode(crypto.randomBytes(length))

function rawSigner(privateJwk) {
  const key = crypto.createPrivateKey({ key: privateJwk, format: 'jwk' })
  const alg = algOfJwk(privateJwk)
  return (data) => {
    const signature = alg === 'EdDSA'
      ? crypto.sign(null, Buffer.from(data), key)
      : crypto.sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' })
    return b64u.encode(signature)
  }
}

function rawVerifier(publicJwk) {
  const key = crypto.createPublicKey({ key: publicJwkOf(publicJwk), format: 'jwk' })
  const alg = algOfJwk(publicJwk)
  return (data, signature) => {
    const sig = b64u.decode(signature)
    return alg === 'EdDSA'
      ? crypto.verify(null, Buffer.from(data), key, sig)
      : crypto.verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, sig)
  }
}

// -- dc+sd-jwt ----------------------------------------------------------------------

/** Issues an SD-JWT VC whose top-level `claims` are each selectively disclosable. */
export async function issueSdJwtVc({ issuerPrivateJwk, issuerDid, holderJwk, vct, claims, validSeconds = 3600 }) {
  const sdjwt = new SDJwtVcInstance({
    signer: rawSigner(issuerPrivateJwk),
    signAlg: algOfJwk(issuerPrivateJwk),
    hasher,
    hashAlg: 'sha-256',
    saltGenerator,
  })
  const now = Math.floor(Date.now() / 1000)
  const payload = { iss: issuerDid, iat: now, exp: now + validSeconds, vct, cnf: { jwk: publicJwkOf(holderJwk) }, ...claims }
  return sdjwt.issue(payload, { _sd: Object.keys(claims) }, { header: { typ: 'dc+sd-jwt', kid: `${issuerDid}#0` } })
}

/**
 * Verifies an SD-JWT VC: issuer signature (key from the DID in kid / iss, which
 * must be one of `trustedIssuers` when that list is given), disclosure digests,
 * validity, and when `keyBinding` is given the KB-JWT (signature by cnf.jwk,
 * sd_hash, nonce, aud, fresh iat). Returns the disclosed claims.
 */
export async function verifySdJwtVc(compact, { trustedIssuers, keyBinding } = {}) {
  const issuerJws = compact.split('~')[0]
  const { header, payload } = decodeJwtUnverified(issuerJws)
  if (header.typ !== 'dc+sd-jwt' && header.typ !== 'vc+sd-jwt') throw new Error(`SD-JWT VC typ is ${header.typ}`)
  const issuerJwk = issuerKeyOfJwt(header, payload)
  checkTrustedIssuer(payload.iss, issuerJwk, trustedIssuers)
  const holderJwk = payload.cnf?.jwk
  const sdjwt = new SDJwtVcInstance({
    verifier: rawVerifier(issuerJwk),
    kbVerifier: (data, signature) => {
      if (!holderJwk) throw new Error('credential has no cnf.jwk')
      return rawVerifier(holderJwk)(data, signature)
    },
    hasher,
    hashAlg: 'sha-256',
  })
  const result = await sdjwt.verify(compact, keyBinding ? { keyBindingNonce: keyBinding.nonce, requiredClaimKeys: ['vct'] } : { requiredClaimKeys: ['vct'] })
  if (keyBinding) {
    if (!result.kb) throw new Error('key binding JWT missing')
    const kb = result.kb.payload
    if (kb.aud !== keyBinding.aud) throw new Error(`KB-JWT aud ${kb.aud} is not ${keyBinding.aud}`)
    if (Math.abs(Math.floor(Date.now() / 1000) - kb.iat) > 300) throw new Error('KB-JWT iat outside 5 minutes')
  }
  return { header: result.header, claims: result.payload, issuerJwk, holderJwk }
}

/** Presents an SD-JWT VC disclosing the top-level `paths` given, with a KB-JWT. */
export async function presentSdJwtVc(compact, { holderPrivateJwk, paths, aud, nonce }) {
  const sdjwt = new SDJwtVcInstance({
    hasher,
    hashAlg: 'sha-256',
    kbSigner: rawSigner(holderPrivateJwk),
    kbSignAlg: algOfJwk(holderPrivateJwk),
  })
  const frame = {}
  for (const path of paths) {
    let node = frame
    path.forEach((segment, i) => {
      if (typeof segment !== 'string') throw new Error('the harness presents only claim paths of strings')
      if (i === path.length - 1) node[segment] = true
      else node = node[segment] ??= {}
    })
  }
  return sdjwt.present(compact, frame, { kb: { payload: { aud, nonce, iat: Math.floor(Date.now() / 1000) } } })
}

// -- jwt_vc_json ----------------------------------------------------------------------

/** Issues a VC-DM-1.1 JWT credential to the holder's did:jwk. */
export async function issueJwtVcJson({ issuerPrivateJwk, issuerDid, holderJwk, types, claims, validSeconds = 3600 }) {
  const now = Math.floor(Date.now() / 1000)
  const holder = didJwk(holderJwk)
  const payload = {
    iss: issuerDid,
    sub: holder,
    nbf: now,
    exp: now + validSeconds,
    jti: `urn:uuid:${crypto.randomUUID()}`,
    vc: {
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      type: ['VerifiableCredential', ...types],
      credentialSubject: { id: holder, ...claims },
    },
  }
  const key = await jose.importJWK(issuerPrivateJwk, algOfJwk(issuerPrivateJwk))
  return new jose.SignJWT(payload).setProtectedHeader({ alg: algOfJwk(issuerPrivateJwk), typ: 'JWT', kid: `${issuerDid}#0` }).sign(key)
}

/**
 * Verifies a JWT-secured VC (VC DM 1.1 `vc` claim, or a VC DM 2.0 vc+jwt payload):
 * signature by the issuer's DID key (trusted when `trustedIssuers` is given),
 * exp / nbf; returns the credential and the subject id.
 */
export async function verifyJwtVc(compact, { trustedIssuers } = {}) {
  const { header, payload } = decodeJwtUnverified(compact)
  const issuerJwk = issuerKeyOfJwt(header, payload)
  const issuer = payload.iss ?? (typeof payload.issuer === 'string' ? payload.issuer : payload.issuer?.id)
  checkTrustedIssuer(issuer, issuerJwk, trustedIssuers)
  const key = await jose.importJWK(issuerJwk, header.alg)
  await jose.compactVerify(compact, key, { algorithms: [algOfJwk(issuerJwk)] })
  const now = Math.floor(Date.now() / 1000)
  if (payload.exp !== undefined && payload.exp < now) throw new Error('credential expired')
  if (payload.nbf !== undefined && payload.nbf > now + 60) throw new Error('credential not yet valid')
  const vc = payload.vc ?? payload
  const subject = Array.isArray(vc.credentialSubject) ? vc.credentialSubject[0] : vc.credentialSubject
  return { header, payload, vc, issuer, issuerJwk, subjectId: payload.sub ?? subject?.id, cnf: payload.cnf }
}

/** A VC-DM-1.1 VP JWT holding `credentials`, bound to aud and nonce, signed by the holder's did:jwk. */
export async function presentJwtVcJson(credentials, { holderPrivateJwk, aud, nonce }) {
  const holder = didJwk(holderPrivateJwk)
  const now = Math.floor(Date.now() / 1000)
  const alg = algOfJwk(holderPrivateJwk)
  const key = await jose.importJWK(holderPrivateJwk, alg)
  const vp = {
    '@context': ['https://www.w3.org/2018/credentials/v1'],
    type: ['VerifiablePresentation'],
    holder,
    verifiableCredential: credentials,
  }
  return new jose.SignJWT({ iss: holder, aud, nonce, iat: now, nbf: now, exp: now + 300, jti: `urn:uuid:${crypto.randomUUID()}`, vp })
    .setProtectedHeader({ alg, typ: 'JWT', kid: `${holder}#0` })
    .sign(key)
}

/** Verifies a VP JWT (holder signature, aud, nonce) and every credential in it, each bound to the holder. */
export async function verifyJwtVp(compact, { aud, nonce, trustedIssuers }) {
  const { header, payload } = decodeJwtUnverified(compact)
  const holderJwk = issuerKeyOfJwt(header, payload)
  const key = await jose.importJWK(holderJwk, header.alg)
  await jose.jwtVerify(compact, key, { algorithms: [algOfJwk(holderJwk)], audience: aud, maxTokenAge: '5m' })
  if (payload.nonce !== nonce) throw new Error('VP nonce does not match the request')
  const vp = payload.vp
  if (!vp || !Array.isArray(vp.verifiableCredential) || vp.verifiableCredential.length === 0) throw new Error('VP holds no credential')
  const holder = payload.iss ?? vp.holder
  const credentials = []
  for (const credential of vp.verifiableCredential) {
    if (typeof credential !== 'string') throw new Error('the harness checks only JWT credentials in a VP')
    const verified = await verifyJwtVc(credential, { trustedIssuers })
    const bound = didNamesKey(verified.subjectId, holderJwk) || (verified.cnf?.jwk && jwkEquals(verified.cnf.jwk, holderJwk))
    if (!bound) throw new Error('credential subject is not the VP holder')
    credentials.push(verified)
  }
  return { holder, credentials }
}

function checkTrustedIssuer(iss, issuerJwk, trustedIssuers) {
  if (!trustedIssuers) return
  const trusted = trustedIssuers.some((entry) => (typeof entry === 'string' ? entry === iss : jwkEquals(entry, issuerJwk)))
  if (!trusted) throw new Error(`issuer ${String(iss).slice(0, 80)} is not trusted`)
}
