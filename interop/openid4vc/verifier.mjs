#!/usr/bin/env node
// An OpenID4VP 1.0 verifier built on @openid4vc/openid4vp: makes a signed request
// object (JAR, by reference) with a DCQL query, serves it at its request_uri, and
// takes the wallet's answer at its response_uri (direct_post, or direct_post.jwt
// encrypted to its ECDH-ES key), then checks every presentation.
//
//   node verifier.mjs --trust-issuer DID [--trust-issuer DID ...]
//        [--format dc+sd-jwt|jwt_vc_json] [--vct VCT] [--type ResidencePermit]
//        [--claims given_name,family_name] [--response-mode direct_post|direct_post.jwt]
//        [--client-id-prefix decentralized_identifier|redirect_uri|x509_san_dns
//         --x509-cert CERT.pem --x509-key KEY.pem --x509-dns NAME]
//        [--request-aud AUD] [--did-keys FILE] [--port 0] [--exit-after N] [--timeout 120]
//
// Prints {"event":"ready", request_uri_link, client_id, nonce, ...}, then one
// {"event":"response", accepted, reasons, claims} per POST to the response_uri.
// The nonce is single use: a second response to the same request is refused.

import crypto from 'node:crypto'
import fs from 'node:fs'
import { Openid4vpVerifier } from '@openid4vc/openid4vp'
import { args, didJwk, emit, loadDidKeys, formOf, generateKey, makeCallbacks, publicJwkOf, run, runUntilStopped, serve } from './lib/common.mjs'
import { verifyJwtVp, verifySdJwtVc } from './lib/formats.mjs'

async function main() {
  const { values } = args({
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'trust-issuer': { type: 'string', multiple: true },
    'did-keys': { type: 'string' },
    format: { type: 'string', default: 'dc+sd-jwt' },
    vct: { type: 'string', default: 'https://interop.ssi-wallet.test/ResidencePermit' },
    type: { type: 'string', default: 'ResidencePermit' },
    claims: { type: 'string', default: 'given_name,family_name' },
    'response-mode': { type: 'string', default: 'direct_post' },
    'client-id-prefix': { type: 'string', default: 'decentralized_identifier' },
    'x509-cert': { type: 'string' },
    'x509-key': { type: 'string' },
    'x509-dns': { type: 'string' },
    // the request object's aud: the package's default is the request_uri; OpenID4VP 1.0
    // section 5.8 says https://self-issued.me/v2 under static discovery
    'request-aud': { type: 'string' },
    'exit-after': { type: 'string', default: '0' },
    timeout: { type: 'string', default: '120' },
  })
  if (values['did-keys']) loadDidKeys(values['did-keys'])
  const trustedIssuers = values['trust-issuer'] ?? []
  if (trustedIssuers.length === 0) throw new Error('pass at least one --trust-issuer DID')
  if (!['direct_post', 'direct_post.jwt'].includes(values['response-mode'])) throw new Error('unsupported --response-mode')

  const signingKey = await generateKey('ES256')
  const encryptionKey = await generateKey('ES256')
  const encryptionJwk = { ...publicJwkOf(encryptionKey.publicJwk), kid: 'enc-1', use: 'enc', alg: 'ECDH-ES' }
  const keys = [signingKey.privateJwk, { ...encryptionKey.privateJwk, kid: 'enc-1' }]
  let x5c
  if (values['client-id-prefix'] === 'x509_san_dns') {
    if (!values['x509-cert'] || !values['x509-key'] || !values['x509-dns']) throw new Error('x509_san_dns needs --x509-cert, --x509-key and --x509-dns')
    const certificate = new crypto.X509Certificate(fs.readFileSync(values['x509-cert']))
    x5c = [certificate.raw.toString('base64')]
    keys.push(crypto.createPrivateKey(fs.readFileSync(values['x509-key'])).export({ format: 'jwk' }))
  }
  const { callbacks } = makeCallbacks({ keys })
  const verifier = new Openid4vpVerifier({ callbacks })

  const claimNames = values.claims.split(',').filter(Boolean)
  const queryId = 'permit'
  const credentialQuery = values.format === 'dc+sd-jwt'
    ? { id: queryId, format: 'dc+sd-jwt', meta: { vct_values: [values.vct] }, claims: claimNames.map((name) => ({ path: [name] })) }
    : { id: queryId, format: 'jwt_vc_json', meta: { type_values: [['VerifiableCredential', values.type]] }, claims: claimNames.map((name) => ({ path: ['credentialSubject', name] })) }
  const dcqlQuery = { credentials: [credentialQuery] }

  let base
  const requests = new Map() // request id -> { payload, jwt, used }
  const state = { responses: 0 }
  const exitAfter = Number(values['exit-after'])

  const routes = {
    'POST /response': async (_req, body) => {
      state.responses += 1
      const form = formOf(body)
      const outcome = await handleResponse(form)
      emit({ event: 'response', ...outcome })
      if (exitAfter && state.responses >= exitAfter) setTimeout(() => process.exit(0), 200)
      return outcome.accepted
        ? { json: {} }
        : { status: 400, json: { error: 'invalid_request', error_description: outcome.reasons.join('; ') } }
    },
  }

  async function handleResponse(form) {
    const reasons = []
    // the request this response answers: by `state` (echoed by the wallet)
    let request
    let parsed
    try {
      const stateValue = form.state ?? (form.response ? await stateOfEncrypted(form.response) : undefined)
      request = requests.get(stateValue)
      if (!request) return { accepted: false, reasons: ['response names no request of this verifier (state)'] }
      if (request.used) return { accepted: false, reasons: ['replayed: this request was already answered (nonce is single use)'] }
      request.used = true
      parsed = await verifier.parseOpenid4vpAuthorizationResponse({
        authorizationResponse: form,
        authorizationRequestPayload: request.payload,
        callbacks,
      })
    } catch (error) {
      return { accepted: false, reasons: [`response refused: ${error.message}`] }
    }
    if (values['response-mode'] === 'direct_post.jwt' && !parsed.jarm) {
      return { accepted: false, reasons: ['an encrypted response (direct_post.jwt) was asked for'] }
    }
    const presentations = parsed.dcql?.presentations?.[queryId]
    if (!presentations?.length) return { accepted: false, reasons: [`no presentation for query ${queryId}`] }
    const audience = request.payload.client_id
    const claims = []
    for (const presentation of presentations) {
      try {
        if (typeof presentation !== 'string') throw new Error('presentation is not a string')
        if (values.format === 'dc+sd-jwt') {
          const verified = await verifySdJwtVc(presentation, { trustedIssuers, keyBinding: { nonce: request.payload.nonce, aud: audience } })
          if (verified.claims.vct !== values.vct) throw new Error(`vct ${verified.claims.vct} was not asked for`)
          claims.push(verified.claims)
        } else {
          const verified = await verifyJwtVp(presentation, { aud: audience, nonce: request.payload.nonce, trustedIssuers })
          for (const credential of verified.credentials) {
            if (!credential.vc.type?.includes(values.type)) throw new Error(`credential type ${credential.vc.type} was not asked for`)
            claims.push(credential.vc.credentialSubject)
          }
        }
      } catch (error) {
        reasons.push(`presentation refused: ${error.message}`)
      }
    }
    for (const name of claimNames) {
      if (!claims.some((c) => c?.[name] !== undefined)) reasons.push(`claim ${name} was asked for and not disclosed`)
    }
    return { accepted: reasons.length === 0, reasons, claims, encrypted: Boolean(parsed.jarm) }
  }

  async function stateOfEncrypted(jwe) {
    const decrypted = await callbacks.decryptJwe(jwe)
    if (!decrypted.decrypted) throw new Error('cannot decrypt the response')
    return JSON.parse(decrypted.payload).state
  }

  const server = await serve({ host: values.host, port: Number(values.port), routes, log: emit })
  base = `http://${values.host}:${server.address().port}`

  const id = crypto.randomBytes(12).toString('base64url')
  const nonce = crypto.randomBytes(16).toString('base64url')
  const prefix = values['client-id-prefix']
  let clientId
  let jwtSigner
  if (prefix === 'decentralized_identifier') {
    const did = didJwk(signingKey.publicJwk)
    clientId = `decentralized_identifier:${did}`
    jwtSigner = { method: 'did', didUrl: `${did}#0`, alg: 'ES256' }
  } else if (prefix === 'x509_san_dns') {
    clientId = `x509_san_dns:${values['x509-dns']}`
    jwtSigner = { method: 'x5c', x5c, alg: 'ES256' }
  } else if (prefix === 'redirect_uri') {
    clientId = `redirect_uri:${base}/response`
  } else {
    throw new Error(`unsupported --client-id-prefix ${prefix}`)
  }
  const payload = {
    response_type: 'vp_token',
    client_id: clientId,
    response_mode: values['response-mode'],
    response_uri: `${base}/response`,
    nonce,
    state: id,
    dcql_query: dcqlQuery,
    client_metadata: {
      client_name: 'OpenID4VC interop harness verifier',
      vp_formats_supported: {
        'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256', 'EdDSA'], 'kb-jwt_alg_values': ['ES256', 'EdDSA'] },
        jwt_vc_json: { alg_values: ['ES256', 'EdDSA'] },
      },
      ...(values['response-mode'] === 'direct_post.jwt'
        ? { jwks: { keys: [encryptionJwk] }, encrypted_response_enc_values_supported: ['A128GCM', 'A256GCM'] }
        : {}),
    },
  }
  const created = await verifier.createOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: payload,
    ...(jwtSigner
      ? {
          jar: {
            requestUri: `${base}/request/${id}`,
            jwtSigner,
            expiresInSeconds: 300,
            ...(values['request-aud'] ? { additionalJwtPayload: { aud: values['request-aud'] } } : {}),
          },
        }
      : {}),
  })
  requests.set(id, { payload: created.authorizationRequestPayload, used: false })
  if (created.jar) {
    const jwt = created.jar.authorizationRequestJwt
    routes[`GET /request/${id}`] = async () => ({ text: jwt, contentType: 'application/oauth-authz-req+jwt' })
  }

  emit({
    event: 'ready',
    request_uri_link: created.authorizationRequest,
    client_id: clientId,
    nonce,
    state: id,
    response_uri: payload.response_uri,
    response_mode: payload.response_mode,
    dcql_query: dcqlQuery,
    signed: Boolean(created.jar),
  })

  await runUntilStopped(server, Number(values.timeout))
}

run(main)
