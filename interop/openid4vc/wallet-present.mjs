#!/usr/bin/env node
// An OpenID4VP 1.0 wallet built on @openid4vc/openid4vp: resolves an authorization
// request link (fetching and verifying the signed request object for the
// decentralized_identifier: and x509_san_dns: client identifier prefixes), answers
// its DCQL query from the credentials it is given, and posts the vp_token to the
// response_uri (direct_post, or direct_post.jwt encrypted to the verifier's key).
//
//   node wallet-present.mjs REQUEST_LINK --credentials FILE [--trust-cert CERT.pem ...] [--did-keys FILE]
//                           [--post-twice]
//
// FILE is the output of wallet-receive.mjs, or any JSON {"credentials": [{format,
// credential, holder_private_jwk}]}. Prints {"ok": true, status, body, ...}
// with the verifier's HTTP answer; exits 1 when the verifier refused (non-2xx).

import crypto from 'node:crypto'
import fs from 'node:fs'
import { Openid4vpClient } from '@openid4vc/openid4vp'
import { args, decodeJwtUnverified, loadDidKeys, makeCallbacks, run } from './lib/common.mjs'
import { presentJwtVcJson, presentSdJwtVc } from './lib/formats.mjs'

function matches(query, entry) {
  if (query.format !== entry.format) return false
  if (entry.format === 'dc+sd-jwt') {
    const vct = decodeJwtUnverified(entry.credential.split('~')[0]).payload.vct
    return !query.meta?.vct_values || query.meta.vct_values.includes(vct)
  }
  if (entry.format === 'jwt_vc_json') {
    const { payload } = decodeJwtUnverified(entry.credential)
    const types = (payload.vc ?? payload).type ?? []
    return !query.meta?.type_values || query.meta.type_values.some((wanted) => wanted.every((t) => types.includes(t)))
  }
  return false
}

async function bodyOf(response) {
  const text = await response.text()
  try {
    return JSON.parse(text)
  } catch {
    return text.slice(0, 2000)
  }
}

async function main() {
  const { values, positionals } = args({
    credentials: { type: 'string' },
    'trust-cert': { type: 'string', multiple: true },
    'did-keys': { type: 'string' },
    // sends the very same response a second time (a replay) and reports the answer
    'post-twice': { type: 'boolean', default: false },
  })
  if (positionals.length !== 1 || !values.credentials) throw new Error('usage: wallet-present.mjs REQUEST_LINK --credentials FILE')
  if (values['did-keys']) loadDidKeys(values['did-keys'])
  const held = JSON.parse(fs.readFileSync(values.credentials, 'utf8')).credentials
  const trustedCertificates = (values['trust-cert'] ?? []).map((file) => fs.readFileSync(file))
  const { callbacks, observed } = makeCallbacks({ keys: [], trustedCertificates })
  const client = new Openid4vpClient({ callbacks })

  // 1. resolve the request: fetch request_uri, verify the request object's signature
  //    against the client identifier (DID key or X.509 chain + SAN)
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: positionals[0] })
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params })
  const request = resolved.authorizationRequestPayload
  if (!resolved.dcql) throw new Error('the harness answers DCQL queries only')

  // 2. answer the DCQL query: every credential query when there are no credential_sets;
  //    otherwise, for each required set, the first option whose queries all match
  const queries = resolved.dcql.query.credentials
  const found = new Map(queries.map((query) => [query.id, held.find((candidate) => matches(query, candidate))]))
  let wanted = queries.map((query) => query.id)
  if (Array.isArray(resolved.dcql.query.credential_sets)) {
    wanted = []
    for (const set of resolved.dcql.query.credential_sets) {
      const option = set.options.find((ids) => ids.every((id) => found.get(id)))
      if (option) wanted.push(...option)
      else if (set.required !== false) throw new Error(`no option of a required credential set can be met: ${JSON.stringify(set.options)}`)
    }
  }
  const vpToken = {}
  const answered = []
  for (const query of queries.filter((q) => wanted.includes(q.id))) {
    const entry = found.get(query.id)
    if (!entry) throw new Error(`no credential matches query ${query.id}`)
    const paths = (query.claims ?? []).map((claim) => claim.path)
    const common = { holderPrivateJwk: entry.holder_private_jwk, aud: request.client_id, nonce: request.nonce }
    const presentation = entry.format === 'dc+sd-jwt'
      ? await presentSdJwtVc(entry.credential, { ...common, paths })
      : await presentJwtVcJson([entry.credential], common)
    vpToken[query.id] = [presentation]
    answered.push({ query: query.id, format: entry.format, claims: paths })
  }

  // 3. build the response (encrypted for direct_post.jwt) and post it
  const jarm = request.response_mode === 'direct_post.jwt'
    ? {
        // `nonce` here becomes the JWE apu: a fresh wallet nonce, never the verifier's
        encryption: { nonce: crypto.randomBytes(16).toString('base64url') },
        serverMetadata: {
          authorization_signing_alg_values_supported: ['ES256'],
          authorization_encryption_alg_values_supported: ['ECDH-ES'],
          authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
        },
      }
    : undefined
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: vpToken },
    jarm,
  })
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: response.authorizationResponsePayload,
    jarm: response.jarm ? { responseJwt: response.jarm.responseJwt } : undefined,
  })
  const body = await bodyOf(submitted.response)
  let replay
  if (values['post-twice']) {
    const again = await client.submitOpenid4vpAuthorizationResponse({
      authorizationRequestPayload: request,
      authorizationResponsePayload: response.authorizationResponsePayload,
      jarm: response.jarm ? { responseJwt: response.jarm.responseJwt } : undefined,
    })
    replay = { status: again.response.status, body: await bodyOf(again.response) }
  }
  const result = {
    ok: submitted.response.ok,
    status: submitted.response.status,
    body,
    client_id: request.client_id,
    client_id_prefix: resolved.client.prefix,
    signed_request: Boolean(resolved.jar),
    response_mode: request.response_mode,
    encrypted: Boolean(response.jarm),
    answered,
    verified_jwts: observed.verifiedJwts,
    ...(replay ? { replay } : {}),
  }
  if (!submitted.response.ok) {
    const error = new Error(`verifier answered HTTP ${submitted.response.status}`)
    error.result = result
    throw error
  }
  return result
}

run(main)
