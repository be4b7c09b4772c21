#!/usr/bin/env node
// An OpenID4VCI 1.0 wallet built on @openid4vc/openid4vci taking the AUTHORIZATION
// CODE flow: resolves a credential offer carrying an `authorization_code` grant,
// pushes the authorization request (RFC 9126 PAR, with PKCE S256, the offer's
// issuer_state and a state of its own), plays the user agent at the authorization
// endpoint (a GET whose redirect it reads instead of following: the authorization
// server is expected to know the person from the issuer_state), checks the
// authorization response (state, RFC 9207 iss), exchanges the code (with the PKCE
// verifier, DPoP-bound when the server advertises DPoP), then requests each offered
// configuration with `jwt` key proofs. A 202 answer (deferred issuance) is polled
// at the deferred credential endpoint every `interval` seconds; every credential
// received is acknowledged at the notification endpoint (credential_accepted).
//
//   node wallet-authorize.mjs OFFER_URI [--alg ES256|EdDSA] [--batch N] [--no-dpop]
//        [--dpop-jkt] [--token-dpop-key fresh] [--deferred-wait SECONDS]
//        [--notify credential_accepted|credential_deleted|none] [--tolerate-deferred-notification-id]
//        [--trust-issuer DID ...] [--did-keys FILE] [--out FILE]
//
// --dpop-jkt also sends the DPoP key's thumbprint as `dpop_jkt` in the PAR request
// (besides the DPoP proof header the package sends there, RFC 9449 10.1);
// --token-dpop-key fresh uses ANOTHER DPoP key at the token endpoint than at PAR
// (an authorization server binding the code to the PAR key must refuse it).
//
// Prints progress events ({"event": "authorized" | "deferred" | "deferred_pending"
// | "notified", ...}) one per line, then {"ok": true, credentials: [...], ...}.
// A credential is checked by the harness when it can: SD-JWT VC and JWT VC issuer
// signatures and key binding; for ldp_vc (Data Integrity, which the harness does not
// implement) only the shape and the binding of credentialSubject.id to a proof key.

import fs from 'node:fs'
import { Oauth2Client } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'
import { args, didNamesKey, emit, generateKey, jwkEquals, loadDidKeys, makeCallbacks, publicJwkOf, run, thumbprint } from './lib/common.mjs'
import { verifyJwtVc, verifySdJwtVc } from './lib/formats.mjs'
import { proveKeys } from './lib/keyproofs.mjs'

const CLIENT_ID = 'ssi-wallet-interop-harness'
const REDIRECT_URI = 'https://wallet.interop-harness.invalid/callback'

async function main() {
  const { values, positionals } = args({
    alg: { type: 'string', default: 'ES256' },
    batch: { type: 'string', default: '1' },
    'no-dpop': { type: 'boolean', default: false },
    'dpop-jkt': { type: 'boolean', default: false },
    'token-dpop-key': { type: 'string', default: 'same' },
    'deferred-wait': { type: 'string', default: '0' },
    notify: { type: 'string', default: 'credential_accepted' },
    'tolerate-deferred-notification-id': { type: 'boolean', default: false },
    'trust-issuer': { type: 'string', multiple: true },
    'did-keys': { type: 'string' },
    out: { type: 'string' },
  })
  if (positionals.length !== 1) throw new Error('usage: wallet-authorize.mjs OFFER_URI [options]')
  const batch = Number(values.batch)
  if (values['did-keys']) loadDidKeys(values['did-keys'])
  const keys = []
  const { callbacks } = makeCallbacks({ keys, clientId: CLIENT_ID })
  const client = new Openid4vciClient({ callbacks })

  // 1. the offer and the metadata
  const offer = await client.resolveCredentialOffer(positionals[0])
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)
  const grant = offer.grants?.authorization_code
  if (!grant) throw new Error('the offer has no authorization_code grant')
  const authorizationServer = issuerMetadata.authorizationServers[0]

  // 2. PAR (+ PKCE, + DPoP proof header when the server does DPoP)
  let dpop
  const newDpop = async () => {
    const key = await generateKey(values.alg)
    keys.push(key.privateJwk)
    return { signer: { method: 'jwk', alg: values.alg, publicJwk: key.publicJwk } }
  }
  if (!values['no-dpop'] && authorizationServer?.dpop_signing_alg_values_supported?.includes(values.alg)) {
    dpop = await newDpop()
  }
  const state = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url')
  const additionalRequestPayload = { issuer_state: grant.issuer_state }
  if (values['dpop-jkt'] && dpop) additionalRequestPayload.dpop_jkt = await thumbprint(dpop.signer.publicJwk)
  // Openid4vciClient.createAuthorizationRequestUrlFromOffer does the same but drops
  // `state` (0.4.6); the package's OAuth 2.0 client takes it
  const started = await new Oauth2Client({ callbacks }).createAuthorizationRequestUrl({
    authorizationServerMetadata: authorizationServer,
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    resource: issuerMetadata.credentialIssuer.credential_issuer,
    scope: offer.credential_configuration_ids.join(' '),
    state,
    additionalRequestPayload,
    dpop,
  })
  if (!started.pkce) throw new Error('the authorization server offers no PKCE')

  // 3. the user agent at the authorization endpoint: one GET, the redirect read
  const answer = await callbacks.fetch(started.authorizationRequestUrl, { method: 'GET' })
  const location = answer.headers.get('location')
  if (![302, 303].includes(answer.status) || !location) {
    throw new Error(`the authorization endpoint answered ${answer.status} without a redirect: ${(await answer.text()).slice(0, 300)}`)
  }
  if (!location.startsWith(`${REDIRECT_URI}?`)) throw new Error(`redirected elsewhere than our redirect_uri: ${location.slice(0, 200)}`)
  const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({ url: location, authorizationServerMetadata: authorizationServer })
  if (response.state !== state) throw new Error('the authorization response carries another state')
  if (response.error) throw Object.assign(new Error(`authorization refused: ${response.error}`), { errorResponse: response })
  emit({ event: 'authorized', par: started.authorizationRequestUrl.includes('request_uri='), iss: response.iss ?? null })

  // 4. the code for a token (PKCE verifier, DPoP)
  const tokenDpop = dpop && values['token-dpop-key'] === 'fresh' ? await newDpop() : (started.dpop ?? dpop)
  const token = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    authorizationCode: response.code,
    pkceCodeVerifier: started.pkce.codeVerifier,
    redirectUri: REDIRECT_URI,
    dpop: tokenDpop,
  })
  let dpopState = token.dpop
  const accessToken = token.accessTokenResponse.access_token

  // 5. the credentials, deferred ones polled, each acknowledged
  const received = []
  const notified = []
  const deadline = Date.now() + Number(values['deferred-wait']) * 1000
  for (const configurationId of offer.credential_configuration_ids) {
    const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId]
    const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
    const { holderKeys, jwts } = await proveKeys({
      client, issuerMetadata, configurationId, alg: values.alg, count: batch, keys, nonceFor: () => nonce,
    })
    const first = await client.retrieveCredentials({
      issuerMetadata,
      accessToken,
      credentialConfigurationId: configurationId,
      dpop: dpopState,
      proofs: { jwt: jwts },
    })
    dpopState = first.dpop ?? dpopState
    let body = first.credentialResponse
    let deferred = null
    if (!body.credentials && body.transaction_id) {
      deferred = { transaction_id: body.transaction_id, status: first.response.status, polls: 0 }
      emit({ event: 'deferred', configuration_id: configurationId, ...deferred, interval: body.interval })
      while (!body.credentials) {
        if (Date.now() > deadline) throw new Error(`deferred credential ${configurationId} not ready within --deferred-wait`)
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, body.interval ?? 5) * 1000))
        const polled = await retrieveDeferred(client, {
          issuerMetadata,
          accessToken,
          transactionId: deferred.transaction_id,
          dpop: dpopState,
        }, values['tolerate-deferred-notification-id'])
        dpopState = polled.dpop ?? dpopState
        deferred.polls += 1
        if (polled.packageRefused) deferred.package_refused = polled.packageRefused
        body = { ...polled.deferredCredentialResponse, interval: polled.deferredCredentialResponse.interval ?? body.interval }
        if (!body.credentials) emit({ event: 'deferred_pending', configuration_id: configurationId, polls: deferred.polls })
      }
    }
    if (!Array.isArray(body.credentials) || body.credentials.length !== holderKeys.length) {
      throw new Error(`asked for ${holderKeys.length} credentials, got ${JSON.stringify(body).slice(0, 300)}`)
    }
    for (const [index, entry] of body.credentials.entries()) {
      const checked = await check(configuration.format, entry.credential, holderKeys, values['trust-issuer'])
      received.push({
        configuration_id: configurationId,
        format: configuration.format,
        credential: entry.credential,
        holder_private_jwk: holderKeys[index].privateJwk,
        holder_jwk: publicJwkOf(holderKeys[index].publicJwk),
        deferred,
        checked,
      })
    }
    if (values.notify !== 'none' && body.notification_id) {
      const sent = await client.sendNotification({
        issuerMetadata,
        accessToken,
        dpop: dpopState,
        notification: { notificationId: body.notification_id, event: values.notify },
      })
      dpopState = sent.dpop ?? dpopState
      notified.push({ notification_id: body.notification_id, event: values.notify, status: sent.response.status })
      emit({ event: 'notified', ...notified.at(-1) })
    }
  }
  const result = {
    ok: true,
    credential_issuer: offer.credential_issuer,
    dpop: Boolean(dpop),
    token_type: token.accessTokenResponse.token_type,
    credentials: received,
    notified,
  }
  if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2), { mode: 0o600 })
  return result
}

// @openid4vc/openid4vci 0.4.6 refuses a Deferred Credential Response that carries
// both `credentials` and `notification_id` (its check is inverted: OpenID4VCI 1.0
// sections 8.3 and 9.2 forbid `notification_id` only WITHOUT `credentials`). With
// --tolerate-deferred-notification-id the harness reads such a 200 answer itself,
// and reports the package's refusal; any other refusal still fails.
const INVERTED_CHECK = "'notification_id' MUST NOT be defined when 'credentials' is not defined."

async function retrieveDeferred(client, options, tolerate) {
  try {
    return await client.retrieveDeferredCredentials(options)
  } catch (error) {
    const result = error?.response
    const issues = result?.deferredCredentialResponseResult?.error?.issues ?? []
    const onlyInverted = issues.length === 1 && issues[0].message === INVERTED_CHECK
    if (!tolerate || !onlyInverted || result.response?.status !== 200) throw error
    const body = await result.response.clone().json()
    if (!Array.isArray(body.credentials) || body.credentials.length === 0 || typeof body.notification_id !== 'string' || 'transaction_id' in body) throw error
    return { deferredCredentialResponse: body, dpop: result.dpop, packageRefused: issues[0].message }
  }
}

/** What the harness can check of a received credential, by format. */
async function check(format, credential, holderKeys, trustedIssuers) {
  if (format === 'dc+sd-jwt') {
    const verified = await verifySdJwtVc(credential, { trustedIssuers })
    const boundTo = holderKeys.findIndex((k) => jwkEquals(verified.holderJwk, k.publicJwk))
    if (boundTo < 0) throw new Error('credential cnf.jwk is none of the holder keys')
    return { issuer: verified.claims.iss, vct: verified.claims.vct, bound_to_key: boundTo, signature: 'verified' }
  }
  if (format === 'jwt_vc_json') {
    const verified = await verifyJwtVc(credential, { trustedIssuers })
    const boundTo = holderKeys.findIndex((k) => didNamesKey(verified.subjectId, k.publicJwk) || (verified.cnf?.jwk && jwkEquals(verified.cnf.jwk, k.publicJwk)))
    if (boundTo < 0) throw new Error('credential subject is none of the holder keys')
    return { issuer: verified.issuer, bound_to_key: boundTo, signature: 'verified' }
  }
  if (format === 'ldp_vc') {
    // OpenID4VCI 1.0 A.1.2: the credential is a JSON object secured with Data Integrity
    if (typeof credential !== 'object' || credential === null || Array.isArray(credential)) throw new Error('an ldp_vc credential must be a JSON object')
    const proofs = [].concat(credential.proof ?? [])
    if (proofs.length === 0 || proofs.some((p) => p?.type !== 'DataIntegrityProof')) throw new Error('an ldp_vc credential needs a DataIntegrityProof')
    const subject = credential.credentialSubject?.id
    const boundTo = holderKeys.findIndex((k) => didNamesKey(subject, k.publicJwk))
    if (boundTo < 0) throw new Error('credentialSubject.id names none of the holder keys')
    return { issuer: credential.issuer?.id ?? credential.issuer, cryptosuite: proofs[0].cryptosuite, bound_to_key: boundTo, signature: 'not checked by the harness' }
  }
  throw new Error(`format ${format} is not checked by the harness`)
}

run(main)
